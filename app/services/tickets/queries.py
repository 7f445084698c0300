"""Reading tickets: who may see and work which, the staff queue, and who has a ticket open.

Every read goes through ``app.permissions.scope_tickets``; ``ticket_for`` returns None for a
ticket outside the user's scope, which the views turn into 404 (never 403: a code is not
confirmed to exist).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.core.clock import utcnow
from app.core.ids import id_or_none
from app.core.skip_logic import AnswerValue
from app.extensions import db
from app.models import (
    ApiKey,
    Branch,
    Category,
    Department,
    Priority,
    QuestionType,
    Response,
    Role,
    Ticket,
    TicketEvent,
    TicketStatus,
    TicketViewer,
    User,
)
from app.models.tickets import OPEN_STATUSES
from app.models.upsert import insert_on_conflict
from app.permissions import branch_scope, scope_tickets
from app.services.insight.filters import ARG_NAMES, InsightFilter
from app.services.sla import attainment as sla_attainment
from app.services.survey.plans import PlannedQuestion, plan_for


# --- Who may see and work what --------------------------------------------------------------


def _works_on(branch_id: int, department_id: int):
    """Users whose scope includes a ticket of this branch and department (the user side of scope_tickets)."""
    return and_(
        User.active.is_(True),
        or_(
            User.role == Role.ADMIN,
            and_(
                User.departments.any(Department.id == department_id),
                or_(User.all_branches.is_(True), User.branches.any(Branch.id == branch_id)),
            ),
        ),
    )


def can_work(who: User | ApiKey, branch_id: int, department_id: int) -> bool:
    """Whether a user's departments and branches include the ticket; an API key's branches (it has no departments)."""
    if isinstance(who, ApiKey):
        scope = branch_scope(who)
        return who.active and (scope is None or branch_id in scope)
    with db.session.no_autoflush:
        return db.session.scalar(select(User.id).where(User.id == who.id, _works_on(branch_id, department_id))) is not None


def assignable_users(ticket: Ticket) -> list[User]:
    """Who may be given this ticket: active users whose departments and branches include it."""
    return list(db.session.scalars(
        select(User).where(_works_on(ticket.branch_id, ticket.department_id)).order_by(User.display_name, User.username)
    ))


def assignable_user(ticket: Ticket, user_id: int | None) -> User | None:
    """The user with this id when the ticket may be given to them, else None."""
    if user_id is None:
        return None
    return db.session.scalar(select(User).where(User.id == user_id, _works_on(ticket.branch_id, ticket.department_id)))


def users_in_scope(user: User) -> list[User]:
    """Active people sharing a department and a branch with ``user`` (everyone active for an admin)."""
    query = select(User).where(User.active.is_(True)).order_by(User.display_name, User.username)
    if user.role == Role.ADMIN:
        return list(db.session.scalars(query))
    query = query.where(User.departments.any(Department.id.in_([d.id for d in user.departments])))
    if not user.all_branches:
        query = query.where(
            or_(User.all_branches.is_(True), User.branches.any(Branch.id.in_([b.id for b in user.branches])))
        )
    return list(db.session.scalars(query))


def branches_in_scope(user: User) -> list[Branch]:
    """The active branches a user works at (every one for admins and head office)."""
    if user.role == Role.ADMIN or user.all_branches:
        return list(db.session.scalars(select(Branch).where(Branch.active.is_(True)).order_by(Branch.name)))
    return [branch for branch in user.branches if branch.active]


def departments_in_scope(user: User) -> list[Department]:
    """The active departments a user works in (every one for admins)."""
    if user.role == Role.ADMIN:
        return list(db.session.scalars(select(Department).where(Department.active.is_(True)).order_by(Department.name)))
    return [department for department in user.departments if department.active]


def ticket_for(user: User, ticket_id: int) -> Ticket | None:
    """One ticket with its history, or None when it does not exist or is outside the user's scope."""
    query = (
        select(Ticket)
        .where(Ticket.id == ticket_id)
        .options(
            joinedload(Ticket.branch),
            joinedload(Ticket.department),
            joinedload(Ticket.assignee),
            selectinload(Ticket.events).joinedload(TicketEvent.actor),
        )
    )
    return db.session.scalar(scope_tickets(query, user))


def department_names() -> dict[str, str]:
    """Department code → name, for the words of routing's reasons."""
    return dict(db.session.execute(select(Department.code, Department.name)).all())


@dataclass(frozen=True)
class SurveyAnswers:
    """What a survey ticket's customer chose, for the ticket page (worded in the reader's language there)."""

    #: Question key → the question, in questionnaire order.
    questions: dict[str, PlannedQuestion]
    #: (question, the answer's value) of every choice question answered.
    choices: list[tuple[PlannedQuestion, AnswerValue]]


def survey_answers(ticket: Ticket) -> SurveyAnswers | None:
    """The questions and the chosen options of the response that opened ``ticket``; None for a staff ticket."""
    if ticket.response_id is None:
        return None
    response = db.session.scalar(
        select(Response).where(Response.id == ticket.response_id).options(selectinload(Response.answers))
    )
    if response is None:
        return None
    plan = plan_for(response.version_id)
    values = {answer.question_id: answer.value for answer in response.answers}
    choices = [
        (question, values[question.id]) for question in plan.questions
        if question.type in (QuestionType.SINGLE, QuestionType.MULTIPLE) and values.get(question.id) not in (None, [], "")
    ]
    return SurveyAnswers({question.key: question for question in plan.questions}, choices)


def _filtered(
    query,
    user: User,
    *,
    mine: bool,
    status: TicketStatus | str | None,
    priority: Priority | str | None,
    branch_id: int | None,
    at_risk: bool,
    breached: bool,
    narrowed: TicketFilter | None = None,
):
    if status == ANY_STATUS:
        pass
    elif status:
        query = query.where(Ticket.status == TicketStatus(status))
    else:
        query = query.where(Ticket.status.in_(OPEN_STATUSES))
    if narrowed is not None:
        query = narrowed.apply(query, user)
    if mine:
        query = query.where(or_(Ticket.assignee_id == user.id, Ticket.assignee_id.is_(None)))
    if priority:
        query = query.where(Ticket.priority == Priority(priority))
    if branch_id is not None:
        query = query.where(Ticket.branch_id == branch_id)
    states = [state for state, wanted in (("warning", at_risk), ("breached", breached)) if wanted]
    if states:
        query = query.where(Ticket.sla_state.in_(states))
    return scope_tickets(query, user)


# --- The queue's order -----------------------------------------------------------------------


def next_due(ticket: Ticket) -> datetime | None:
    """The deadline a person at the counter cares about: first response until given, then resolution."""
    if ticket.first_response_at is None and ticket.first_response_due_at is not None:
        return ticket.first_response_due_at
    return ticket.resolution_due_at


#: ``next_due`` in SQL, so the database sorts by it.
_NEXT_DUE = case(
    (and_(Ticket.first_response_at.is_(None), Ticket.first_response_due_at.is_not(None)), Ticket.first_response_due_at),
    else_=Ticket.resolution_due_at,
)
#: Breached first, then at risk (warning), then the rest.
_URGENCY = case((Ticket.sla_state == "breached", 0), (Ticket.sla_state == "warning", 1), else_=2)
_PRIORITY = case(
    (Ticket.priority == Priority.URGENT, 0), (Ticket.priority == Priority.HIGH, 1),
    (Ticket.priority == Priority.NORMAL, 2), else_=3,
)

#: The orders a supervisor may choose; staff always get ``urgency``. A breached ticket's due
#: time is when it fell overdue, so "soonest due" puts the most overdue first.
QUEUE_ORDERS: dict[str, tuple] = {
    "urgency": (_URGENCY, _NEXT_DUE.asc().nulls_last()),
    "due": (_NEXT_DUE.asc().nulls_last(),),
    "priority": (_PRIORITY, _URGENCY, _NEXT_DUE.asc().nulls_last()),
    "newest": (Ticket.created_at.desc(),),
    "oldest": (Ticket.created_at.asc(),),
}
DEFAULT_ORDER = "urgency"


def may_choose_order(user: User) -> bool:
    return user.role in (Role.SUPERVISOR, Role.ADMIN)


def queue(
    user: User,
    *,
    mine: bool,
    status: TicketStatus | str | None = None,
    priority: Priority | str | None = None,
    branch_id: int | None = None,
    at_risk: bool = False,
    breached: bool = False,
    limit: int = 100,
    narrowed: TicketFilter | None = None,
    order: str = DEFAULT_ORDER,
) -> list[Ticket]:
    """The staff queue: open tickets in scope (``mine``: assigned to the user or to nobody).

    ``order`` is a key of ``QUEUE_ORDERS``; the default puts breached tickets first (most
    overdue on top), then the ones at risk, then the rest, each soonest due first.

    ``status`` shows that status instead of the open ones (``"any"``: every status); ``at_risk``
    (warning) and ``breached`` filter by SLA state (both: either); ``narrowed``: the tickets
    behind a dashboard figure.
    """
    query = (
        select(Ticket)
        .options(joinedload(Ticket.branch), joinedload(Ticket.department), joinedload(Ticket.assignee))
        .order_by(*QUEUE_ORDERS.get(order, QUEUE_ORDERS[DEFAULT_ORDER]), Ticket.created_at, Ticket.id)
        .limit(limit)
    )
    query = _filtered(
        query, user, mine=mine, status=status, priority=priority, branch_id=branch_id, at_risk=at_risk,
        breached=breached, narrowed=narrowed,
    )
    return list(db.session.scalars(query))


ANY_STATUS = "any"


@dataclass(frozen=True)
class TicketFilter:
    """The tickets behind a dashboard or board figure: the dashboard's filter, a category, a department,
    the last N local days of each branch, an SLA target's outcome (``app.services.sla.attainment``)."""

    insight: InsightFilter
    #: A category value, or "none" for tickets without one.
    category: str | None = None
    department_id: int | None = None
    #: Opened in the last N calendar days of the ticket's branch (1 = today).
    local_days: int | None = None
    #: "first_response" or "resolution", with ``sla_outcome`` "met", "missed" or "running".
    sla_target: str | None = None
    sla_outcome: str | None = None

    @classmethod
    def from_args(cls, args) -> TicketFilter | None:
        if not any(args.get(name) for name in ARG_NAMES + FILTER_ARG_NAMES):
            return None
        category = args.get("category")
        department = args.get("department", "")
        days = str(args.get("local_days", "")).strip()
        days_value = int(days) if days.isascii() and days.isdigit() and len(days) <= 3 else 0
        target, outcome = args.get("sla_target"), args.get("sla_outcome")
        known = target in sla_attainment.TARGETS and outcome in sla_attainment.OUTCOMES
        return cls(
            insight=InsightFilter.from_args(args),
            category=category if category in {c.value for c in Category} | {"none"} else None,
            department_id=id_or_none(department),
            local_days=days_value if 0 < days_value <= sla_attainment.MAX_LOCAL_DAYS else None,
            sla_target=target if known else None,
            sla_outcome=outcome if known else None,
        )

    def apply(self, query, user: User, now: datetime | None = None):
        now = now or utcnow()
        query = self.insight.apply_to_tickets(query, user)
        if self.category == "none":
            query = query.where(Ticket.category.is_(None))
        elif self.category:
            query = query.where(Ticket.category == Category(self.category))
        if self.department_id is not None:
            query = query.where(Ticket.department_id == self.department_id)
        if self.local_days is not None:
            query = query.where(sla_attainment.local_days_since(self.local_days, now))
        if self.sla_target and self.sla_outcome:
            query = query.where(sla_attainment.outcome_is(self.sla_target, self.sla_outcome, now))
        return query


#: The query-string arguments of a ``TicketFilter`` beside the dashboard's.
FILTER_ARG_NAMES = ("category", "department", "local_days", "sla_target", "sla_outcome")


@dataclass(frozen=True)
class QueueCounts:
    open: int
    mine: int
    unassigned: int
    at_risk: int
    breached: int


def queue_counts(user: User) -> QueueCounts:
    """Open tickets in scope, for badges: all, the user's, nobody's, at risk, breached (one query)."""
    query = select(
        func.count(Ticket.id),
        func.sum(case((Ticket.assignee_id == user.id, 1), else_=0)),
        func.sum(case((Ticket.assignee_id.is_(None), 1), else_=0)),
        func.sum(case((Ticket.sla_state == "warning", 1), else_=0)),
        func.sum(case((Ticket.sla_state == "breached", 1), else_=0)),
    ).where(Ticket.status.in_(OPEN_STATUSES))
    row = db.session.execute(scope_tickets(query, user)).one()
    return QueueCounts(*(int(value or 0) for value in row))


# --- Who else has the ticket open -----------------------------------------------------------


def touch_viewer(ticket: Ticket, user: User, now: datetime | None = None) -> None:
    """Note that ``user`` has the ticket open now; the page calls it on load and while it stays open."""
    now = now or utcnow()
    insert = insert_on_conflict(TicketViewer).values(ticket_id=ticket.id, user_id=user.id, seen_at=now)
    db.session.execute(
        insert.on_conflict_do_update(
            index_elements=[TicketViewer.ticket_id, TicketViewer.user_id], set_={"seen_at": insert.excluded.seen_at}
        )
    )


def other_viewers(
    ticket: Ticket, user: User, now: datetime | None = None, within: timedelta = timedelta(seconds=60)
) -> list[User]:
    """Who else had the ticket open in the last minute: shown on the page, never a lock."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(User)
        .join(TicketViewer, TicketViewer.user_id == User.id)
        .where(TicketViewer.ticket_id == ticket.id, TicketViewer.user_id != user.id, TicketViewer.seen_at >= now - within)
        .order_by(User.display_name, User.username)
    ))
