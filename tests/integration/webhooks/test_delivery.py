"""Webhook delivery: Standard Webhooks signatures a receiver checks with only the documented algorithm,
retries with backoff, every attempt a row, the secret's rotation, RQ and a Redis outage."""
from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.clock import utcnow
from app.extensions import db
from app.models import WebhookAttempt, WebhookDelivery
from app.services.webhooks import delivery as webhook_delivery, endpoints as webhook_endpoints
from app.services.webhooks.delivery import Attempt
from tests.conftest import REDIS_URL, run_burst_worker
from tests.integration.webhooks.receiver import SECRET, T0, Refused, add_endpoint, published, receiving, verify


@pytest.fixture(autouse=True)
def _loopback_receivers_allowed(app):
    """The receivers listen on 127.0.0.1, which outgoing HTTP refuses unless it is allowed by name."""
    app.config["LOOPDESK_OUTGOING_ALLOWED_HOSTS"] = ["127.0.0.1"]


def test_a_receiver_verifies_the_signature_with_only_the_documented_algorithm(app):
    from app.jobs.notifications import hand_over_webhooks

    with app.app_context(), receiving(200) as receiver:
        add_endpoint(receiver.url)
        delivery = published(now=utcnow())
        hand_over_webhooks([delivery.id])  # without Redis: one attempt now, in process

        [(headers, body)] = receiver.requests
        event = verify(SECRET, headers, body)
        assert event["id"] == delivery.event_id == headers["webhook-id"] and event["id"].startswith("evt_")
        assert (event["type"], event["version"]) == ("webhook.test", 1)
        assert event["data"] == {"endpoint": delivery.endpoint_id, "message": "客户很生气"}
        assert headers["content-type"].startswith("application/json")
        assert abs(int(headers["webhook-timestamp"]) - utcnow().timestamp()) < 60
        assert headers["webhook-signature"].startswith("v1,") and " " not in headers["webhook-signature"]
        stored = db.session.get(WebhookDelivery, delivery.id)
        assert (stored.attempts, stored.status_code, stored.last_error) == (1, 200, None)
        assert stored.delivered_at is not None and stored.next_attempt_at is None


def test_the_receiver_refuses_a_stale_timestamp_a_tampered_body_and_another_secret(app):
    from app.jobs.notifications import hand_over_webhooks

    with app.app_context(), receiving(200) as receiver:
        add_endpoint(receiver.url)
        hand_over_webhooks([published(now=utcnow()).id])
        [(headers, body)] = receiver.requests
        sent_at = int(headers["webhook-timestamp"])
        verify(SECRET, headers, body, now=sent_at + 299)
        with pytest.raises(Refused, match="timestamp"):
            verify(SECRET, headers, body, now=sent_at + 301)  # replayed more than 5 minutes later
        with pytest.raises(Refused, match="timestamp"):
            verify(SECRET, headers | {"webhook-timestamp": str(int(utcnow().timestamp()))}, body, now=sent_at + 400)
        tampered = body.replace("客户很生气".encode(), "客户很满意".encode())
        with pytest.raises(Refused, match="signature"):
            verify(SECRET, headers, tampered)
        with pytest.raises(Refused, match="signature"):
            verify(SECRET, headers | {"webhook-timestamp": str(sent_at + 1)}, body)  # a new timestamp, old signature
        with pytest.raises(Refused, match="signature"):
            verify("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB", headers, body)


def test_failed_delivery_is_retried_after_its_backoff_and_every_attempt_is_recorded(app):
    with app.app_context(), receiving(500, 200) as receiver:
        add_endpoint(receiver.url)
        delivery_id = published().id

        assert webhook_delivery.attempt_delivery(delivery_id, T0) is Attempt.RETRY
        db.session.commit()
        failed = db.session.get(WebhookDelivery, delivery_id)
        assert (failed.attempts, failed.status_code, failed.last_error) == (1, 500, "HTTP 500")
        assert failed.next_attempt_at == T0 + timedelta(seconds=10) and failed.delivered_at is None

        assert webhook_delivery.attempt_delivery(delivery_id, T0 + timedelta(seconds=5)) is Attempt.SKIPPED
        assert len(receiver.requests) == 1  # not due yet: nothing sent

        assert webhook_delivery.attempt_delivery(delivery_id, T0 + timedelta(seconds=10)) is Attempt.DELIVERED
        db.session.commit()
        done = db.session.get(WebhookDelivery, delivery_id)
        assert (done.attempts, done.status_code, done.last_error) == (2, 200, None)
        assert done.delivered_at == T0 + timedelta(seconds=10)
        (first_headers, first), (second_headers, second) = receiver.requests
        assert first == second  # the same bytes on every attempt, signed anew with the attempt's time
        assert first_headers["webhook-id"] == second_headers["webhook-id"]
        assert int(second_headers["webhook-timestamp"]) - int(first_headers["webhook-timestamp"]) == 10
        attempts = db.session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id)).all()
        assert [(a.at, a.status_code, a.error) for a in attempts] == [
            (T0, 500, "HTTP 500"), (T0 + timedelta(seconds=10), 200, None)
        ]
        assert all(a.duration_ms >= 0 and a.delivery_id == delivery_id for a in attempts)

        assert webhook_delivery.attempt_delivery(delivery_id, T0 + timedelta(hours=1)) is Attempt.SKIPPED
        assert len(receiver.requests) == 2


def test_a_delivery_that_keeps_failing_backs_off_then_gives_up(app):
    with app.app_context(), receiving(503) as receiver:
        add_endpoint(receiver.url)
        delivery_id = published().id
        now, waits, outcomes = T0, [], []
        while True:
            outcomes.append(webhook_delivery.attempt_delivery(delivery_id, now))
            db.session.commit()
            delivery = db.session.get(WebhookDelivery, delivery_id)
            if delivery.next_attempt_at is None:
                break
            waits.append(int((delivery.next_attempt_at - now).total_seconds()))
            now = delivery.next_attempt_at
        assert waits == [10, 60, 300, 900, 3600]
        assert outcomes == [Attempt.RETRY] * 5 + [Attempt.GAVE_UP]
        assert delivery.attempts == 6 and len(receiver.requests) == 6
        assert delivery.delivered_at is None and delivery.last_error == "HTTP 503"
        assert webhook_delivery.due_delivery_ids(now + timedelta(days=1)) == []


def test_an_unreachable_endpoint_records_the_error(app):
    with app.app_context():
        with receiving(200) as receiver:
            url = receiver.url
        add_endpoint(url)  # the port is closed now
        delivery_id = published().id
        assert webhook_delivery.attempt_delivery(delivery_id, T0) is Attempt.RETRY
        delivery = db.session.get(WebhookDelivery, delivery_id)
        assert delivery.status_code is None and "URLError" in delivery.last_error
        [attempt] = delivery.attempt_log
        assert attempt.status_code is None and "URLError" in attempt.error


def test_a_redirect_is_a_failed_delivery_not_a_get_without_the_body(app):
    with app.app_context(), receiving(302) as receiver:
        add_endpoint(receiver.url)
        delivery_id = published().id
        assert webhook_delivery.attempt_delivery(delivery_id, T0) is Attempt.RETRY
        assert db.session.get(WebhookDelivery, delivery_id).status_code == 302


def test_after_a_rotation_both_secrets_sign_for_24_hours_then_only_the_new_one(app):
    with app.app_context(), receiving(500, 500, 200) as receiver:
        endpoint = add_endpoint(receiver.url)
        delivery_id = published().id
        assert webhook_delivery.attempt_delivery(delivery_id, T0) is Attempt.RETRY
        new_secret = webhook_endpoints.rotate_secret(None, endpoint, T0 + timedelta(seconds=5))
        db.session.commit()
        assert new_secret.startswith("whsec_") and new_secret != SECRET

        assert webhook_delivery.attempt_delivery(delivery_id, T0 + timedelta(seconds=10)) is Attempt.RETRY
        db.session.commit()
        headers, body = receiver.requests[1]
        assert len(headers["webhook-signature"].split(" ")) == 2
        now = int(headers["webhook-timestamp"])
        verify(SECRET, headers, body, now=now)  # a receiver not switched yet
        verify(new_secret, headers, body, now=now)  # one that switched

        later = T0 + timedelta(hours=24, seconds=10)
        db.session.get(WebhookDelivery, delivery_id).next_attempt_at = later
        assert webhook_delivery.attempt_delivery(delivery_id, later) is Attempt.DELIVERED
        headers, body = receiver.requests[2]
        verify(new_secret, headers, body, now=int(headers["webhook-timestamp"]))
        with pytest.raises(Refused):
            verify(SECRET, headers, body, now=int(headers["webhook-timestamp"]))


@pytest.mark.parametrize("app", [{"LOOPDESK_WEBHOOK_RETRY_SECONDS": [0, 0]}], indirect=True)
def test_without_redis_the_periodic_sweep_makes_the_retries(app):
    from app.jobs.notifications import hand_over_webhooks
    from app.jobs.sla import sweep_sla

    with app.app_context(), receiving(500, 200) as receiver:
        add_endpoint(receiver.url)
        delivery = published(now=utcnow())
        hand_over_webhooks([delivery.id])
        assert db.session.get(WebhookDelivery, delivery.id).attempts == 1
        sweep_sla()
        retried = db.session.get(WebhookDelivery, delivery.id)
        assert retried.attempts == 2 and retried.delivered_at is not None and len(receiver.requests) == 2


@pytest.mark.redis
@pytest.mark.parametrize(
    "app", [{"REDIS_URL": REDIS_URL, "LOOPDESK_QUEUE": f"test-{uuid.uuid4().hex}"}], indirect=True
)
def test_webhook_job_goes_to_rq_with_its_retries_and_a_worker_delivers_it(app):
    from app.jobs import BULK, queue
    from app.jobs.notifications import hand_over_webhooks

    with app.app_context(), receiving(200) as receiver:
        add_endpoint(receiver.url)
        delivery = published(now=utcnow())
        hand_over_webhooks([delivery.id])
        jobs = queue(BULK)
        [job] = jobs.get_jobs()
        assert job.func_name == "app.jobs.notifications.deliver_webhook" and job.args == (delivery.id,)
        assert job.retries_left == 5 and job.retry_intervals == [10, 60, 300, 900, 3600]
        assert db.session.get(WebhookDelivery, delivery.id).attempts == 0  # nothing sent in the request

        run_burst_worker(app)
        db.session.expire_all()
        delivered = db.session.get(WebhookDelivery, delivery.id)
        assert delivered.delivered_at is not None and delivered.attempts == 1
        [(headers, body)] = receiver.requests
        assert verify(SECRET, headers, body)["id"] == delivered.event_id
        jobs.delete(delete_jobs=True)


@pytest.mark.parametrize("app", [{"REDIS_URL": "redis://127.0.0.1:1/0"}], indirect=True)
def test_with_redis_away_a_webhook_delivery_is_held_for_a_first_attempt_once_it_is_back(app):
    from app.jobs.notifications import hand_over_webhooks
    from app.models import HeldJob

    with app.app_context():
        add_endpoint("http://127.0.0.1:9/hook")
        delivery = published(now=utcnow())
        hand_over_webhooks([delivery.id])  # the request or job that published it goes on
        [held] = db.session.scalars(select(HeldJob)).all()
        assert (held.func, held.args) == ("app.jobs.notifications.deliver_webhook", [delivery.id])
        assert db.session.get(WebhookDelivery, delivery.id).attempts == 0


def test_the_body_is_the_documented_envelope(app):
    with app.app_context():
        add_endpoint("http://127.0.0.1:9/hook")
        delivery = published()
        envelope = json.loads(webhook_delivery.body(delivery))
        assert envelope == {"id": delivery.event_id, "type": "webhook.test", "version": 1,
                            "created_at": T0.isoformat(), "data": delivery.payload}


def test_the_readmes_receiver_example_is_the_code_this_receiver_verifies_with():
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    readme = (root / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Webhooks (Integrations)"):]
    example = section[section.index("```python\n") + len("```python\n"):section.index("```\n\n")]
    receiver = (Path(__file__).parent / "receiver.py").read_text(encoding="utf-8")
    ours = receiver[receiver.index("import base64\n"):receiver.index("# --- to here")].rstrip() + "\n"
    assert example == ours
