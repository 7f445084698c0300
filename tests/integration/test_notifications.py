"""Notifications: the inbox and e-mail (outbox and SMTP). Webhooks: tests/integration/webhooks/."""
from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.core.clock import utcnow
from app.extensions import db
from app.models import Notification, OutboxEmail, Role, User
from app.services import notifications

T0 = datetime(2025, 3, 10, 3, 0, tzinfo=UTC)


def add_user(username: str, email: str | None = None) -> User:
    user = User(username=username, display_name=username, role=Role.STAFF, email=email)
    user.set_password("x")
    db.session.add(user)
    db.session.flush()
    return user


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


def test_a_long_title_is_cut_to_fit_the_inbox(app):
    with app.app_context():
        ann = add_user("ann")
        notification = notifications.notify(ann, None, "escalation", "x" * 300, now=T0)
        db.session.commit()
        assert db.session.get(Notification, notification.id).title == "x" * 200
