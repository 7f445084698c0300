"""Periods, key issues and alert rules of the analysis."""
from datetime import date

import pytest

from app.core.insight import (
    Grain,
    IssueLevel,
    Sample,
    drop_alert,
    grain_for,
    key_issues,
    negative_rate_alert,
    period_start,
    period_starts,
)


def test_weeks_start_on_monday_and_months_on_the_first():
    sunday = date(2026, 11, 22)
    assert period_start(sunday, Grain.WEEK) == date(2026, 11, 16)
    assert period_start(sunday, Grain.MONTH) == date(2026, 11, 1)
    assert period_start(sunday, Grain.DAY) == sunday


def test_every_period_is_listed_even_empty_ones_across_a_year_end():
    assert period_starts(date(2026, 11, 30), date(2027, 2, 1), Grain.MONTH) == [
        date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)]
    assert len(period_starts(date(2026, 1, 1), date(2026, 12, 31), Grain.DAY)) == 365
    assert period_starts(date(2026, 11, 18), date(2026, 11, 30), Grain.WEEK) == [
        date(2026, 11, 16), date(2026, 11, 23), date(2026, 11, 30)]


@pytest.mark.parametrize("days, grain", [(0, Grain.DAY), (31, Grain.DAY), (32, Grain.WEEK), (183, Grain.WEEK), (365, Grain.MONTH)])
def test_the_trend_grain_keeps_the_chart_readable(days, grain):
    first = date(2026, 1, 1)
    assert grain_for(first, date.fromordinal(first.toordinal() + days)) == grain


def test_three_customers_make_a_key_issue_and_thirty_percent_a_first_level_one():
    issues = key_issues({"waiting": 30, "attitude": 3, "dirty": 2}, responses=100)
    assert [(i.problem, i.level) for i in issues] == [("waiting", IssueLevel.FIRST), ("attitude", IssueLevel.KEY)]
    assert issues[0].share == pytest.approx(0.30)
    assert key_issues({"waiting": 5}, responses=0) == []


def test_a_drop_alerts_only_beyond_the_share_and_with_enough_responses():
    assert drop_alert(Sample(0.40, 30), Sample(0.90, 100), max_drop=0.5, min_sample=20)
    assert not drop_alert(Sample(0.45, 30), Sample(0.90, 100), max_drop=0.5, min_sample=20)  # exactly half
    assert not drop_alert(Sample(0.10, 5), Sample(0.90, 100), max_drop=0.5, min_sample=20)
    assert not drop_alert(Sample(None, 30), Sample(0.90, 100), max_drop=0.5, min_sample=20)


def test_negative_rate_alerts_above_five_percent_with_enough_responses():
    assert negative_rate_alert(6, 100, min_sample=20)
    assert not negative_rate_alert(5, 100, min_sample=20)
    assert not negative_rate_alert(3, 10, min_sample=20)
