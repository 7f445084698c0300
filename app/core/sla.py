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
  ``extra_holidays`` close the whole day. A 24x7 calendar ignores holidays.
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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo

from app.core.calendars import (
    FOREVER,
    WEEKDAYS,
    Calendar,
    Note,
    around_the_clock,
    calendar_pieces,
    check_aware,
    open_intervals,
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
DEFAULT_PAUSING_STATUSES: frozenset[str] = frozenset({"waiting_on_customer"})
DEFAULT_DONE_STATUSES: frozenset[str] = frozenset({"resolved", "closed"})
#: Activity that counts as the first response; an internal note does not.
FIRST_RESPONSE_KINDS: frozenset[str] = frozenset({"reply", "call"})

# --- Pauses -------------------------------------------------------------------


@dataclass(frozen=True)
class StatusChange:
    """One row of a ticket's append-only status history."""

    at: datetime
    status: str


@dataclass(frozen=True)
class Pause:
    """A stretch the clocks stand still; ``end`` is None while it lasts."""

    start: datetime
    end: datetime | None
    status: str


def _in_order(history: Iterable[StatusChange]) -> list[StatusChange]:
    return sorted(history, key=lambda change: change.at)  # stable: same-instant rows keep their order


def pauses_from_history(
    history: Iterable[StatusChange],
    pausing_statuses: frozenset[str] = DEFAULT_PAUSING_STATUSES,
    until: datetime | None = None,
) -> tuple[Pause, ...]:
    """The pauses a status history implies, as of ``until`` (later changes are ignored).

    A change between two pausing statuses ends one pause and starts the next, so the
    timeline names the status of each; a pause still going at ``until`` has no end.
    """
    pauses: list[Pause] = []
    current: StatusChange | None = None
    for change in _in_order(history):
        if until is not None and change.at > until:
            break
        if current is not None and change.status != current.status:
            if change.at > current.at:
                pauses.append(Pause(current.at, change.at, current.status))
            current = None
        if current is None and change.status in pausing_statuses:
            current = change
    if current is not None:
        pauses.append(Pause(current.at, None, current.status))
    return tuple(pauses)


def resolution_period(
    history: Iterable[StatusChange],
    opened_at: datetime,
    done_statuses: frozenset[str] = DEFAULT_DONE_STATUSES,
) -> tuple[datetime, datetime | None]:
    """When the current resolution clock started and when it stopped (None: still running).

    It starts when the ticket is opened or, after a reopen, at the last reopen; it stops
    when the ticket first reached a done status after that (resolved, then closed, stops
    at "resolved").
    """
    started_at, resolved_at = opened_at, None
    for change in _in_order(history):
        done = change.status in done_statuses
        if done and resolved_at is None:
            resolved_at = change.at
        elif not done and resolved_at is not None:
            started_at, resolved_at = change.at, None
    return started_at, resolved_at


def find_first_response(
    activity: Iterable[tuple[datetime, str]], kinds: frozenset[str] = FIRST_RESPONSE_KINDS
) -> datetime | None:
    """The first reply to the customer or logged call among ``(at, kind)`` activity."""
    return min((at for at, kind in activity if kind in kinds), default=None)


# --- Business time and its explanation ----------------------------------------


EntryKind = Literal["start", "counted", "closed", "paused", "due"]


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a due time's explanation.

    "start" and "due" are moments (``until`` is None). "counted" is open time used up,
    "closed" is skipped time with ``notes`` saying why, "paused" is skipped time in
    ``status``; a pause still going has no ``until`` and the due time is unknown.
    """

    kind: EntryKind
    at: datetime
    until: datetime | None = None
    notes: tuple[Note, ...] = ()
    status: str = ""

    @property
    def duration(self) -> timedelta | None:
        return None if self.until is None else self.until - self.at


@dataclass(frozen=True)
class Explanation:
    """How a due time was reached, from start to due, for a supervisor to read."""

    timezone: str
    target: timedelta
    entries: tuple[TimelineEntry, ...]

    @property
    def counted(self) -> timedelta:
        return sum((entry.duration for entry in self.entries if entry.kind == "counted"), timedelta())

    def summary(self) -> str:
        """One plain-English line for logs, in the branch's local time."""
        zone = ZoneInfo(self.timezone)
        shown: date | None = None

        def moment(at: datetime) -> str:
            nonlocal shown
            local = at.astimezone(zone)
            if local.date() == shown:
                return f"{local:%H:%M}"
            shown = local.date()
            return f"{local:%a %d %b %H:%M}"

        parts: list[str] = []
        for entry in self.entries:
            if entry.kind in ("start", "due"):
                parts.append(f"{entry.kind} {moment(entry.at)}")
            elif entry.kind == "counted":
                notes = f" ({_describe(entry.notes)})" if entry.notes else ""
                parts.append(f"counted {_span(entry.duration)} to {moment(entry.until)}{notes}")
            elif entry.kind == "closed":
                parts.append(f"closed to {moment(entry.until)} ({_describe(entry.notes)})")
            elif entry.until is None:
                parts.append(f"paused ({entry.status}) since {moment(entry.at)}, due time unknown")
            else:
                parts.append(f"paused ({entry.status}) to {moment(entry.until)}")
        return f"{_span(self.target)} in {self.timezone}: " + "; ".join(parts)


def _describe(notes: Sequence[Note]) -> str:
    labels: list[str] = []
    for note in notes:
        label = {
            "after_hours": "after hours",
            "closed_weekday": f"closed {note.day:%a}",
            "holiday": f"holiday {note.name}".rstrip(),
            "makeup_workday": "make-up workday",
        }[note.kind]
        if label not in labels:
            labels.append(label)
    return ", ".join(labels)


def _span(duration: timedelta) -> str:
    seconds = int(duration.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{value}{unit}" for value, unit in ((hours, "h"), (minutes, "m"), (seconds, "s")) if value]
    return " ".join(parts) or "0m"



Step = tuple[Literal["counted", "closed", "paused"], datetime, datetime | None, Note | None, str]


def _timeline(calendar: Calendar, start: datetime, pauses: Iterable[Pause]) -> Iterator[Step]:
    """Counted, closed and paused stretches from ``start`` on; a pause wins over closed time.

    Stops after a pause without an end (its step has ``None`` as its end).
    """
    pending = sorted((p for p in pauses if p.end is None or p.end > start), key=lambda p: p.start)
    pieces = calendar_pieces(calendar, start)
    kind, _, piece_end, note = next(pieces)
    cursor, index = start, 0
    while True:
        if index < len(pending) and pending[index].start <= cursor:
            pause = pending[index]
            index += 1
            if pause.end is None:
                yield "paused", cursor, None, None, pause.status
                return
            if pause.end <= cursor:
                continue  # inside an earlier pause
            yield "paused", cursor, pause.end, None, pause.status
            cursor = pause.end
            while piece_end <= cursor:
                kind, _, piece_end, note = next(pieces)
            continue
        end = piece_end if index >= len(pending) else min(piece_end, pending[index].start)
        yield kind, cursor, end, note, ""
        cursor = end
        if cursor >= FOREVER:
            return
        if cursor >= piece_end:
            kind, _, piece_end, note = next(pieces)


def _append(entries: list[TimelineEntry], entry: TimelineEntry) -> None:
    """Add ``entry``, joining it to the previous one when they read as one stretch."""
    last = entries[-1] if entries else None
    if last is not None and last.kind == entry.kind and last.until == entry.at and last.status == entry.status:
        notes = last.notes + tuple(note for note in entry.notes if note not in last.notes)
        entries[-1] = TimelineEntry(last.kind, last.at, entry.until, notes, last.status)
    else:
        entries.append(entry)


def add_business_time(
    calendar: Calendar, start: datetime, duration: timedelta, pauses: Iterable[Pause] = ()
) -> tuple[datetime | None, Explanation]:
    """When ``duration`` of open, unpaused time after ``start`` is used up, and how.

    The due time is the first instant by which that much has been counted (``start``
    itself for a zero duration), or None when a pause without an end comes first.
    """
    check_aware(start)
    if duration < timedelta():
        raise ValueError(f"duration must not be negative, got {duration}")
    start = start.astimezone(UTC)
    entries = [TimelineEntry("start", start)]
    due: datetime | None = start if not duration else None
    used = timedelta()
    steps = _timeline(calendar, start, pauses) if due is None else iter(())
    for kind, begins, ends, note, status in steps:
        notes = (note,) if note else ()
        if kind == "counted" and used + (ends - begins) >= duration:
            due = begins + (duration - used)
            _append(entries, TimelineEntry("counted", begins, due, notes))
            break
        if kind == "counted":
            used += ends - begins
        _append(entries, TimelineEntry(kind, begins, ends, notes, status))
        if ends is None:
            break
    if due is not None:
        entries.append(TimelineEntry("due", due))
    return due, Explanation(calendar.timezone, duration, tuple(entries))


def business_time_between(
    calendar: Calendar, start: datetime, end: datetime, pauses: Iterable[Pause] = ()
) -> timedelta:
    """Open, unpaused time from ``start`` to ``end`` (nothing when ``end`` is not later)."""
    check_aware(start, end)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    total = timedelta()
    if end <= start:
        return total
    for kind, begins, ends, _, _ in _timeline(calendar, start, pauses):
        if ends is None:
            break
        if kind == "counted":
            total += min(ends, end) - begins
        if ends >= end:
            break
    return total


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
