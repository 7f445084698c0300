"""SLA clocks (服务时限): when a ticket's first response and resolution are due, and why.

Pure rules over plain values; the calendars they count on are in app.core.calendars. The
ticket service passes in the branch's calendar, the priority's policy, the ticket's
append-only status history and "now"; it stores
``due_at`` / ``next_deadline`` and renders the explanation. All instants are timezone-aware
and come back in UTC; wall times exist only inside a ``Calendar``.

Decisions, so nobody has to reverse-engineer them:

- **Default policies** (``DEFAULT_POLICIES``) put the brief's four numbers on the four
  priorities: urgent 30 min / 1 h counted around the clock (an urgent problem does not wait
  for opening time); high 30 min / 24 h; normal 30 min / 48 h; low 24 h ("any feedback
  answered within 24 h") / 48 h; high, normal and low count the branch's business hours.
- **Business time is real elapsed time while the branch is open.** A day whose opening
  hours span a DST change is an hour shorter or longer; a 24x7 target of 48 h across a
  spring-forward change ends 48 real hours later (49 on the wall clock).
- **Wall times that do not exist or occur twice.** A time skipped when the clocks go
  forward is read as the moment they change (opening at 02:30 on a night that jumps from
  02:00 to 03:00 means open from the change); a time that occurs twice when the clocks go
  back is read as its first occurrence.
- **Hours past midnight are refused**: split them at midnight, e.g. ``("22:00", "24:00")``
  on Friday and ``("00:00", "02:00")`` on Saturday, so every hour belongs to one date and
  that date alone decides whether it is a holiday.
- **Holidays.** Public holidays (``holidays`` package, CN by default) and the calendar's own
  ``extra_holidays`` close the whole day. A 24x7 calendar ignores holidays. China's are closed
  as the State Council's whole breaks: the Saturdays and Sundays inside a break (2025-02-01/02
  in Spring Festival 2025) are holidays too, not only the dates the package lists; in a year
  the package only estimates (no make-up workdays known yet, see ``calendars.announced``)
  only its listed dates close, and the admin's calendar pages say so.
- **Make-up workdays (调休上班日)**, the weekend days a country declares working days, and
  the calendar's own ``extra_workdays`` are open as a normal working day: the day's own hours
  plus the hours the branch keeps Monday to Friday. (A union, so adding hours anywhere
  never closes a make-up day.)
- **Pauses** are rebuilt from the status history (``pauses_from_history``), never kept as
  a counter: each stretch in a pausing status (by default only "waiting_on_customer") is
  skipped. While a ticket is paused its clocks have no due time (``due_at is None``,
  state ``paused``) and their remaining time is frozen; the due time comes back when the
  status changes. A clock that breached before the pause stays breached.
- **First response** is the first reply to the customer or logged call
  (``find_first_response``). A ticket resolved without one counts its first resolution as the
  response: resolving means feeding the result back to the customer (结果反馈客户).
- **Reopen.** Reopening (any change from a done status back to an open one) starts a fresh
  resolution clock at the reopen time with the full target; the first-response clock stays
  as it was. The customer's new information is a new piece of work; a clock that resumed
  with minutes left, or already breached, would tell the team nothing it can act on. The
  earlier resolution keeps its own met/breached result in the history, and how often
  tickets are reopened is reported on its own, so a premature "resolved" is still visible.
"""
from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from app.core.business_time import (
    Explanation,
    TimelineEntry,
    add_business_time,
    business_time_between,
)
from app.core.calendars import (
    WEEKDAYS,
    Calendar,
    Note,
    around_the_clock,
    check_aware,
    open_intervals,
)
from app.core.ticket_history import (
    DEFAULT_DONE_STATUSES,
    DEFAULT_PAUSING_STATUSES,
    FIRST_RESPONSE_KINDS,
    Pause,
    StatusChange,
    _in_order,
    find_first_response,
    pauses_from_history,
    resolution_period,
)

__all__ = [
    "DEFAULT_DONE_STATUSES",
    "DEFAULT_PAUSING_STATUSES",
    "DEFAULT_POLICIES",
    "FIRST_RESPONSE_KINDS",
    "PRIORITIES",
    "WEEKDAYS",
    "Calendar",
    "Deadline",
    "Explanation",
    "Note",
    "Pause",
    "SlaClock",
    "SlaPolicy",
    "SlaState",
    "StatusChange",
    "TimelineEntry",
    "add_business_time",
    "business_time_between",
    "find_first_response",
    "next_deadline",
    "open_intervals",
    "pauses_from_history",
    "resolution_period",
    "sla_clock",
]

PRIORITIES: tuple[str, ...] = ("urgent", "high", "normal", "low")

# --- Policies and clocks ------------------------------------------------------


@dataclass(frozen=True)
class SlaPolicy:
    """A priority's targets. ``business_hours=False`` counts around the clock (24x7)."""

    priority: str
    first_response: timedelta
    resolution: timedelta
    business_hours: bool = True
    #: Share of a target used up when the clock turns to "warning".
    warning_ratio: float = 0.8

    def __post_init__(self) -> None:
        for name in ("first_response", "resolution"):
            if getattr(self, name) <= timedelta():
                raise ValueError(f"{self.priority}: the {name.replace('_', ' ')} target must be positive")
        if not 0 < self.warning_ratio <= 1:
            raise ValueError(f"{self.priority}: warning_ratio must be above 0 and at most 1, got {self.warning_ratio}")


# Read-only so no caller can change the defaults for everyone else.
DEFAULT_POLICIES: Mapping[str, SlaPolicy] = MappingProxyType({
    "urgent": SlaPolicy("urgent", timedelta(minutes=30), timedelta(hours=1), business_hours=False),
    "high": SlaPolicy("high", timedelta(minutes=30), timedelta(hours=24)),
    "normal": SlaPolicy("normal", timedelta(minutes=30), timedelta(hours=48)),
    "low": SlaPolicy("low", timedelta(hours=24), timedelta(hours=48)),
})


class SlaState(enum.StrEnum):
    ON_TRACK = "on_track"
    WARNING = "warning"
    BREACHED = "breached"
    MET = "met"
    PAUSED = "paused"


@dataclass(frozen=True)
class Deadline:
    """One target's clock (first response or resolution) as of a moment.

    ``elapsed`` is business time counted so far (up to ``stopped_at`` once stopped, frozen
    while paused); ``due_at`` is None while paused. A stopped clock is "met" when it stopped
    by its due time and "breached" otherwise; a running one breaches once ``now`` passes
    ``due_at``.
    """

    target: timedelta
    started_at: datetime
    due_at: datetime | None
    warning_at: datetime | None
    stopped_at: datetime | None
    state: SlaState
    elapsed: timedelta
    explanation: Explanation

    @property
    def remaining(self) -> timedelta:
        """Business time left; negative once overdue."""
        return self.target - self.elapsed


@dataclass(frozen=True)
class SlaClock:
    policy: SlaPolicy
    as_of: datetime
    first_response: Deadline
    resolution: Deadline


def _moment_counted(explanation: Explanation, amount: timedelta) -> datetime | None:
    """When ``amount`` (no more than the target) had been counted, if before any open pause."""
    used = timedelta()
    for entry in explanation.entries:
        if entry.kind == "start" and not amount:
            return entry.at
        if entry.kind == "counted":
            if used + entry.duration >= amount:
                return entry.at + (amount - used)
            used += entry.duration
    return None


def _counted_until(explanation: Explanation, moment: datetime) -> timedelta:
    return sum(
        (min(entry.until, moment) - entry.at for entry in explanation.entries
         if entry.kind == "counted" and entry.at < moment),
        timedelta(),
    )


def _deadline(
    calendar: Calendar,
    started_at: datetime,
    target: timedelta,
    warning_ratio: float,
    history: Sequence[StatusChange],
    pausing_statuses: frozenset[str],
    stopped_at: datetime | None,
    now: datetime,
) -> Deadline:
    until = stopped_at or now
    pauses = pauses_from_history(history, pausing_statuses, until=until)
    if stopped_at is not None and pauses and pauses[-1].end is None:
        last = pauses[-1]  # a stopped clock is not paused any more
        pauses = (*pauses[:-1], Pause(last.start, stopped_at, last.status))
    due_at, explanation = add_business_time(calendar, started_at, target, pauses)
    warning_at = _moment_counted(explanation, target * warning_ratio)
    if due_at is not None and until > due_at:
        elapsed = target + business_time_between(calendar, due_at, until, pauses)
    else:
        elapsed = _counted_until(explanation, until)
    if stopped_at is not None:
        state = SlaState.MET if due_at is not None and stopped_at <= due_at else SlaState.BREACHED
    elif due_at is None:
        state = SlaState.PAUSED
    elif now > due_at:
        state = SlaState.BREACHED
    elif warning_at is not None and now >= warning_at:
        state = SlaState.WARNING
    else:
        state = SlaState.ON_TRACK
    return Deadline(target, started_at, due_at, warning_at, stopped_at, state, elapsed, explanation)


def sla_clock(
    policy: SlaPolicy,
    calendar: Calendar,
    *,
    opened_at: datetime,
    history: Iterable[StatusChange],
    now: datetime,
    first_response_at: datetime | None = None,
    pausing_statuses: frozenset[str] = DEFAULT_PAUSING_STATUSES,
    done_statuses: frozenset[str] = DEFAULT_DONE_STATUSES,
) -> SlaClock:
    """A ticket's first-response and resolution clocks as of ``now``.

    ``history`` is the ticket's status history (changes after ``now`` are ignored);
    ``first_response_at`` the first reply or logged call (see ``find_first_response``).
    A 24x7 policy counts around the clock in the branch's time zone.
    """
    check_aware(opened_at, now, *([first_response_at] if first_response_at else []))
    opened_at, now = opened_at.astimezone(UTC), now.astimezone(UTC)
    if not policy.business_hours:
        calendar = around_the_clock(calendar.timezone)
    changes = [
        StatusChange(change.at.astimezone(UTC), change.status)
        for change in _in_order(history) if change.at <= now
    ]
    first_done = next((change.at for change in changes if change.status in done_statuses), None)
    responses = [at.astimezone(UTC) for at in (first_response_at, first_done) if at is not None and at <= now]
    responded_at = min(responses, default=None)
    resolution_started, resolved_at = resolution_period(changes, opened_at, done_statuses)

    def deadline(started_at: datetime, target: timedelta, stopped_at: datetime | None) -> Deadline:
        return _deadline(
            calendar, started_at, target, policy.warning_ratio, changes, pausing_statuses, stopped_at, now
        )

    return SlaClock(
        policy,
        now,
        deadline(opened_at, policy.first_response, responded_at),
        deadline(resolution_started, policy.resolution, resolved_at),
    )


def next_deadline(clock: SlaClock) -> datetime | None:
    """The next moment the sweep must look at the ticket: a coming warning or due time.

    None when nothing is coming: both clocks met, breached (escalation rules take it from
    there) or paused (a status change recomputes the clock).
    """
    moments = []
    for deadline in (clock.first_response, clock.resolution):
        if deadline.state is SlaState.ON_TRACK:
            moments.append(deadline.warning_at)
        elif deadline.state is SlaState.WARNING:
            moments.append(deadline.due_at)
    return min(moments, default=None)
