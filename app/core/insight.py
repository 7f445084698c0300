"""Rules of the analysis (数据汇总分析) over plain numbers: periods, key issues, alerts.

The dashboard, the alert job and the reports all ask these functions, so a figure means the
same thing everywhere. Shares are fractions (0.3), not percents; "no data" is None.
"""
from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

#: A problem mentioned by at least this many customers is a key improvement item (重点改进项).
KEY_ISSUE_MIN_CUSTOMERS = 3
#: A key issue affecting at least this share of the responses is a first-level item (一级改进项).
FIRST_LEVEL_SHARE = 0.30
#: The guides' ceiling for negative feedback.
NEGATIVE_RATE_TARGET = 0.05
#: The alert compares the last 7 days with the 28 before them.
RECENT_DAYS, BASELINE_DAYS = 7, 28


class Grain(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def period_start(day: date, grain: Grain) -> date:
    """The first day of the period ``day`` falls in: itself, its ISO week's Monday, or the 1st."""
    if grain == Grain.DAY:
        return day
    if grain == Grain.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def period_starts(first: date, last: date, grain: Grain) -> list[date]:
    """Every period from the one holding ``first`` to the one holding ``last``, empty ones included."""
    starts: list[date] = []
    current = period_start(first, grain)
    while current <= last:
        starts.append(current)
        if grain == Grain.DAY:
            current += timedelta(days=1)
        elif grain == Grain.WEEK:
            current += timedelta(days=7)
        else:
            current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
    return starts


def grain_for(first: date, last: date) -> Grain:
    """A readable trend: days up to a month, weeks up to half a year, months beyond."""
    span = (last - first).days
    if span <= 31:
        return Grain.DAY
    return Grain.WEEK if span <= 183 else Grain.MONTH


class IssueLevel(enum.StrEnum):
    FIRST = "first"  # ≥ 30 % of the responses
    KEY = "key"      # ≥ 3 customers


@dataclass(frozen=True)
class KeyIssue:
    problem: str
    customers: int
    share: float
    level: IssueLevel


def key_issues(customers_by_problem: Mapping[str, int], responses: int) -> list[KeyIssue]:
    """Problems mentioned by ≥ 3 customers, first-level ones first, then by how many mentioned them."""
    issues = []
    for problem, customers in customers_by_problem.items():
        if customers < KEY_ISSUE_MIN_CUSTOMERS or responses <= 0:
            continue
        share = customers / responses
        level = IssueLevel.FIRST if share >= FIRST_LEVEL_SHARE else IssueLevel.KEY
        issues.append(KeyIssue(problem, customers, share, level))
    return sorted(issues, key=lambda i: (i.level != IssueLevel.FIRST, -i.customers, i.problem))


@dataclass(frozen=True)
class Sample:
    """A score over a period and how many responses it rests on."""

    value: float | None
    size: int


def relative_drop(recent: Sample, baseline: Sample) -> float | None:
    """How much lower recent is than baseline, as a share of baseline (0.5 = half); None without data."""
    if recent.value is None or baseline.value is None or baseline.value <= 0:
        return None
    return (baseline.value - recent.value) / baseline.value


#: Hysteresis: an open alert stays open until its figure is back past this share of the threshold (a drop
#: alert opened above a 50 % drop closes below 40 %; a negative-rate alert opened above 5 % closes below 4 %),
#: so a figure hovering at the threshold does not open and close an episode every hour.
RELEASE_SHARE = 0.8


def drop_alert(
    recent: Sample, baseline: Sample, max_drop: float, min_sample: int, is_open: bool = False,
    release: float = RELEASE_SHARE,
) -> bool:
    """A sharp drop: both periods have at least ``min_sample`` responses and recent fell by more than ``max_drop``
    (more than ``max_drop × release`` to stay open)."""
    if recent.size < min_sample or baseline.size < min_sample:
        return False
    drop = relative_drop(recent, baseline)
    return drop is not None and drop > (max_drop * release if is_open else max_drop)


def negative_rate(negative: int, responses: int) -> float | None:
    return negative / responses if responses else None


def negative_rate_alert(
    negative: int, responses: int, min_sample: int, ceiling: float = NEGATIVE_RATE_TARGET, is_open: bool = False,
    release: float = RELEASE_SHARE,
) -> bool:
    rate = negative_rate(negative, responses)
    return responses >= min_sample and rate is not None and rate > (ceiling * release if is_open else ceiling)


@dataclass(frozen=True)
class BurstRule:
    """The real-time alert: at least ``min_negative`` negative responses that are at least ``min_share`` of the
    branch's responses within ``window_minutes`` (defaults 3, 50 %, 15 minutes; set per branch)."""

    min_negative: int = 3
    min_share: float = 0.5
    window_minutes: int = 15

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.window_minutes)


def burst_alert(negative: int, responses: int, rule: BurstRule) -> bool:
    """Whether a window with ``negative`` of ``responses`` is a burst of unhappy customers."""
    return responses > 0 and negative >= rule.min_negative and negative / responses >= rule.min_share


def burst_over(last_held: datetime, now: datetime, rule: BurstRule) -> bool:
    """Hysteresis of the burst alert: an episode ends once the burst has not held for a whole window."""
    return now - last_held >= rule.window


def completion_rate(completed: int, due: int) -> float | None:
    """Share of improvement actions due that were completed (target ≥ 95 %)."""
    return completed / due if due else None
