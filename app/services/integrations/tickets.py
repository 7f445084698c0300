"""Tickets as the API reads and works them: in the key's branch scope, through the ticket services the pages use.

Reading: ``in_scope`` / ``filtered`` (branch, status, department). Working: ``change`` (status, assignee) and
``write`` (a reply to the customer or an internal note) call ``app.services.tickets`` with the key as the actor,
so the same transitions, scope rules, SLA refreshes and customer messages apply, and each write is also in the
audit log as the key. The conflict rule is the pages': the version a client saw (its ETag, the newest event
id: ``version``) must have no newer events than the SLA's own notes (``StaleTicket`` otherwise); a version
newer than the ticket's is refused the same way.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from app.models import ApiKey, Ticket, TicketEvent, TicketStatus, User
from app.permissions import scope_tickets
from app.services import audit
from app.services import tickets as ticket_service
from app.services.tickets import queries
from app.services.tickets.errors import OutOfScope, StaleTicket


def in_scope(key: ApiKey, with_events: bool = False) -> Select:
    """The tickets the key may read, with what their representation needs loaded."""
    options = [joinedload(Ticket.branch), joinedload(Ticket.department), joinedload(Ticket.assignee),
               joinedload(Ticket.response)]
    if with_events:
        options.append(selectinload(Ticket.events).options(joinedload(TicketEvent.actor),
                                                           joinedload(TicketEvent.api_key)))
    return scope_tickets(select(Ticket).options(*options), key)


@dataclass(frozen=True)
class TicketQuery:
    branch_id: int | None = None
    status: str | None = None
    department_id: int | None = None


def filtered(key: ApiKey, wanted: TicketQuery) -> Select:
    query = in_scope(key)
    if wanted.branch_id is not None:
        query = query.where(Ticket.branch_id == wanted.branch_id)
    if wanted.status is not None:
        query = query.where(Ticket.status == TicketStatus(wanted.status))
    if wanted.department_id is not None:
        query = query.where(Ticket.department_id == wanted.department_id)
    return query


def version(ticket: Ticket) -> int:
    """What the ticket's ETag carries: the page's version (the newest event id)."""
    return ticket_service.page_version(ticket)


def _checked_version(ticket: Ticket, seen: int) -> int:
    if seen > version(ticket):
        raise StaleTicket(ticket, [])
    return seen


def change(key: ApiKey, ticket: Ticket, seen: int, *, status: str | None = None,
           assignee_id: int | None = None, unassign: bool = False) -> None:
    """A status and/or the assignee (None with ``unassign``: nobody), as the page's buttons do (flushes)."""
    seen = _checked_version(ticket, seen)
    before = {"status": ticket.status, "assignee": ticket.assignee_id}
    if status is not None:
        ticket_service.change_status(ticket, key, status, seen_version=seen)
        seen = version(ticket)
    if assignee_id is not None or unassign:
        assignee: User | None = None
        if assignee_id is not None:
            assignee = queries.assignable_user(ticket, assignee_id)
            if assignee is None:
                raise OutOfScope("Choose someone who works on this ticket's department and branch.")
        ticket_service.assign(ticket, key, assignee, seen_version=seen)
    audit.record(key, "update", ticket, before=before,
                 after={"status": ticket.status, "assignee": ticket.assignee_id}, label=ticket.reference_code)


def write(key: ApiKey, ticket: Ticket, seen: int, kind: str, body: str) -> None:
    """A reply to the customer (their status page, e-mail / SMS) or an internal note (flushes)."""
    seen = _checked_version(ticket, seen)
    operation = ticket_service.reply if kind == "reply" else ticket_service.add_note
    operation(ticket, key, body, seen_version=seen)
    audit.record(key, "update", ticket, before={}, after={kind: body[:200]}, label=ticket.reference_code)
