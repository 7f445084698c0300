"""Roll-ups: marked dirty when a response arrives, rebuilt from the raw rows by the sweep, equal to a naive count."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.core.clock import utcnow
from app.extensions import db
from app.jobs.insight import sweep_rollups
from app.models import AnswerRollup, Branch, OptionRollup, Response, ResponseRollup, RollupDirty, Ticket
from app.services import dashboard
from app.services.insight import rollups
from test_dashboard import add_response, compare, seed_history

UTC = ZoneInfo("UTC")


def rollup_rows() -> dict:
    """Every roll-up row as plain tuples (the order of a rebuild does not matter)."""
    def rows(model, *columns):
        return sorted(tuple(getattr(r, c) for c in columns) for r in db.session.scalars(select(model)))

    key = ("day", "branch_id", "version_id", "counted", "channel")
    return {
        "responses": rows(ResponseRollup, *key, "responses", "negative", "duration_sum"),
        "answers": rows(AnswerRollup, *key, "question_id", "n", "total", "satisfied", "promoters", "detractors"),
        "options": rows(OptionRollup, *key, "question_id", "option", "customers"),
    }


def naive_rollup_rows() -> dict:
    """The same rows counted in Python from every submitted response, one by one."""
    responses: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    answers: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    options: Counter = Counter()
    opened = set(db.session.scalars(select(Ticket.response_id)))
    for r in db.session.scalars(select(Response).where(Response.submitted_at.is_not(None))):
        day = r.submitted_at.astimezone(ZoneInfo(r.branch.timezone)).date()
        key = (day, r.branch_id, r.version_id, r.counts_in_scores, r.channel)
        responses[key][0] += 1
        responses[key][1] += r.id in opened
        responses[key][2] += r.duration_seconds or 0
        for a in r.answers:
            kind = a.question.type
            if kind in ("single", "multiple"):
                for option in set(a.value_choices or []):
                    options[key + (a.question_id, option)] += 1
            elif kind in ("csat", "nps") and a.value_int is not None:
                sums = answers[key + (a.question_id,)]
                sums[0] += 1
                sums[1] += a.value_int
                sums[2] += kind == "csat" and a.value_int >= 4
                sums[3] += kind == "nps" and a.value_int >= 9
                sums[4] += kind == "nps" and a.value_int <= 6
    return {
        "responses": sorted(k + tuple(v) for k, v in responses.items()),
        "answers": sorted(k + tuple(v) for k, v in answers.items()),
        "options": sorted(k + (n,) for k, n in options.items()),
    }


def test_roll_ups_equal_a_naive_count_of_the_raw_rows(app, demo):
    with app.app_context():
        seed_history(dashboard.home_today())
        built = rollup_rows()
        assert built == naive_rollup_rows()
        assert len(built["responses"]) > 100 and built["options"]
        assert {counted for *_k, counted, _channel, _n, _neg, _d in built["responses"]} == {True, False}
        assert {channel for *_k, channel, _n, _neg, _d in built["responses"]} == {"qr", "kiosk", "link", "api"}


def test_a_submitted_survey_marks_its_branch_day_and_the_sweep_rolls_it_up(app, walker):
    walker.open()
    walker.answer(product=2)
    walker.answer(service=1)
    walker.answer(service_problem=["waiting", "attitude"])
    walker.answer(environment=4)
    walker.answer(nps=3)
    walker.answer(comment="排队太久")
    with app.app_context():
        response = db.session.scalar(select(Response).order_by(Response.id.desc()))
        branch = db.session.get(Branch, response.branch_id)
        day = rollups.local_day(response.submitted_at, branch.timezone)
        assert [(m.branch_id, m.day) for m in db.session.scalars(select(RollupDirty))] == [(branch.id, day)]

        assert sweep_rollups() == 1
        assert db.session.scalars(select(RollupDirty)).all() == []
        rolled = db.session.scalars(select(ResponseRollup).where(
            ResponseRollup.branch_id == branch.id, ResponseRollup.day == day)).all()
        assert sum(r.responses for r in rolled) == 1 and sum(r.negative for r in rolled) == 1
        options = {o.option: o.customers for o in db.session.scalars(select(OptionRollup).where(
            OptionRollup.branch_id == branch.id, OptionRollup.day == day))}
        assert options == {"waiting": 1, "attitude": 1}
        shown = compare("admin", dashboard.home_today(), date_from=day, date_to=day, include_flagged=True)
        assert shown["responses"] == 1
        assert sweep_rollups() == 0, "nothing left to do"


def test_a_london_evening_counts_on_the_london_day_not_the_shanghai_one(app, demo):
    with app.app_context():
        london = db.session.scalar(select(Branch).where(Branch.code == "LDN-SOHO"))
        version_id = db.session.scalar(select(Response.version_id).limit(1))
        day = dashboard.home_today() - timedelta(days=2)
        evening = datetime.combine(day, time(23, 40), ZoneInfo("Europe/London")).astimezone(UTC)
        assert evening.astimezone(ZoneInfo("Asia/Shanghai")).date() == day + timedelta(days=1)
        response = add_response(london, version_id, evening, {"product": 5, "service": 5, "environment": 5, "nps": 10})
        db.session.flush()
        assert rollups.local_day(response.submitted_at, london.timezone) == day
        rollups.mark_dirty(london.id, day)
        db.session.commit()
        sweep_rollups()
        rows = db.session.scalars(select(ResponseRollup).where(ResponseRollup.branch_id == london.id)).all()
        assert {r.day for r in rows if r.responses} >= {day}
        assert day + timedelta(days=1) not in {r.day for r in rows}
        compare("admin", dashboard.home_today(), date_from=day, date_to=day)
        compare("admin", dashboard.home_today(), date_from=day + timedelta(days=1), date_to=day + timedelta(days=1))


def test_a_reviewers_verdict_moves_a_flagged_response_into_the_scores_after_the_rebuild(app, demo):
    with app.app_context():
        branch = db.session.scalar(select(Branch).where(Branch.code == "SH-PEOPLE"))
        version_id = db.session.scalar(select(Response.version_id).limit(1))
        moment = utcnow() - timedelta(hours=1)
        response = add_response(branch, version_id, moment, {"product": 1, "service": 1, "environment": 1, "nps": 0},
                                flags=["straight_lining"])
        day = rollups.local_day(moment, branch.timezone)
        rollups.mark_dirty(branch.id, day)
        db.session.commit()
        sweep_rollups()
        before = compare("admin", dashboard.home_today(), date_from=day, date_to=day)

        response.quality_review = "cleared"
        rollups.mark_dirty(branch.id, day)
        db.session.commit()
        sweep_rollups()
        after = compare("admin", dashboard.home_today(), date_from=day, date_to=day)
        assert after["responses"] == before["responses"] + 1


def test_rebuilding_again_changes_nothing_and_equals_the_full_rebuild(app, demo):
    with app.app_context():
        seed_history(dashboard.home_today(), count=80)
        full = rollup_rows()
        days = {(branch_id, day) for day, branch_id, *_rest in full["responses"]}
        for branch_id, day in days:
            rollups.rebuild(branch_id, day)
        db.session.commit()
        assert rollup_rows() == full
        for branch_id, day in days:
            rollups.mark_dirty(branch_id, day)
        db.session.commit()
        assert sweep_rollups() == len(days)
        assert rollup_rows() == full


def test_a_day_claimed_by_another_sweep_is_not_rebuilt_twice(app, demo):
    with app.app_context():
        branch = db.session.scalar(select(Branch).where(Branch.code == "HZ-WESTLAKE"))
        day = dashboard.home_today()
        rollups.mark_dirty(branch.id, day)
        db.session.commit()
        marked = db.session.execute(select(RollupDirty.branch_id, RollupDirty.day)).all()
        assert rollups.rebuild_dirty(limit=10) == 1
        # A second sweep that read the same mark before the first deleted it finds nothing to claim.
        assert rollups._rebuild_claimed(marked) == 0


def test_the_dashboard_rebuilds_a_few_dirty_days_itself_and_says_as_of_when(app, demo, client):
    from tests.conftest import login

    with app.app_context():
        branch = db.session.scalar(select(Branch).where(Branch.code == "SH-PEOPLE"))
        version_id = db.session.scalar(select(Response.version_id).limit(1))
        moment = utcnow() - timedelta(minutes=5)
        add_response(branch, version_id, moment, {"product": 4, "service": 4, "environment": 4, "nps": 8})
        rollups.mark_dirty(branch.id, rollups.local_day(moment, branch.timezone))
        branch_id = branch.id
        db.session.commit()
    login(client, "admin", demo["passwords"]["admin"])
    page = client.get("/insight/").get_data(as_text=True)
    assert "Figures as of" in page and "waiting for the next roll-up" not in page
    with app.app_context():
        assert db.session.scalars(select(RollupDirty)).all() == []
        many = [dashboard.home_today() - timedelta(days=n) for n in range(dashboard.SYNC_REBUILD_LIMIT + 1)]
        for day in many:
            rollups.mark_dirty(branch_id, day)
        db.session.commit()
    page = client.get("/insight/").get_data(as_text=True)
    assert f"Days waiting for the next roll-up: {len(many)}." in page


def test_flask_jobs_sweep_rebuilds_the_dirty_days(app, demo):
    with app.app_context():
        branch = db.session.scalar(select(Branch).where(Branch.code == "LDN-SOHO"))
        rollups.mark_dirty(branch.id, dashboard.home_today())
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["jobs", "sweep"])
    assert result.exit_code == 0, result.output
    assert "rebuilt the roll-ups of 1 branch day(s)" in result.output
