"""What admins change about the SLA: policy targets, the escalation ladder, which statuses pause the clock.

Each operation checks the change, applies it, writes the audit entry and flushes; the view
commits and then enqueues the refresh of the open tickets' due times (``app.jobs.sla``).
A change that cannot be made raises ``SettingError`` with a message per field, before
anything is changed.

Decisions:

- **Targets** are whole minutes, more than zero and at most ``MAX_TARGET_MINUTES`` (90 days);
  the resolution target may not be shorter than the first-response target (resolving a
  ticket counts as its first response, so a shorter resolution target would make the first
  one meaningless). The warning comes at 1–99 % of a target: at 100 % it would be the breach.
- **A rung keeps its id when edited**, so a ticket it already fired for (its
  ``EscalationFiring`` rows name the rule) is not escalated again by the edited rung; other
  tickets follow the new timing. The page says so.
- **A removed rung is deactivated, never deleted**: firing rows point at it, and a sweep that
  read the ladder just before may still insert some. An inactive rung no longer fires nor
  counts for any ticket's next deadline (``SlaSettings`` skips it), and it is not shown.
- **A duplicate rung** is one that does what an active rung of the same policy already does
  at the same moment (same clock, trigger, offset, receivers, action and department): its
  receivers would be told twice. The level is only a name and may repeat.
- Offsets are not negative: a rung before the deadline is a "warning" rung.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.core import sla
from app.extensions import db
from app.models import Department, EscalationRule, SlaPolicy, StatusSetting, Ticket, User
from app.models.tickets import OPEN_STATUSES
from app.services import audit
from app.services.sla import clocks, policies as sla_policies

MAX_TARGET_MINUTES = 90 * 24 * 60
MAX_OFFSET_MINUTES = 30 * 24 * 60
MAX_LEVEL = 9
CLOCKS = ("first_response", "resolution")
TRIGGERS = ("warning", "due")
TARGETS = ("assignee", "supervisors", "admins")
ACTIONS = ("notify", "raise_priority", "move_queue")
POLICY_FIELDS = ("first_response_minutes", "resolution_minutes", "business_hours", "warning_percent")
RUNG_FIELDS = ("level", "clock", "trigger", "offset_minutes", "target", "action", "move_to_department_id")


class SettingError(ValueError):
    """A change that cannot be made; ``errors`` maps each field to the message to show at it."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(str(message) for message in self.errors.values()))


# --- Reading ---------------------------------------------------------------------


def policies() -> list[SlaPolicy]:
    """Every priority's policy, urgent first, with its ladder (the defaults are added when missing)."""
    sla_policies.ensure_default_policies()
    rows = db.session.scalars(
        select(SlaPolicy).options(
            selectinload(SlaPolicy.escalations).selectinload(EscalationRule.move_to_department)
        )
    ).all()
    order = {priority: index for index, priority in enumerate(sla.PRIORITIES)}
    return sorted(rows, key=lambda row: order.get(row.priority, len(order)))


def ladder(policy: SlaPolicy) -> list[EscalationRule]:
    """The policy's active rungs in the order they come: by clock, level, then moment."""
    return sorted(
        (rule for rule in policy.escalations if rule.active),
        key=lambda rule: (CLOCKS.index(rule.clock) if rule.clock in CLOCKS else len(CLOCKS), rule.level,
                          rule.trigger != "warning", rule.offset_minutes, rule.id),
    )


def active_rung(rule_id: int) -> EscalationRule | None:
    rule = db.session.get(EscalationRule, rule_id)
    return rule if rule is not None and rule.active else None


def open_tickets_by_priority() -> dict[str, int]:
    rows = db.session.execute(
        select(Ticket.priority, func.count()).where(Ticket.status.in_(OPEN_STATUSES)).group_by(Ticket.priority)
    )
    return {str(priority): count for priority, count in rows}


def open_tickets(priority: str | None = None) -> int:
    """How many open tickets a change of this priority's policy (or of every policy) moves."""
    query = select(func.count()).select_from(Ticket).where(Ticket.status.in_(OPEN_STATUSES))
    if priority is not None:
        query = query.where(Ticket.priority == priority)
    return db.session.scalar(query) or 0


def active_departments() -> list[Department]:
    return list(db.session.scalars(select(Department).where(Department.active.is_(True)).order_by(Department.name)))


@dataclass(frozen=True)
class StatusRow:
    status: str
    pauses_clock: bool


def pausing_settings() -> list[StatusRow]:
    """The open statuses (the only ones with a running clock) and whether each pauses it."""
    sla_policies.ensure_default_policies()
    stored = dict(db.session.execute(select(StatusSetting.status, StatusSetting.pauses_clock)).all())
    return [StatusRow(status.value, bool(stored.get(status.value, False))) for status in OPEN_STATUSES]


# --- Policies --------------------------------------------------------------------


def check_policy(first_response_minutes: int, resolution_minutes: int, warning_percent: int) -> None:
    """Raise ``SettingError`` for every target an admin may not set."""
    errors: dict[str, str] = {}
    for name, minutes in (("first_response_minutes", first_response_minutes), ("resolution_minutes", resolution_minutes)):
        if minutes <= 0:
            errors[name] = _l("A target must be more than zero.")
        elif minutes > MAX_TARGET_MINUTES:
            errors[name] = _l("A target can be at most %(days)d days.", days=MAX_TARGET_MINUTES // (24 * 60))
    if not errors and resolution_minutes < first_response_minutes:
        errors["resolution_minutes"] = _l(
            "The resolution target cannot be shorter than the first response target: resolving a ticket answers it too."
        )
    if not 1 <= warning_percent <= 99:
        errors["warning_percent"] = _l(
            "Warn at %(low)d to %(high)d %% of the time (%(breach)d %% would be the breach itself).",
            low=1, high=99, breach=100,
        )
    if errors:
        raise SettingError(errors)


def update_policy(
    actor: User,
    policy: SlaPolicy,
    *,
    first_response_minutes: int,
    resolution_minutes: int,
    business_hours: bool,
    warning_percent: int,
) -> bool:
    """Change a policy's targets (the open tickets are left to ``refresh_policy_tickets``). Returns whether it changed."""
    check_policy(first_response_minutes, resolution_minutes, warning_percent)
    before = audit.values(policy, POLICY_FIELDS)
    changes = {
        "first_response_minutes": first_response_minutes,
        "resolution_minutes": resolution_minutes,
        "business_hours": business_hours,
        "warning_percent": warning_percent,
    }
    if all(before[name] == value for name, value in changes.items()):
        return False
    try:
        clocks.update_policy(policy, refresh=False, **changes)
    except ValueError as error:  # the core's own check: never expected after check_policy
        raise SettingError({"first_response_minutes": str(error)}) from error
    audit.record(actor, "update", policy, before=before, after=audit.values(policy, POLICY_FIELDS))
    db.session.flush()
    return True


# --- The escalation ladder -----------------------------------------------------------


def check_rung(policy: SlaPolicy, values: Mapping[str, object], editing: EscalationRule | None = None) -> dict:
    """The rung's values as stored (no department unless it moves the queue); ``SettingError`` if refused."""
    errors: dict[str, str] = {}
    level, offset = int(values["level"]), int(values["offset_minutes"])
    clock, trigger, target, action = (str(values[name]) for name in ("clock", "trigger", "target", "action"))
    department_id = values.get("move_to_department_id") if action == "move_queue" else None
    if not 0 <= level <= MAX_LEVEL:
        errors["level"] = _l("Choose a level from 0 to %(most)d.", most=MAX_LEVEL)
    for name, value, allowed in (("clock", clock, CLOCKS), ("trigger", trigger, TRIGGERS),
                                 ("target", target, TARGETS), ("action", action, ACTIONS)):
        if value not in allowed:
            errors[name] = _l("Choose one of the listed options.")
    if offset < 0:
        errors["offset_minutes"] = _l("The time after the moment cannot be negative: use a warning rung to act before the deadline.")
    elif offset > MAX_OFFSET_MINUTES:
        errors["offset_minutes"] = _l("At most %(days)d days after the moment.", days=MAX_OFFSET_MINUTES // (24 * 60))
    if action == "raise_priority" and policy.priority == sla.PRIORITIES[0]:
        errors["action"] = _l("Urgent is already the highest priority: this rung could not raise it.")
    if action == "move_queue":
        department = db.session.get(Department, int(department_id)) if department_id else None
        if department is None:
            errors["move_to_department_id"] = _l("Choose the department the ticket moves to.")
        elif not department.active:
            errors["move_to_department_id"] = _l("%(name)s is no longer active: choose another department.",
                                                 name=department.name)
    cleaned = {"level": level, "clock": clock, "trigger": trigger, "offset_minutes": offset, "target": target,
               "action": action, "move_to_department_id": int(department_id) if department_id else None}
    if not errors:
        same = next((rule for rule in ladder(policy) if rule is not editing and all(
            getattr(rule, name) == cleaned[name] for name in RUNG_FIELDS if name != "level")), None)
        if same is not None:
            errors["offset_minutes"] = _l(
                "The level %(level)d rung already does exactly this at the same moment: change the moment, "
                "who is told or what happens.", level=same.level)
    if errors:
        raise SettingError(errors)
    return cleaned


def _rung_label(policy: SlaPolicy, rule: EscalationRule) -> str:
    return f"{policy.priority} · {rule.clock} · level {rule.level}"


def add_rung(actor: User, policy: SlaPolicy, **values: object) -> EscalationRule:
    cleaned = check_rung(policy, values)
    rule = EscalationRule(policy=policy, **cleaned)
    db.session.add(rule)
    db.session.flush()
    audit.record(actor, "create", rule, after=audit.values(rule, ("policy_id", *RUNG_FIELDS)),
                 label=_rung_label(policy, rule))
    db.session.flush()
    return rule


def update_rung(actor: User, rule: EscalationRule, **values: object) -> bool:
    """Change a rung in place (tickets it fired for are not escalated by it again). Returns whether it changed."""
    cleaned = check_rung(rule.policy, values, editing=rule)
    before = audit.values(rule, RUNG_FIELDS)
    for name, value in cleaned.items():
        setattr(rule, name, value)
    entry = audit.record(actor, "update", rule, before=before, after=audit.values(rule, RUNG_FIELDS),
                         label=_rung_label(rule.policy, rule))
    db.session.flush()
    return entry is not None


def remove_rung(actor: User, rule: EscalationRule) -> None:
    """Take a rung off the ladder: it is deactivated, so the firings that name it stay valid."""
    rule.active = False
    audit.record(actor, "delete", rule, before=audit.values(rule, ("policy_id", *RUNG_FIELDS)),
                 label=_rung_label(rule.policy, rule))
    db.session.flush()


# --- Statuses that pause the clock ------------------------------------------------------


def update_pausing_statuses(actor: User, pausing: Collection[str]) -> bool:
    """Make exactly ``pausing`` (open statuses) pause the clock. Returns whether anything changed."""
    open_statuses = [status.value for status in OPEN_STATUSES]
    unknown = set(pausing) - set(open_statuses)
    if unknown:
        raise SettingError({"pausing": _l("Choose among the listed statuses.")})
    if set(open_statuses) <= set(pausing):
        raise SettingError({"pausing": _l(
            "At least one open status must keep the clock running, or no ticket would ever be due."
        )})
    sla_policies.ensure_default_policies()
    rows = {row.status: row for row in db.session.scalars(select(StatusSetting))}
    changed = False
    for status in open_statuses:
        row = rows.get(status)
        if row is None:
            row = StatusSetting(status=status, pauses_clock=False)
            db.session.add(row)
        before = {"pauses_clock": bool(row.pauses_clock)}
        row.pauses_clock = status in pausing
        if audit.record(actor, "update", row, before=before, after={"pauses_clock": row.pauses_clock}) is not None:
            changed = True
    db.session.flush()
    return changed
