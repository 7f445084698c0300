"""个人信息保护法: erasing a customer, and the retention period after which inactive customers are erased.

An erased customer keeps their row (``erased_at`` set, every personal field empty, no consent, no owner,
their branches kept), so their responses and tickets still count in the figures by branch and day; the
contact details on those responses and tickets (name, phone, e-mail) are removed with them, and each
ticket's search text is rebuilt without them. What a customer wrote in open answers is left as written
(it is part of the figures: words, key issues). The audit log names the customer by number only.

Decided: erasing also forgets the CRM's external id (it identifies the person), so a later import of
the same CRM row makes a new customer; and the retention sweep erases the same way as an admin does
(contact details are most of a customer's personal data; keeping their name without them serves nobody).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from app.core.clock import utcnow
from app.extensions import db
from app.models import Customer, Response, Ticket, User
from app.services import audit
from app.services.customers.records import label
from app.services.tickets.search import refresh as refresh_search_text

log = logging.getLogger(__name__)

ERASED_FIELDS = ("external_id", "name", "company", "phone", "email", "email_key", "language")


def erase(actor: User | None, customer: Customer, reason: str = "admin") -> None:
    """Remove the customer's personal data (idempotent); audited; flushed, the caller commits."""
    if customer.erased_at is not None:
        return
    for name in ERASED_FIELDS:
        setattr(customer, name, None)
    customer.attributes = {}
    customer.owner = None
    customer.consents.clear()
    customer.erased_at = utcnow()
    contact = {"contact_name": None, "contact_phone": None, "contact_email": None, "contact_consent": False}
    db.session.execute(update(Response).where(Response.customer_id == customer.id).values(**contact))
    db.session.execute(update(Ticket).where(Ticket.customer_id == customer.id).values(**contact))
    for ticket in db.session.scalars(
        select(Ticket).where(Ticket.customer_id == customer.id).options(selectinload(Ticket.events))
        .execution_options(populate_existing=True)
    ):
        refresh_search_text(ticket)
    db.session.flush()
    audit.record(actor, "erase", customer, label=label(customer), after={"reason": reason})


def retention_days() -> float:
    """LOOPDESK_CUSTOMER_RETENTION_DAYS; 0 (the default) keeps customers until an admin erases them."""
    return float(current_app.config.get("LOOPDESK_CUSTOMER_RETENTION_DAYS") or 0)


def erase_inactive(now: datetime | None = None, batch: int = 200) -> int:
    """Erase the customers inactive for longer than the retention period; how many. Safe to run twice."""
    days = retention_days()
    if days <= 0:
        return 0
    before = (now or utcnow()) - timedelta(days=days)
    erased = 0
    while True:
        customers = list(db.session.scalars(
            select(Customer).where(Customer.erased_at.is_(None), Customer.last_activity_at < before)
            .order_by(Customer.id).limit(batch).options(selectinload(Customer.consents))
        ))
        for customer in customers:
            erase(None, customer, reason="retention")
        db.session.commit()
        erased += len(customers)
        if len(customers) < batch:
            if erased:
                log.info("erased %d customer(s) inactive for more than %s days", erased, days)
            return erased
