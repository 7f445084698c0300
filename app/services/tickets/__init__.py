"""Tickets (工单): opened from negative responses or by staff, worked by staff, every change an event.

Operations flush and leave the commit to the caller. A change a user asked for and cannot
have raises a ``TicketError`` whose text is the message for the page. The actor is a user, or an
integration's API key (the JSON API: scoped by branch; its events name the key).

Two people, one ticket. A ticket page puts ``page_version(ticket)`` in its forms as
``seen_version``: the id of the newest event the page showed (the event high-water mark).
An operation is refused with ``StaleTicket`` when the ticket has events newer than that
(other than the SLA's own "sla" and "escalation" notes), and the error carries those events,
so the page can say who changed what. The mark is an event id rather than ``lock_version``
because a version number cannot say what changed. ``lock_version`` (the mapper's
version_id_col) still guards the moment between reading and writing: of two requests that
passed the check together, the second UPDATE matches no row; the session is then rolled back
and the operation refused the same way, or, when the row was rewritten without any event,
run once more on the fresh row.

This module is the package's face: working a ticket (claim, assign, reply, note, call, status,
priority, department). Beside it: ``opening`` (a ticket from a negative response or from staff),
``queries`` (scope, the staff queue, who has a ticket open), ``search`` (finding a ticket by code, phone or
words, and its searchable text), ``errors`` (the refusals and input
limits), ``customer_status`` (what the customer may see of their feedback and do on its page),
``customer_messages`` (what leaves for the customer by e-mail and SMS).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from app import labels
from app.core.clock import utcnow
from app.extensions import db
from app.models import ApiKey, Department, Priority, Ticket, TicketEvent, TicketStatus, User
from app.services.sla import clocks as sla_clocks
from app.services.tickets import customer_messages, queries, search
from app.services.webhooks import events as webhook_events
from app.services.tickets.errors import (
    EmptyBody,
    ForbiddenTransition,
    InvalidValue,
    MAX_BODY,
    OutOfScope,
    parse_choice,
    StaleTicket,
)


log = logging.getLogger(__name__)

#: Who works a ticket: a person on its page, or an integration through the API.
Actor = User | ApiKey

DONE_STATUSES = (TicketStatus.RESOLVED, TicketStatus.CLOSED)
#: Where each status may go. From a done status, in progress is a reopen.
TRANSITIONS: dict[TicketStatus, tuple[TicketStatus, ...]] = {
    TicketStatus.NEW: (TicketStatus.IN_PROGRESS, TicketStatus.WAITING, TicketStatus.RESOLVED),
    TicketStatus.IN_PROGRESS: (TicketStatus.WAITING, TicketStatus.RESOLVED),
    TicketStatus.WAITING: (TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED),
    TicketStatus.RESOLVED: (TicketStatus.CLOSED, TicketStatus.IN_PROGRESS),
    TicketStatus.CLOSED: (TicketStatus.IN_PROGRESS,),
}
#: Events the SLA sweep writes about the clock; they change nothing a person edits, so they never make a page stale.
BOOKKEEPING_KINDS = frozenset({"sla", "escalation"})


# --- Working a ticket -----------------------------------------------------------------------


def page_version(ticket: Ticket) -> int:
    """What a ticket page puts in its forms as ``seen_version``: the id of the newest event it shows."""
    return db.session.scalar(select(func.max(TicketEvent.id)).where(TicketEvent.ticket_id == ticket.id)) or 0


def next_statuses(status: TicketStatus | str) -> tuple[TicketStatus, ...]:
    """The statuses a ticket in ``status`` may move to (in progress from a done status is a reopen)."""
    return TRANSITIONS[TicketStatus(status)]


def claim(ticket: Ticket, actor: Actor, seen_version: int, now: datetime | None = None) -> list[TicketEvent]:
    """Take the ticket; a new ticket moves to in progress."""

    def change(ticket: Ticket, at: datetime) -> list[TicketEvent]:
        events = _set_assignee(ticket, actor, actor, at)
        if ticket.status == TicketStatus.NEW:
            events.append(_set_status(ticket, actor, TicketStatus.IN_PROGRESS, at))
        return events

    return _run(ticket, actor, seen_version, now, change)


def assign(
    ticket: Ticket, actor: Actor, assignee: User | None, seen_version: int, now: datetime | None = None
) -> list[TicketEvent]:
    """Give the ticket to someone whose scope includes it (None: unassign)."""
    if assignee is not None and not queries.can_work(assignee, ticket.branch_id, ticket.department_id):
        raise OutOfScope(_l(
            "%(name)s does not work on this ticket's department and branch.",
            name=assignee.display_name or assignee.username,
        ))
    return _run(ticket, actor, seen_version, now, lambda ticket, at: _set_assignee(ticket, actor, assignee, at))


def reply(
    ticket: Ticket, actor: Actor, body: str, seen_version: int, now: datetime | None = None,
    customer_subject: str | None = None,
) -> list[TicketEvent]:
    """A message to the customer: on their status page, and by e-mail / SMS where they left an address
    (``customer_messages.tell``; ``customer_subject`` is the e-mail's). The first one is the first response."""
    body = _body(body)
    events = _run(ticket, actor, seen_version, now, lambda ticket, at: [_message(ticket, actor, "reply", body, at)])
    if events:
        customer_messages.tell(ticket, body, events[0].at, subject=customer_subject)
    return events


def add_note(ticket: Ticket, actor: Actor, body: str, seen_version: int, now: datetime | None = None) -> list[TicketEvent]:
    """An internal note: staff only, never shown to the customer."""
    body = _body(body)
    return _run(ticket, actor, seen_version, now, lambda ticket, at: [_message(ticket, actor, "note", body, at)])


def log_call(ticket: Ticket, actor: Actor, body: str, seen_version: int, now: datetime | None = None) -> list[TicketEvent]:
    """What was said on the phone with the customer: a first response, and the call-back task done."""
    body = _body(body)

    def change(ticket: Ticket, at: datetime) -> list[TicketEvent]:
        events = [_message(ticket, actor, "call", body, at)]
        if ticket.callback_due_at is not None and ticket.callback_done_at is None:
            ticket.callback_done_at = at
            events.append(_event(ticket, actor, "callback", at, new_value=at.isoformat(timespec="seconds")))
        return events

    return _run(ticket, actor, seen_version, now, change)


def change_status(
    ticket: Ticket, actor: Actor, status: TicketStatus | str, seen_version: int, now: datetime | None = None
) -> list[TicketEvent]:
    """Move along new → in progress ⇄ waiting on customer → resolved → closed; back to in progress reopens."""
    new = parse_choice(TicketStatus, status, _l("Choose a status."))

    def change(ticket: Ticket, at: datetime) -> list[TicketEvent]:
        if new not in TRANSITIONS[ticket.status]:
            raise ForbiddenTransition(_l(
                "A ticket that is %(old)s cannot be set to %(new)s.",
                old=labels.STATUS_LABELS[ticket.status], new=labels.STATUS_LABELS[new],
            ))
        return [_set_status(ticket, actor, new, at)]

    return _run(ticket, actor, seen_version, now, change, sla=True)


def reopen(ticket: Ticket, actor: Actor, seen_version: int, now: datetime | None = None) -> list[TicketEvent]:
    """A resolved or closed ticket back to in progress (a fresh resolution clock, see app.core.sla)."""
    if ticket.status not in DONE_STATUSES:
        raise ForbiddenTransition(_l("Only a resolved or closed ticket can be reopened."))
    return change_status(ticket, actor, TicketStatus.IN_PROGRESS, seen_version, now)


def change_priority(
    ticket: Ticket, actor: Actor, priority: Priority | str, seen_version: int, now: datetime | None = None
) -> list[TicketEvent]:
    new = parse_choice(Priority, priority, _l("Choose a priority."))

    def change(ticket: Ticket, at: datetime) -> list[TicketEvent]:
        if ticket.priority == new:
            return []
        old, ticket.priority = ticket.priority, new
        return [_event(ticket, actor, "priority", at, old_value=old.value, new_value=new.value)]

    return _run(ticket, actor, seen_version, now, change, sla=True)


def move_to_department(
    ticket: Ticket, actor: Actor, department: Department, seen_version: int, now: datetime | None = None
) -> list[TicketEvent]:
    """Hand the ticket to another department; an assignee who does not work there lets go of it."""
    if not department.active:
        raise InvalidValue(_l("Choose a department."))

    def change(ticket: Ticket, at: datetime) -> list[TicketEvent]:
        if ticket.department_id == department.id:
            return []
        keeps = ticket.assignee is None or queries.can_work(ticket.assignee, ticket.branch_id, department.id)
        old, ticket.department = ticket.department, department
        events = [_event(ticket, actor, "department", at, old_value=old.name, new_value=department.name)]
        if not keeps:
            events += _set_assignee(ticket, actor, None, at)
        return events

    return _run(ticket, actor, seen_version, now, change, sla=True)

Change = Callable[[Ticket, datetime], list[TicketEvent]]


def _run(
    ticket: Ticket, actor: Actor, seen_version: int, now: datetime | None, change: Change, sla: bool = False
) -> list[TicketEvent]:
    """Check the scope and the page's version, apply ``change``, refresh the clocks, flush.

    ``sla`` says the change always affects the SLA; a first response found on the way does too.
    On a write refused by ``lock_version`` the session is rolled back (the caller's other
    pending work with it): with unseen events that is ``StaleTicket``; when the row was
    rewritten without any event, the change runs once more on the fresh row.
    """
    now = now or utcnow()
    ticket_id = ticket.id
    for attempt in range(2):
        if not queries.can_work(actor, ticket.branch_id, ticket.department_id):
            raise OutOfScope(_l("This ticket is outside your departments and branches."))
        _refuse_if_stale(ticket, seen_version)
        answered = ticket.first_response_at
        try:
            with db.session.no_autoflush:
                events = change(ticket, now)
            if not events:
                return []
            ticket.updated_at = now
            if sla or ticket.first_response_at != answered:
                sla_clocks.refresh_deadlines(ticket, now)
            db.session.flush()
            announce(ticket, events, now)
            return events
        except StaleDataError:
            db.session.rollback()
            ticket = db.session.get(Ticket, ticket_id)
            assert ticket is not None
            if attempt:
                raise StaleTicket(ticket, _events_after(ticket_id, seen_version)) from None
            log.info("ticket %s was rewritten during a change by %s; trying once more", ticket_id, actor.id)
    raise AssertionError("unreachable")


def announce(ticket: Ticket, events: Sequence[TicketEvent], now: datetime) -> None:
    """The webhook events of a change (after its flush): ``ticket.updated`` with what changed, and
    ``ticket.resolved`` when the change resolved it."""
    webhook_events.ticket_changed("ticket.updated", ticket, now, changes=list(dict.fromkeys(e.kind for e in events)))
    if any(e.kind == "status" and e.new_value == TicketStatus.RESOLVED.value for e in events):
        webhook_events.ticket_changed("ticket.resolved", ticket, now)


def _refuse_if_stale(ticket: Ticket, seen_version: int) -> None:
    changes = _events_after(ticket.id, seen_version)
    if changes:
        raise StaleTicket(ticket, changes)


def _events_after(ticket_id: int, seen_version: int) -> list[TicketEvent]:
    return list(db.session.scalars(
        select(TicketEvent)
        .where(
            TicketEvent.ticket_id == ticket_id,
            TicketEvent.id > seen_version,
            TicketEvent.kind.not_in(BOOKKEEPING_KINDS),
        )
        .options(joinedload(TicketEvent.actor))
        .order_by(TicketEvent.id)
    ))


def _event(ticket: Ticket, actor: Actor | None, kind: str, at: datetime, **values) -> TicketEvent:
    if isinstance(actor, ApiKey):
        event = TicketEvent(ticket=ticket, api_key=actor, kind=kind, at=at, **values)
    else:
        event = TicketEvent(ticket=ticket, actor=actor, kind=kind, at=at, **values)
    db.session.add(event)
    return event


def _message(ticket: Ticket, actor: Actor, kind: str, body: str, at: datetime) -> TicketEvent:
    """A reply, note or call; a reply or call is the first response when none came before."""
    if kind in ("reply", "call") and ticket.first_response_at is None:
        ticket.first_response_at = at
    event = _event(ticket, actor, kind, at, body=body, visible_to_customer=kind == "reply")
    search.refresh(ticket)
    return event


def _set_assignee(ticket: Ticket, actor: Actor, assignee: User | None, at: datetime) -> list[TicketEvent]:
    if ticket.assignee_id == (assignee.id if assignee else None):
        return []
    old, ticket.assignee = ticket.assignee, assignee
    return [_event(ticket, actor, "assignee", at, old_value=_name(old), new_value=_name(assignee))]


def _set_status(ticket: Ticket, actor: Actor, new: TicketStatus, at: datetime) -> TicketEvent:
    """Record a status change; a done ticket going back to in progress is a reopen and forgets its done times."""
    old = ticket.status
    ticket.status = new
    if old in DONE_STATUSES and new not in DONE_STATUSES:
        ticket.resolved_at = ticket.closed_at = None
        kind = "reopened"
    else:
        kind = "status"
        if new == TicketStatus.RESOLVED:
            ticket.resolved_at = at
        elif new == TicketStatus.CLOSED:
            ticket.closed_at = at
    return _event(ticket, actor, kind, at, old_value=old.value, new_value=new.value)


def _name(user: User | None) -> str | None:
    return (user.display_name or user.username) if user else None


def _body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise EmptyBody(_l("Write something first."))
    if len(body) > MAX_BODY:
        raise InvalidValue(_l("That text is too long."))
    return body
