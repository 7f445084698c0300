"""What a customer may see of their feedback and do on its status page, nothing internal.

The page opens with the secret of the link the customer was given (thank-you page, e-mail, text
message), or after a check: the last 4 digits of the phone they left, or a one-time code e-mailed to
the address they left (``send_code``). A passed check leads to the link, so the customer can keep it.
Unknown code and wrong check look the same from outside, so codes cannot be probed.

On the page the customer can answer while the ticket is open (a ticket waiting on them goes back to
in progress, and its SLA clock runs again) and, once it is resolved or closed, rate the handling
1–5 with an optional comment; a rating at or below ``REOPEN_AT_MOST`` reopens the ticket (a fresh
resolution clock, see app.core.sla), and the supervisor's board lists it.

A response with a code and no ticket (routing found nothing to follow up, or the job has not run
yet) has a page too: it says so. Operations flush and leave the commit to the caller.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale, gettext as _, lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.models import CustomerCode, Response, Ticket, TicketEvent, TicketStatus
from app.services.sla import clocks as sla_clocks
from app.services.tickets import _set_status, announce, customer_messages, search
from app.services.tickets.errors import MAX_BODY, TicketError

#: A rating at or below this reopens a resolved or closed ticket.
REOPEN_AT_MOST = 2
RATINGS = range(1, 6)
#: A one-time code: this many digits, valid this long, this many tries.
CODE_DIGITS = 6
CODE_VALID = timedelta(minutes=15)
CODE_TRIES = 5
#: Codes one ticket may be sent within an hour (the lookup's rate limit counts per address too).
CODES_PER_HOUR = 3
OPEN = (TicketStatus.NEW, TicketStatus.IN_PROGRESS, TicketStatus.WAITING)
DONE = (TicketStatus.RESOLVED, TicketStatus.CLOSED)
#: What a response without a ticket shows: still being read (the after-submit job has not run) or nothing to do.
PENDING, RECEIVED = "pending", "received"
_CODE = re.compile(r"LD-[0-9A-Z]{4,12}")


class CustomerRefused(TicketError):
    """What the customer asked cannot be done now; the text says why."""


@dataclass(frozen=True)
class CustomerMessage:
    at: datetime
    body: str
    from_customer: bool


@dataclass(frozen=True)
class CustomerView:
    reference_code: str
    secret: str
    status: str                # a ticket status, or PENDING / RECEIVED for a response without a ticket
    branch_name: str
    timezone: str
    opened_at: datetime
    language: str
    messages: tuple[CustomerMessage, ...]
    rating: int | None = None
    is_ticket: bool = False

    @property
    def replies(self) -> tuple[CustomerMessage, ...]:
        return tuple(m for m in self.messages if not m.from_customer)

    @property
    def can_answer(self) -> bool:
        return self.is_ticket and self.status in OPEN

    @property
    def can_rate(self) -> bool:
        return self.is_ticket and self.status in DONE


def _normal(reference_code: str) -> str | None:
    code = (reference_code or "").strip().upper()
    return code if _CODE.fullmatch(code) else None


def _ticket(code: str) -> Ticket | None:
    return db.session.scalar(
        select(Ticket).where(Ticket.reference_code == code)
        .options(joinedload(Ticket.branch), selectinload(Ticket.events))
    )


def look_up(reference_code: str, *, secret: str = "", last_digits: str = "") -> CustomerView | None:
    """The feedback if the check passes: the link's secret, or the last 4 digits of the phone it was left with."""
    code = _normal(reference_code)
    if code is None:
        return None
    ticket = _ticket(code)
    if ticket is not None:
        if not (_secret_matches(ticket.customer_secret, secret) or _digits_match(ticket.contact_phone, last_digits)):
            return None
        return _ticket_view(ticket)
    response = db.session.scalar(
        select(Response).where(Response.reference_code == code).options(joinedload(Response.branch))
    )
    if response is None or response.customer_secret is None:
        return None
    phone = response.contact_phone if response.contact_consent else None
    if not (_secret_matches(response.customer_secret, secret) or _digits_match(phone, last_digits)):
        return None
    return CustomerView(
        reference_code=code, secret=response.customer_secret,
        status=PENDING if response.processed_at is None else RECEIVED,
        branch_name=response.branch.name, timezone=response.branch.timezone,
        opened_at=response.submitted_at or response.started_at, language=response.language, messages=(),
    )


def _ticket_view(ticket: Ticket) -> CustomerView:
    messages = tuple(
        CustomerMessage(e.at, e.body or "", e.kind == "customer_reply")
        for e in ticket.events if e.visible_to_customer and e.kind in ("reply", "customer_reply")
    )
    return CustomerView(
        reference_code=ticket.reference_code, secret=ticket.customer_secret, status=str(ticket.status),
        branch_name=ticket.branch.name, timezone=ticket.branch.timezone, opened_at=ticket.created_at,
        language=ticket.language, messages=messages, rating=ticket.customer_rating, is_ticket=True,
    )


def _secret_matches(expected: str | None, given: str) -> bool:
    return bool(expected and given) and hmac.compare_digest(given.encode(), expected.encode())


def _digits_match(phone: str | None, last_digits: str) -> bool:
    digits = re.sub(r"\D", "", phone or "")
    given = re.sub(r"\D", "", last_digits or "")
    return len(digits) >= 4 and len(given) == 4 and hmac.compare_digest(given, digits[-4:])


# --- One-time codes by e-mail ----------------------------------------------------------------------


def _code_hash(ticket: Ticket, code: str) -> str:
    return hashlib.sha256(f"{ticket.customer_secret}:{code}".encode()).hexdigest()


def send_code(reference_code: str, now: datetime) -> bool:
    """E-mail a one-time code to the address the ticket's customer left; False when there is none
    (the page says the same either way: whether an address exists is not told)."""
    code = _normal(reference_code)
    ticket = _ticket(code) if code else None
    if ticket is None or not (ticket.contact_consent and ticket.contact_email):
        return False
    recent = db.session.scalar(
        select(func.count(CustomerCode.id))
        .where(CustomerCode.ticket_id == ticket.id, CustomerCode.created_at > now - timedelta(hours=1))
    )
    if recent >= CODES_PER_HOUR:
        return False
    digits = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    db.session.add(CustomerCode(
        ticket_id=ticket.id, code_hash=_code_hash(ticket, digits), created_at=now, expires_at=now + CODE_VALID,
    ))
    with force_locale(customer_messages.language_of(ticket)):
        subject = _("Your code for feedback %(code)s", code=ticket.reference_code)
        body = _("Your code is %(digits)s. It opens the status of your feedback %(code)s for %(minutes)d minutes.",
                 digits=digits, code=ticket.reference_code, minutes=int(CODE_VALID.total_seconds() // 60))
    customer_messages.tell_by_email(ticket, subject, body, now)
    db.session.flush()
    return True


def check_code(reference_code: str, given: str, now: datetime) -> CustomerView | None:
    """The feedback when ``given`` is the newest unused, unexpired code e-mailed for it (each try counts)."""
    code = _normal(reference_code)
    given = re.sub(r"\D", "", given or "")
    ticket = _ticket(code) if code else None
    if ticket is None or len(given) != CODE_DIGITS:
        return None
    sent = db.session.scalar(
        select(CustomerCode)
        .where(CustomerCode.ticket_id == ticket.id, CustomerCode.used_at.is_(None), CustomerCode.expires_at > now)
        .order_by(CustomerCode.id.desc()).limit(1)
    )
    if sent is None or sent.attempts >= CODE_TRIES:
        return None
    # one try, counted in the database whatever happens next
    db.session.execute(
        update(CustomerCode).where(CustomerCode.id == sent.id).values(attempts=CustomerCode.attempts + 1)
    )
    if not hmac.compare_digest(sent.code_hash, _code_hash(ticket, given)):
        return None
    db.session.execute(update(CustomerCode).where(CustomerCode.id == sent.id).values(used_at=now))
    return _ticket_view(ticket)


# --- What the customer does on the page -----------------------------------------------------------


def _checked_ticket(reference_code: str, secret: str) -> Ticket:
    code = _normal(reference_code)
    ticket = _ticket(code) if code else None
    if ticket is None or not _secret_matches(ticket.customer_secret, secret):
        raise CustomerRefused(_l("This link does not open this feedback any more. Use the link you were sent."))
    return ticket


def answer(reference_code: str, secret: str, body: str, now: datetime) -> Ticket:
    """The customer's answer on their open ticket; one waiting on them goes back to in progress (its clock runs)."""
    body = (body or "").strip()
    if not body:
        raise CustomerRefused(_l("Write your answer first."))
    if len(body) > MAX_BODY:
        raise CustomerRefused(_l("That text is too long."))

    def change(ticket: Ticket) -> list[TicketEvent]:
        if ticket.status not in OPEN:
            raise CustomerRefused(_l("This feedback is resolved; you can rate how it was handled."))
        events = [TicketEvent(ticket=ticket, kind="customer_reply", at=now, body=body, visible_to_customer=True)]
        db.session.add(events[0])
        if ticket.status == TicketStatus.WAITING:
            events.append(_set_status(ticket, None, TicketStatus.IN_PROGRESS, now))
        search.refresh(ticket)
        return events

    return _run(reference_code, secret, now, change)


def rate(reference_code: str, secret: str, rating: int | str, comment: str, now: datetime) -> Ticket:
    """The customer's rating of a resolved or closed ticket; a low one reopens it."""
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if rating not in RATINGS:
        raise CustomerRefused(_l("Choose from 1 to 5 stars."))
    comment = (comment or "").strip()
    if len(comment) > MAX_BODY:
        raise CustomerRefused(_l("That text is too long."))

    def change(ticket: Ticket) -> list[TicketEvent]:
        if ticket.status not in DONE:
            raise CustomerRefused(_l("You can rate the handling once your feedback is resolved."))
        ticket.customer_rating, ticket.customer_rated_at = rating, now
        events = [TicketEvent(ticket=ticket, kind="rating", at=now, new_value=str(rating), body=comment or None)]
        db.session.add(events[0])
        if rating <= REOPEN_AT_MOST:
            events.append(_set_status(ticket, None, TicketStatus.IN_PROGRESS, now))
        return events

    return _run(reference_code, secret, now, change)


def _run(reference_code: str, secret: str, now: datetime, change) -> Ticket:
    """Apply the customer's change; a ticket rewritten by staff at the same moment is read again once."""
    for attempt in range(2):
        ticket = _checked_ticket(reference_code, secret)
        try:
            with db.session.no_autoflush:
                events = change(ticket)
            ticket.updated_at = now
            sla_clocks.refresh_deadlines(ticket, now)
            db.session.flush()
            announce(ticket, events, now)
            return ticket
        except StaleDataError:
            db.session.rollback()
            if attempt:
                raise CustomerRefused(_l("Your feedback changed at this moment. Please try again.")) from None
    raise AssertionError("unreachable")
