"""Opening tickets: from a response routing calls negative, or from a complaint staff took by phone or in person."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

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
from app.services import routing as routing_rules
from app.services.sla import clocks as sla_clocks
from app.services.tickets import queries, search
from app.services.survey.plans import plan_for, SurveyPlan
from app.services.webhooks import events as webhook_events
from app.services.tickets.errors import EmptyBody, InvalidValue, MAX_BODY, MAX_SUBJECT, OutOfScope, parse_choice

STAFF_SOURCES = (TicketSource.PHONE, TicketSource.WALK_IN)


def open_from_response(
    response_id: int, now: datetime | None = None, attach_to: Ticket | None = None
) -> Ticket | None:
    """The ticket of a submitted response: opened when routing calls the response negative.

    Returns None when the response opens no ticket. A response never opens two: a second
    call returns the first ticket, and of two workers inserting at once the unique
    ``response_id`` lets one win while the other reads its row. With ``attach_to`` (a burst
    from one address, see app/services/survey/responses.py) a negative response joins that
    ticket as a line of its history instead of opening its own.
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
    if attach_to is not None:
        db.session.add(TicketEvent(
            ticket_id=attach_to.id, kind="burst_response", at=now, new_value=str(response.id),
        ))
        db.session.flush()
        return attach_to
    decision, department = routed_to.decision, routed_to.department
    subject, subject_parts = _subject(routed, plan)
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
        "subject": subject[:MAX_SUBJECT],
        "description": _description(routed),
        "routing": {
            "rule": decision.rule.name if decision.rule else None,
            "position": decision.rule.position if decision.rule else None,
            "category": decision.category,
            "department": department.code,
            "priority": decision.priority,
            "reasons": [{"code": reason.code, "params": dict(reason.params)} for reason in routed_to.reasons],
            "subject": subject_parts,
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
    ticket_id = _insert_once(values, response.reference_code, response.customer_secret)
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


#: A subject taken from the customer's own words is cut at this many characters.
SUBJECT_WORDS = 80


def _subject(routed: routing.RoutedResponse, plan: SurveyPlan) -> tuple[str, list[dict]]:
    """What the ticket is about: the customer's own words (stored as written), else the parts it is worded from
    when read (``app.labels.ticket_subject``): the labels of the options they ticked, else their low scores."""
    for _key, answer in routed.texts:
        if words := " ".join(answer.split()):
            return (words if len(words) <= SUBJECT_WORDS else words[:SUBJECT_WORDS - 1] + "…"), []
    parts = []
    for question in plan.questions:
        answer = routed.answers.get(question.key)
        chosen = answer if isinstance(answer, list) else [answer] if question.type == QuestionType.SINGLE else []
        labels = {str(option["value"]): option.get("label") for option in question.options}
        parts += [{"option": labels[str(value)]} for value in chosen if labels.get(str(value))]
    if parts:
        return "", parts
    settings = routing.DEFAULT_SETTINGS
    for question in plan.questions:
        score = routed.answers.get(question.key)
        if not isinstance(score, int) or isinstance(score, bool):
            continue
        if (question.type == QuestionType.CSAT and score <= settings.csat_at_most) or (
            question.type == QuestionType.NPS and score <= settings.nps_at_most
        ):
            parts.append({"category": question.dimension, "question": dict(question.prompt), "score": score,
                          "of": 10 if question.type == QuestionType.NPS else 5})
    return "", parts


def _description(routed: routing.RoutedResponse) -> str:
    """What the customer wrote (what they ticked is read from their answers, in the reader's language)."""
    return "\n\n".join(text.strip() for _, text in routed.texts)


def _ticket_of_response(response_id: int) -> Ticket | None:
    return db.session.scalar(select(Ticket).where(Ticket.response_id == response_id))


def _insert_once(values: dict, reference_code: str | None, secret: str | None = None) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING: the new ticket's id, or None when the response has one already.

    The customer's own code and status-link secret are used when they were given them (the link on
    their thank-you page then opens the ticket); a clash of a new random code with an existing one
    (1 in ~10^9) draws another.
    """
    for attempt in range(5):
        code = reference_code if attempt == 0 and reference_code else _unused_reference_code()
        statement = (
            insert_on_conflict(Ticket)
            .values(reference_code=code, customer_secret=secret or new_customer_secret(), **values)
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
    """The "created" event (its new value is the first status, for the SLA's status history), the searchable
    text, then the clocks."""
    db.session.add(TicketEvent(ticket=ticket, at=now, actor=actor, kind="created", new_value=str(ticket.status)))
    search.refresh(ticket)
    sla_clocks.refresh_deadlines(ticket, now)
    db.session.flush()
    webhook_events.ticket_changed("ticket.created", ticket, now)


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
    source_value = parse_choice(TicketSource, source, _l("Choose where the complaint came from."))
    if source_value not in STAFF_SOURCES:
        raise InvalidValue(_l("Choose where the complaint came from."))
    subject = (subject or "").strip()
    if not subject:
        raise EmptyBody(_l("Say in a few words what happened."))
    if len(subject) > MAX_SUBJECT or len(description or "") > MAX_BODY:
        raise InvalidValue(_l("That text is too long."))
    if branch_id not in {branch.id for branch in queries.branches_in_scope(actor)}:
        raise OutOfScope(_l("Choose one of your branches."))
    department = db.session.get(Department, department_id)
    if department is None or not department.active:
        raise InvalidValue(_l("Choose a department."))
    ticket = Ticket(
        reference_code=_unused_reference_code(),
        source=source_value,
        branch_id=branch_id,
        department=department,
        category=parse_choice(Category, category, _l("Choose a category.")) if category else None,
        priority=parse_choice(Priority, priority, _l("Choose a priority.")),
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
