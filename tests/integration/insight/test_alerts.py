"""Alerts: a sharp drop or too much negative feedback opens one episode and notifies the branch's supervisors once."""
from __future__ import annotations

import json
import re
import secrets
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.core.clock import utcnow
from app.extensions import db
from app.jobs.alerts import sweep_alerts
from app.models import (
    AlertEpisode,
    Branch,
    Department,
    Notification,
    OutboxEmail,
    Response,
    Role,
    Ticket,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.services.insight import alerts, rollups
from app.services.webhooks import delivery as webhook_delivery, payloads
from test_dashboard import add_response


@pytest.fixture
def shop(app, demo):
    """Two branches of their own with a supervisor each (one reads Chinese), on top of the demo."""
    with app.app_context():
        a = Branch(code="ALERT-A", name="预警店 A", timezone="Asia/Shanghai")
        b = Branch(code="ALERT-B", name="Quiet shop B", timezone="Europe/London")
        db.session.add_all([a, b])
        for username, branch, locale in (("sup.a", a, "en"), ("sup.b", b, "zh_Hans")):
            user = User(username=username, role=Role.SUPERVISOR, display_name=username,
                        email=f"{username}@example.com", locale=locale)
            user.set_password(secrets.token_hex(8))
            user.branches = [branch]
            db.session.add(user)
        db.session.commit()
        return {"a": a.id, "b": b.id}


def rate(branch_id: int, value: int, count: int, *, recent: bool, flags: list[str] | None = None,
         tickets: int = 0) -> list[int]:
    """``count`` responses rating every dimension ``value``: in the last 7 days or the 28 before."""
    branch = db.session.get(Branch, branch_id)
    version_id = db.session.scalar(select(Response.version_id).order_by(Response.id).limit(1))
    now = utcnow()
    ids = []
    for i in range(count):
        if recent:
            at = now - timedelta(minutes=10 + i * 97 % (5 * 24 * 60))
        else:
            at = now - timedelta(days=8, hours=i * 12 % (26 * 24))
        values = {"product": value, "service": value, "environment": value, "nps": value * 2}
        response = add_response(branch, version_id, at, values, flags=flags)
        db.session.flush()
        ids.append(response.id)
    department = db.session.scalar(select(Department).order_by(Department.id))
    for response_id in ids[:tickets]:
        db.session.add(Ticket(reference_code=secrets.token_hex(6), response_id=response_id, branch_id=branch_id,
                              department_id=department.id))
    db.session.commit()
    return ids


def evaluate(now: datetime | None = None) -> alerts.EvaluateResult:
    rollups.rebuild_all(db.session.scalars(select(Branch.id).where(Branch.code.like("ALERT-%"))).all())
    result = alerts.evaluate(now or utcnow())
    db.session.commit()
    return result


def inbox(username: str) -> list[Notification]:
    user_id = db.session.scalar(select(User.id).where(User.username == username))
    return list(db.session.scalars(
        select(Notification)
        .where(Notification.user_id == user_id, Notification.kind == "alert")
        .order_by(Notification.id)
    ))


def episodes(branch_id: int, kind: str | None = None) -> list[AlertEpisode]:
    query = select(AlertEpisode).where(AlertEpisode.branch_id == branch_id).order_by(AlertEpisode.id)
    if kind:
        query = query.where(AlertEpisode.kind == kind)
    return list(db.session.scalars(query))


def test_a_csat_drop_opens_one_episode_and_notifies_the_branch_supervisor_once(app, shop):
    with app.app_context():
        rate(shop["a"], 5, 40, recent=False)
        rate(shop["a"], 3, 25, recent=True)  # CSAT 100 % → 0 %; index 100 % → 50 % of the scale: not beyond
        result = evaluate()
        [episode] = episodes(shop["a"])
        assert episode.kind == "csat_drop" and episode.closed_at is None
        assert result.opened == [episode.id]
        assert episode.details["recent"]["responses"] == 25 and episode.details["baseline"]["csat"] == 100.0
        [notice] = inbox("sup.a")
        assert "预警店 A" in notice.title
        assert "0.0 %" in notice.body and "100.0 %" in notice.body
        assert "25 responses" in notice.body and "40 responses" in notice.body
        assert f"http://localhost/insight/?branch_ids={shop['a']}&date_from=" in notice.body
        email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to == "sup.a@example.com"))
        assert email is not None and "/insight/?branch_ids=" in email.body
        assert inbox("sup.b") == [] and inbox("supervisor") == [] and inbox("admin") == []

        again = evaluate()
        assert again.opened == [] and again.notifications == 0
        assert len(inbox("sup.a")) == 1 and alerts.open_episodes([shop["a"]]) == [episode]


def test_recovery_closes_the_episode_and_a_relapse_notifies_again(app, shop):
    with app.app_context():
        rate(shop["a"], 5, 40, recent=False)
        rate(shop["a"], 3, 25, recent=True)
        evaluate()
        rate(shop["a"], 5, 50, recent=True)  # recent CSAT 66.7 %: a third lower, not half
        closed = evaluate()
        assert closed.closed == 1
        [episode] = episodes(shop["a"])
        assert episode.closed_at is not None
        assert len(inbox("sup.a")) == 1

        rate(shop["a"], 3, 100, recent=True)  # 50 of 175 satisfied: 71 % lower again
        relapse = evaluate()
        first, second = episodes(shop["a"])
        assert first.closed_at is not None and second.closed_at is None and relapse.opened == [second.id]
        assert len(inbox("sup.a")) == 2


def test_a_drop_of_the_index_alerts_too(app, shop):
    with app.app_context():
        rate(shop["a"], 5, 30, recent=False)
        rate(shop["a"], 2, 30, recent=True)  # index 5 → 2: 100 % → 25 % of the scale
        evaluate()
        assert {e.kind for e in episodes(shop["a"])} == {"csat_drop", "index_drop"}
        index_notice = [n for n in inbox("sup.a") if "index" in n.title]
        assert len(inbox("sup.a")) == 2 and len(index_notice) == 1
        assert "2.00 of 5, 25.0 % of the scale" in index_notice[0].body
        assert "5.00 of 5, 100.0 % of the scale" in index_notice[0].body


def test_small_samples_do_not_alert(app, shop):
    with app.app_context():
        rate(shop["a"], 5, 40, recent=False)
        rate(shop["a"], 1, 19, recent=True, tickets=19)
        rate(shop["b"], 5, 19, recent=False)
        rate(shop["b"], 1, 30, recent=True)
        evaluate()
        assert episodes(shop["a"], "csat_drop") == [] and episodes(shop["a"], "negative_rate") == []
        assert episodes(shop["b"], "csat_drop") == [] and episodes(shop["b"], "index_drop") == []
        assert inbox("sup.a") == []


def test_the_drop_share_and_minimum_sample_are_settings(app, shop):
    with app.app_context():
        rate(shop["a"], 5, 12, recent=False)
        rate(shop["a"], 5, 7, recent=True)
        rate(shop["a"], 3, 5, recent=True)  # 7 of 12 satisfied: 41.7 % lower
        evaluate()
        assert episodes(shop["a"]) == []
        app.config.update(LOOPDESK_ALERT_DROP_SHARE=0.4, LOOPDESK_ALERT_MIN_SAMPLE=10)
        evaluate()
        assert [e.kind for e in episodes(shop["a"])] == ["csat_drop"]


def test_negative_feedback_above_five_percent_alerts(app, shop):
    with app.app_context():
        rate(shop["a"], 5, 40, recent=False)
        rate(shop["a"], 5, 40, recent=True, tickets=2)  # 5 %: not above
        evaluate()
        assert episodes(shop["a"]) == []
        rate(shop["a"], 5, 10, recent=True, tickets=1)  # 3 of 50: 6 %
        evaluate()
        [episode] = episodes(shop["a"])
        assert episode.kind == "negative_rate" and episode.details["rate"] == pytest.approx(0.06)
        [notice] = inbox("sup.a")
        assert "3 of 50" in notice.body and "6.0 %" in notice.body


def test_flagged_responses_are_left_out(app, shop):
    with app.app_context():
        rate(shop["a"], 5, 40, recent=False)
        rate(shop["a"], 5, 25, recent=True)
        bad = rate(shop["a"], 1, 40, recent=True, flags=["too_fast"], tickets=10)
        evaluate()
        assert episodes(shop["a"]) == []
        for response in db.session.scalars(select(Response).where(Response.id.in_(bad))):
            response.quality_review = "cleared"  # a reviewer says they count after all
        db.session.commit()
        evaluate()
        assert {e.kind for e in episodes(shop["a"])} == {"csat_drop", "index_drop", "negative_rate"}


def test_a_branch_without_a_supervisor_alerts_the_admins(app, shop):
    with app.app_context():
        db.session.scalar(select(User).where(User.username == "sup.b")).active = False
        db.session.commit()
        rate(shop["b"], 5, 30, recent=False)
        rate(shop["b"], 3, 30, recent=True)
        evaluate()
        assert len(inbox("admin")) == 1
        assert inbox("sup.b") == [] and inbox("sup.a") == []
        assert "Quiet shop B" in inbox("admin")[0].title


def test_webhooks_receive_the_alert(app, shop):
    with app.app_context():
        db.session.add(WebhookEndpoint(url="https://crm.example.com/hook", secret="whsec_c2VjcmV0",
                                       events=["alert.raised"]))
        db.session.commit()
        rate(shop["a"], 5, 40, recent=False)
        rate(shop["a"], 3, 25, recent=True)
        evaluate()
        [delivery] = db.session.scalars(select(WebhookDelivery)).all()
        alert = delivery.payload["alert"]
        envelope = json.loads(webhook_delivery.body(delivery))
        assert payloads.envelope_schema("alert.raised")().validate(envelope) == {}  # as documented
        assert delivery.event == "alert.raised" and alert["branch"] == "ALERT-A"
        assert alert["kind"] == "csat_drop"
        assert alert["url"].startswith("http://localhost/insight/?branch_ids=")


def test_of_two_sweeps_at_once_only_the_one_that_opens_the_episode_notifies(app, shop, monkeypatch):
    real_open = alerts._open

    def other_sweep_first(branch_id, finding, now):
        real_open(branch_id, finding, now)  # the other sweep's insert, committed while this one was reading
        return real_open(branch_id, finding, now)

    with app.app_context():
        rate(shop["a"], 5, 40, recent=False)
        rate(shop["a"], 3, 25, recent=True)
        monkeypatch.setattr(alerts, "_open", other_sweep_first)
        result = evaluate()
        assert result.opened == [] and result.notifications == 0
        assert len(episodes(shop["a"])) == 1 and inbox("sup.a") == []


def test_the_job_is_safe_to_run_twice_and_rebuilds_the_roll_ups_first(app, shop):
    with app.app_context():
        rate(shop["a"], 5, 40, recent=False)
        rate(shop["a"], 3, 25, recent=True)
        today = rollups.local_day(utcnow(), "Asia/Shanghai")
        for days_ago in range(36):  # as arriving responses leave them: marked, not rolled up yet
            rollups.mark_dirty(shop["a"], today - timedelta(days=days_ago))
        db.session.commit()
        sweep_alerts()
        sweep_alerts()
        assert len(episodes(shop["a"])) == 1 and len(inbox("sup.a")) == 1
        still_open = select(func.count()).select_from(AlertEpisode).where(AlertEpisode.closed_at.is_(None))
        assert db.session.scalar(still_open) == 1


def test_a_deactivated_branch_closes_its_episodes(app, shop):
    with app.app_context():
        rate(shop["a"], 5, 40, recent=False)
        rate(shop["a"], 3, 25, recent=True)
        evaluate()
        db.session.get(Branch, shop["a"]).active = False
        db.session.commit()
        assert evaluate().closed == 1
        assert all(e.closed_at is not None for e in episodes(shop["a"]))


def test_the_alert_in_the_inbox_links_to_the_branch_on_the_dashboard(app, client, shop):
    from tests.conftest import login

    with app.app_context():
        supervisor = db.session.scalar(select(User).where(User.username == "sup.a"))
        supervisor.set_password("a-known-password")
        rate(shop["a"], 5, 40, recent=False)
        rate(shop["a"], 3, 25, recent=True)
        evaluate()
        db.session.commit()
    login(client, "sup.a", "a-known-password")
    page = client.get("/me/notifications").get_data(as_text=True)
    link = re.search(r'<a href="(/insight/\?branch_ids=%d[^"]*)">' % shop["a"], page)
    assert link, page
    assert client.get(link.group(1).replace("&amp;", "&")).status_code == 200
