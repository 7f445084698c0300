"""Notifications: the inbox, e-mail (outbox and SMTP), signed webhooks with retries and backoff."""
from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from app.core.clock import utcnow
from app.extensions import db
from app.models import Notification, OutboxEmail, Role, User, WebhookDelivery, WebhookEndpoint
from app.services import notifications
from app.services.notifications import Attempt
from tests.conftest import REDIS_URL, run_burst_worker

T0 = datetime(2025, 3, 10, 3, 0, tzinfo=UTC)
SECRET = "endpoint-secret-123"


@pytest.fixture(autouse=True)
def _loopback_receivers_allowed(app):
    """The receivers below listen on 127.0.0.1, which outgoing HTTP refuses unless it is allowed by name."""
    app.config["LOOPDESK_OUTGOING_ALLOWED_HOSTS"] = ["127.0.0.1"]


class Receiver:
    """A tiny webhook receiver on 127.0.0.1 answering with the given status codes in turn (the last one repeats)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"


@contextmanager
def receiving(*statuses: int) -> Iterator[Receiver]:
    receiver = Receiver(list(statuses))
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


def add_endpoint(url: str, events: list[str] | None = None, active: bool = True) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(url=url, secret=SECRET, events=events or [], active=active)
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def add_user(username: str, email: str | None = None) -> User:
    user = User(username=username, display_name=username, role=Role.STAFF, email=email)
    user.set_password("x")
    db.session.add(user)
    db.session.flush()
    return user


def published(event: str = "ticket.created", now: datetime = T0) -> WebhookDelivery:
    [delivery] = notifications.publish(event, {"reference_code": "LD-7K2Q9", "note": "客户很生气"}, now)
    db.session.commit()
    return delivery


def test_webhook_body_is_signed_with_the_endpoint_secret(app):
    from app.jobs.notifications import hand_over_webhooks

    with app.app_context(), receiving(200) as receiver:
        add_endpoint(receiver.url)
        delivery = published()
        hand_over_webhooks([delivery.id])  # without Redis: one attempt now, in process

        [(headers, body)] = receiver.requests
        assert notifications.verify_signature(SECRET, body, headers["X-Loopdesk-Signature"])
        assert headers["X-Loopdesk-Signature"].startswith("sha256=")
        assert not notifications.verify_signature("another-secret", body, headers["X-Loopdesk-Signature"])
        assert not notifications.verify_signature(SECRET, body + b" ", headers["X-Loopdesk-Signature"])
        assert abs(int(headers["X-Loopdesk-Timestamp"]) - utcnow().timestamp()) < 60
        assert headers["X-Loopdesk-Event"] == "ticket.created" and headers["Content-Type"].startswith("application/json")
        envelope = json.loads(body)
        assert envelope == {"id": delivery.id, "event": "ticket.created", "created_at": T0.isoformat(),
                            "data": {"reference_code": "LD-7K2Q9", "note": "客户很生气"}}
        stored = db.session.get(WebhookDelivery, delivery.id)
        assert (stored.attempts, stored.status_code, stored.last_error) == (1, 200, None)
        assert stored.delivered_at is not None and stored.next_attempt_at is None


def test_failed_delivery_is_retried_after_its_backoff_and_every_attempt_is_recorded(app):
    with app.app_context(), receiving(500, 200) as receiver:
        add_endpoint(receiver.url)
        delivery_id = published().id

        assert notifications.attempt_delivery(delivery_id, T0) is Attempt.RETRY
        db.session.commit()
        failed = db.session.get(WebhookDelivery, delivery_id)
        assert (failed.attempts, failed.status_code, failed.last_error) == (1, 500, "HTTP 500")
        assert failed.next_attempt_at == T0 + timedelta(seconds=10) and failed.delivered_at is None

        assert notifications.attempt_delivery(delivery_id, T0 + timedelta(seconds=5)) is Attempt.SKIPPED
        assert len(receiver.requests) == 1  # not due yet: nothing sent

        assert notifications.attempt_delivery(delivery_id, T0 + timedelta(seconds=10)) is Attempt.DELIVERED
        db.session.commit()
        done = db.session.get(WebhookDelivery, delivery_id)
        assert (done.attempts, done.status_code, done.last_error) == (2, 200, None)
        assert done.delivered_at == T0 + timedelta(seconds=10)
        first, second = (body for _headers, body in receiver.requests)
        assert first == second  # the same signed bytes on every attempt

        assert notifications.attempt_delivery(delivery_id, T0 + timedelta(hours=1)) is Attempt.SKIPPED
        assert len(receiver.requests) == 2


def test_a_delivery_that_keeps_failing_backs_off_then_gives_up(app):
    with app.app_context(), receiving(503) as receiver:
        add_endpoint(receiver.url)
        delivery_id = published().id
        now, waits, outcomes = T0, [], []
        while True:
            outcomes.append(notifications.attempt_delivery(delivery_id, now))
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
        assert notifications.due_delivery_ids(now + timedelta(days=1)) == []


def test_an_unreachable_endpoint_records_the_error(app):
    with app.app_context():
        with receiving(200) as receiver:
            url = receiver.url
        add_endpoint(url)  # the port is closed now
        delivery_id = published().id
        assert notifications.attempt_delivery(delivery_id, T0) is Attempt.RETRY
        delivery = db.session.get(WebhookDelivery, delivery_id)
        assert delivery.status_code is None and "URLError" in delivery.last_error


def test_a_redirect_is_a_failed_delivery_not_a_get_without_the_body(app):
    with app.app_context(), receiving(302) as receiver:
        add_endpoint(receiver.url)
        delivery_id = published().id
        assert notifications.attempt_delivery(delivery_id, T0) is Attempt.RETRY
        assert db.session.get(WebhookDelivery, delivery_id).status_code == 302


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


def test_endpoints_get_only_the_events_they_want_and_inactive_ones_nothing(app):
    with app.app_context():
        everything = add_endpoint("http://127.0.0.1:9/all")
        breaches = add_endpoint("http://127.0.0.1:9/breaches", events=["ticket.breached"])
        add_endpoint("http://127.0.0.1:9/off", active=False)
        created = notifications.publish("ticket.created", {}, T0)
        breached = notifications.publish("ticket.breached", {}, T0)
        assert [d.endpoint for d in created] == [everything]
        assert [d.endpoint for d in breached] == [everything, breaches]


def test_inbox_counts_and_marks_only_the_users_own_delivered_notifications(app):
    with app.app_context():
        ann, bob = add_user("ann"), add_user("bob")
        first = notifications.notify(ann, None, "escalation", "LD-1 overdue", now=T0)
        notifications.notify(ann, None, "sla_warning", "LD-2 due soon", now=T0)
        notifications.notify(ann, None, "escalation", "LD-3 overdue", deliver_after=T0 + timedelta(hours=8), now=T0)
        notifications.notify(bob, None, "escalation", "LD-4 overdue", now=T0)
        db.session.commit()

        assert notifications.unread_count(ann, T0) == 2
        assert [n.title for n in notifications.inbox(ann, T0, kinds=("escalation",), unread_only=True)] == ["LD-1 overdue"]
        assert notifications.mark_read(bob, [first.id], T0) == 0  # not bob's
        assert notifications.mark_read(ann, [first.id], T0) == 1
        assert notifications.unread_count(ann, T0) == 1
        assert notifications.mark_read(ann, None, T0) == 1
        assert notifications.unread_count(ann, T0) == 0
        assert notifications.unread_count(ann, T0 + timedelta(hours=8)) == 1  # the waiting one arrived
        assert notifications.unread_count(bob, T0) == 1


def test_without_smtp_an_email_goes_to_the_outbox_and_the_log_only(app, caplog):
    with app.app_context(), caplog.at_level(logging.INFO, logger="app.services.notifications"):
        ann, nobody = add_user("ann", "ann@example.com"), add_user("nobody")
        notification = notifications.notify(ann, None, "escalation", "LD-1 overdue", "Queue far too long", now=T0)
        notifications.notify(nobody, None, "escalation", "LD-1 overdue", now=T0)
        db.session.commit()
        [email] = db.session.scalars(select(OutboxEmail)).all()
        assert (email.to, email.subject, email.body, email.sent_at) == (
            "ann@example.com", "LD-1 overdue", "Queue far too long", None
        )
        assert notification.emailed_at == T0
        assert "SMTP_HOST is not set" in caplog.text and "ann@example.com" in caplog.text
        assert [e.id for e in notifications.recent_emails()] == [email.id]


class FakeSmtp:
    sent: list = []
    fail = False

    def __init__(self, host, port, timeout):
        self.host, self.port = host, port

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def ehlo(self):
        pass

    def has_extn(self, name):
        return False

    def login(self, user, password):
        self.user = user

    def send_message(self, message):
        if FakeSmtp.fail:
            raise OSError("connection refused")
        FakeSmtp.sent.append(message)


@pytest.mark.parametrize("app", [{"SMTP_HOST": "smtp.example.com", "SMTP_FROM": "desk@example.com"}], indirect=True)
def test_with_smtp_the_sweep_sends_the_outbox_once_and_records_failures(app, monkeypatch):
    import smtplib

    from app.jobs.notifications import deliver_due

    monkeypatch.setattr(smtplib, "SMTP", FakeSmtp)
    monkeypatch.setattr(FakeSmtp, "sent", [])
    with app.app_context():
        ann = add_user("ann", "ann@example.com")
        notifications.notify(ann, None, "escalation", "LD-1 overdue", "Queue far too long")
        db.session.commit()
        deliver_due(utcnow())
        deliver_due(utcnow())
        [message] = FakeSmtp.sent
        assert (message["To"], message["From"], message["Subject"]) == ("ann@example.com", "desk@example.com", "LD-1 overdue")
        assert db.session.scalar(select(OutboxEmail)).sent_at is not None

        monkeypatch.setattr(FakeSmtp, "fail", True)
        notifications.notify(ann, None, "escalation", "LD-2 overdue")
        db.session.commit()
        deliver_due(utcnow())
        failed = db.session.scalar(select(OutboxEmail).where(OutboxEmail.subject == "LD-2 overdue"))
        assert failed.sent_at is None and "connection refused" in failed.error


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
        assert notifications.verify_signature(SECRET, body, headers["X-Loopdesk-Signature"])
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


def test_a_long_title_is_cut_to_fit_the_inbox(app):
    with app.app_context():
        ann = add_user("ann")
        notification = notifications.notify(ann, None, "escalation", "x" * 300, now=T0)
        db.session.commit()
        assert db.session.get(Notification, notification.id).title == "x" * 200
