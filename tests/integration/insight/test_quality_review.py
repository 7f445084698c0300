"""Data quality: flags computed after submit with the configured thresholds, flagged responses kept
and visible, and the review screen where supervisors confirm or clear them (audited, roll-ups marked)."""
from __future__ import annotations

import secrets
from datetime import timedelta
from statistics import median

import pytest
from sqlalchemy import func, select

from app.core.clock import utcnow
from app.extensions import db
from app.models import Answer, AuditEntry, Branch, Response, RollupDirty, User
from app.services.survey.responses import process_submitted, recent_paces
from app.services.insight.rollups import local_day
from app.services.survey.plans import plan_for
from tests.conftest import csrf_token, login


def submit(app, branch="SH-PEOPLE", *, duration=90, device=None, at=None, comment=None, service=4, kiosk=False) -> int:
    """A response answered on a phone and submitted ``at`` (default now), then processed as the job would."""
    with app.app_context():
        branch_row = db.session.scalar(select(Branch).where(Branch.code == branch))
        qr = next(q for q in branch_row.qr_codes if q.is_kiosk == kiosk)
        version_id = db.session.scalar(select(Response.version_id).limit(1))
        plan = plan_for(version_id)
        submitted = at or utcnow()
        response = Response(
            branch_id=branch_row.id,
            qr_code_id=qr.id,
            version_id=version_id,
            language="en",
            device_id=device or secrets.token_hex(8),
            idempotency_key=secrets.token_urlsafe(24),
            started_at=submitted - timedelta(seconds=duration),
            last_answered_at=submitted,
            furthest_step=6,
            submitted_at=submitted,
            duration_seconds=duration,
        )
        values = {"product": 4, "service": service, "environment": 5, "nps": 8}
        if comment is not None:
            values["comment"] = comment
        for key, value in values.items():
            text = value if isinstance(value, str) else None
            number = None if isinstance(value, str) else value
            response.answers.append(Answer(question_id=plan.by_key[key].id, value_text=text, value_int=number))
        db.session.add(response)
        db.session.commit()
        process_submitted(response.id)
        db.session.commit()
        return response.id


def flags_of(app, response_id):
    with app.app_context():
        return db.session.get(Response, response_id).quality_flags


#: The path `submit` takes without a comment: product, service, environment, NPS and the (empty) comment box shown.
TAPS = 5


def version_median(app) -> float:
    """The time the version's median pace gives `submit`'s path."""
    with app.app_context():
        version_id = db.session.scalar(select(Response.version_id).limit(1))
        return median(recent_paces(version_id)) * TAPS


def as_supervisor(client, demo, who="supervisor"):
    login(client, who, demo["passwords"][who])
    return csrf_token(client.get("/quality/").get_data(as_text=True))


# -- flags, with the configured thresholds ----------------------------------------------------------


def test_speeder_is_flagged_below_the_default_share_of_the_versions_median(app, demo):
    m = version_median(app)
    assert 1.0 * TAPS < 0.33 * m  # the demo's crowd takes its time: 1 s a tap is a third of its pace
    assert flags_of(app, submit(app, duration=int(1.0 * TAPS))) == ["too_fast"]
    assert flags_of(app, submit(app, duration=int(m * 0.45))) == []


def test_a_brisk_customer_at_a_human_pace_is_never_too_fast_however_slow_the_crowd(app, demo):
    assert 2.0 * TAPS < 0.33 * version_median(app)
    assert flags_of(app, submit(app, duration=int(2.0 * TAPS))) == []  # 2 s a tap


@pytest.mark.parametrize("app", [{"LOOPDESK_SPEEDER_FRACTION": 0.02}], indirect=True)
def test_speeder_fraction_comes_from_the_settings(app, demo):
    m = version_median(app)
    assert 1.0 * TAPS > 0.02 * m
    assert flags_of(app, submit(app, duration=int(1.0 * TAPS))) == []


@pytest.mark.parametrize("app", [{"LOOPDESK_LONG_SURVEY_QUESTIONS": 5}], indirect=True)
def test_a_survey_with_enough_questions_is_long_and_under_two_minutes_is_too_fast(app, demo):
    # product, service, environment, NPS and the comment were asked: five questions.
    assert flags_of(app, submit(app, duration=110, comment="Fine")) == ["too_fast"]
    assert flags_of(app, submit(app, duration=125, comment="Fine")) == []


def test_the_default_questionnaire_is_not_a_long_survey(app, demo):
    assert flags_of(app, submit(app, duration=110, comment="Fine")) == []


def test_a_second_submission_from_one_device_within_the_hour_is_flagged(app, demo):
    first = utcnow() - timedelta(hours=3)
    assert flags_of(app, submit(app, device="phone-1", at=first)) == []
    assert flags_of(app, submit(app, device="phone-1", at=first + timedelta(minutes=40))) == ["repeat_device"]
    assert flags_of(app, submit(app, device="phone-1", at=first + timedelta(hours=2, minutes=30))) == []
    # Another branch, or the shared kiosk, is not a repeat.
    assert flags_of(app, submit(app, "HZ-WESTLAKE", device="phone-1", at=first + timedelta(minutes=50))) == []
    assert flags_of(app, submit(app, device="kiosk", kiosk=True, at=first)) == []
    assert flags_of(app, submit(app, device="kiosk", kiosk=True, at=first + timedelta(minutes=5))) == []


@pytest.mark.parametrize("app", [{"LOOPDESK_REPEAT_DEVICE_HOURS": 3}], indirect=True)
def test_the_repeat_window_comes_from_the_settings(app, demo):
    first = utcnow() - timedelta(hours=5)
    submit(app, device="phone-2", at=first)
    assert flags_of(app, submit(app, device="phone-2", at=first + timedelta(hours=2, minutes=30))) == ["repeat_device"]


def test_gibberish_comment_is_flagged_and_a_real_one_is_not(app, demo):
    assert flags_of(app, submit(app, comment="asdfghjkl")) == ["gibberish"]
    assert flags_of(app, submit(app, comment="sdfsdf sdfsdf")) == ["gibberish"]
    assert flags_of(app, submit(app, comment="服务员态度很好，环境干净")) == []
    assert flags_of(app, submit(app, comment="ok")) == []


# -- flagged responses are kept and visible ---------------------------------------------------------


def test_flagged_response_is_kept_and_shown_with_its_flag_and_review_state(app, client, demo):
    flagged = submit(app, comment="qwerty")
    login(client, "staff", demo["passwords"]["staff"])
    listing = client.get("/staff/responses").get_data(as_text=True)
    assert "meaningless text" in listing and "not reviewed yet: left out of scores" in listing
    detail = client.get(f"/staff/responses/{flagged}").get_data(as_text=True)
    assert "meaningless text" in detail and "qwerty" in detail
    assert "Confirm (keep out of scores)" not in detail  # staff see the state, supervisors decide
    with app.app_context():
        response = db.session.get(Response, flagged)
        assert response is not None and response.counts_in_scores is False


# -- the review screen ---------------------------------------------------------------------------


def test_staff_may_not_open_the_review_screen_and_anonymous_must_sign_in(app, client, demo):
    flagged = submit(app, comment="asdf")
    assert client.get("/quality/").status_code == 302
    login(client, "staff", demo["passwords"]["staff"])
    token = csrf_token(client.get("/staff/responses").get_data(as_text=True))
    assert client.get("/quality/").status_code == 403
    assert client.post(f"/quality/{flagged}/confirmed", data={"csrf_token": token}).status_code == 403
    assert client.post("/quality/review", data={"csrf_token": token, "response_id": flagged, "verdict": "confirmed"}).status_code == 403
    assert "/quality/" not in client.get("/staff/responses").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Response, flagged).quality_review is None


def test_supervisor_sees_flagged_responses_of_their_branches_only(app, client, demo):
    shanghai = submit(app, comment="asdfgh")
    london = submit(app, "LDN-SOHO", comment="qwerty")
    as_supervisor(client, demo)
    page = client.get("/quality/").get_data(as_text=True)
    assert f'id="review-{shanghai}"' in page and f'id="review-{london}"' not in page
    assert "meaningless text" in page and "London Soho" not in page
    assert "the median for this questionnaire is" in page
    assert "asdfgh" in page  # the answers summary shows what was typed
    assert 'href="/quality/"' in page  # the Data quality link in the top bar


def test_admin_sees_every_branch(app, client, demo):
    london = submit(app, "LDN-SOHO", comment="qwerty")
    login(client, "admin", demo["passwords"]["admin"])
    assert f'id="review-{london}"' in client.get("/quality/").get_data(as_text=True)


def test_confirm_then_clear_writes_the_audit_trail_and_marks_the_roll_up_day(app, client, demo):
    flagged = submit(app, comment="asdfgh")
    token = as_supervisor(client, demo)
    with app.app_context():
        db.session.query(RollupDirty).delete()
        db.session.commit()

    response = client.post(f"/quality/{flagged}/confirmed", data={"csrf_token": token, "state": "all"})
    assert response.status_code == 303 and "state=all" in response.headers["Location"]
    with app.app_context():
        row = db.session.get(Response, flagged)
        supervisor_id = db.session.scalar(select(User.id).where(User.username == "supervisor"))
        assert row.quality_review == "confirmed" and row.quality_reviewed_by_id == supervisor_id
        assert row.quality_reviewed_at is not None and row.counts_in_scores is False
        day = local_day(row.submitted_at, row.branch.timezone)
        assert db.session.get(RollupDirty, (row.branch_id, day)) is not None
        db.session.query(RollupDirty).delete()
        db.session.commit()
    assert "Confirmed 1 response" in client.get("/quality/?state=all").get_data(as_text=True)

    # A verdict can be changed later.
    client.post(f"/quality/{flagged}/cleared", data={"csrf_token": token})
    with app.app_context():
        row = db.session.get(Response, flagged)
        assert row.quality_review == "cleared" and row.counts_in_scores is True
        assert db.session.get(RollupDirty, (row.branch_id, day)) is not None
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.entity_type == "response", AuditEntry.entity_id == flagged)
            .order_by(AuditEntry.id)
        ).all()
        assert [e.action for e in entries] == ["confirm", "clear"]
        assert entries[0].before == {"quality_flags": ["gibberish"], "quality_review": None}
        assert entries[0].after == {"quality_flags": ["gibberish"], "quality_review": "confirmed"}
        assert entries[1].before["quality_review"] == "confirmed" and entries[1].after["quality_review"] == "cleared"
        assert all(e.user_id == supervisor_id for e in entries)
        assert "SH-PEOPLE" in entries[0].label
    page = client.get("/quality/?state=cleared").get_data(as_text=True)
    assert f'id="review-{flagged}"' in page and "Review history" in page
    assert f'id="review-{flagged}"' not in client.get("/quality/").get_data(as_text=True)  # no longer unreviewed


def test_the_same_verdict_twice_writes_one_audit_entry(app, client, demo):
    flagged = submit(app, comment="asdfgh")
    token = as_supervisor(client, demo)
    client.post(f"/quality/{flagged}/confirmed", data={"csrf_token": token})
    client.post(f"/quality/{flagged}/confirmed", data={"csrf_token": token})
    with app.app_context():
        assert db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.entity_type == "response", AuditEntry.entity_id == flagged)
        ) == 1


def test_htmx_verdict_swaps_just_the_row(app, client, demo):
    flagged = submit(app, comment="asdfgh")
    token = as_supervisor(client, demo)
    response = client.post(f"/quality/{flagged}/cleared", data={"csrf_token": token}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    row = response.get_data(as_text=True)
    assert row.lstrip().startswith(f'<li class="card" id="review-{flagged}"')
    assert "cleared: counts in scores" in row and "<html" not in row


def test_bulk_confirm_ignores_forged_ids_from_outside_the_scope(app, client, demo):
    mine = [submit(app, comment="asdfgh"), submit(app, "HZ-WESTLAKE", comment="qwerty")]
    london = submit(app, "LDN-SOHO", comment="zxcvbn")
    clean = submit(app, comment="Lovely tea")
    token = as_supervisor(client, demo)
    response = client.post(
        "/quality/review",
        data={"csrf_token": token, "verdict": "confirmed", "response_id": [*mine, london, clean, "abc", "-3", "9" * 30]},
    )
    assert response.status_code == 303
    with app.app_context():
        assert [db.session.get(Response, i).quality_review for i in mine] == ["confirmed", "confirmed"]
        assert db.session.get(Response, london).quality_review is None
        assert db.session.get(Response, clean).quality_review is None
        assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.entity_type == "response")) == 2
    assert "Confirmed 2 responses" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_response_outside_the_scope_or_without_flags_cannot_be_reviewed(app, client, demo):
    london = submit(app, "LDN-SOHO", comment="zxcvbn")
    clean = submit(app, comment="Lovely tea")
    token = as_supervisor(client, demo)
    for response_id in (london, clean, 10**12):
        assert client.post(f"/quality/{response_id}/confirmed", data={"csrf_token": token}).status_code == 404
    with app.app_context():
        assert db.session.get(Response, london).quality_review is None
        assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.entity_type == "response")) == 0


def test_supervisor_reviews_from_the_responses_page_too(app, client, demo):
    flagged = submit(app, comment="asdfgh")
    token = as_supervisor(client, demo)
    detail = client.get(f"/staff/responses/{flagged}").get_data(as_text=True)
    assert "Confirm (keep out of scores)" in detail
    response = client.post(f"/quality/{flagged}/confirmed", data={"csrf_token": token, "return_to": "response"})
    assert response.headers["Location"].endswith(f"/staff/responses/{flagged}")
    assert "confirmed: left out of scores" in client.get(f"/staff/responses/{flagged}").get_data(as_text=True)


def test_filters_by_flag_state_branch_and_date(app, client, demo):
    old = submit(app, comment="asdfgh", at=utcnow() - timedelta(days=90))
    gibberish = submit(app, comment="asdfgh")
    hangzhou = submit(app, "HZ-WESTLAKE", comment="qwerty")
    speeder = submit(app, duration=2)
    token = as_supervisor(client, demo)
    client.post(f"/quality/{hangzhou}/confirmed", data={"csrf_token": token})

    def shown(query):
        page = client.get(f"/quality/?{query}").get_data(as_text=True)
        return {i for i in (old, gibberish, hangzhou, speeder) if f'id="review-{i}"' in page}

    assert shown("") == {old, gibberish, speeder}
    assert shown("flag=gibberish") == {old, gibberish}
    assert shown("flag=too_fast") == {speeder}
    assert shown("state=confirmed") == {hangzhou}
    assert shown("state=all&flag=gibberish") == {old, gibberish, hangzhou}
    with app.app_context():
        hz_id = db.session.scalar(select(Branch.id).where(Branch.code == "HZ-WESTLAKE"))
    assert shown(f"state=all&branch_ids={hz_id}") == {hangzhou}
    since = (utcnow() - timedelta(days=7)).date().isoformat()
    assert old not in shown(f"date_from={since}")
    until = (utcnow() - timedelta(days=60)).date().isoformat()
    assert shown(f"date_to={until}") == {old}


@pytest.mark.parametrize(
    "query",
    [
        "flag=<script>&state=nonsense",
        "date_from=not-a-date&date_to=2024-13-45",
        "branch_ids=abc&branch_ids=-1&branch_ids=99999999999999999999999",
        "before=abc",
        "before=99999999999999999999999",
        "before=1&state=all",
    ],
)
def test_odd_filters_never_break_the_page(app, client, demo, query):
    as_supervisor(client, demo)
    assert client.get(f"/quality/?{query}").status_code == 200


def test_bad_verdicts_and_empty_bulk_are_refused_politely(app, client, demo):
    flagged = submit(app, comment="asdfgh")
    token = as_supervisor(client, demo)
    assert client.post(f"/quality/{flagged}/delete", data={"csrf_token": token}).status_code == 404
    response = client.post("/quality/review", data={"csrf_token": token, "response_id": flagged, "verdict": "delete"})
    assert response.status_code == 303
    assert "Choose Confirm or Clear." in client.get(response.headers["Location"]).get_data(as_text=True)
    response = client.post("/quality/review", data={"csrf_token": token, "verdict": "cleared"})
    assert "Tick at least one flagged response first." in client.get(response.headers["Location"]).get_data(as_text=True)
    assert client.post("/quality/review", data={"response_id": flagged, "verdict": "cleared"}).status_code == 400
    with app.app_context():
        assert db.session.get(Response, flagged).quality_review is None
