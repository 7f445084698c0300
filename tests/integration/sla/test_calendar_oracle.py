"""Branch calendars and business time against the minute-by-minute oracle (tests/oracles/calendar_minutes.py).

Random branches (Asia/Shanghai or Europe/London, their default holiday region or another one,
open on public holidays or not, random weekly hours on a half-hour grid, some around the
1 a.m. DST changes), random starts over 2025-2027 with extra weight on the DST weeks and the
Chinese breaks, random targets: the due time and the business time between two instants
must be the oracle's to the second.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, example, given, settings, strategies as st

from app.core.business_time import add_business_time, business_time_between
from app.models import Branch
from app.services.branches.calendars import branch_calendar, holiday_region, split_region
from tests.oracles.calendar_minutes import DAY_KEYS, MinuteCalendar, due_after, open_minutes_between

ZONES = ("Asia/Shanghai", "Europe/London")
FIRST, LAST = datetime(2025, 1, 1, tzinfo=UTC), datetime(2027, 12, 20, tzinfo=UTC)
#: Where calendars are most often wrong: DST changes in London, the breaks in China.
HOT_DAYS = (
    date(2025, 3, 30), date(2025, 10, 26), date(2026, 3, 29), date(2026, 10, 25), date(2027, 3, 28), date(2027, 10, 31),
    date(2025, 1, 28), date(2025, 5, 1), date(2025, 10, 1), date(2026, 1, 1), date(2026, 2, 15),
    date(2026, 10, 1), date(2027, 2, 5), date(2025, 4, 18), date(2026, 8, 31), date(2027, 4, 2),
)
OWN_CLOSED_DAY = date(2026, 10, 9)


def _time(half_hours: int) -> str:
    return "24:00" if half_hours == 48 else f"{half_hours // 2:02d}:{30 * (half_hours % 2):02d}"


@st.composite
def day_hours(draw):
    kind = draw(st.sampled_from(["closed", "one", "two", "night"]))
    if kind == "closed":
        return []
    if kind == "night":  # around the DST changes at 1 a.m. (London) and midnight
        opens = draw(st.integers(0, 3))
        return [(_time(opens), _time(draw(st.integers(opens + 1, 8))))]
    cuts = sorted(draw(st.sets(st.integers(0, 48), min_size=2 if kind == "one" else 4, max_size=2 if kind == "one" else 4)))
    return [(_time(cuts[i]), _time(cuts[i + 1])) for i in range(0, len(cuts), 2)]


@st.composite
def branches(draw):
    zone = draw(st.sampled_from(ZONES))
    hours = {key: draw(day_hours()) for key in DAY_KEYS}
    if not any(hours.values()):
        hours["mon"] = [("09:00", "17:00")]
    other = {"Asia/Shanghai": "GB-ENG", "Europe/London": "CN"}[zone]
    region = draw(st.sampled_from([None, None, other, "GB-SCT"]))
    return Branch(id=1, timezone=zone, opening_hours=hours, holiday_region=region,
                  open_on_public_holidays=draw(st.booleans()))


@st.composite
def starts(draw):
    if draw(st.booleans()):
        day = draw(st.sampled_from(HOT_DAYS)) + timedelta(days=draw(st.integers(-4, 3)))
        moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return moment + timedelta(minutes=draw(st.integers(-12 * 60, 36 * 60)))
    return FIRST + timedelta(minutes=draw(st.integers(0, int((LAST - FIRST) / timedelta(minutes=1)))))


def oracle_for(branch: Branch) -> MinuteCalendar:
    country, subdivision = (None, None) if branch.open_on_public_holidays else split_region(holiday_region(branch))
    return MinuteCalendar(branch.timezone, branch.opening_hours, country, subdivision, {OWN_CLOSED_DAY})


def calendar_for(branch: Branch):
    return branch_calendar(branch, {None: {OWN_CLOSED_DAY: "Stocktaking"}})


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LONDON_NIGHTS = Branch(id=1, timezone="Europe/London", holiday_region=None, open_on_public_holidays=False,
                       opening_hours={key: [("00:30", "01:30")] for key in DAY_KEYS})
WEEKEND_BRANCH = Branch(id=1, timezone="Asia/Shanghai", holiday_region=None, open_on_public_holidays=False,
                        opening_hours={key: [("10:00", "22:00")] for key in DAY_KEYS})


@SETTINGS
@given(branches(), starts(), st.integers(0, 16 * 60))
@example(WEEKEND_BRANCH, datetime(2025, 1, 31, 13, 0, tzinfo=UTC), 60)  # Fri 21:00 in the Spring Festival break
@example(LONDON_NIGHTS, datetime(2026, 10, 24, 23, 50, tzinfo=UTC), 90)  # the night the clocks go back
@example(LONDON_NIGHTS, datetime(2026, 3, 28, 23, 50, tzinfo=UTC), 30)  # the night they go forward
def test_due_times_are_the_minute_oracles(branch, start, minutes):
    target = timedelta(minutes=minutes)

    expected = due_after(oracle_for(branch), start, target)
    due, explanation = add_business_time(calendar_for(branch), start, target)

    if expected is not None:  # None: more than 60 days away, beyond what the oracle walks
        assert due == expected, (branch.timezone, branch.opening_hours, branch.holiday_region, start)
        assert explanation.counted == target


@SETTINGS
@given(branches(), starts(), st.integers(0, 10 * 24 * 60))
def test_business_time_between_two_instants_is_the_minute_oracles(branch, start, span):
    end = start + timedelta(minutes=span)

    counted = business_time_between(calendar_for(branch), start, end)

    assert counted == timedelta(minutes=open_minutes_between(oracle_for(branch), start, end))
