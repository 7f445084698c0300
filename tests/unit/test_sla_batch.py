"""The batched clocks (app.core.sla_batch) against the per-ticket ones (app.core.sla.sla_clock), the oracle.

Random calendars (time zones with DST, lunch breaks, hours to midnight, holidays, make-up and custom
days, 24x7), random policies and random status histories (pauses, resolutions, reopens, changes at
one instant or after "now"); many tickets share one laid-out calendar, in random order of time.
Every moment must be the same instant.
"""
from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from app.core import sla, sla_batch
from app.core.calendars import WEEKDAYS, around_the_clock

ZONES = ("Asia/Shanghai", "Europe/London", "America/New_York", "Australia/Lord_Howe", "UTC")
STATUSES = ("new", "in_progress", "waiting_on_customer", "resolved", "closed")
#: Around the Spring Festival, and the spring-forward and fall-back weekends of 2025.
WINDOWS = (datetime(2025, 1, 20, tzinfo=UTC), datetime(2025, 3, 5, tzinfo=UTC), datetime(2025, 10, 20, tzinfo=UTC))


def random_time(rng: random.Random, closing: bool = False) -> int:
    return rng.choice([0, 120, 150, 180, 540, 600, 690, 720, 780, 1080, 1320, 1439] + ([1440] * closing)
                      + [rng.randrange(0, 1440)])


def random_day(rng: random.Random) -> list[tuple[str, str]]:
    cuts = sorted({random_time(rng) for _ in range(rng.choice([0, 2, 2, 4]))} | ({1440} if rng.random() < 0.2 else set()))
    if len(cuts) % 2:
        cuts = cuts[:-1]
    return [(f"{a // 60:02d}:{a % 60:02d}", f"{b // 60:02d}:{b % 60:02d}") for a, b in zip(cuts[::2], cuts[1::2])]


def random_calendar(rng: random.Random) -> sla.Calendar:
    zone = rng.choice(ZONES)
    if rng.random() < 0.1:
        return sla.Calendar(timezone=zone, holiday_country=None, always_open=True)
    while True:
        hours = {day: random_day(rng) for day in WEEKDAYS if rng.random() < 0.85}
        if any(hours.values()):
            break
    base = rng.choice(WINDOWS).date()
    days = [base + timedelta(days=rng.randrange(-5, 40)) for _ in range(rng.randrange(0, 5))]
    extra_holidays = {day: "custom" for day in days[::2]}
    extra_workdays = frozenset(day for day in days[1::2] if day not in extra_holidays)
    return sla.Calendar(
        timezone=zone, weekly_hours=hours, holiday_country=rng.choice([None, "CN", "GB"]),
        extra_holidays=extra_holidays, extra_workdays=extra_workdays,
    )


def random_policy(rng: random.Random) -> sla.SlaPolicy:
    return sla.SlaPolicy(
        rng.choice(sla.PRIORITIES),
        timedelta(minutes=rng.choice([1, 7, 30, 60, 24 * 60, rng.randrange(1, 5000)])),
        timedelta(minutes=rng.choice([60, 8 * 60, 48 * 60, rng.randrange(1, 9000)])),
        business_hours=rng.random() < 0.8,
        warning_ratio=rng.choice([0.8, 0.5, 1.0, 0.33, 0.01, 0.777]),
    )


def random_moment(rng: random.Random, start: datetime, span: timedelta) -> datetime:
    moment = start + span * rng.random()
    if rng.random() < 0.3:
        moment = moment.replace(second=0, microsecond=0)
    return moment


def random_ticket(rng: random.Random) -> dict:
    opened = random_moment(rng, rng.choice(WINDOWS) + timedelta(days=rng.randrange(0, 20)), timedelta(days=3))
    history, at = [sla.StatusChange(opened, "new")], opened
    for _ in range(rng.choice([0, 1, 2, 3, 5, 8])):
        at = at + rng.choice([timedelta(), timedelta(minutes=rng.randrange(1, 600)), timedelta(hours=rng.randrange(1, 90))])
        history.append(sla.StatusChange(at, rng.choice(STATUSES)))
    rng.shuffle(history)  # the clocks sort them (stable), as the stored history may come
    now = random_moment(rng, opened, rng.choice([timedelta(minutes=30), timedelta(days=2), timedelta(days=15)]))
    first_response = None
    if rng.random() < 0.5:
        first_response = random_moment(rng, opened, timedelta(hours=rng.randrange(1, 72)))
    pausing = rng.choice([sla.DEFAULT_PAUSING_STATUSES, frozenset(), frozenset({"waiting_on_customer", "new"}),
                          frozenset({"in_progress"})])
    return {"opened_at": opened, "history": history, "now": now, "first_response_at": first_response,
            "pausing_statuses": pausing}


def moments(deadline) -> tuple:
    return deadline.due_at, deadline.warning_at, deadline.stopped_at, deadline.state


@pytest.mark.parametrize("seed", range(40))
def test_batched_clocks_equal_the_per_ticket_clocks(seed):
    rng = random.Random(seed)
    calendar = random_calendar(rng)
    policies = [random_policy(rng) for _ in range(3)]
    shared = {True: sla_batch.OpenTime(calendar), False: sla_batch.OpenTime(around_the_clock(calendar.timezone))}
    amounts = {policy: sla_batch.PolicyAmounts.of(policy) for policy in policies}
    for _ in range(40):
        policy, ticket = rng.choice(policies), random_ticket(rng)
        clock = sla.sla_clock(policy, calendar, **ticket)
        # The same ticket seen again at the instants where its states change.
        instants = [ticket["now"]] + [moment for deadline in (clock.first_response, clock.resolution)
                                      for moment in (deadline.due_at, deadline.warning_at) if moment is not None]
        for now in instants:
            ticket["now"] = now
            expected = sla.sla_clock(policy, calendar, **ticket)
            found = sla_batch.clock_times(amounts[policy], shared[policy.business_hours], **ticket)
            for name in ("first_response", "resolution"):
                assert moments(getattr(found, name)) == moments(getattr(expected, name)), (name, ticket, policy, calendar)
            assert sla.next_deadline(found) == sla.next_deadline(expected)


def test_a_shared_layout_answers_tickets_earlier_than_what_it_laid_out():
    calendar = sla.Calendar(weekly_hours={day: [("09:00", "18:00")] for day in WEEKDAYS[:5]})
    policy = sla.DEFAULT_POLICIES["normal"]
    shared, amounts = sla_batch.OpenTime(calendar), sla_batch.PolicyAmounts.of(policy)
    for opened in (datetime(2025, 3, 20, 3, tzinfo=UTC), datetime(2025, 1, 27, 3, tzinfo=UTC),
                   datetime(2025, 3, 21, 9, 30, tzinfo=UTC)):
        ticket = {"opened_at": opened, "history": [sla.StatusChange(opened, "new")], "now": opened}
        found = sla_batch.clock_times(amounts, shared, **ticket)
        expected = sla.sla_clock(policy, calendar, **ticket)
        assert moments(found.resolution) == moments(expected.resolution)
        assert moments(found.first_response) == moments(expected.first_response)


def test_a_calendar_closed_for_good_is_refused_like_the_per_ticket_clock():
    closed = {date(2025, 1, 1) + timedelta(days=n): "closed" for n in range(500)}
    calendar = sla.Calendar(weekly_hours={"mon": [("09:00", "10:00")]}, holiday_country=None, extra_holidays=closed)
    opened = datetime(2024, 12, 31, 12, tzinfo=UTC)
    ticket = {"opened_at": opened, "history": [], "now": opened}
    with pytest.raises(ValueError, match="closed for more than"):
        sla.sla_clock(sla.DEFAULT_POLICIES["normal"], calendar, **ticket)
    with pytest.raises(ValueError, match="closed for more than"):
        sla_batch.clock_times(sla_batch.PolicyAmounts.of(sla.DEFAULT_POLICIES["normal"]),
                              sla_batch.OpenTime(calendar), **ticket)
