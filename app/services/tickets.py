"""Tickets (工单): opened from negative responses or by staff, worked by staff, every change an event.

Operations flush and leave the commit to the caller. A change a user asked for and cannot
have raises a ``TicketError`` whose text is the message for the page.

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
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from app import labels
from app.core import routing
from app.core.clock import utcnow
from app.core.reference import new_reference_code
from app.extensions import db
from app.models import (
    Category,
    Department,
    Priority,
    QuestionType,
    Response,
    Ticket,
    TicketEvent,
    TicketSource,
    TicketStatus,
    User,
)
from app.models.tickets import new_customer_secret
from app.models.upsert import insert_on_conflict
from app.services import routing_rules, sla_clocks, ticket_queries
from app.services.survey_plans import SurveyPlan, plan_for

log = logging.getLogger(__name__)

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
MAX_BODY = 5000
MAX_SUBJECT = 200
STAFF_SOURCES = (TicketSource.PHONE, TicketSource.WALK_IN)


# --- Errors ---------------------------------------------------------------------------------


class TicketError(Exception):
    """A change a user asked for that cannot be made; ``str()`` is the message for the page."""


class EmptyBody(TicketError):
    pass


class InvalidValue(TicketError):
    """An unknown status, priority, category or source, or a text that is too long."""


class ForbiddenTransition(TicketError):
    pass


class OutOfScope(TicketError):
    """The actor, the assignee or the branch is outside the ticket's departments and branches."""


class StaleTicket(TicketError):
    """The ticket changed since the user's page showed it; ``changes`` are the events they did not see."""

    def __init__(self, ticket: Ticket, changes: Sequence[TicketEvent]) -> None:
        self.ticket = ticket
        self.changes = list(changes)
        what = "; ".join(_describe(event) for event in self.changes) or _l("saved at the same moment")
        super().__init__(_l(
            "This ticket changed since you opened it, so your change was not saved. What changed: %(what)s",
            what=what,
        ))


def _describe(event: TicketEvent) -> str:
    """A plain one-liner for logs and the refusal message; pages use app.labels.event_label."""
    who = (event.actor.display_name or event.actor.username) if event.actor else "system"
    change = f"{event.old_value or '—'} → {event.new_value or '—'}" if event.new_value or event.old_value else ""
    return " ".join(part for part in (who, event.kind, change) if part)


# --- Opening tickets ------------------------------------------------------------------------


def open_from_response(response_id: int, now: datetime | None = None) -> Ticket | None:
    """The ticket of a submitted response: opened when routing calls the response negative.

    Returns None when the response opens no ticket. A response never opens two: a second
    call returns the first ticket, and of two workers inserting at once the unique
    ``response_id`` lets one win while the other reads its row.
    """
    existing = _ticket_of_response(response_id)
    if existing is not None:
        return existing
    response = db.session.scalar(
        select(Response)
        .where(Response.id == response_id, Response.submitted_at.is_not(None))
        .options(selectinload(Response.answers), joinedload(Response.branch))
    )
    if response is None:
        return None
    now = now or utcnow()
    plan = plan_for(response.version_id)
    routed = routed_response(response, plan)
    routed_to = routing_rules.decide(routed)
    if routed_to is None:
        return None
    decision, department, reasons = routed_to.decision, routed_to.department, routed_to.reasons
    low_score = any(reason.code in ("low_csat", "low_nps") for reason in decision.reasons)
    reachable = response.contact_consent and bool(response.contact_phone or response.contact_email)
    callback_hours = current_app.config["LOOPDESK_CALLBACK_HOURS"]
    values = {
        "source": TicketSource.SURVEY,
        "response_id": response.id,
        "branch_id": response.branch_id,
        "department_id": department.id,
        "category": Category(decision.category) if decision.category in set(Category) else None,
        "priority": Priority(decision.priority) if decision.priority in set(Priority) else Priority.NORMAL,
        "status": TicketStatus.NEW,
        "subject": _subject(decision.category, routed)[:MAX_SUBJECT],
        "description": _description(routed),
        "routing": {
            "rule": decision.rule.name if decision.rule else None,
            "position": decision.rule.position if decision.rule else None,
            "category": decision.category,
            "department": department.code,
            "priority": decision.priority,
            "reasons": reasons,
            "quality_flags": list(response.quality_flags or []),
        },
        "language": response.language,
        "contact_consent": response.contact_consent,
        "contact_name": response.contact_name if response.contact_consent else None,
        "contact_phone": response.contact_phone if response.contact_consent else None,
        "contact_email": response.contact_email if response.contact_consent else None,
        "callback_due_at": now + timedelta(hours=float(callback_hours)) if low_score and reachable else None,
        "created_at": now,
        "updated_at": now,
    }
    ticket_id = _insert_once(values, response.reference_code)
    if ticket_id is None:  # another worker opened it first
        return _ticket_of_response(response_id)
    ticket = db.session.get(Ticket, ticket_id)
    assert ticket is not None
    _opened(ticket, None, now)
    return ticket


def routed_response(response: Response, plan: SurveyPlan) -> routing.RoutedResponse:
    """What routing reads of a stored response: answers by question key, question kinds in order."""
    keys = {question.id: question.key for question in plan.questions}
    return routing.RoutedResponse(
        branch_code=response.branch.code,
        region=response.branch.region,
        answers={keys[a.question_id]: a.value for a in response.answers if a.question_id in keys},
        questions={
            question.key: routing.QuestionKind(str(question.type), question.dimension) for question in plan.questions
        },
    )


def _subject(category: str | None, routed: routing.RoutedResponse) -> str:
    """The category and the low scores, e.g. "service: service 1/5, nps 3/10"; else the complaint's opening words."""
    settings = routing.DEFAULT_SETTINGS
    low = [f"{key} {score}/5" for key, score in routed.scores(routing.CSAT) if score <= settings.csat_at_most]
    low += [f"{key} {score}/10" for key, score in routed.scores(routing.NPS) if score <= settings.nps_at_most]
    what = ", ".join(low) if low else next((text.strip()[:80] for _, text in routed.texts), "")
    return f"{category or 'feedback'}: {what}" if what else category or "feedback"


def _description(routed: routing.RoutedResponse) -> str:
    """What the customer wrote, then what they ticked."""
    parts = [text.strip() for _, text in routed.texts]
    parts += [
        f"{key}: {', '.join(answer)}"
        for key, kind in routed.questions.items()
        if kind.type == QuestionType.MULTIPLE and isinstance(answer := routed.answers.get(key), list) and answer
    ]
    return "\n\n".join(parts)


def _ticket_of_response(response_id: int) -> Ticket | None:
    return db.session.scalar(select(Ticket).where(Ticket.response_id == response_id))


def _insert_once(values: dict, reference_code: str | None) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING: the new ticket's id, or None when the response has one already.

    The customer's own code is used when they were given one; a clash of a new random code
    with an existing one (1 in ~10^9) draws another.
    """
    for attempt in range(5):
        code = reference_code if attempt == 0 and reference_code else _unused_reference_code()
        statement = (
            insert_on_conflict(Ticket)
            .values(reference_code=code, customer_secret=new_customer_secret(), **values)
            .on_conflict_do_nothing()
            .returning(Ticket.id)
        )
        ticket_id = db.session.execute(statement).scalar()
        if ticket_id is not None:
            return ticket_id
        if _ticket_of_response(values["response_id"]) is not None:
            return None
    raise RuntimeError(f"no free reference code for response {values['response_id']}")


def _unused_reference_code() -> str:
    """A new code that neither a ticket nor a response carries (responses get codes of their own)."""
    while True:
        code = new_reference_code()
        taken = db.session.scalar(select(Ticket.id).where(Ticket.reference_code == code)) or db.session.scalar(
            select(Response.id).where(Response.reference_code == code)
        )
        if not taken:
            return code


def _opened(ticket: Ticket, actor: User | None, now: datetime) -> None:
    """The "created" event (its new value is the first status, for the SLA's status history), then the clocks."""
    db.session.add(TicketEvent(ticket=ticket, at=now, actor=actor, kind="created", new_value=str(ticket.status)))
    sla_clocks.refresh_deadlines(ticket, now)
    db.session.flush()


def create_ticket(
    actor: User,
    *,
    branch_id: int,
    department_id: int,
    category: str | None,
    priority: str,
    subject: str,
    description: str = "",
    source: str = TicketSource.PHONE,
    contact_consent: bool = False,
    contact_name: str | None = None,
    contact_phone: str | None = None,
    contact_email: str | None = None,
    language: str | None = None,
    now: datetime | None = None,
) -> Ticket:
    """A complaint staff took by phone or at the counter, at a branch of theirs, for any active department."""
    now = now or utcnow()
    source_value = _parse(TicketSource, source, _l("Choose where the complaint came from."))
    if source_value not in STAFF_SOURCES:
        raise InvalidValue(_l("Choose where the complaint came from."))
    subject = (subject or "").strip()
    if not subject:
        raise EmptyBody(_l("Say in a few words what happened."))
    if len(subject) > MAX_SUBJECT or len(description or "") > MAX_BODY:
        raise InvalidValue(_l("That text is too long."))
    if branch_id not in {branch.id for branch in ticket_queries.branches_in_scope(actor)}:
        raise OutOfScope(_l("Choose one of your branches."))
    department = db.session.get(Department, department_id)
    if department is None or not department.active:
        raise InvalidValue(_l("Choose a department."))
    ticket = Ticket(
        reference_code=_unused_reference_code(),
        source=source_value,
        branch_id=branch_id,
        department=department,
        category=_parse(Category, category, _l("Choose a category.")) if category else None,
        priority=_parse(Priority, priority, _l("Choose a priority.")),
        status=TicketStatus.NEW,
        subject=subject,
        description=(description or "").strip(),
        language=language or actor.locale or current_app.config.get("LOOPDESK_DEFAULT_LOCALE", "zh_Hans"),
        contact_consent=bool(contact_consent),
        contact_name=contact_name if contact_consent else None,
        contact_phone=contact_phone if contact_consent else None,
        contact_email=contact_email if contact_consent else None,
        created_at=now,
        updated_at=now,
    )
    db.session.add(ticket)
    _opened(ticket, actor, now)
    return ticket


def _parse(kind, value, message):
    try:
        return kind(value)
    except ValueError:
        raise InvalidValue(message) from None


# --- Working a ticket -----------------------------------------------------------------------


def page_version(ticket: Ticket) -> int:
    """What a ticket page puts in its forms as ``seen_version``: the id of the newest event it shows."""
    return db.session.scalar(select(func.max(TicketEvent.id)).where(TicketEvent.ticket_id == ticket.id)) or 0


def next_statuses(status: TicketStatus | str) -> tuple[TicketStatus, ...]:
    """The statuses a ticket in ``status`` may move to (in progress from a done status is a reopen)."""
    return TRANSITIONS[TicketStatus(status)]


def claim(ticket: Ticket, actor: User, seen_version: int, now: datetime | None = None) -> list[TicketEvent]:
    """Take the ticket; a new ticket moves to in progress."""

    def change(ticket: Ticket, at: datetime) -> list[TicketEvent]:
        events = _set_assignee(ticket, actor, actor, at)
        if ticket.status == TicketStatus.NEW:
            events.append(_set_status(ticket, actor, TicketStatus.IN_PROGRESS, at))
        return events

    return _run(ticket, actor, seen_version, now, change)


def assign(
    ticket: Ticket, actor: User, assignee: User | None, seen_version: int, now: datetime | None = None
) -> list[TicketEvent]:
    """Give the ticket to someone whose scope includes it (None: unassign)."""
    if assignee is not None and not ticket_queries.can_work(assignee, ticket.branch_id, ticket.department_id):
        raise OutOfScope(_l(
            "%(name)s does not work on this ticket's department and branch.",
            name=assignee.display_name or assignee.username,
        ))
    return _run(ticket, actor, seen_version, now, lambda ticket, at: _set_assignee(ticket, actor, assignee, at))


def reply(ticket: Ticket, actor: User, body: str, seen_version: int, now: datetime | None = None) -> list[TicketEvent]:
    """A message to the customer (shown on their status page); the first one is the first response."""
    body = _body(body)
    return _run(ticket, actor, seen_version, now, lambda ticket, at: [_message(ticket, actor, "reply", body, at)])


def add_note(ticket: Ticket, actor: User, body: str, seen_version: int, now: datetime | None = None) -> list[TicketEvent]:
    """An internal note: staff only, never shown to the customer."""
    body = _body(body)
    return _run(ticket, actor, seen_version, now, lambda ticket, at: [_message(ticket, actor, "note", body, at)])


def log_call(ticket: Ticket, actor: User, body: str, seen_version: int, now: datetime | None = None) -> list[TicketEvent]:
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
    ticket: Ticket, actor: User, status: TicketStatus | str, seen_version: int, now: datetime | None = None
) -> list[TicketEvent]:
    """Move along new → in progress ⇄ waiting on customer → resolved → closed; back to in progress reopens."""
    new = _parse(TicketStatus, status, _l("Choose a status."))

    def change(ticket: Ticket, at: datetime) -> list[TicketEvent]:
        if new not in TRANSITIONS[ticket.status]:
            raise ForbiddenTransition(_l(
                "A ticket that is %(old)s cannot be set to %(new)s.",
                old=labels.STATUS_LABELS[ticket.status], new=labels.STATUS_LABELS[new],
            ))
        return [_set_status(ticket, actor, new, at)]

    return _run(ticket, actor, seen_version, now, change, sla=True)


def reopen(ticket: Ticket, actor: User, seen_version: int, now: datetime | None = None) -> list[TicketEvent]:
    """A resolved or closed ticket back to in progress (a fresh resolution clock, see app.core.sla)."""
    if ticket.status not in DONE_STATUSES:
        raise ForbiddenTransition(_l("Only a resolved or closed ticket can be reopened."))
    return change_status(ticket, actor, TicketStatus.IN_PROGRESS, seen_version, now)


def change_priority(
    ticket: Ticket, actor: User, priority: Priority | str, seen_version: int, now: datetime | None = None
) -> list[TicketEvent]:
    new = _parse(Priority, priority, _l("Choose a priority."))

    def change(ticket: Ticket, at: datetime) -> list[TicketEvent]:
        if ticket.priority == new:
            return []
        old, ticket.priority = ticket.priority, new
        return [_event(ticket, actor, "priority", at, old_value=old.value, new_value=new.value)]

    return _run(ticket, actor, seen_version, now, change, sla=True)


def move_to_department(
    ticket: Ticket, actor: User, department: Department, seen_version: int, now: datetime | None = None
) -> list[TicketEvent]:
    """Hand the ticket to another department; an assignee who does not work there lets go of it."""
    if not department.active:
        raise InvalidValue(_l("Choose a department."))

    def change(ticket: Ticket, at: datetime) -> list[TicketEvent]:
        if ticket.department_id == department.id:
            return []
        keeps = ticket.assignee is None or ticket_queries.can_work(ticket.assignee, ticket.branch_id, department.id)
        old, ticket.department = ticket.department, department
        events = [_event(ticket, actor, "department", at, old_value=old.name, new_value=department.name)]
        if not keeps:
            events += _set_assignee(ticket, actor, None, at)
        return events

    return _run(ticket, actor, seen_version, now, change, sla=True)

Change = Callable[[Ticket, datetime], list[TicketEvent]]


def _run(
    ticket: Ticket, actor: User, seen_version: int, now: datetime | None, change: Change, sla: bool = False
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
        if not ticket_queries.can_work(actor, ticket.branch_id, ticket.department_id):
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
            return events
        except StaleDataError:
            db.session.rollback()
            ticket = db.session.get(Ticket, ticket_id)
            assert ticket is not None
            if attempt:
                raise StaleTicket(ticket, _events_after(ticket_id, seen_version)) from None
            log.info("ticket %s was rewritten during a change by %s; trying once more", ticket_id, actor.id)
    raise AssertionError("unreachable")


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


def _event(ticket: Ticket, actor: User | None, kind: str, at: datetime, **values) -> TicketEvent:
    event = TicketEvent(ticket=ticket, actor=actor, kind=kind, at=at, **values)
    db.session.add(event)
    return event


def _message(ticket: Ticket, actor: User, kind: str, body: str, at: datetime) -> TicketEvent:
    """A reply, note or call; a reply or call is the first response when none came before."""
    if kind in ("reply", "call") and ticket.first_response_at is None:
        ticket.first_response_at = at
    return _event(ticket, actor, kind, at, body=body, visible_to_customer=kind == "reply")


def _set_assignee(ticket: Ticket, actor: User, assignee: User | None, at: datetime) -> list[TicketEvent]:
    if ticket.assignee_id == (assignee.id if assignee else None):
        return []
    old, ticket.assignee = ticket.assignee, assignee
    return [_event(ticket, actor, "assignee", at, old_value=_name(old), new_value=_name(assignee))]


def _set_status(ticket: Ticket, actor: User, new: TicketStatus, at: datetime) -> TicketEvent:
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
