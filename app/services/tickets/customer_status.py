"""What a customer may see of their ticket: status and the replies meant for them, nothing internal."""
from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import Ticket


@dataclass(frozen=True)
class CustomerReply:
    at: datetime
    body: str


@dataclass(frozen=True)
class CustomerView:
    reference_code: str
    status: str
    branch_name: str
    timezone: str
    opened_at: datetime
    language: str
    replies: tuple[CustomerReply, ...]


def look_up(reference_code: str, *, secret: str = "", last_digits: str = "") -> CustomerView | None:
    """The ticket if the check passes: the link's secret, or the last 4 digits of the phone it was opened with.

    Unknown code and wrong check look the same from outside, so codes cannot be probed.
    """
    code = reference_code.strip().upper()
    if not re.fullmatch(r"LD-[0-9A-Z]{4,12}", code):
        return None
    ticket = db.session.scalar(
        select(Ticket)
        .where(Ticket.reference_code == code)
        .options(joinedload(Ticket.branch), selectinload(Ticket.events))
    )
    if ticket is None or not _passes(ticket, secret, last_digits):
        return None
    replies = tuple(CustomerReply(e.at, e.body or "") for e in ticket.events if e.visible_to_customer and e.kind == "reply")
    return CustomerView(
        reference_code=ticket.reference_code,
        status=str(ticket.status),
        branch_name=ticket.branch.name,
        timezone=ticket.branch.timezone,
        opened_at=ticket.created_at,
        language=ticket.language,
        replies=replies,
    )


def _passes(ticket: Ticket, secret: str, last_digits: str) -> bool:
    if secret and hmac.compare_digest(secret, ticket.customer_secret):
        return True
    digits = re.sub(r"\D", "", ticket.contact_phone or "")
    given = re.sub(r"\D", "", last_digits)
    return len(digits) >= 4 and len(given) == 4 and hmac.compare_digest(given, digits[-4:])


def status_link(ticket: Ticket, base_url: str) -> str:
    return f"{base_url}/t/{ticket.reference_code}?s={ticket.customer_secret}"
