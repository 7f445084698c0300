"""Improvement actions (整改措施, PDCA): from a key issue, a category or a ticket to a checked effect.

Rules the pages rely on (operations flush and leave the commit to the caller; a change a user
cannot have raises ``Refused`` with messages by form field):

- **Who.** Admins and head-office supervisors (all_branches) manage every action; a supervisor
  manages an action when every branch it covers is one of theirs (an action without branches is
  chain-wide: head office only); staff none. ``scope_actions`` is the one query rule.
- **Status.** plan → do → check → act, one step at a time, never back. Leaving plan needs an
  owner and a deadline. Reaching check is completion: ``completed_at`` is set and the effect is
  checked from ``check_due_on`` = completion day (head office's calendar) + 30 days; the check
  date may move later, never earlier. Act comes after the check (from ``check_due_on`` on).
- **Completion rate.** An action is due when its deadline falls in the range and not after
  today; it is completed when it reached check or act (on time is not required), the same rule
  as the dashboard's target row (``app.services.dashboard.actions_completion``).
- **Before / after.** The mean CSAT rating of the action's dimension (every CSAT question of
  that dimension key, counted responses only) at the action's branches (every branch when it is
  chain-wide), in the 30 days before completion and the 30 days after it (up to now), from the
  raw answers; under 10 responses a period has not enough data.
- **Telling customers.** Once the fix is done (check or act), one reply per linked ticket whose
  customer can follow it (a phone or walk-in ticket, or a survey ticket with consented contact
  details), in the ticket's language, through the tickets' own reply operation, so it shows on
  the customer's status page; an e-mail too when they left a consented address. Once per
  action: ``customers_told_at`` is claimed with a conditional UPDATE, so a second click or a
  second worker tells nobody twice.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale, gettext as _, lazy_gettext as _l
from sqlalchemy import Select, false, func, or_, select, update
from sqlalchemy.orm import joinedload, selectinload

from app import labels
from app.core import insight, scoring
from app.core.clock import utcnow
from app.extensions import db
from app.i18n import text
from app.models import (
    ActionStatus,
    Answer,
    Branch,
    Category,
    Dimension,
    Fishbone,
    ImprovementAction,
    OutboxEmail,
    Question,
    QuestionnaireVersion,
    QuestionType,
    Response,
    Role,
    Ticket,
    TicketSource,
    User,
)
from app.models.surveys import VersionStatus
from app.permissions import scope_tickets
from app.services import audit, customer_status, ticket_queries
from app.services import tickets as ticket_service
from app.services.dashboard import TARGET_ACTIONS_COMPLETED
from app.services.insight_filters import counted_in_scores

#: The effect is checked at least this long after the fix was done.
CHECK_AFTER = timedelta(days=30)
#: Before / after compare this long on each side of completion.
COMPARE_WINDOW = timedelta(days=30)
#: Fewer responses than this in a period is not enough data.
MIN_RESPONSES = 10
MAX_WHYS = 5
MAX_TITLE, MAX_TEXT = 200, 5000
#: Where each status goes next.
NEXT_STATUS = {ActionStatus.PLAN: ActionStatus.DO, ActionStatus.DO: ActionStatus.CHECK, ActionStatus.CHECK: ActionStatus.ACT}
DONE_STATUSES = (ActionStatus.CHECK, ActionStatus.ACT)
OPEN_STATUSES = (ActionStatus.PLAN, ActionStatus.DO)
SOURCE_KINDS = ("key_issue", "category", "ticket")
#: The languages a customer reply is written in (a ticket's language, else the first).
REPLY_LANGUAGES = ("zh_Hans", "en")
FIELDS = (
    "title", "source_kind", "source_ref", "dimension_key", "category", "whys", "root_cause", "fishbone",
    "owner_id", "deadline", "resources", "expected_effect", "status", "completed_at", "check_due_on",
    "check_notes", "customers_told_at", "branches", "tickets",
)
GENERAL = "general"

STATUS_LABELS = {
    ActionStatus.PLAN: _l("Plan"),
    ActionStatus.DO: _l("Do"),
    ActionStatus.CHECK: _l("Check"),
    ActionStatus.ACT: _l("Act"),
}
#: What the button that moves an action into a status says.
STATUS_ACTIONS = {
    ActionStatus.DO: _l("Start the fix (do)"),
    ActionStatus.CHECK: _l("Fix done: check the effect"),
    ActionStatus.ACT: _l("Checked: act on the result"),
}
FISHBONE_LABELS = {
    Fishbone.PEOPLE: _l("People (人)"),
    Fishbone.MACHINE: _l("Machine (机)"),
    Fishbone.MATERIAL: _l("Material (料)"),
    Fishbone.METHOD: _l("Method (法)"),
    Fishbone.ENVIRONMENT: _l("Environment (环)"),
}
SOURCE_LABELS = {"key_issue": _l("Key issue"), "category": _l("Category"), "ticket": _l("Ticket")}


class Refused(Exception):
    """A change that breaks a rule; ``problems`` are messages by form field (``general``: the page)."""

    def __init__(self, problems: Mapping[str, object]) -> None:
        super().__init__("; ".join(str(message) for message in problems.values()))
        self.problems = dict(problems)


def _refuse(field: str, message: object) -> Refused:
    return Refused({field: message})


def home_zone() -> str:
    return current_app.config["LOOPDESK_HOME_TIMEZONE"]


def home_today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZoneInfo(home_zone())).date()


# --- Who sees what ---------------------------------------------------------------------------


def _sees_every_branch(user: User) -> bool:
    return user.role == Role.ADMIN or (user.role == Role.SUPERVISOR and user.all_branches)


def scope_actions(query: Select, user: User) -> Select:
    """Limit a query on ImprovementAction to the actions ``user`` manages (see the module's rules)."""
    if _sees_every_branch(user):
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
    return ticket_queries.branches_in_scope(user)


def owner_choices(user: User, keep: User | None = None) -> list[User]:
    """Active people who may own an action of ``user``'s: admins, head office, anyone at one of their branches."""
    query = select(User).where(User.active.is_(True)).order_by(User.display_name, User.username)
    if not _sees_every_branch(user):
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
            branch_id=int(branch) if branch.isdigit() and len(branch) < 10 else None,
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
    if not suggested and not _sees_every_branch(user):
        suggested = tuple(choosable)
    if kind == "ticket":
        if not ref.isdigit() or len(ref) > 12:
            return None
        ticket = db.session.scalar(scope_tickets(select(Ticket).where(Ticket.id == int(ref)), user))
        if ticket is None or ticket.branch_id not in choosable:
            return None
        category = str(ticket.category) if ticket.category else None
        title = ticket.subject or ticket.reference_code
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
    if action.source_kind == "ticket" and action.source_ref.isdigit():
        ticket = db.session.get(Ticket, int(action.source_ref))
        if ticket is not None:
            return f"{ticket.reference_code} · {ticket.subject}"
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
    return None


# --- Creating and editing --------------------------------------------------------------------


@dataclass(frozen=True)
class ActionValues:
    """What the action's form edits."""

    title: str
    category: str | None = None
    dimension_key: str | None = None
    whys: tuple[str, ...] = ()
    root_cause: str = ""
    fishbone: str | None = None
    owner_id: int | None = None
    deadline: date | None = None
    resources: str = ""
    expected_effect: str = ""
    branch_ids: tuple[int, ...] = ()
    check_due_on: date | None = None
    check_notes: str = ""


def _checked(
    actor: User, values: ActionValues, action: ImprovementAction | None, today: date
) -> tuple[list[Branch], User | None]:
    """The values' branches and owner when every rule holds; else ``Refused`` with all the problems."""
    problems: dict[str, object] = {}
    if not values.title.strip():
        problems["title"] = _l("Give the action a title.")
    elif len(values.title.strip()) > MAX_TITLE:
        problems["title"] = _l("That text is too long.")
    if values.category is not None and values.category not in set(Category):
        problems["category"] = _l("Choose a category.")
    if values.dimension_key is not None and values.dimension_key not in {k for k, _n in dimension_choices()}:
        problems["dimension_key"] = _l("Choose one of the questionnaires' dimensions.")
    if values.fishbone is not None and values.fishbone not in set(Fishbone):
        problems["fishbone"] = _l("Choose where the root cause lies.")
    if len(values.whys) > MAX_WHYS:
        problems["whys"] = _l("At most five whys.")
    for name, value in (("root_cause", values.root_cause), ("resources", values.resources),
                        ("expected_effect", values.expected_effect), ("check_notes", values.check_notes),
                        *((f"why_{i}", why) for i, why in enumerate(values.whys, start=1))):
        if len(value) > MAX_TEXT:
            problems[name] = _l("That text is too long.")
    branches = _chosen_branches(actor, values.branch_ids, action, problems)
    owner = _owner(actor, values.owner_id, branches, action, problems)
    if values.deadline is not None and values.deadline < today and (action is None or values.deadline != action.deadline):
        problems["deadline"] = _l("The deadline cannot be in the past.")
    if action is not None and values.check_due_on != action.check_due_on:
        if action.completed_at is None:
            problems["check_due_on"] = _l("The check date is set when the fix is done.")
        elif values.check_due_on is None or values.check_due_on < earliest_check(action):
            problems["check_due_on"] = _l(
                "Check the effect at least 30 days after the fix: on %(date)s or later.",
                date=earliest_check(action).isoformat(),
            )
    if problems:
        raise Refused(problems)
    return branches, owner


def _chosen_branches(
    actor: User, branch_ids: Sequence[int], action: ImprovementAction | None, problems: dict[str, object]
) -> list[Branch]:
    """The ticked branches of the actor's scope, plus those of the action the actor cannot tick (kept)."""
    choosable = {b.id: b for b in branch_choices(actor)}
    if any(i not in choosable for i in branch_ids):
        problems["branch_ids"] = _l("Choose among your branches.")
        return []
    kept = [b for b in (action.branches if action else []) if b.id not in choosable]
    branches = kept + [choosable[i] for i in dict.fromkeys(branch_ids)]
    if not branches and not _sees_every_branch(actor):
        problems["branch_ids"] = _l("Choose at least one branch.")
    return sorted(branches, key=lambda b: b.code)


def _owner(
    actor: User, owner_id: int | None, branches: list[Branch], action: ImprovementAction | None,
    problems: dict[str, object],
) -> User | None:
    if owner_id is None:
        return None
    keep = action.owner if action is not None else None
    owner = next((u for u in owner_choices(actor, keep) if u.id == owner_id), None)
    if owner is None:
        problems["owner_id"] = _l("Choose someone who works at your branches.")
        return None
    works_there = (
        owner.role == Role.ADMIN or owner.all_branches or not branches
        or {b.id for b in owner.branches} & {b.id for b in branches}
    )
    if not works_there and owner is not keep:
        problems["owner_id"] = _l(
            "%(name)s does not work at any of the chosen branches.", name=owner.display_name or owner.username
        )
    return owner


def _apply(action: ImprovementAction, values: ActionValues, branches: list[Branch], owner: User | None) -> None:
    action.title = values.title.strip()
    action.category = values.category
    action.dimension_key = values.dimension_key
    action.whys = [why.strip() for why in values.whys if why.strip()]
    action.root_cause = values.root_cause.strip()
    action.fishbone = Fishbone(values.fishbone) if values.fishbone else None
    action.owner = owner
    action.deadline = values.deadline
    action.resources = values.resources.strip()
    action.expected_effect = values.expected_effect.strip()
    action.branches = branches
    action.check_notes = values.check_notes.strip()
    if action.completed_at is not None and values.check_due_on is not None:
        action.check_due_on = values.check_due_on


def _record(actor: User, action: ImprovementAction, before: Mapping[str, object] | None) -> None:
    after = audit.values(action, FIELDS)
    if before is None:
        audit.record(actor, "create", action, after=after, label=action.title)
    else:
        audit.record(actor, "update", action, before=before, after=after, label=action.title)


def create_action(actor: User, source: Source, values: ActionValues, now: datetime | None = None) -> ImprovementAction:
    """A new action in plan, from ``source`` (a ticket source is linked to the action)."""
    now = now or utcnow()
    branches, owner = _checked(actor, values, None, home_today(now))
    action = ImprovementAction(
        source_kind=source.kind, source_ref=source.ref, status=ActionStatus.PLAN,
        created_by=actor, created_at=now, updated_at=now,
    )
    _apply(action, values, branches, owner)
    action.tickets = [source.ticket] if source.ticket is not None else []
    db.session.add(action)
    db.session.flush()
    _record(actor, action, None)
    return action


def update_action(actor: User, action: ImprovementAction, values: ActionValues, now: datetime | None = None) -> bool:
    """Save the form's values; True when something changed."""
    now = now or utcnow()
    before = audit.values(action, FIELDS)
    branches, owner = _checked(actor, values, action, home_today(now))
    _apply(action, values, branches, owner)
    return _changed(actor, action, before, now)


def _changed(actor: User, action: ImprovementAction, before: Mapping[str, object], now: datetime) -> bool:
    if audit.values(action, FIELDS) == before:
        return False
    action.updated_at = now
    _record(actor, action, before)
    db.session.flush()
    return True


# --- Status ----------------------------------------------------------------------------------


def earliest_check(action: ImprovementAction) -> date:
    """The first day the effect may be checked: 30 days after the day the fix was done."""
    assert action.completed_at is not None
    return home_today(action.completed_at) + CHECK_AFTER


def next_status(action: ImprovementAction) -> ActionStatus | None:
    return NEXT_STATUS.get(action.status)


def advance(actor: User, action: ImprovementAction, status: str, now: datetime | None = None) -> None:
    """Move the action one step along plan → do → check → act."""
    now = now or utcnow()
    wanted = NEXT_STATUS.get(action.status)
    if wanted is None or status != wanted.value:
        raise _refuse(GENERAL, _l("This action cannot move to that status now. Reload the page to see where it is."))
    if wanted == ActionStatus.DO:
        missing = {}
        if action.owner_id is None:
            missing["owner_id"] = _l("Choose an owner before the fix starts.")
        if action.deadline is None:
            missing["deadline"] = _l("Set a deadline before the fix starts.")
        if missing:
            raise Refused(missing)
    if wanted == ActionStatus.ACT and action.check_due_on is not None and home_today(now) < action.check_due_on:
        raise _refuse(GENERAL, _l(
            "Check the effect first: the check is due on %(date)s.", date=action.check_due_on.isoformat()
        ))
    before = audit.values(action, FIELDS)
    action.status = wanted
    if wanted == ActionStatus.CHECK:
        action.completed_at = now
        action.check_due_on = earliest_check(action)
    _changed(actor, action, before, now)


# --- Linked tickets --------------------------------------------------------------------------


def link_ticket(actor: User, action: ImprovementAction, reference_code: str, now: datetime | None = None) -> Ticket:
    """Link the ticket with this reference code; only tickets in the actor's scope are found."""
    code = (reference_code or "").strip().upper()
    ticket = None
    if code:
        ticket = db.session.scalar(scope_tickets(select(Ticket).where(Ticket.reference_code == code[:16]), actor))
    if ticket is None:
        raise _refuse("reference_code", _l("No ticket of yours has that reference code."))
    if ticket in action.tickets:
        raise _refuse("reference_code", _l("That ticket is linked already."))
    before = audit.values(action, FIELDS)
    action.tickets.append(ticket)
    _changed(actor, action, before, now or utcnow())
    return ticket


def unlink_ticket(actor: User, action: ImprovementAction, ticket_id: int, now: datetime | None = None) -> bool:
    ticket = next((t for t in action.tickets if t.id == ticket_id), None)
    if ticket is None:
        return False
    before = audit.values(action, FIELDS)
    action.tickets.remove(ticket)
    return _changed(actor, action, before, now or utcnow())


# --- Telling the customers -------------------------------------------------------------------


def customer_can_follow(ticket: Ticket) -> bool:
    """A customer who can read the reply: they gave the complaint in person or left contact details."""
    if ticket.source != TicketSource.SURVEY:
        return True
    return bool(ticket.contact_consent and (ticket.contact_phone or ticket.contact_email))


def reply_language(ticket: Ticket) -> str:
    return ticket.language if ticket.language in REPLY_LANGUAGES else REPLY_LANGUAGES[0]


def default_messages(action: ImprovementAction) -> dict[str, str]:
    """The suggested reply in each language (the user edits it before sending)."""
    messages = {}
    for language in REPLY_LANGUAGES:
        with force_locale(language):
            messages[language] = _(
                "Thank you for your feedback. Following it we made an improvement: %(title)s. "
                "It is in place now; we hope you notice the difference on your next visit.",
                title=action.title,
            )
    return messages


@dataclass(frozen=True)
class Told:
    tickets: list[Ticket]
    emails: list[OutboxEmail]


def languages_needed(action: ImprovementAction) -> list[str]:
    needed = {reply_language(t) for t in action.tickets if customer_can_follow(t)}
    return [language for language in REPLY_LANGUAGES if language in needed]


def tell_customers(
    actor: User, action: ImprovementAction, messages: Mapping[str, str], now: datetime | None = None
) -> Told:
    """One reply per linked ticket whose customer can follow it, and an e-mail where they left an address.

    Refused before anything is written when the fix is not done, the customers were told already,
    a needed text is empty, or the actor may not reply on one of the tickets.
    """
    now = now or utcnow()
    if action.status not in DONE_STATUSES:
        raise _refuse(GENERAL, _l("Tell the customers once the fix is done (check or act)."))
    if action.customers_told_at is not None:
        raise _refuse(GENERAL, _l("The customers were told already."))
    tickets = [t for t in action.tickets if customer_can_follow(t)]
    if not tickets:
        raise _refuse(GENERAL, _l("No linked ticket has a customer who can be told."))
    problems: dict[str, object] = {}
    bodies = {}
    for language in languages_needed(action):
        body = (messages.get(language) or "").strip()
        if not body:
            problems[f"message_{language}"] = _l("Write the message first.")
        elif len(body) > ticket_service.MAX_BODY:
            problems[f"message_{language}"] = _l("That text is too long.")
        bodies[language] = body
    not_yours = [t.reference_code for t in tickets if not ticket_queries.can_work(actor, t.branch_id, t.department_id)]
    if not_yours:
        problems[GENERAL] = _l(
            "You may not reply on %(codes)s; ask someone who works on them, or unlink them.",
            codes=", ".join(not_yours),
        )
    if problems:
        raise Refused(problems)
    claimed = db.session.execute(
        update(ImprovementAction)
        .where(ImprovementAction.id == action.id, ImprovementAction.customers_told_at.is_(None))
        .values(customers_told_at=now, updated_at=now)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if not claimed:
        raise _refuse(GENERAL, _l("The customers were told already."))
    emails = []
    for ticket in tickets:
        language = reply_language(ticket)
        ticket_service.reply(ticket, actor, bodies[language], ticket_service.page_version(ticket), now)
        if ticket.contact_consent and ticket.contact_email:
            emails.append(_email(ticket, bodies[language], language, now))
    # A reply that met a concurrent write rolls the session back: then the claim is gone too.
    if db.session.scalar(select(ImprovementAction.customers_told_at).where(ImprovementAction.id == action.id)) is None:
        raise _refuse(GENERAL, _l("A ticket changed at the same moment; nothing was sent. Try again."))
    audit.record(actor, "update", action, before={"customers_told_at": None},
                 after={"customers_told_at": now}, label=action.title)
    db.session.flush()
    return Told(tickets, emails)


def _email(ticket: Ticket, body: str, language: str, now: datetime) -> OutboxEmail:
    """The reply by e-mail, with the link to the status page (sent after the commit, like every e-mail)."""
    with force_locale(language):
        subject = _("Your feedback %(code)s: what we changed", code=ticket.reference_code)
    link = customer_status.status_link(ticket, current_app.config["LOOPDESK_BASE_URL"])
    email = OutboxEmail(to=ticket.contact_email, subject=subject[:255], body=f"{body}\n\n{link}", created_at=now)
    db.session.add(email)
    return email


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
