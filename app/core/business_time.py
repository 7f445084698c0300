"""Business time on a calendar: when an amount of open, unpaused time is used up, and the timeline that explains it."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from app.core.calendars import FOREVER, Calendar, Note, calendar_pieces, check_aware
from app.core.ticket_history import Pause

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

