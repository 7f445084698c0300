"""Reading improvement actions (整改措施): who manages which, what the action's form offers, where
an action comes from, the list, and the figures: the completion rate and the before / after check.

The operations that change an action are in ``app.services.improvement_actions``; telling the
customers in ``app.services.improvement_actions.replies``.

- **Who.** Admins and head-office supervisors (all_branches) manage every action; a supervisor
  manages an action when every branch it covers is one of theirs (an action without branches is
  chain-wide: head office only); staff none. ``scope_actions`` is the one query rule.
- **Completion rate.** An action is due when its deadline falls in the range and not after
  today; it is completed when it reached check or act (on time is not required), the same rule
  as the dashboard's target row (``app.services.dashboard.actions_completion``).
- **Before / after.** The mean CSAT rating of the action's dimension (every CSAT question of
  that dimension key, counted responses only) at the action's branches (every branch when it is
  chain-wide), in the 30 days before completion and the 30 days after it (up to now), from the
  raw answers; under 10 responses a period has not enough data.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app import labels
from app.core import insight, scoring
from app.core.clock import utcnow
from app.core.ids import id_or_none
from app.extensions import db
from app.i18n import text
from app.models import (
    ActionStatus,
    Answer,
    Branch,
    Category,
    Dimension,
    ImprovementAction,
    Question,
    QuestionnaireVersion,
    QuestionType,
    Response,
    Role,
    Ticket,
    User,
)
from app.models.surveys import VersionStatus
from app.permissions import scope_tickets
from app.services.tickets import queries
from app.services.dashboard import TARGET_ACTIONS_COMPLETED
from app.services.insight.filters import counted_in_scores

#: Before / after compare this long on each side of completion.
COMPARE_WINDOW = timedelta(days=30)
#: Fewer responses than this in a period is not enough data.
MIN_RESPONSES = 10
#: An action's title is at most this long; a source's suggested title is cut to fit.
MAX_TITLE = 200
DONE_STATUSES = (ActionStatus.CHECK, ActionStatus.ACT)
OPEN_STATUSES = (ActionStatus.PLAN, ActionStatus.DO)
SOURCE_KINDS = ("key_issue", "category", "ticket")


def home_zone() -> str:
    return current_app.config["LOOPDESK_HOME_TIMEZONE"]


def home_today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZoneInfo(home_zone())).date()


# --- Who sees what ---------------------------------------------------------------------------


def sees_every_branch(user: User) -> bool:
    return user.role == Role.ADMIN or (user.role == Role.SUPERVISOR and user.all_branches)


def scope_actions(query: Select, user: User) -> Select:
    """Limit a query on ImprovementAction to the actions ``user`` manages (see the module's rules)."""
    if sees_every_branch(user):
        return query
    branch_ids = [b.id for b in user.branches]
    if user.role != Role.SUPERVISOR or not branch_ids:
        return query.where(false())
    return query.where(
        ImprovementAction.branches.any(),
        ~ImprovementAction.branches.any(Branch.id.not_in(branch_ids)),
    )


def action_for(user: User, action_id: int) -> ImprovementAction | None:
    """One action with its branches, owner and tickets, or None when missing or outside the user's scope."""
    query = (
        select(ImprovementAction)
        .where(ImprovementAction.id == action_id)
        .options(
            selectinload(ImprovementAction.branches),
            selectinload(ImprovementAction.tickets).joinedload(Ticket.branch),
            joinedload(ImprovementAction.owner),
        )
    )
    return db.session.scalar(scope_actions(query, user))


def actions_of_ticket(user: User, ticket: Ticket) -> list[ImprovementAction]:
    """The actions a ticket is linked to that ``user`` may open."""
    query = select(ImprovementAction).where(ImprovementAction.tickets.any(Ticket.id == ticket.id))
    return list(db.session.scalars(scope_actions(query, user).order_by(ImprovementAction.id)))


def branch_choices(user: User) -> list[Branch]:
    """The branches ``user`` may put an action on."""
    return queries.branches_in_scope(user)


def owner_choices(user: User, keep: User | None = None) -> list[User]:
    """Active people who may own an action of ``user``'s: admins, head office, anyone at one of their branches."""
    query = select(User).where(User.active.is_(True)).order_by(User.display_name, User.username)
    if not sees_every_branch(user):
        branch_ids = [b.id for b in user.branches] or [-1]
        query = query.where(or_(
            User.role == Role.ADMIN, User.all_branches.is_(True), User.branches.any(Branch.id.in_(branch_ids))
        ))
    users = list(db.session.scalars(query))
    if keep is not None and keep not in users:
        users.append(keep)
    return users


def dimension_choices() -> list[tuple[str, dict]]:
    """(key, name) of the dimensions of published questionnaires, the newest version's name for each key."""
    rows = db.session.execute(
        select(Dimension.key, Dimension.name)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == Dimension.version_id)
        .where(QuestionnaireVersion.status == VersionStatus.PUBLISHED)
        .order_by(Dimension.version_id.desc(), Dimension.position)
    ).all()
    names: dict[str, dict] = {}
    for key, name in rows:
        names.setdefault(key, dict(name or {}))
    return sorted(names.items())


# --- Lists and the completion rate -----------------------------------------------------------


@dataclass(frozen=True)
class ActionFilter:
    status: ActionStatus | None = None
    overdue: bool = False
    branch_id: int | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> ActionFilter:
        """Forgiving: a value that does not parse is dropped."""
        status = args.get("status")
        branch = args.get("branch") or ""
        return cls(
            status=ActionStatus(status) if status in set(ActionStatus) else None,
            overdue=args.get("overdue") in ("1", "on", "y", "true"),
            branch_id=id_or_none(branch),
        )


def is_overdue(action: ImprovementAction, today: date) -> bool:
    return action.status in OPEN_STATUSES and action.deadline is not None and action.deadline < today


def list_actions(user: User, f: ActionFilter, today: date, limit: int = 200) -> list[ImprovementAction]:
    """The user's actions, soonest deadline first (none last), newest first among equals."""
    query = (
        select(ImprovementAction)
        .options(selectinload(ImprovementAction.branches), joinedload(ImprovementAction.owner))
        .order_by(ImprovementAction.deadline.asc().nulls_last(), ImprovementAction.id.desc())
        .limit(limit)
    )
    if f.status is not None:
        query = query.where(ImprovementAction.status == f.status)
    if f.overdue:
        query = query.where(ImprovementAction.status.in_(OPEN_STATUSES), ImprovementAction.deadline < today)
    if f.branch_id is not None:
        query = query.where(ImprovementAction.branches.any(Branch.id == f.branch_id))
    return list(db.session.scalars(scope_actions(query, user)))


@dataclass(frozen=True)
class Completion:
    completed: int
    due: int
    #: A share (0.95), None when nothing was due.
    rate: float | None
    target: float = TARGET_ACTIONS_COMPLETED / 100

    def __iter__(self):  # (completed, due, rate), as the dashboard reads it
        return iter((self.completed, self.due, self.rate))

    @property
    def met(self) -> bool | None:
        return None if self.rate is None else self.rate >= self.target


def completion(user: User, first: date | None, last: date | None, today: date) -> Completion:
    """Actions in ``user``'s scope due in first…last (deadline not after today): how many reached check or act."""
    end = min(last, today) if last is not None else today
    query = select(
        func.count(ImprovementAction.id),
        func.count(ImprovementAction.id).filter(ImprovementAction.status.in_(DONE_STATUSES)),
    ).where(ImprovementAction.deadline <= end)
    if first is not None:
        query = query.where(ImprovementAction.deadline >= first)
    due, completed = db.session.execute(scope_actions(query, user)).one()
    return Completion(int(completed or 0), int(due or 0), insight.completion_rate(int(completed or 0), int(due or 0)))


# --- Where an action comes from --------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """What the new-action page starts from: the source and the values it suggests."""

    kind: str
    ref: str
    title: str
    #: What the source is, in a line: the key issue's question and option, the category, the ticket's subject.
    summary: str
    category: str | None
    dimension_key: str | None
    branch_ids: tuple[int, ...]
    ticket: Ticket | None = None


def _category_of(dimension_key: str | None) -> str | None:
    return dimension_key if dimension_key in set(Category) else None


def _dimension_of(category: str | None) -> str | None:
    return category if category in {key for key, _name in dimension_choices()} else None


def resolve_source(user: User, kind: str | None, ref: str | None, branch_ids: Sequence[int] = ()) -> Source | None:
    """The source named in the URL, or None when it does not exist or is outside the user's scope.

    ``ticket``: a ticket id; ``key_issue``: ``question_key:option``; ``category``: a ticket category.
    ``branch_ids`` (a dashboard's selection) suggest the branches of a key issue or a category;
    without them a supervisor's own branches are suggested, head office's action is chain-wide.
    """
    ref = (ref or "").strip()[:120]
    choosable = [b.id for b in branch_choices(user)]
    suggested = tuple(i for i in branch_ids if i in choosable)
    if not suggested and not sees_every_branch(user):
        suggested = tuple(choosable)
    if kind == "ticket":
        ticket_id = id_or_none(ref)
        if ticket_id is None:
            return None
        ticket = db.session.scalar(scope_tickets(select(Ticket).where(Ticket.id == ticket_id), user))
        if ticket is None or ticket.branch_id not in choosable:
            return None
        category = str(ticket.category) if ticket.category else None
        title = labels.ticket_subject(ticket) or ticket.reference_code
        return Source(kind, ref, title, f"{ticket.reference_code} · {title}", category, _dimension_of(category),
                      (ticket.branch_id,), ticket)
    if kind == "category":
        if ref not in set(Category):
            return None
        title = _("%(category)s problems", category=labels.CATEGORY_LABELS[ref])
        return Source(kind, ref, title, str(labels.CATEGORY_LABELS[ref]), ref, _dimension_of(ref), suggested)
    if kind == "key_issue":
        question_key, _sep, option = ref.partition(":")
        found = _key_issue(question_key, option)
        if found is None:
            return None
        question, label = found
        dimension_key = question.dimension.key if question.dimension else None
        title = (text(label) or option)[:MAX_TITLE]
        summary = f"{text(question.prompt)} {title}"
        return Source(kind, ref, title, summary, _category_of(dimension_key), dimension_key, suggested)
    return None


def source_summary(action: ImprovementAction) -> str:
    """What the action came from, in a line (the raw reference when its source is gone)."""
    if action.source_kind == "category" and action.source_ref in labels.CATEGORY_LABELS:
        return str(labels.CATEGORY_LABELS[action.source_ref])
    if action.source_kind == "key_issue":
        question_key, _sep, option = action.source_ref.partition(":")
        found = _key_issue(question_key, option)
        if found is not None:
            return f"{text(found[0].prompt)} {text(found[1]) or option}"
    if action.source_kind == "ticket" and id_or_none(action.source_ref) is not None:
        ticket = db.session.get(Ticket, id_or_none(action.source_ref))
        if ticket is not None:
            return f"{ticket.reference_code} · {labels.ticket_subject(ticket)}"
    return action.source_ref


def _key_issue(question_key: str, option: str) -> tuple[Question, dict] | None:
    """The newest choice question with this key that offers this option, and the option's label."""
    if not question_key or not option:
        return None
    questions = db.session.scalars(
        select(Question)
        .where(Question.key == question_key, Question.type.in_((QuestionType.SINGLE, QuestionType.MULTIPLE)))
        .options(joinedload(Question.dimension))
        .order_by(Question.version_id.desc())
    )
    for question in questions:
        for choice in question.options or []:
            if str(choice.get("value")) == option:
                return question, dict(choice.get("label") or {})


# --- Before and after ------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    mean: float | None
    responses: int

    @property
    def enough(self) -> bool:
        return self.responses >= MIN_RESPONSES and self.mean is not None


@dataclass(frozen=True)
class BeforeAfter:
    dimension_key: str
    before: Period
    #: None until the fix is done (the page then shows the baseline only).
    after: Period | None
    #: False while the check is not due yet: a preview.
    final: bool

    @property
    def difference(self) -> float | None:
        if self.after is None or not (self.before.enough and self.after.enough):
            return None
        return self.after.mean - self.before.mean


def before_after(action: ImprovementAction, now: datetime | None = None) -> BeforeAfter | None:
    """The dimension's mean rating at the action's branches before and after completion (None without a dimension)."""
    if not action.dimension_key:
        return None
    now = now or utcnow()
    branch_ids = [b.id for b in action.branches]
    if action.completed_at is None:
        return BeforeAfter(action.dimension_key, _period(action.dimension_key, branch_ids, now - COMPARE_WINDOW, now),
                           None, False)
    split = action.completed_at
    before = _period(action.dimension_key, branch_ids, split - COMPARE_WINDOW, split)
    after = _period(action.dimension_key, branch_ids, split, max(split, min(split + COMPARE_WINDOW, now)))
    final = action.check_due_on is not None and home_today(now) >= action.check_due_on
    return BeforeAfter(action.dimension_key, before, after, final)


def _period(dimension_key: str, branch_ids: list[int], start: datetime, end: datetime) -> Period:
    """Counted responses submitted in [start, end): their CSAT ratings of the dimension, pooled."""
    query = (
        select(Answer.response_id, Answer.value_int)
        .join(Response, Response.id == Answer.response_id)
        .join(Question, Question.id == Answer.question_id)
        .join(Dimension, Dimension.id == Question.dimension_id)
        .where(
            Question.type == QuestionType.CSAT,
            Dimension.key == dimension_key,
            Answer.value_int.is_not(None),
            Response.submitted_at >= start,
            Response.submitted_at < end,
            counted_in_scores(),
        )
    )
    if branch_ids:
        query = query.where(Response.branch_id.in_(branch_ids))
    rows = db.session.execute(query).all()
    ratings = [value for _response, value in rows if 1 <= value <= 5]
    return Period(start, end, scoring.mean_rating(ratings), len({response for response, _value in rows}))
