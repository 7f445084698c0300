"""A branch's business time recomputed the slow, obvious way: one minute at a time.

The check on ``app.core.calendars`` / ``app.core.business_time`` and the branch calendars of
``app.services.branches.calendars``. It shares no code with them: it asks ``zoneinfo`` the
wall time of every UTC minute and decides that minute on its own, from the rules as the
product states them:

- Which days are closed: the ``holidays`` package's dates for the branch's region (country,
  subdivision), and for China in 2025 and 2026 the State Council's whole breaks as typed
  below from its notices (every day of a break, weekends included) and its make-up working
  days. Any other year of China: the package's dates alone and no make-up days (the package
  only estimates them). A branch open on public holidays has none of these. The branch's own
  closed days always close.
- A make-up working day is open for the day's own hours and the hours the branch keeps from
  Monday to Friday (their union).
- Opening hours are wall times of the local date. A wall time that does not exist (clocks
  going forward) is reached at the change; one that occurs twice (clocks going back) is
  reached at its first occurrence. So a minute of local date D is inside (opens, closes) when
  the latest wall time seen so far on D has reached ``opens`` and not yet ``closes``.

Sources of the tables:
- 2025: 国务院办公厅关于2025年部分节假日安排的通知,
  https://www.gov.cn/gongbao/2024/issue_11726/202411/content_6989767.html
- 2026: 国务院办公厅关于2026年部分节假日安排的通知,
  https://www.gov.cn/gongbao/2025/issue_12406/202511/content_7048922.html
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays

MINUTE = timedelta(minutes=1)
DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: (first, last) day of each break, both included.
CHINA_BREAKS = {
    2025: [
        ((1, 1), (1, 1)), ((1, 28), (2, 4)), ((4, 4), (4, 6)),
        ((5, 1), (5, 5)), ((5, 31), (6, 2)), ((10, 1), (10, 8)),
    ],
    2026: [
        ((1, 1), (1, 3)), ((2, 15), (2, 23)), ((4, 4), (4, 6)), ((5, 1), (5, 5)),
        ((6, 19), (6, 21)), ((9, 25), (9, 27)), ((10, 1), (10, 7)),
    ],
}
CHINA_WORKDAYS = {
    2025: [(1, 26), (2, 8), (4, 27), (9, 28), (10, 11)],
    2026: [(1, 4), (2, 14), (2, 28), (5, 9), (9, 20), (10, 10)],
}


def _china_closed(year: int) -> set[date]:
    closed: set[date] = set()
    for (m1, d1), (m2, d2) in CHINA_BREAKS[year]:
        day = date(year, m1, d1)
        while day <= date(year, m2, d2):
            closed.add(day)
            day += timedelta(days=1)
    return closed


def closed_and_makeup_days(country: str | None, subdivision: str | None, years: range) -> tuple[set[date], set[date]]:
    """The public days off and the make-up working days of a region over ``years``."""
    if country is None:
        return set(), set()
    closed: set[date] = set()
    makeup: set[date] = set()
    for year in years:
        if country == "CN" and year in CHINA_BREAKS:
            closed |= _china_closed(year)
            makeup |= {date(year, m, d) for m, d in CHINA_WORKDAYS[year]}
        else:
            closed |= set(holidays.country_holidays(country, subdiv=subdivision, years=year))
    return closed, makeup


def _minutes_of(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


@dataclass
class MinuteCalendar:
    timezone: str
    weekly_hours: Mapping[str, Sequence[Sequence[str]]]
    country: str | None
    subdivision: str | None = None
    own_closed_days: set[date] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.zone = ZoneInfo(self.timezone)
        self.closed, self.makeup = closed_and_makeup_days(self.country, self.subdivision, range(2023, 2030))
        self.closed |= self.own_closed_days
        self.hours = {
            index: [(_minutes_of(o), _minutes_of(c)) for o, c in self.weekly_hours.get(key, ())]
            for index, key in enumerate(DAY_KEYS)
        }
        self._day: date | None = None
        self._latest_wall = -1

    def _intervals(self, day: date) -> list[tuple[int, int]]:
        if day in self.closed:
            return []
        own = self.hours[day.weekday()]
        if day in self.makeup:
            return own + [interval for weekday in range(5) for interval in self.hours[weekday]]
        return own

    def is_open(self, minute: datetime) -> bool:
        """Whether the UTC ``minute`` counts. Call it for minutes in increasing order, none skipped."""
        local = minute.astimezone(self.zone)
        wall = local.hour * 60 + local.minute
        if local.date() != self._day:
            self._day, self._latest_wall = local.date(), wall
        self._latest_wall = max(self._latest_wall, wall)
        reached = self._latest_wall
        return any(opens <= reached < closes for opens, closes in self._intervals(local.date()))

    def start_at(self, start: datetime) -> None:
        """Begin a walk at ``start``: replay the local date's minutes up to it (its latest wall time)."""
        local_midnight = datetime.combine(start.astimezone(self.zone).date(), datetime.min.time(), self.zone)
        minute = local_midnight.astimezone(UTC)
        self._day = None
        while minute < start:
            self.is_open(minute)
            minute += MINUTE


def due_after(calendar: MinuteCalendar, start: datetime, target: timedelta, limit_days: int = 60) -> datetime | None:
    """The first instant by which ``target`` of open minutes after ``start`` (a whole UTC minute) have passed."""
    needed = int(target / MINUTE)
    if needed == 0:
        return start
    calendar.start_at(start)
    minute, counted, end = start, 0, start + timedelta(days=limit_days)
    while minute < end:
        if calendar.is_open(minute):
            counted += 1
            if counted == needed:
                return minute + MINUTE
        minute += MINUTE
    return None


def open_minutes_between(calendar: MinuteCalendar, start: datetime, end: datetime) -> int:
    calendar.start_at(start)
    minute, counted = start, 0
    while minute < end:
        counted += calendar.is_open(minute)
        minute += MINUTE
    return counted
