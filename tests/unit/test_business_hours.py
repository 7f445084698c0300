"""Checking a branch's weekly business hours, and the public days its calendar applies."""
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.calendars import (
    WEEKDAYS,
    WHOLE_WEEK,
    Calendar,
    HoursProblem,
    OpeningHoursError,
    opening_hours_problems,
    public_days,
)


@pytest.mark.parametrize("hours", [
    {day: [["10:00", "22:00"]] for day in WEEKDAYS},
    {"mon": [["09:00", "12:00"], ["13:00", "18:00"]]},  # a lunch break
    {"fri": [["22:00", "24:00"]], "sat": [["00:00", "02:00"]]},  # past midnight, split at midnight
    {"sat": [["09:00", "12:00"], ["12:00", "18:00"]], "sun": []},  # touching intervals do not overlap
])
def test_usable_hours_have_no_problems(hours):
    assert opening_hours_problems(hours) == {}


@pytest.mark.parametrize("intervals, problem", [
    ([["21:00", "09:00"]], HoursProblem.EMPTY),
    ([["09:00", "09:00"]], HoursProblem.EMPTY),
    ([["09:00", "14:00"], ["13:00", "18:00"]], HoursProblem.OVERLAP),
    ([["13:00", "18:00"], ["09:00", "13:30"]], HoursProblem.OVERLAP),
    ([["09:00", "25:00"]], HoursProblem.NOT_A_TIME),
    ([["24:00", "24:00"]], HoursProblem.NOT_A_TIME),  # midnight closes a day, never opens one
    ([["nine", "18:00"]], HoursProblem.NOT_A_TIME),
    ([["09:00"]], HoursProblem.NOT_A_TIME),
])
def test_each_bad_day_is_named_with_its_problem(intervals, problem):
    hours = {"mon": [["09:00", "18:00"]], "wed": intervals}
    assert opening_hours_problems(hours) == {"wed": problem}


def test_a_week_without_open_hours_is_a_problem_of_the_whole_week():
    assert opening_hours_problems({}) == {WHOLE_WEEK: HoursProblem.CLOSED_ALL_WEEK}
    assert opening_hours_problems({day: [] for day in WEEKDAYS}) == {WHOLE_WEEK: HoursProblem.CLOSED_ALL_WEEK}


def test_a_bad_day_is_reported_alone_not_as_a_closed_week():
    assert opening_hours_problems({"tue": [["18:00", "09:00"]]}) == {"tue": HoursProblem.EMPTY}


def test_unknown_days_are_named():
    assert opening_hours_problems({"mon": [["09:00", "18:00"]], "monday": []}) == {"monday": HoursProblem.UNKNOWN_DAY}


def test_a_calendar_refuses_bad_hours_with_the_same_problem():
    with pytest.raises(OpeningHoursError) as refused:
        Calendar(weekly_hours={"mon": [["09:00", "14:00"], ["13:00", "18:00"]]})
    assert refused.value.problem == HoursProblem.OVERLAP
    assert isinstance(refused.value, ValueError)


TIMES = st.sampled_from(["00:00", "09:00", "12:00", "12:30", "18:00", "24:00", "25:00"])
WEEKS = st.dictionaries(
    st.sampled_from(WEEKDAYS), st.lists(st.lists(TIMES, min_size=2, max_size=2), max_size=3), max_size=7
)


@given(WEEKS)
def test_hours_without_problems_are_exactly_the_hours_a_calendar_accepts(hours):
    try:
        Calendar(weekly_hours=hours, holiday_country=None)
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == (opening_hours_problems(hours) == {})


def test_public_days_list_holidays_and_make_up_workdays_in_the_range():
    days = public_days("CN", date(2026, 1, 1), date(2026, 12, 31))
    assert [note.day for note in days] == sorted(note.day for note in days)
    holidays = {note.day: note.name for note in days if note.kind == "holiday"}
    assert "National Day" in holidays[date(2026, 10, 1)]
    assert any(note.kind == "makeup_workday" and note.day.weekday() >= 5 for note in days)
    assert all(date(2026, 1, 1) <= note.day <= date(2026, 12, 31) for note in days)


def test_public_days_span_the_new_year_and_follow_the_country():
    days = public_days("GB", date(2026, 12, 1), date(2027, 1, 31))
    names = {note.day: note.name for note in days}
    assert names[date(2026, 12, 25)] == "Christmas Day"
    assert date(2027, 1, 1) in names
    assert date(2026, 10, 1) not in names


def test_public_days_of_an_unknown_country_are_refused():
    with pytest.raises(ValueError):
        public_days("XX", date(2026, 1, 1), date(2026, 2, 1))
