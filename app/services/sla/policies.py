"""Stored SLA policies, ladders and pausing statuses: the defaults added once, read once per sweep or request."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.core import sla, sla_batch
from app.extensions import db
from app.models import Branch, EscalationRule, SlaPolicy, StatusSetting, TicketStatus
from app.services.branches.calendars import branch_calendar, custom_holidays

log = logging.getLogger(__name__)

CLOCKS = ("first_response", "resolution")
#: (level, trigger, minutes after the moment, who is notified), for each clock of a new policy.
DEFAULT_LADDER = (
    (0, "warning", 0, "assignee"),
    (1, "due", 0, "supervisors"),
    (2, "due", 240, "admins"),
)


# --- Defaults ------------------------------------------------------------------


def ensure_default_policies() -> None:
    """Add the default policy (with its ladder) of every priority that has none, and the status settings.

    Existing rows are left as they are (an admin's edits win). Safe when two processes run it
    at once: a row the other one added first is skipped.
    """
    existing = set(db.session.scalars(select(SlaPolicy.priority)))
    for priority, default in sla.DEFAULT_POLICIES.items():
        if priority in existing:
            continue
        policy = SlaPolicy(
            priority=priority,
            first_response_minutes=_minutes(default.first_response),
            resolution_minutes=_minutes(default.resolution),
            business_hours=default.business_hours,
            warning_percent=round(default.warning_ratio * 100),
            escalations=[
                EscalationRule(clock=clock, level=level, trigger=trigger, offset_minutes=offset, target=target)
                for clock in CLOCKS
                for level, trigger, offset, target in DEFAULT_LADDER
            ],
        )
        _add_unless_present(policy)
    known = set(db.session.scalars(select(StatusSetting.status)))
    for status in TicketStatus:
        if status.value not in known:
            _add_unless_present(
                StatusSetting(status=status.value, pauses_clock=status.value in sla.DEFAULT_PAUSING_STATUSES)
            )


def _add_unless_present(row: object) -> None:
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        log.info("%r was added by another process at the same time", row)


def _minutes(duration: timedelta) -> int:
    return int(duration.total_seconds() // 60)


# --- Settings read once per sweep or request -------------------------------------


@dataclass(frozen=True)
class LadderRule:
    """An ``EscalationRule`` row as plain values (read once per sweep, outliving its commits)."""

    id: int
    level: int
    clock: str
    trigger: str
    offset_minutes: int
    target: str
    action: str
    move_to_department_id: int | None

    @classmethod
    def of(cls, row: EscalationRule) -> LadderRule:
        return cls(row.id, row.level, row.clock, row.trigger, row.offset_minutes, row.target, row.action,
                   row.move_to_department_id)


@dataclass(frozen=True)
class PolicyRules:
    """A priority's policy as the core reads it, with its ladder."""

    policy: sla.SlaPolicy
    rules: tuple[LadderRule, ...]


class SlaSettings:
    """Policies, ladders, pausing statuses and custom holidays, read once and used for many tickets."""

    def __init__(self, holidays_by_branch: dict[int | None, dict[date, str]] | None = None) -> None:
        rows = db.session.scalars(select(SlaPolicy).options(selectinload(SlaPolicy.escalations))).all()
        self.policies: dict[str, PolicyRules] = {
            row.priority: PolicyRules(
                core_policy(row), tuple(LadderRule.of(rule) for rule in row.escalations if rule.active)
            )
            for row in rows
        }
        settings = db.session.execute(select(StatusSetting.status, StatusSetting.pauses_clock)).all()
        self.pausing_statuses = (
            frozenset(status for status, pauses in settings if pauses) if settings else sla.DEFAULT_PAUSING_STATUSES
        )
        self._holidays = holidays_by_branch
        self._layouts: dict[int, sla_batch.OpenTime] = {}
        #: A branch's calendar is built once per reading (its hours do not change under a sweep or a refresh).
        self._branch_layouts: dict[tuple[int, str, bool], sla_batch.OpenTime] = {}
        self._amounts: dict[sla.SlaPolicy, sla_batch.PolicyAmounts] = {}

    def rules_for(self, priority: str) -> PolicyRules:
        """The stored policy of ``priority``, or the core default without a ladder when none is stored."""
        found = self.policies.get(str(priority))
        return found or PolicyRules(sla.DEFAULT_POLICIES[str(priority)], ())

    def calendar(self, branch: Branch, business_hours: bool = True) -> sla.Calendar:
        if self._holidays is None:
            self._holidays = custom_holidays()
        return branch_calendar(branch, self._holidays, business_hours)

    def open_time(self, branch: Branch, business_hours: bool = True) -> sla_batch.OpenTime:
        """The calendar a policy's clocks count on at ``branch``, laid out once for every ticket of this reading."""
        key = (branch.id, branch.timezone, business_hours)
        found = self._branch_layouts.get(key)
        if found is None:
            calendar = self.calendar(branch, business_hours)
            if not business_hours:
                calendar = sla.around_the_clock(calendar.timezone)
            found = self._layouts.get(id(calendar))
            if found is None or found.calendar is not calendar:
                found = self._layouts[id(calendar)] = sla_batch.OpenTime(calendar)
            self._branch_layouts[key] = found
        return found

    def amounts(self, rules: PolicyRules) -> sla_batch.PolicyAmounts:
        """``rules.policy``'s targets and warning points as the batched clocks count them."""
        found = self._amounts.get(rules.policy)
        if found is None:
            found = self._amounts[rules.policy] = sla_batch.PolicyAmounts.of(rules.policy)
        return found


def core_policy(row: SlaPolicy) -> sla.SlaPolicy:
    return sla.SlaPolicy(
        priority=row.priority,
        first_response=timedelta(minutes=row.first_response_minutes),
        resolution=timedelta(minutes=row.resolution_minutes),
        business_hours=row.business_hours,
        warning_ratio=row.warning_percent / 100,
    )

