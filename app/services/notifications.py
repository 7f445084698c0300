"""Notifications: the in-app inbox and e-mail (an outbox, and SMTP when configured).

Rows first, sending later: ``notify`` only adds rows in the caller's
transaction; the jobs in ``app.jobs.notifications`` send them after the commit, and the SLA
sweep picks up whatever was not handed over (so a crash between commit and hand-over loses
nothing).

- **In-app**: a ``Notification`` is shown from its ``deliver_after`` on (the escalation sweep
  sets it to the branch's next opening outside business hours).
- **E-mail**: written to ``OutboxEmail`` once the notification is delivered, to users with
  an address. Without ``SMTP_HOST`` it only goes to the log and the outbox page.

Webhooks are a domain of their own: ``app.services.webhooks``.
"""
from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import func, insert, select, update
from werkzeug.routing import BuildError

from app.core.clock import utcnow
from app.core.languages import SUPPORTED_LOCALES
from app.extensions import db
from app.models import Notification, OutboxEmail, Ticket, User

log = logging.getLogger(__name__)

#: A notification whose e-mail could not be written for this long is not e-mailed any more.
EMAIL_WINDOW = timedelta(days=2)


# --- In-app inbox ----------------------------------------------------------------


def locale_of(user: User) -> str:
    """The language a notification to ``user`` is written in: theirs, else the chain's."""
    return user.locale if user.locale in SUPPORTED_LOCALES else current_app.config["LOOPDESK_DEFAULT_LOCALE"]


@dataclass(frozen=True)
class Message:
    """One notification for one user (``notify_many`` takes many)."""

    user: User
    ticket_id: int | None
    kind: str
    title: str
    body: str = ""
    deliver_after: datetime | None = None


def notify(
    user: User,
    ticket: Ticket | None,
    kind: str,
    title: str,
    body: str = "",
    deliver_after: datetime | None = None,
    now: datetime | None = None,
) -> Notification:
    """Put a notification in ``user``'s inbox (from ``deliver_after`` on) and, if due now, in the e-mail outbox."""
    now = now or utcnow()
    message = Message(user, ticket.id if ticket is not None else None, kind, title, body, deliver_after)
    values, email = _rows(message, now)
    notification = Notification(**values)
    db.session.add(notification)
    if email is not None:
        db.session.add(OutboxEmail(**email))
    return notification


def notify_many(messages: Sequence[Message], now: datetime) -> int:
    """``notify`` for many at once (the sweep): plain multi-row INSERTs, no objects. Returns how many."""
    notifications, emails = [], []
    for message in messages:
        values, email = _rows(message, now)
        notifications.append(values)
        if email is not None:
            emails.append(email)
    if notifications:
        db.session.execute(insert(Notification.__table__), notifications)
    if emails:
        db.session.execute(insert(OutboxEmail.__table__), emails)
    return len(notifications)


def _rows(message: Message, now: datetime) -> tuple[dict, dict | None]:
    """The notification's row, and its e-mail's when it is delivered now and the user has an address."""
    deliver_after = max(message.deliver_after or now, now)
    email = _email(message.user, message.title, message.body, message.ticket_id, now) if deliver_after <= now else None
    values = {
        "user_id": message.user.id, "ticket_id": message.ticket_id, "kind": message.kind,
        "title": message.title[:200], "body": message.body, "created_at": now, "deliver_after": deliver_after,
        "read_at": None, "emailed_at": now if email is not None else None,
    }
    return values, email


def unread_count(user: User, now: datetime) -> int:
    return db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.user_id == user.id, Notification.read_at.is_(None), Notification.deliver_after <= now
        )
    ) or 0


def inbox(
    user: User, now: datetime, kinds: Sequence[str] | None = None, unread_only: bool = False, limit: int = 50
) -> list[Notification]:
    """The user's delivered notifications, newest first."""
    query = select(Notification).where(Notification.user_id == user.id, Notification.deliver_after <= now)
    if kinds:
        query = query.where(Notification.kind.in_(kinds))
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return list(db.session.scalars(query.order_by(Notification.deliver_after.desc(), Notification.id.desc()).limit(limit)))


def mark_read(user: User, ids: Sequence[int] | None, now: datetime) -> int:
    """Mark the user's own delivered notifications read (all of them when ``ids`` is None). Returns how many."""
    statement = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None), Notification.deliver_after <= now
    )
    if ids is not None:
        statement = statement.where(Notification.id.in_(list(ids)))
    return db.session.execute(statement.values(read_at=now), execution_options={"synchronize_session": False}).rowcount


# --- E-mail ----------------------------------------------------------------------


def _email(user: User, title: str, body: str, ticket_id: int | None, now: datetime) -> dict | None:
    """The outbox row of a notification's e-mail, or None when the user has no address."""
    if not user.email or not user.active:
        return None
    link = ticket_url(ticket_id) if ticket_id else None
    if not current_app.config.get("SMTP_HOST"):
        log.info("e-mail (SMTP_HOST is not set: log and outbox only) to=%s subject=%r body=%r", user.email, title, body)
    return {
        "to": user.email, "subject": title[:255], "body": "\n\n".join(part for part in (body, link) if part),
        "created_at": now, "sent_at": None, "error": None,
    }


def email_user(user: User, subject: str, body: str, now: datetime | None = None) -> OutboxEmail | None:
    """An e-mail to one user outside the inbox (an invitation, a password link); None without an address.

    Sent like every other: the caller commits, then hands it to ``app.jobs.notifications.send_email``
    when SMTP is configured (the sweep sends what was not handed over).
    """
    values = _email(user, subject, body, None, now or utcnow())
    if values is None:
        return None
    email = OutboxEmail(**values)
    db.session.add(email)
    return email


def write_due_emails(now: datetime) -> list[OutboxEmail]:
    """E-mails of notifications that waited for an opening and are delivered now."""
    rows = db.session.execute(
        select(Notification, User)
        .join(User, Notification.user_id == User.id)
        .where(
            Notification.emailed_at.is_(None),
            Notification.read_at.is_(None),
            Notification.deliver_after <= now,
            Notification.deliver_after > now - EMAIL_WINDOW,
            User.email.is_not(None),
            User.email != "",
            User.active.is_(True),
        )
        .order_by(Notification.id)
    ).all()
    emails = []
    for notification, user in rows:
        email = _email(user, notification.title, notification.body, notification.ticket_id, now)
        if email is not None:
            emails.append(OutboxEmail(**email))
            notification.emailed_at = now
    db.session.add_all(emails)
    return emails


def unsent_email_ids(now: datetime) -> list[int]:
    """Recent e-mails not sent and not failed yet (only sent at all with SMTP_HOST)."""
    return list(db.session.scalars(
        select(OutboxEmail.id)
        .where(
            OutboxEmail.sent_at.is_(None),
            OutboxEmail.error.is_(None),
            OutboxEmail.created_at > now - EMAIL_WINDOW,
        )
        .order_by(OutboxEmail.id)
    ))


def send_email(outbox_id: int, now: datetime | None = None) -> bool:
    """Send one outbox e-mail over SMTP; the result (sent_at or error) is recorded on the row."""
    config = current_app.config
    email = db.session.scalar(_locked(select(OutboxEmail).where(OutboxEmail.id == outbox_id), OutboxEmail))
    if email is None or email.sent_at is not None or email.error is not None or not config.get("SMTP_HOST"):
        return False
    message = EmailMessage()
    message["From"] = config["SMTP_FROM"]
    message["To"] = email.to
    message["Subject"] = email.subject
    message.set_content(email.body)
    port = int(config.get("SMTP_PORT") or 587)
    connect = smtplib.SMTP_SSL if port == 465 else smtplib.SMTP
    try:
        with connect(config["SMTP_HOST"], port, timeout=config["LOOPDESK_SMTP_TIMEOUT_SECONDS"]) as smtp:
            if connect is smtplib.SMTP:
                smtp.ehlo()
                if smtp.has_extn("starttls"):
                    smtp.starttls()
                    smtp.ehlo()
            if config.get("SMTP_USER"):
                smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        email.error = f"{type(error).__name__}: {error}"[:2000]
        log.warning("e-mail %s to %s failed: %s", email.id, email.to, email.error)
        return False
    email.sent_at = now or utcnow()
    return True


def _locked(query, model):
    """On PostgreSQL, lock the row for the attempt; None when another worker is attempting it."""
    query = query.execution_options(populate_existing=True)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=model)
    return query


def recent_emails(limit: int = 100) -> list[OutboxEmail]:
    return list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(limit)))


def ticket_url(ticket_id: int) -> str | None:
    """The ticket page, absolute from LOOPDESK_BASE_URL (e-mails and webhooks leave the app)."""
    adapter = current_app.extensions.get("loopdesk_url_adapter")
    if adapter is None:
        adapter = current_app.extensions["loopdesk_url_adapter"] = current_app.url_map.bind("localhost")
    try:
        path = adapter.build("tickets.show", {"ticket_id": ticket_id})
    except BuildError:
        return None
    return current_app.config["LOOPDESK_BASE_URL"] + path
