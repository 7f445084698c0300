"""Messages meant for the customer leave by the channels they left: e-mail, and SMS where configured.

A staff reply (``app.services.tickets.reply``), a one-time code for the status page and an
improvement action's news all go through ``tell``: one e-mail when the customer consented and left
an address, one text message when they left a phone number and an SMS gateway is configured
(``LOOPDESK_SMS_URL``). Each is written in the language the customer answered in, at the moment it is
written (an e-mail is read as sent), with the link to their status page, where they can answer.

Rows first, sending later, like every notification: the rows are added to the caller's
transaction and remembered in the session; after the commit ``app.jobs.notifications.
hand_over_customer_messages`` hands them to the senders, and the periodic sweep sends whatever was
not handed over.
"""
from __future__ import annotations

import json
import logging
import re
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale, gettext as _
from sqlalchemy import inspect, select

from app.core.languages import SUPPORTED_LOCALES
from app.extensions import db
from app.models import OutboxEmail, OutboxSms, Ticket
from app.services import outgoing_http

log = logging.getLogger(__name__)

#: What the session remembers to hand over after the commit.
PENDING = "loopdesk_customer_messages"
#: Text messages are short: the body is cut to this before the link.
SMS_BODY = 300
#: A text message not sent within this long is not sent any more.
SMS_WINDOW = timedelta(days=1)
#: The languages a customer is written in (the ticket's, else the first).
LANGUAGES = SUPPORTED_LOCALES


@dataclass(frozen=True)
class Pending:
    emails: tuple[int, ...]
    sms: tuple[int, ...]


def language_of(ticket: Ticket) -> str:
    return ticket.language if ticket.language in LANGUAGES else LANGUAGES[0]


def status_link(reference_code: str, secret: str, base_url: str) -> str:
    """The status page's link with its secret, absolute (it leaves the app: e-mail, SMS, a QR code)."""
    return f"{base_url.rstrip('/')}/t/{reference_code}?s={secret}"


def sms_configured() -> bool:
    return bool(current_app.config.get("LOOPDESK_SMS_URL"))


def tell(ticket: Ticket, body: str, now: datetime, subject: str | None = None, with_link: bool = True) -> int:
    """Send ``body`` to the customer of ``ticket`` by every channel they left; how many messages were written.

    ``subject`` (the e-mail's) defaults to "Your feedback LD-…: a reply". Nothing is written for a
    customer who gave no consent (survey tickets) or no address."""
    if not ticket.contact_consent:
        return 0
    with force_locale(language_of(ticket)):
        subject = subject or _("Your feedback %(code)s: a reply", code=ticket.reference_code)
        footer = _("Follow your feedback and answer us here: %(link)s", link=status_link(
            ticket.reference_code, ticket.customer_secret, current_app.config["LOOPDESK_BASE_URL"],
        )) if with_link else ""
    written = int(tell_by_email(ticket, subject, "\n\n".join(part for part in (body, footer) if part), now))
    if ticket.contact_phone and sms_configured():
        text = body if len(body) <= SMS_BODY else body[: SMS_BODY - 1] + "…"
        sms = OutboxSms(to=ticket.contact_phone, body="\n".join(part for part in (text, footer) if part), created_at=now)
        db.session.add(sms)
        db.session.info.setdefault(PENDING, []).append(sms)
        written += 1
    return written


def tell_by_email(ticket: Ticket, subject: str, body: str, now: datetime) -> bool:
    """One e-mail to the address the customer consented to be written at (alone: a one-time code)."""
    if not (ticket.contact_consent and ticket.contact_email):
        return False
    email = OutboxEmail(to=ticket.contact_email, subject=subject[:255], body=body, created_at=now)
    db.session.add(email)
    db.session.info.setdefault(PENDING, []).append(email)
    if not current_app.config.get("SMTP_HOST"):
        log.info("customer e-mail (SMTP_HOST is not set: log and outbox only) to=%s subject=%r", email.to, subject)
    return True


def take_pending() -> Pending:
    """The messages written in this session since the last call and committed (a rolled-back one is left out)."""
    rows = [row for row in db.session.info.pop(PENDING, []) if inspect(row).persistent]
    return Pending(
        tuple(row.id for row in rows if isinstance(row, OutboxEmail) and row.id is not None),
        tuple(row.id for row in rows if isinstance(row, OutboxSms) and row.id is not None),
    )


def unsent_sms_ids(now: datetime) -> list[int]:
    return list(db.session.scalars(
        select(OutboxSms.id)
        .where(OutboxSms.sent_at.is_(None), OutboxSms.error.is_(None), OutboxSms.created_at > now - SMS_WINDOW)
        .order_by(OutboxSms.id)
    ))


def send_sms(outbox_id: int, now: datetime) -> bool:
    """Send one text message through the gateway; the result (sent_at or error) is recorded on the row."""
    config = current_app.config
    query = select(OutboxSms).where(OutboxSms.id == outbox_id).execution_options(populate_existing=True)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=OutboxSms)
    sms = db.session.scalar(query)
    url = config.get("LOOPDESK_SMS_URL")
    if sms is None or sms.sent_at is not None or sms.error is not None or not url:
        return False
    request = urllib.request.Request(
        url, data=json.dumps({"to": _e164ish(sms.to), "body": sms.body}).encode(), method="POST",
        headers={"Content-Type": "application/json", **(
            {"Authorization": f"Bearer {config['LOOPDESK_SMS_TOKEN']}"} if config.get("LOOPDESK_SMS_TOKEN") else {}
        )},
    )
    try:
        # The gateway is the operator's own setting (not typed in the app), so its host is allowed by name.
        host = urlsplit(url).hostname or ""
        with outgoing_http.opener([host]).open(request, timeout=config["LOOPDESK_SMS_TIMEOUT_SECONDS"]) as reply:
            reply.read(1024)
    except OSError as error:
        sms.error = f"{type(error).__name__}: {error}"[:2000]
        log.warning("text message %s failed: %s", sms.id, sms.error)
        return False
    sms.sent_at = now
    return True


def _e164ish(phone: str) -> str:
    """The number as typed, without spaces and dashes (the gateway normalises it)."""
    return re.sub(r"[\s\-().]", "", phone)
