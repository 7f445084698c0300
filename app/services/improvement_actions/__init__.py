"""Improvement actions (整改措施, PDCA): from a key issue, a category or a ticket to a checked effect.

The operations that change an action: create and edit it, move its status, link tickets. Who
manages which, the lists and the figures are in ``app.services.improvement_actions.queries``;
telling the customers in ``app.services.improvement_actions.replies``.

Rules the pages rely on (operations flush and leave the commit to the caller; a change a user
cannot have raises ``Refused`` with messages by form field):

- **Status.** plan → do → check → act, one step at a time, never back. Leaving plan needs an
  owner and a deadline. Reaching check is completion: ``completed_at`` is set and the effect is
  checked from ``check_due_on`` = completion day (head office's calendar) + 30 days; the check
  date may move later, never earlier. Act comes after the check (from ``check_due_on`` on).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.core.clock import utcnow
from app.extensions import db
from app.models import ActionStatus, Branch, Category, Fishbone, ImprovementAction, Role, Ticket, User
from app.permissions import scope_tickets
from app.services import audit
from app.services.improvement_actions.queries import (
    branch_choices,
    dimension_choices,
    home_today,
    MAX_TITLE,
    owner_choices,
    sees_every_branch,
    Source,
)

#: The effect is checked at least this long after the fix was done.
CHECK_AFTER = timedelta(days=30)
MAX_WHYS = 5
MAX_TEXT = 5000
#: Where each status goes next.
NEXT_STATUS = {ActionStatus.PLAN: ActionStatus.DO, ActionStatus.DO: ActionStatus.CHECK, ActionStatus.CHECK: ActionStatus.ACT}
FIELDS = (
    "title", "source_kind", "source_ref", "dimension_key", "category", "whys", "root_cause", "fishbone",
    "owner_id", "deadline", "resources", "expected_effect", "status", "completed_at", "check_due_on",
    "check_notes", "customers_told_at", "customers_asked_at", "branches", "tickets",
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
    if not branches and not sees_every_branch(actor):
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

