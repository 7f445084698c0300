"""Business-hour calendars: when a branch is open, in its own time zone, with public holidays.

Pure rules over plain values (no Flask, no database); app.core.sla counts SLA time on them.
See app.core.sla's docstring for the decisions (DST, hours past midnight, make-up workdays).
"""
from __future__ import annotations

import enum
import functools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ONE_DAY = timedelta(days=1)
FOREVER = datetime(9999, 12, 31, tzinfo=UTC)
_MINUTES_PER_DAY = 24 * 60
#: A calendar closed this many days in a row is treated as never open again.
_MAX_CLOSED_DAYS = 400
#: Days a calendar keeps worked out before it starts over (a sweep needs a few dozen).
_MAX_CACHED_DAYS = 5000

Hours = tuple[tuple[int, int], ...]  # (opens, closes) in minutes after local midnight
#: A counted or closed stretch (UTC) and the note that explains it.
Piece = tuple[Literal["counted", "closed"], datetime, datetime, "Note | None"]



def check_aware(*moments: datetime) -> None:
    for moment in moments:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{moment!r} has no time zone; SLA times must be aware (UTC)")


# --- Calendars ----------------------------------------------------------------


class HoursProblem(enum.StrEnum):
    """Which rule a day's (or the week's) opening hours break."""

    NOT_A_TIME = "not_a_time"          # not "HH:MM", or not an (opens, closes) pair
    EMPTY = "empty"                    # an interval that ends at or before it starts
    OVERLAP = "overlap"                # two intervals of one day overlap
    UNKNOWN_DAY = "unknown_day"        # a key that is not one of WEEKDAYS
    CLOSED_ALL_WEEK = "closed_all_week"


#: The key of ``opening_hours_problems`` for a problem of the week as a whole.
WHOLE_WEEK = "week"


class OpeningHoursError(ValueError):
    """Opening hours a calendar cannot count on; ``problem`` says which rule they break."""

    def __init__(self, message: str, problem: HoursProblem) -> None:
        super().__init__(message)
        self.problem = problem


def _minutes(text: str, *, closing: bool) -> int:
    try:
        hours, minutes = (int(part) for part in text.split(":"))
        value = hours * 60 + minutes
        valid = 0 <= minutes < 60 and (0 <= value < _MINUTES_PER_DAY or (closing and value == _MINUTES_PER_DAY))
    except (AttributeError, TypeError, ValueError):
        valid = False
    if not valid:
        allowed = "'09:00' (or '24:00' for midnight)" if closing else "'09:00'"
        raise OpeningHoursError(f"{text!r} is not a time of day like {allowed}", HoursProblem.NOT_A_TIME)
    return value


def _day_hours(day: str, intervals: Sequence[Sequence[str]]) -> Hours:
    parsed: list[tuple[int, int]] = []
    for interval in intervals:
        try:
            opens, closes = interval
        except (TypeError, ValueError):
            raise OpeningHoursError(
                f"{day}: {interval!r} is not an (opens, closes) pair", HoursProblem.NOT_A_TIME
            ) from None
        start, end = _minutes(opens, closing=False), _minutes(closes, closing=True)
        if end <= start:
            raise OpeningHoursError(
                f"{day}: {opens}-{closes} does not end after it starts; hours past midnight "
                f"are not supported, split them: ({opens!r}, '24:00') and ('00:00', {closes!r}) "
                f"on the next day",
                HoursProblem.EMPTY,
            )
        parsed.append((start, end))
    parsed.sort()
    for (_, end), (start, _) in zip(parsed, parsed[1:]):
        if start < end:
            raise OpeningHoursError(f"{day}: opening hours overlap", HoursProblem.OVERLAP)
    return tuple(parsed)


def opening_hours_problems(weekly_hours: Mapping[str, Sequence[Sequence[str]]]) -> dict[str, HoursProblem]:
    """What is wrong with weekly hours in ``Branch.opening_hours``'s shape, by day (``WHOLE_WEEK``: the week).

    Empty when a calendar can count on them: every interval ends after it starts (``'24:00'``
    is midnight), a day's intervals do not overlap, and the branch opens on at least one day.
    """
    problems: dict[str, HoursProblem] = {day: HoursProblem.UNKNOWN_DAY for day in weekly_hours if day not in WEEKDAYS}
    open_days = 0
    for day in WEEKDAYS:
        try:
            open_days += bool(_day_hours(day, weekly_hours.get(day) or ()))
        except OpeningHoursError as error:
            problems[day] = error.problem
    if not problems and not open_days:
        problems[WHOLE_WEEK] = HoursProblem.CLOSED_ALL_WEEK
    return problems


def _union(*hours: Hours) -> Hours:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(interval for day in hours for interval in day):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)


@functools.cache
def _check_holiday_country(country: str, subdivision: str | None) -> None:
    subdivisions = holidays.list_supported_countries().get(country)
    if subdivisions is None:
        raise ValueError(f"no public holidays known for {country!r}")
    if subdivision is not None and subdivision not in subdivisions:
        raise ValueError(f"no public holidays known for {country!r} subdivision {subdivision!r}")


#: Countries whose public holidays are announced as whole breaks: China's State Council gives
#: each festival as a stretch of days off (放假), e.g. Spring Festival 2025 is 28 January to
#: 4 February, and the Saturday and Sunday inside it are part of the break. The ``holidays``
#: package lists only the days that would otherwise be working days (and the festival's own
#: date), so the weekend days inside a break are filled in from it (``_whole_breaks``).
WHOLE_BREAK_COUNTRIES = frozenset({"CN"})
#: The ``holidays`` package's language for each page locale (app.core.languages.SUPPORTED_LOCALES).
HOLIDAY_LANGUAGES = {"zh_Hans": "zh_CN", "en": "en_US", "zh_Hant": "zh_TW"}
#: The package's other name for a language where a country has only that one (Hong Kong has its
#: Traditional Chinese names as zh_HK, Taiwan and China as zh_TW).
SAME_SCRIPT = {"zh_TW": "zh_HK", "zh_HK": "zh_TW"}
#: The language of the names calendars carry (a page shows them in its own: ``public_days``).
NAMES_LANGUAGE = "en_US"


@functools.cache
def _package_language(country: str, language: str | None) -> str | None:
    """``language`` if the package has the country's names in it, else the package's default."""
    supported = holidays.country_holidays(country).supported_languages
    for wanted in (language, SAME_SCRIPT.get(language or ""), NAMES_LANGUAGE):
        if wanted and wanted in supported:
            return wanted
    return None


def announced(country: str, year: int) -> bool:
    """Whether the package has ``country``'s official schedule for ``year``, not an estimate.

    For a whole-break country, a year is announced once the package lists its make-up
    workdays (调休上班日), which only the State Council's notice gives; before that the
    package computes the festivals' dates and calendars close those dates alone, without
    filling in the weekends of a break nobody has announced yet. Other countries' holidays
    follow fixed rules, so every year counts as announced.
    """
    if country not in WHOLE_BREAK_COUNTRIES:
        return True
    return bool(_public_days(country, None, year)[1])


def _whole_breaks(known: Mapping[date, str], workdays: frozenset[date], year: int) -> dict[date, str]:
    """The weekend days of ``year`` inside a break, named after the break's festival.

    A break is a run of consecutive days off that holds at least one of the package's
    holidays, where a day off is a listed holiday or a Saturday or Sunday that is not a
    make-up workday. (For 2025 and 2026 this gives exactly the State Council's breaks; see
    tests/unit/test_holiday_breaks.py.) A break's name is its most frequent holiday name,
    the earliest on a tie, so a substituted "day off" never names it.
    """
    def off(day: date) -> bool:
        return day in known or (day.weekday() >= 5 and day not in workdays)

    filled: dict[date, str] = {}
    day, last = date(year, 1, 1) - timedelta(days=14), date(year, 12, 31) + timedelta(days=14)
    while day <= last:
        if not off(day):
            day += _ONE_DAY
            continue
        run = [day]
        while off(run[-1] + _ONE_DAY):  # a weekday that is not a holiday always comes
            run.append(run[-1] + _ONE_DAY)
        names = [known[d] for d in run if d in known]
        if names:
            name = max(dict.fromkeys(names), key=names.count)  # first of the most frequent
            filled.update((d, name) for d in run if d not in known and d.year == year)
        day = run[-1] + _ONE_DAY
    return filled


@functools.cache
def _public_days(
    country: str, subdivision: str | None, year: int, language: str | None = None
) -> tuple[Mapping[date, str], frozenset[date]]:
    """One year's public holidays (date → name) and make-up workdays, built once per process.

    Names in ``language`` where the package has it (else ``NAMES_LANGUAGE``, else its default).
    In an announced year of a ``WHOLE_BREAK_COUNTRIES`` country the weekend days inside a
    break are holidays too (``_whole_breaks``).
    """
    language = _package_language(country, language)
    known = holidays.country_holidays(country, subdiv=subdivision, years=range(year - 1, year + 2), language=language)
    workdays = frozenset(day for day in known.weekend_workdays if year - 1 <= day.year <= year + 1)
    names = {day: name for day, name in known.items() if day.year == year}
    this_year = frozenset(day for day in workdays if day.year == year)
    if country in WHOLE_BREAK_COUNTRIES and this_year:
        names.update(_whole_breaks(dict(known.items()), workdays, year))
    return MappingProxyType(dict(sorted(names.items()))), this_year


@dataclass(frozen=True)
class Calendar:
    """When a branch's SLA clocks run: its weekly hours in its time zone, minus holidays.

    ``weekly_hours`` is keyed by ``WEEKDAYS`` (a missing day is closed), each a list of
    ``("HH:MM", "HH:MM")`` pairs, the shape ``Branch.opening_hours`` stores. ``always_open``
    makes it 24x7 and then hours and holidays do not matter.
    """

    timezone: str = "Asia/Shanghai"
    weekly_hours: Mapping[str, Sequence[Sequence[str]]] = field(default_factory=dict)
    holiday_country: str | None = "CN"
    holiday_subdivision: str | None = None
    #: The branch's own closing days, date → name shown in the explanation.
    extra_holidays: Mapping[date, str] = field(default_factory=dict)
    #: The branch's own extra working days, open as a make-up workday.
    extra_workdays: frozenset[date] = frozenset()
    always_open: bool = False
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _hours: tuple[Hours, ...] = field(init=False, repr=False, compare=False)
    _makeup_hours: tuple[Hours, ...] = field(init=False, repr=False, compare=False)
    #: Each local date's stretches in UTC, filled as clocks walk over it (see _day_pieces).
    _days: dict[date, tuple[Piece, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.timezone!r}") from None
        unknown = set(self.weekly_hours) - set(WEEKDAYS)
        if unknown:
            raise ValueError(f"unknown weekdays {sorted(unknown)}; use {', '.join(WEEKDAYS)}")
        hours = tuple(_day_hours(day, self.weekly_hours.get(day, ())) for day in WEEKDAYS)
        if not self.always_open and not any(hours):
            raise ValueError("a calendar needs opening hours on at least one weekday, or always_open=True")
        both = set(self.extra_holidays) & set(self.extra_workdays)
        if both:
            raise ValueError(f"dates both extra holidays and extra workdays: {sorted(both)}")
        if self.holiday_country:
            _check_holiday_country(self.holiday_country, self.holiday_subdivision)
        working_week = _union(*hours[:5])
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_hours", hours)
        object.__setattr__(self, "_makeup_hours", tuple(_union(own, working_week) for own in hours))
        object.__setattr__(self, "_days", {})


@functools.cache
def around_the_clock(timezone: str) -> Calendar:
    return Calendar(timezone=timezone, holiday_country=None, always_open=True)


NoteKind = Literal["after_hours", "closed_weekday", "holiday", "makeup_workday"]


@dataclass(frozen=True)
class Note:
    """Why a stretch of time was skipped (or, for a make-up workday, counted), as data.

    ``day`` is the branch's local date; ``name`` is a holiday's name (``NAMES_LANGUAGE``, from
    the ``holidays`` package, or the custom list's). A public holiday's ``region`` ("CN",
    "GB-ENG") lets a page show its name in its own language (``public_holiday_name``); it
    takes no part in comparisons.
    """

    kind: NoteKind
    day: date
    name: str = ""
    region: str = field(default="", compare=False)


def public_holiday_name(region: str, day: date, language: str | None) -> str | None:
    """A public holiday's name in ``language`` (e.g. ``zh_CN``) where the package has it; None if no holiday."""
    country, _dash, subdivision = region.partition("-")
    try:
        _check_holiday_country(country, subdivision or None)
    except ValueError:
        return None
    return _public_days(country, subdivision or None, day.year, language)[0].get(day)


def public_days(
    country: str, first: date, last: date, subdivision: str | None = None, language: str | None = None
) -> list[Note]:
    """The public holidays and make-up workdays calendars of ``country`` apply from ``first`` to ``last``.

    The same days ``_day_plan`` reads, so what an admin is shown is what the SLA clocks count;
    names in ``language`` (e.g. ``zh_CN``) where the package has it.
    """
    _check_holiday_country(country, subdivision)
    found: list[Note] = []
    for year in range(first.year, last.year + 1):
        names, workdays = _public_days(country, subdivision, year, language)
        found += [Note("holiday", day, name) for day, name in names.items() if first <= day <= last]
        found += [Note("makeup_workday", day) for day in workdays if first <= day <= last]
    return sorted(found, key=lambda note: note.day)


def _day_plan(calendar: Calendar, day: date) -> tuple[Hours, Note | None]:
    """The day's opening hours, and the note explaining them (closed, or a make-up day)."""
    weekday = day.weekday()
    name = calendar.extra_holidays.get(day)
    if name is not None:
        return (), Note("holiday", day, name)
    if day in calendar.extra_workdays:
        return calendar._makeup_hours[weekday], Note("makeup_workday", day)
    if calendar.holiday_country:
        names, workdays = _public_days(calendar.holiday_country, calendar.holiday_subdivision, day.year)
        name = names.get(day)
        if name is not None:
            region = calendar.holiday_country + (f"-{calendar.holiday_subdivision}" if calendar.holiday_subdivision else "")
            return (), Note("holiday", day, name, region)
        if day in workdays:
            return calendar._makeup_hours[weekday], Note("makeup_workday", day)
    hours = calendar._hours[weekday]
    return hours, None if hours else Note("closed_weekday", day)


def _to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    """A naive wall time in ``zone`` as a UTC instant (see the module notes on DST)."""
    aware = wall.replace(tzinfo=zone)
    instant = aware.astimezone(UTC)
    back = instant.astimezone(zone)
    if back.replace(tzinfo=None) == wall:
        return instant  # exists; fold=0 picked the first of two occurrences
    # Skipped by the clocks going forward. fold=0 read it with the offset from before the
    # change, landing as far past the change as the gap is long: search for the change.
    after = back.utcoffset()
    low = int((instant - (after - aware.utcoffset())).timestamp())
    high = int(instant.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == after:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def _day_pieces(calendar: Calendar, day: date) -> tuple[Piece, ...]:
    """One local date's open and closed stretches, end to end from midnight to midnight.

    Cached on the calendar: a sweep walks the same few days for every ticket of a branch.
    """
    pieces = calendar._days.get(day)
    if pieces is not None:
        return pieces
    zone = calendar._zone
    midnight = datetime.combine(day, time())
    day_start, day_end = _to_utc(midnight, zone), _to_utc(midnight + _ONE_DAY, zone)
    hours, note = _day_plan(calendar, day)
    found: list[Piece] = []
    cursor = day_start
    for opens_at, closes_at in hours:
        opens = max(_to_utc(midnight + timedelta(minutes=opens_at), zone), cursor)
        closes = min(_to_utc(midnight + timedelta(minutes=closes_at), zone), day_end)
        if closes <= opens:
            continue
        if cursor < opens:
            found.append(("closed", cursor, opens, Note("after_hours", day)))
        found.append(("counted", opens, closes, note))
        cursor = closes
    if cursor < day_end:
        found.append(("closed", cursor, day_end, Note("after_hours", day) if hours else note))
    if len(calendar._days) >= _MAX_CACHED_DAYS:
        calendar._days.clear()
    pieces = calendar._days[day] = tuple(found)
    return pieces


def calendar_pieces(calendar: Calendar, start: datetime) -> Iterator[Piece]:
    """Open and closed stretches one after another from ``start`` on, day by day, forever."""
    if calendar.always_open:
        yield "counted", start, FOREVER, None
        return
    day = start.astimezone(calendar._zone).date()
    closed_days = 0
    while True:
        pieces = _day_pieces(calendar, day)
        closed_days = 0 if any(piece[0] == "counted" for piece in pieces) else closed_days + 1
        if closed_days > _MAX_CLOSED_DAYS:
            raise ValueError(f"the calendar is closed for more than {_MAX_CLOSED_DAYS} days after {day}")
        for kind, begins, ends, note in pieces:
            if ends > start:
                yield kind, max(begins, start), ends, note
        day += _ONE_DAY


def open_intervals(calendar: Calendar, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The calendar's open stretches between ``start`` and ``end``, as UTC instants."""
    check_aware(start, end)
    end = end.astimezone(UTC)
    for kind, begins, ends, _ in calendar_pieces(calendar, start.astimezone(UTC)):
        if begins >= end:
            return
        if kind == "counted":
            yield begins, min(ends, end)

