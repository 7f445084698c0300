"""Random but consistent ticket histories for the SLA attainment tests, worked through the services.

A story opens a ticket at a moment in the past (its "created" event and clocks, as
``app.services.tickets.opening`` does), then walks it: replies, status changes (waiting pauses
the clock, resolve, close, reopen) and priority changes at random later moments, never after
``now``. Every step goes through ``app.services.tickets``, so stored columns, events and due
times are what production writes. Nothing here decides attainment.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from app.extensions import db
from app.models import Priority, Ticket, TicketEvent, TicketSource, TicketStatus, User
from app.services import tickets as ticket_service
from app.services.sla import clocks

#: Gaps between two steps: around the 30 min first response, business-hours edges, days.
GAPS = [timedelta(minutes=m) for m in (1, 10, 25, 29, 31, 45, 90, 240, 600, 1200, 1500, 2900, 3000, 6000)]


def open_ticket(reference: str, branch_id: int, department_id: int, created: datetime, *,
                priority: Priority = Priority.NORMAL, response_id: int | None = None, **columns) -> Ticket:
    """A new ticket as ``opening`` stores it: the "created" event, then its clocks as of ``created``."""
    ticket = Ticket(
        reference_code=reference, source=TicketSource.SURVEY if response_id else TicketSource.PHONE,
        response_id=response_id, branch_id=branch_id, department_id=department_id, priority=priority,
        status=TicketStatus.NEW, created_at=created, updated_at=created, **columns,
    )
    db.session.add(ticket)
    db.session.add(TicketEvent(ticket=ticket, at=created, kind="created", new_value=TicketStatus.NEW.value))
    db.session.flush()
    clocks.refresh_deadlines(ticket, created)
    db.session.flush()
    return ticket


def walk(rng: random.Random, ticket: Ticket, actor: User, now: datetime, steps: int | None = None) -> Ticket:
    """Random steps on ``ticket`` from its opening until ``now`` (a step that would come later is not taken)."""
    at = ticket.created_at
    for _ in range(rng.randint(0, 6) if steps is None else steps):
        at += rng.choice(GAPS) + timedelta(seconds=rng.randint(0, 59))
        if at > now:
            break
        seen = ticket_service.page_version(ticket)
        allowed = ticket_service.next_statuses(ticket.status)
        choice = rng.choices(["reply", "status", "priority", "note"], weights=[4, 5, 1, 1])[0]
        if choice == "reply":
            ticket_service.reply(ticket, actor, "We are on it.", seen, now=at)
        elif choice == "note":
            ticket_service.add_note(ticket, actor, "Called the branch.", seen, now=at)
        elif choice == "priority":
            ticket_service.change_priority(ticket, actor, rng.choice(list(Priority)), seen, now=at)
        else:
            ticket_service.change_status(ticket, actor, rng.choice(allowed), seen, now=at)
    return ticket
