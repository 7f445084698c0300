"""Monthly roll-ups: each month is the sum of its days, and figures read from them equal the naive recount.

The history crosses several month boundaries, with responses close to local midnight on the last
and first day of each month in Shanghai and London (a London evening of the 31st is the 1st in
Shanghai and in UTC), flagged ones among them.
"""
from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.core.insight import Grain
from app.extensions import db
from app.models import (
    AnswerRollup,
    Branch,
    MonthlyAnswerRollup,
    MonthlyOptionRollup,
    MonthlyResponseRollup,
    OptionRollup,
    Response,
    ResponseRollup,
)
from app.services import dashboard
from app.services.dashboard.scores import Span, span
from app.services.insight import rollups
from tests.integration.insight.test_dashboard import add_response, compare

UTC = ZoneInfo("UTC")


def test_a_range_splits_into_its_whole_months_and_the_days_around_them():
    assert span(date(2026, 1, 10), date(2026, 4, 5)) == Span(
        ((date(2026, 1, 10), date(2026, 1, 31)), (date(2026, 4, 1), date(2026, 4, 5))),
        (date(2026, 2, 1), date(2026, 3, 1)),
    )
    assert span(date(2026, 2, 1), date(2026, 3, 31)) == Span((), (date(2026, 2, 1), date(2026, 3, 1)))
    assert span(date(2025, 12, 2), date(2026, 12, 1)) == Span(
        ((date(2025, 12, 2), date(2025, 12, 31)), (date(2026, 12, 1), date(2026, 12, 1))),
        (date(2026, 1, 1), date(2026, 11, 1)),
    )
    assert span(date(2026, 2, 1), date(2026, 2, 28)) == Span((), (date(2026, 2, 1), date(2026, 2, 1)))
    # No whole month inside: every day from the daily table.
    assert span(date(2026, 1, 10), date(2026, 2, 20)) == Span(((date(2026, 1, 10), date(2026, 2, 20)),), None)
    assert span(date(2026, 2, 1), date(2026, 2, 27)) == Span(((date(2026, 2, 1), date(2026, 2, 27)),), None)
    assert span(date(2026, 1, 10), date(2026, 4, 5), whole_months=False) == Span(
        ((date(2026, 1, 10), date(2026, 4, 5)),), None
    )


def _values(rng: random.Random) -> dict:
    mood = rng.choices([1, 2, 3, 4, 5], weights=[10, 10, 20, 35, 25])[0]
    values: dict = {key: max(1, min(5, mood + rng.choice([-1, 0, 0, 1]))) for key in ("product", "service", "environment")}
    values["nps"] = max(0, min(10, mood * 2 + rng.choice([-2, -1, 0, 1])))
    if values["service"] <= 3:
        values["service_problem"] = rng.sample(["waiting", "attitude", "knowledge", "after_sales"], rng.randint(1, 2))
    return values


def _months_back(today: date, count: int) -> date:
    month = today.replace(day=1)
    for _ in range(count):
        month = (month - timedelta(days=1)).replace(day=1)
    return month


@pytest.fixture
def months(app, demo):
    """Responses over the last three whole months and this one; roll-ups rebuilt."""
    with app.app_context():
        today = dashboard.home_today()
        start = _months_back(today, 3)
        rng = random.Random(7)
        branches = list(db.session.scalars(select(Branch).order_by(Branch.id)))
        version = db.session.scalar(select(Response.version_id).limit(1))
        for _ in range(160):
            branch = rng.choice(branches)
            day = start + timedelta(days=rng.randint(0, (today - start).days))
            local = datetime.combine(day, time(rng.randint(0, 23), rng.randint(0, 59)), ZoneInfo(branch.timezone))
            flagged = rng.random() < 0.15
            add_response(branch, version, local.astimezone(UTC), _values(rng), flags=["too_fast"] if flagged else [],
                         review=rng.choice([None, "cleared"]) if flagged else None)
        # Either side of each month's local midnight, in both time zones.
        month = start
        while month <= today:
            for branch in branches:
                zone = ZoneInfo(branch.timezone)
                for moment in (datetime.combine(month - timedelta(days=1), time(23, 30), zone),
                               datetime.combine(month, time(0, 15), zone)):
                    add_response(branch, version, moment.astimezone(UTC), _values(rng))
            month = rollups.next_month(month)
        rollups.rebuild_all()
        db.session.commit()
    return {"today": today, "start": start}


def _sums(model, period) -> dict:
    """Every roll-up row of ``model`` summed per (branch, month, version, counted, channel, question, option)."""
    columns = [c.name for c in model.__table__.columns]
    keys = [c for c in columns if c in ("branch_id", "version_id", "counted", "channel", "question_id", "option")]
    values = [c for c in columns if c not in keys and c not in ("day", "month")]
    found: dict = defaultdict(lambda: [0] * len(values))
    for row in db.session.execute(select(model)).scalars():
        key = (rollups.month_start(getattr(row, period)), *(getattr(row, k) for k in keys))
        for i, name in enumerate(values):
            found[key][i] += getattr(row, name)
    return dict(found)


def assert_months_equal_their_days() -> None:
    for daily, monthly in ((ResponseRollup, MonthlyResponseRollup), (AnswerRollup, MonthlyAnswerRollup),
                           (OptionRollup, MonthlyOptionRollup)):
        assert _sums(monthly, "month") == _sums(daily, "day"), monthly.__tablename__
        assert all(m.month.day == 1 for m in db.session.scalars(select(monthly)))


def test_each_month_is_the_sum_of_its_days_after_a_full_and_after_a_partial_rebuild(app, months):
    with app.app_context():
        assert_months_equal_their_days()
        assert db.session.query(MonthlyAnswerRollup).count() > 0
        # A late response on the last evening of last month in London, rolled up by the sweep.
        london = db.session.scalar(select(Branch).where(Branch.code == "LDN-SOHO"))
        version = db.session.scalar(select(Response.version_id).limit(1))
        last_evening = datetime.combine(months["today"].replace(day=1) - timedelta(days=1), time(23, 50),
                                        ZoneInfo(london.timezone))
        add_response(london, version, last_evening.astimezone(UTC), {"product": 1, "service": 1, "environment": 1,
                                                                    "nps": 0, "service_problem": ["waiting"]})
        rollups.mark_dirty(london.id, last_evening.date())
        assert rollups.rebuild_dirty() == 1
        db.session.commit()
        assert_months_equal_their_days()


def _ranges(today: date, start: date) -> dict:
    second = rollups.next_month(start)
    return {
        "days, whole months, days": (start + timedelta(days=9), today, Grain.MONTH),
        "whole months only": (start, rollups.month_start(today) - timedelta(days=1), Grain.MONTH),
        "by week across months": (second - timedelta(days=3), today, Grain.WEEK),
        "inside one month": (second + timedelta(days=4), second + timedelta(days=19), Grain.DAY),
        "a year by month": (today - timedelta(days=364), today, Grain.MONTH),
    }


@pytest.mark.parametrize("include_flagged", [False, True], ids=["flagged-excluded", "flagged-included"])
@pytest.mark.parametrize("name", ["days, whole months, days", "whole months only", "by week across months",
                                  "inside one month", "a year by month"])
def test_figures_from_months_equal_the_naive_recount(app, months, name, include_flagged):
    first, last, grain = _ranges(months["today"], months["start"])[name]
    with app.app_context():
        shown = compare("admin", months["today"], grain, date_from=first, date_to=last,
                        include_flagged=include_flagged)
        london = db.session.scalar(select(Branch.id).where(Branch.code == "LDN-SOHO"))
        compare("admin", months["today"], grain, date_from=first, date_to=last, branch_ids=(london,),
                include_flagged=include_flagged)
        compare("supervisor", months["today"], grain, date_from=first, date_to=last, include_flagged=include_flagged)
    assert shown["responses"] > 0 and shown["trend"]
