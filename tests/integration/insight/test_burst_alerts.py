"""The real-time alert: a burst of unhappy customers at a branch reaches its supervisors while they are still there,
once per episode; and the drop alerts do not flap around their threshold."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app.extensions import db
from app.jobs.responses import response_submitted
from app.models import AlertEpisode, Branch, OutboxEmail, Response, Ticket, User, WebhookDelivery, WebhookEndpoint
from app.services.webhooks import delivery as webhook_delivery, payloads
from app.services.insight import alerts
from test_alerts import episodes, evaluate, inbox, rate, shop  # noqa: F401  (shop is a fixture)
from test_dashboard import add_response

#: A Tuesday lunch at the Shanghai branch (12:00 local).
LUNCH = datetime(2026, 12, 1, 4, 0, tzinfo=timezone.utc)
UNHAPPY = {"product": 1, "service": 1, "environment": 2, "nps": 1}
HAPPY = {"product": 5, "service": 5, "environment": 5, "nps": 10}


def customer(branch_id: int, at: datetime, values: dict) -> int:
    """A response submitted at ``at``, processed by the response job as it would be (its ticket by the rules)."""
    branch = db.session.get(Branch, branch_id)
    version_id = db.session.scalar(select(Response.version_id).order_by(Response.id).limit(1))
    response = add_response(branch, version_id, at, values)
    response.processed_at = None
    db.session.commit()
    response_submitted(response.id)
    return response.id


def bursts(branch_id: int) -> list[AlertEpisode]:
    return episodes(branch_id, alerts.NEGATIVE_BURST)


def test_three_unhappy_customers_in_a_quarter_hour_alert_the_supervisor_at_once_and_once(app, shop):
    with app.app_context():
        customer(shop["a"], LUNCH, HAPPY)
        customer(shop["a"], LUNCH + timedelta(minutes=2), UNHAPPY)
        customer(shop["a"], LUNCH + timedelta(minutes=6), UNHAPPY)
        assert bursts(shop["a"]) == [] and inbox("sup.a") == []  # two unhappy: not yet
        customer(shop["a"], LUNCH + timedelta(minutes=9), UNHAPPY)  # 3 of 4 in 9 minutes
        [episode] = bursts(shop["a"])
        assert episode.closed_at is None and episode.details["negative"] == 3 and episode.details["responses"] == 4
        [notice] = inbox("sup.a")
        assert "3 unhappy customers in 15 minutes" in notice.title and "预警店 A" in notice.title
        link = re.search(r"http://localhost(/staff/responses\?\S+)", notice.body).group(1)
        assert f"branch_ids={shop['a']}" in link and "negative=1" in link and "date_from=2026-12-01" in link
        email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to == "sup.a@example.com"))
        assert email is not None and "/staff/responses?" in email.body
        assert inbox("sup.b") == [] and inbox("admin") == []

        for minutes in (10, 11, 12, 13, 14, 15, 16):  # ten unhappy customers in all: still the same episode
            customer(shop["a"], LUNCH + timedelta(minutes=minutes), UNHAPPY)
        assert len(bursts(shop["a"])) == 1 and len(inbox("sup.a")) == 1


def test_the_supervisor_in_chinese_reads_it_in_chinese_and_the_link_shows_the_responses(app, client, shop):
    from tests.conftest import login

    with app.app_context():
        ids = [customer(shop["b"], LUNCH + timedelta(minutes=minutes), UNHAPPY) for minutes in (0, 3, 7)]
        [notice] = inbox("sup.b")
        assert "Quiet shop B" in notice.title and "分钟" in notice.title, notice.title
        link = re.search(r"http://localhost(/staff/responses\?\S+)", notice.body).group(1)
        supervisor = db.session.scalar(select(User).where(User.username == "sup.b"))
        supervisor.set_password("a-known-password")
        db.session.commit()
    login(client, "sup.b", "a-known-password")
    page = client.get(link.replace("&amp;", "&"))
    assert page.status_code == 200
    shown = {int(i) for i in re.findall(r'href="/staff/responses/(\d+)"', page.get_data(as_text=True))}
    assert shown == set(ids)


def test_unhappy_customers_among_many_happy_ones_are_no_burst(app, shop):
    with app.app_context():
        for minutes in range(7):
            customer(shop["a"], LUNCH + timedelta(minutes=minutes), HAPPY)
        for minutes in (8, 9, 10):
            customer(shop["a"], LUNCH + timedelta(minutes=minutes), UNHAPPY)  # 3 of 10: 30 % < 50 %
        assert bursts(shop["a"]) == [] and inbox("sup.a") == []


def test_spread_over_an_hour_they_are_no_burst(app, shop):
    with app.app_context():
        for minutes in (0, 20, 40, 60):
            customer(shop["a"], LUNCH + timedelta(minutes=minutes), UNHAPPY)
        assert bursts(shop["a"]) == []


def test_flagged_responses_do_not_make_a_burst(app, shop, monkeypatch):
    from app.services.survey import responses

    monkeypatch.setattr(responses, "_flags_for", lambda response: ["repeat_device"])  # a ballot-stuffing burst
    with app.app_context():
        for minutes in (0, 1, 2):
            customer(shop["a"], LUNCH + timedelta(minutes=minutes), UNHAPPY)
        assert db.session.scalars(select(Response.quality_flags).where(Response.branch_id == shop["a"])).all() == [
            ["repeat_device"]] * 3
        assert bursts(shop["a"]) == []


def test_a_pause_shorter_than_the_window_is_one_episode_a_quiet_window_ends_it(app, shop):
    with app.app_context():
        for minutes in (0, 1, 2):
            customer(shop["a"], LUNCH + timedelta(minutes=minutes), UNHAPPY)
        customer(shop["a"], LUNCH + timedelta(minutes=10), HAPPY)  # 3 of 4: still holds
        customer(shop["a"], LUNCH + timedelta(minutes=20), UNHAPPY)  # 1 of 3 in the window: a pause of 8 minutes
        customer(shop["a"], LUNCH + timedelta(minutes=22), UNHAPPY)
        customer(shop["a"], LUNCH + timedelta(minutes=24), UNHAPPY)  # 3 of 4 again: the same episode
        [episode] = bursts(shop["a"])
        assert episode.closed_at is None and len(inbox("sup.a")) == 1

        customer(shop["a"], LUNCH + timedelta(minutes=45), HAPPY)  # 21 minutes without the burst holding
        [episode] = bursts(shop["a"])
        assert episode.closed_at is not None
        for minutes in (60, 61, 62):
            customer(shop["a"], LUNCH + timedelta(minutes=minutes), UNHAPPY)
        first, second = bursts(shop["a"])
        assert first.closed_at is not None and second.closed_at is None
        assert len(inbox("sup.a")) == 2


def test_the_hourly_sweep_closes_a_burst_whose_branch_went_quiet(app, shop):
    with app.app_context():
        for minutes in (0, 1, 2):
            customer(shop["a"], LUNCH + timedelta(minutes=minutes), UNHAPPY)
        alerts.evaluate(LUNCH + timedelta(minutes=10))
        db.session.commit()
        assert bursts(shop["a"])[0].closed_at is None
        alerts.evaluate(LUNCH + timedelta(minutes=40))
        db.session.commit()
        assert bursts(shop["a"])[0].closed_at is not None


def test_a_branch_sets_its_own_burst(app, shop):
    with app.app_context():
        branch = db.session.get(Branch, shop["a"])
        branch.burst_min_negative, branch.burst_min_share_percent, branch.burst_window_minutes = 5, 80, 30
        db.session.commit()
        for minutes in (0, 5, 10, 15):
            customer(shop["a"], LUNCH + timedelta(minutes=minutes), UNHAPPY)
        assert bursts(shop["a"]) == []
        customer(shop["a"], LUNCH + timedelta(minutes=25), UNHAPPY)  # 5 in 25 minutes
        [episode] = bursts(shop["a"])
        assert episode.details["minutes"] == 30
        assert "5 unhappy customers in 30 minutes" in inbox("sup.a")[0].title


def test_the_chain_default_is_a_setting(app, shop):
    app.config["LOOPDESK_BURST_MIN_NEGATIVE"] = 2
    with app.app_context():
        customer(shop["a"], LUNCH, UNHAPPY)
        customer(shop["a"], LUNCH + timedelta(minutes=1), UNHAPPY)
        assert len(bursts(shop["a"])) == 1


def test_webhooks_receive_the_burst(app, shop):
    with app.app_context():
        db.session.add(WebhookEndpoint(url="https://crm.example.com/hook", secret="whsec_c2VjcmV0",
                                       events=["alert.raised"]))
        db.session.commit()
        for minutes in (0, 1, 2):
            customer(shop["a"], LUNCH + timedelta(minutes=minutes), UNHAPPY)
        [delivery] = db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.event == "alert.raised")).all()
        alert = delivery.payload["alert"]
        envelope = json.loads(webhook_delivery.body(delivery))
        assert payloads.envelope_schema("alert.raised")().validate(envelope) == {}  # as documented
        assert alert["kind"] == "negative_burst" and alert["branch"] == "ALERT-A"
        assert alert["figures"]["negative"] == 3
        assert db.session.scalar(select(Ticket.id).where(Ticket.branch_id == shop["a"]).limit(1)) is not None


def test_a_drop_that_hovers_at_the_threshold_is_one_episode(app, shop):
    """Opened beyond a 50 % drop, the episode stays open down to a 40 % drop: no new episode, no new notice."""
    with app.app_context():
        rate(shop["a"], 5, 40, recent=False)
        rate(shop["a"], 3, 25, recent=True)  # CSAT 100 % → 0 %
        evaluate()
        rate(shop["a"], 5, 30, recent=True)  # 30 of 55 satisfied: 45 % lower, below the 50 % that opened it
        hovering = evaluate()
        assert hovering.closed == 0 and hovering.opened == []
        [episode] = episodes(shop["a"], "csat_drop")
        assert episode.closed_at is None and len(inbox("sup.a")) == 1
        rate(shop["a"], 5, 20, recent=True)  # 50 of 75: 33 % lower, past the release threshold
        assert evaluate().closed == 1


def test_an_admin_sets_a_branch_burst_and_bad_numbers_are_refused_in_place(app, client, demo, shop):
    from tests.conftest import csrf_token, login

    login(client, "admin", demo["passwords"]["admin"])
    url = f"/admin/branches/{shop['a']}/alert"
    page = client.get(url).get_data(as_text=True)
    assert 'placeholder="3"' in page and 'placeholder="50"' in page and 'placeholder="15"' in page
    refused = client.post(url, data={"csrf_token": csrf_token(page), "min_negative": "0", "min_share_percent": "150",
                                     "window_minutes": "20"})
    assert refused.status_code == 422
    assert refused.get_data(as_text=True).count('class="error" role="alert"') == 2 and 'value="20"' in refused.get_data(as_text=True)
    saved = client.post(url, data={"csrf_token": csrf_token(page), "min_negative": "4", "min_share_percent": "",
                                   "window_minutes": "20"})
    assert saved.status_code == 303
    with app.app_context():
        branch = db.session.get(Branch, shop["a"])
        assert (branch.burst_min_negative, branch.burst_min_share_percent, branch.burst_window_minutes) == (4, None, 20)
        rule = alerts.burst_rule(branch)
        assert (rule.min_negative, rule.min_share, rule.window_minutes) == (4, 0.5, 20)
    shown = client.get(f"/admin/branches/{shop['a']}").get_data(as_text=True)
    assert "4 unhappy customers, at least 50 % of the responses, come within 20 minutes" in shown
