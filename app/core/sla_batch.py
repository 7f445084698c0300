"""SLA due times of many tickets at once: the moments of ``app.core.sla.sla_clock``, without its explanations.

``sla_clock`` walks the branch's calendar stretch by stretch for every ticket and writes the
timeline that explains each due time, which a ticket page shows. A refresh after a policy,
hours or holiday edit, and the escalation sweep, need only the moments (due, warning, state)
of thousands of tickets. Here a calendar is laid out once as its open stretches with the open
time counted before each (``OpenTime``, shared by every ticket of a branch and policy kind), so
a due time is two binary searches instead of a walk.

The rules are ``app.core.sla``'s (its docstring has the decisions), computed in whole
microseconds, so the answers are the same instants: tests/unit/test_sla_batch.py compares both
on random calendars, policies and histories.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from app.core.calendars import _MAX_CLOSED_DAYS, Calendar, _day_pieces
from app.core.sla import DEFAULT_DONE_STATUSES, DEFAULT_PAUSING_STATUSES, SlaPolicy, SlaState, StatusChange

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_ONE_DAY = timedelta(days=1)
#: Days laid out at a time when a clock needs more of the calendar.
_LAYOUT_DAYS = 14


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


def _at(microseconds: int) -> datetime:
    return _EPOCH + timedelta(microseconds=microseconds)


class OpenTime:
    """A calendar's open stretches as (start, end, open time before) in microseconds, laid out as needed.

    ``counted(t)`` is the open time from the first laid-out day to ``t``; ``moment(v)`` the first
    instant by which ``v`` has been counted. Both lay out more days when asked beyond them.
    """

    def __init__(self, calendar: Calendar) -> None:
        self.calendar = calendar
        self.always_open = calendar.always_open
        self._zone = calendar._zone
        self._starts: list[int] = []
        self._ends: list[int] = []
        #: Open time counted up to each stretch's end.
        self._counted_at_end: list[int] = []
        self._first_day: date | None = None
        self._next_day: date | None = None
        self._first_us = 0   # the first laid-out day's midnight
        self._next_us = 0    # the midnight after the last laid-out day
        self._closed_days = 0

    def _add_days(self, until_day: date) -> None:
        day = self._next_day
        while day < until_day:
            pieces = _day_pieces(self.calendar, day)
            opened = False
            for kind, begins, ends, _note in pieces:
                if kind != "counted":
                    continue
                opened = True
                start, end = _us(begins), _us(ends)
                before = self._counted_at_end[-1] if self._counted_at_end else 0
                self._starts.append(start)
                self._ends.append(end)
                self._counted_at_end.append(before + end - start)
            self._closed_days = 0 if opened else self._closed_days + 1
            if self._closed_days > _MAX_CLOSED_DAYS:
                raise ValueError(f"the calendar is closed for more than {_MAX_CLOSED_DAYS} days after {day}")
            day += _ONE_DAY
            self._next_us = _us(pieces[-1][2])
        self._next_day = day

    def _cover(self, moment: int) -> None:
        """Lay out the days from ``moment``'s local date on (again from there, if before what is laid out)."""
        day = _at(moment).astimezone(self._zone).date()
        if self._first_day is None or day < self._first_day:
            through = max(self._next_day or day, day + _ONE_DAY)
            self._starts, self._ends, self._counted_at_end = [], [], []
            self._first_day = self._next_day = day
            self._closed_days = 0
            self._first_us = _us(_day_pieces(self.calendar, day)[0][1])
            self._add_days(through)
        while moment >= self._next_us:
            self._add_days(self._next_day + _LAYOUT_DAYS * _ONE_DAY)

    def counted(self, moment: int) -> int:
        """Open time from the first laid-out day to ``moment`` (µs since the epoch)."""
        if self.always_open:
            return moment
        if self._first_day is None or moment < self._first_us or moment >= self._next_us:
            self._cover(moment)
        index = bisect_right(self._starts, moment) - 1
        if index < 0:
            return 0
        before = self._counted_at_end[index] - (self._ends[index] - self._starts[index])
        return before + min(moment, self._ends[index]) - self._starts[index]

    def moment(self, counted: int) -> int:
        """The first instant by which ``counted`` (more than what ``counted`` gave for a laid-out moment) is counted."""
        if self.always_open:
            return counted
        while not self._counted_at_end or self._counted_at_end[-1] < counted:
            self._add_days(self._next_day + _LAYOUT_DAYS * _ONE_DAY)
        index = bisect_left(self._counted_at_end, counted)
        return self._ends[index] - (self._counted_at_end[index] - counted)


class DeadlineTimes(NamedTuple):
    """The moments of one clock, as ``app.core.sla.Deadline`` has them (without elapsed time and explanation)."""

    due_at: datetime | None
    warning_at: datetime | None
    stopped_at: datetime | None
    state: SlaState


class ClockTimes(NamedTuple):
    """A ticket's two clocks, as ``app.core.sla.SlaClock`` has them; ``sla.next_deadline`` reads it too."""

    policy: SlaPolicy
    as_of: datetime
    first_response: DeadlineTimes
    resolution: DeadlineTimes


def _counted_moment(open_time: OpenTime, start: int, amount: int, pauses: list[tuple[int, int | None]]) -> int | None:
    """When ``amount`` of open, unpaused time after ``start`` is used up; None when an endless pause comes first."""
    cursor, left = start, amount
    for pause_start, pause_end in pauses:
        if pause_start > cursor:
            from_cursor = open_time.counted(cursor)
            available = open_time.counted(pause_start) - from_cursor
            if available >= left:
                return open_time.moment(from_cursor + left)
            left -= available
        if pause_end is None:
            return None
        cursor = max(cursor, pause_end)
    return open_time.moment(open_time.counted(cursor) + left)


def _pauses(
    changes: list[tuple[int, str]], pausing: frozenset[str], until: int, start: int, stopped: int | None
) -> list[tuple[int, int | None]]:
    """``pauses_from_history`` as of ``until``, closed at ``stopped``, only those not over by ``start``, by start."""
    pauses: list[tuple[int, int | None]] = []
    current: tuple[int, str] | None = None
    for at, status in changes:
        if at > until:
            break
        if current is not None and status != current[1]:
            if at > current[0]:
                pauses.append((current[0], at))
            current = None
        if current is None and status in pausing:
            current = (at, status)
    if current is not None:
        pauses.append((current[0], stopped))
    kept = [pause for pause in pauses if pause[1] is None or pause[1] > start]
    kept.sort(key=lambda pause: pause[0])
    return kept


def _deadline(
    open_time: OpenTime,
    start: int,
    target: int,
    warning: int,
    changes: list[tuple[int, str]],
    pausing: frozenset[str],
    stopped_at: datetime | None,
    now: int,
) -> DeadlineTimes:
    stopped = None if stopped_at is None else _us(stopped_at)
    until = now if stopped is None else stopped
    pauses = _pauses(changes, pausing, until, start, stopped)
    due = _counted_moment(open_time, start, target, pauses)
    warning_at = _counted_moment(open_time, start, warning, pauses)
    if stopped is not None:
        state = SlaState.MET if due is not None and stopped <= due else SlaState.BREACHED
    elif due is None:
        state = SlaState.PAUSED
    elif now > due:
        state = SlaState.BREACHED
    elif warning_at is not None and now >= warning_at:
        state = SlaState.WARNING
    else:
        state = SlaState.ON_TRACK
    return DeadlineTimes(
        None if due is None else _at(due),
        None if warning_at is None else _at(warning_at),
        stopped_at,
        state,
    )


@dataclass(frozen=True)
class PolicyAmounts:
    """A policy's targets and warning points in microseconds (``target * warning_ratio`` as the core rounds it)."""

    policy: SlaPolicy
    first_response: int
    first_response_warning: int
    resolution: int
    resolution_warning: int

    @classmethod
    def of(cls, policy: SlaPolicy) -> PolicyAmounts:
        ratio = policy.warning_ratio
        return cls(
            policy,
            policy.first_response // _MICROSECOND,
            (policy.first_response * ratio) // _MICROSECOND,
            policy.resolution // _MICROSECOND,
            (policy.resolution * ratio) // _MICROSECOND,
        )


def clock_times(
    amounts: PolicyAmounts,
    open_time: OpenTime,
    *,
    opened_at: datetime,
    history: Iterable[StatusChange],
    now: datetime,
    first_response_at: datetime | None = None,
    pausing_statuses: frozenset[str] = DEFAULT_PAUSING_STATUSES,
    done_statuses: frozenset[str] = DEFAULT_DONE_STATUSES,
) -> ClockTimes:
    """``sla.sla_clock(amounts.policy, calendar, ...)``'s moments; ``open_time`` is the calendar the policy counts on
    (24x7 for a policy without business hours: ``around_the_clock(calendar.timezone)``).

    Datetimes must be aware (as ``sla_clock`` requires); the answers come back in UTC.
    """
    now_us = _us(now)
    opened = _us(opened_at)
    changes = sorted(((_us(change.at), change.status) for change in history), key=lambda change: change[0])
    changes = [change for change in changes if change[0] <= now_us]
    first_done = next((at for at, status in changes if status in done_statuses), None)
    responses = [at for at in (None if first_response_at is None else _us(first_response_at), first_done)
                 if at is not None and at <= now_us]
    responded = min(responses, default=None)
    started, resolved = opened, None
    for at, status in changes:
        done = status in done_statuses
        if done and resolved is None:
            resolved = at
        elif not done and resolved is not None:
            started, resolved = at, None
    return ClockTimes(
        amounts.policy,
        now.astimezone(UTC),
        _deadline(open_time, opened, amounts.first_response, amounts.first_response_warning, changes,
                  pausing_statuses, None if responded is None else _at(responded), now_us),
        _deadline(open_time, started, amounts.resolution, amounts.resolution_warning, changes,
                  pausing_statuses, None if resolved is None else _at(resolved), now_us),
    )
