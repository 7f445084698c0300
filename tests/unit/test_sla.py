from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.sla import (
    DEFAULT_POLICIES,
    WEEKDAYS,
    Calendar,
    Note,
    Pause,
    SlaPolicy,
    SlaState,
    StatusChange,
    add_business_time,
    business_time_between,
    find_first_response,
    next_deadline,
    open_intervals,
    pauses_from_history,
    resolution_period,
    sla_clock,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
LONDON = ZoneInfo("Europe/London")
OFFICE_HOURS = {day: [("09:00", "18:00")] for day in WEEKDAYS[:5]}
RESTAURANT_HOURS = {day: [["10:00", "22:00"]] for day in WEEKDAYS}  # as Branch.opening_hours stores it
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


def shanghai(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def office(**overrides) -> Calendar:
    return Calendar(**{"weekly_hours": OFFICE_HOURS, **overrides})


def kinds(explanation) -> list[str]:
    return [entry.kind for entry in explanation.entries]


def closed_notes(explanation) -> list[Note]:
    return [note for entry in explanation.entries if entry.kind == "closed" for note in entry.notes]


def around_the_clock_policy(**overrides) -> SlaPolicy:
    values = {
        "priority": "normal",
        "first_response": timedelta(minutes=30),
        "resolution": timedelta(hours=48),
        "business_hours": False,
    }
    return SlaPolicy(**{**values, **overrides})


# --- Calendars: weekends, holidays, make-up days ------------------------------


def test_a_friday_evening_ticket_is_due_on_monday_morning():
    due, explanation = add_business_time(office(holiday_country=None), shanghai(2026, 3, 6, 17, 30), HOUR)

    assert due == shanghai(2026, 3, 9, 9, 30)
    assert kinds(explanation) == ["start", "counted", "closed", "counted", "due"]
    assert Note("closed_weekday", date(2026, 3, 7)) in closed_notes(explanation)
    assert Note("closed_weekday", date(2026, 3, 8)) in closed_notes(explanation)


def test_spring_festival_days_are_skipped():
    due, explanation = add_business_time(office(), shanghai(2026, 2, 14, 17, 30), HOUR)

    assert due == shanghai(2026, 2, 24, 9, 30)  # Sun 15 to Mon 23 February are off in 2026
    names = {note.name for note in closed_notes(explanation) if note.kind == "holiday"}
    assert "Chinese New Year (Spring Festival)" in names
    assert explanation.counted == HOUR


def test_an_adjusted_working_saturday_is_open_with_weekday_hours():
    due, explanation = add_business_time(office(), shanghai(2026, 2, 13, 17, 30), HOUR)

    assert due == shanghai(2026, 2, 14, 9, 30)  # Saturday 14 February 2026 is a working day in China
    saturday = [entry for entry in explanation.entries if entry.kind == "counted"][-1]
    assert saturday.notes == (Note("makeup_workday", date(2026, 2, 14)),)


def test_a_make_up_day_keeps_its_own_hours_and_adds_the_weekday_hours():
    calendar = office(weekly_hours={**OFFICE_HOURS, "sat": [("08:00", "12:00")]})

    intervals = list(open_intervals(calendar, shanghai(2026, 2, 14), shanghai(2026, 2, 15)))

    assert intervals == [(shanghai(2026, 2, 14, 8), shanghai(2026, 2, 14, 18))]


def test_custom_holidays_close_the_day_and_show_their_name():
    calendar = office(holiday_country=None, extra_holidays={date(2026, 3, 9): "Staff training"})

    due, explanation = add_business_time(calendar, shanghai(2026, 3, 6, 17, 30), HOUR)

    assert due == shanghai(2026, 3, 10, 9, 30)
    assert Note("holiday", date(2026, 3, 9), "Staff training") in closed_notes(explanation)


def test_custom_workdays_open_a_day_that_would_be_closed():
    sunday, national_day = date(2026, 3, 8), date(2026, 10, 1)
    calendar = office(extra_workdays=frozenset({sunday, national_day}))

    assert add_business_time(calendar, shanghai(2026, 3, 6, 17, 30), HOUR)[0] == shanghai(2026, 3, 8, 9, 30)
    assert add_business_time(calendar, shanghai(2026, 9, 30, 17, 30), HOUR)[0] == shanghai(2026, 10, 1, 9, 30)


def test_other_countries_holidays_and_regions_can_be_used():
    england = office(timezone="Europe/London", holiday_country="GB", holiday_subdivision="ENG")

    due, _ = add_business_time(england, london(2026, 4, 2, 17, 30), HOUR)

    assert due == london(2026, 4, 7, 9, 30)  # Good Friday and Easter Monday are off in England


def test_a_24x7_calendar_ignores_nights_weekends_and_holidays():
    calendar = Calendar(timezone="Asia/Shanghai", always_open=True)
    start = shanghai(2026, 2, 15, 23, 0)

    due, explanation = add_business_time(calendar, start, timedelta(hours=48))

    assert due == start + timedelta(hours=48)
    assert kinds(explanation) == ["start", "counted", "due"]


def test_the_urgent_policy_counts_around_the_clock_even_where_the_branch_keeps_office_hours():
    opened = shanghai(2026, 2, 17, 23, 0)  # a holiday night

    clock = sla_clock(DEFAULT_POLICIES["urgent"], office(), opened_at=opened, history=[], now=opened)

    assert clock.first_response.due_at == opened + timedelta(minutes=30)
    assert clock.resolution.due_at == opened + HOUR


def test_a_calendar_accepts_opening_hours_as_the_branch_stores_them():
    calendar = Calendar(weekly_hours=RESTAURANT_HOURS, holiday_country=None)

    assert list(open_intervals(calendar, shanghai(2026, 3, 10, 9), shanghai(2026, 3, 10, 23))) == [
        (shanghai(2026, 3, 10, 10), shanghai(2026, 3, 10, 22))
    ]


def test_a_day_can_have_a_lunch_break_and_open_until_midnight():
    calendar = Calendar(weekly_hours={"mon": [("13:00", "24:00"), ("09:00", "12:00")]}, holiday_country=None)

    intervals = list(open_intervals(calendar, shanghai(2026, 3, 9), shanghai(2026, 3, 10)))

    assert intervals == [
        (shanghai(2026, 3, 9, 9), shanghai(2026, 3, 9, 12)),
        (shanghai(2026, 3, 9, 13), shanghai(2026, 3, 10, 0)),
    ]


# --- Pauses -------------------------------------------------------------------


def test_a_pause_across_closing_time_counts_only_open_unpaused_time():
    calendar = Calendar(weekly_hours=RESTAURANT_HOURS, holiday_country=None)
    waiting = Pause(shanghai(2026, 3, 10, 20, 30), shanghai(2026, 3, 11, 10, 15), "waiting_on_customer")

    due, explanation = add_business_time(calendar, shanghai(2026, 3, 10, 20, 0), 2 * HOUR, [waiting])

    assert due == shanghai(2026, 3, 11, 11, 45)  # 30 min before the pause, 90 min after it
    assert [(entry.kind, entry.at, entry.until) for entry in explanation.entries] == [
        ("start", shanghai(2026, 3, 10, 20, 0), None),
        ("counted", shanghai(2026, 3, 10, 20, 0), shanghai(2026, 3, 10, 20, 30)),
        ("paused", shanghai(2026, 3, 10, 20, 30), shanghai(2026, 3, 11, 10, 15)),
        ("counted", shanghai(2026, 3, 11, 10, 15), shanghai(2026, 3, 11, 11, 45)),
        ("due", shanghai(2026, 3, 11, 11, 45), None),
    ]
    assert explanation.entries[2].status == "waiting_on_customer"


def test_a_pause_while_the_branch_is_closed_does_not_move_the_due_time():
    calendar = Calendar(weekly_hours=RESTAURANT_HOURS, holiday_country=None)
    night = Pause(shanghai(2026, 3, 10, 23, 0), shanghai(2026, 3, 11, 9, 0), "waiting_on_customer")

    with_pause, _ = add_business_time(calendar, shanghai(2026, 3, 10, 21, 0), 2 * HOUR, [night])
    without, _ = add_business_time(calendar, shanghai(2026, 3, 10, 21, 0), 2 * HOUR)

    assert with_pause == without == shanghai(2026, 3, 11, 11, 0)


def test_pauses_are_rebuilt_from_the_status_history():
    history = [
        StatusChange(utc(2026, 3, 10, 9), "new"),
        StatusChange(utc(2026, 3, 10, 10), "waiting_on_customer"),
        StatusChange(utc(2026, 3, 10, 11), "on_hold"),
        StatusChange(utc(2026, 3, 10, 12), "in_progress"),
        StatusChange(utc(2026, 3, 10, 13), "waiting_on_customer"),
        StatusChange(utc(2026, 3, 10, 15), "in_progress"),
    ]
    pausing = frozenset({"waiting_on_customer", "on_hold"})

    assert pauses_from_history(history, pausing) == (
        Pause(utc(2026, 3, 10, 10), utc(2026, 3, 10, 11), "waiting_on_customer"),
        Pause(utc(2026, 3, 10, 11), utc(2026, 3, 10, 12), "on_hold"),
        Pause(utc(2026, 3, 10, 13), utc(2026, 3, 10, 15), "waiting_on_customer"),
    )
    assert pauses_from_history(history, pausing, until=utc(2026, 3, 10, 14))[-1] == Pause(
        utc(2026, 3, 10, 13), None, "waiting_on_customer"
    )
    assert pauses_from_history(history) == (  # by default only "waiting on customer" pauses
        Pause(utc(2026, 3, 10, 10), utc(2026, 3, 10, 11), "waiting_on_customer"),
        Pause(utc(2026, 3, 10, 13), utc(2026, 3, 10, 15), "waiting_on_customer"),
    )


def test_a_paused_ticket_has_no_due_time_and_its_remaining_time_is_frozen():
    opened = utc(2026, 3, 10, 10)
    history = [StatusChange(opened, "new"), StatusChange(opened + 3 * HOUR, "waiting_on_customer")]
    policy = around_the_clock_policy()

    def resolution(now: datetime):
        return sla_clock(
            policy, office(), opened_at=opened, history=history, now=now, first_response_at=opened + MINUTE
        ).resolution

    early, late = resolution(opened + 4 * HOUR), resolution(opened + 30 * HOUR)
    assert early.state is late.state is SlaState.PAUSED
    assert early.due_at is None
    assert early.remaining == late.remaining == timedelta(hours=45)
    assert early.explanation.entries[-1].kind == "paused" and early.explanation.entries[-1].until is None


def test_the_due_time_comes_back_later_by_the_length_of_the_pause():
    opened = utc(2026, 3, 10, 10)
    history = [
        StatusChange(opened + 3 * HOUR, "waiting_on_customer"),
        StatusChange(opened + 8 * HOUR, "in_progress"),
    ]

    clock = sla_clock(around_the_clock_policy(), office(), opened_at=opened, history=history, now=opened + 9 * HOUR)

    assert clock.resolution.due_at == opened + timedelta(hours=48 + 5)
    assert clock.resolution.elapsed == 4 * HOUR


def test_a_clock_breached_before_a_pause_stays_breached():
    opened = utc(2026, 3, 10, 10)
    history = [StatusChange(opened + HOUR, "waiting_on_customer")]

    clock = sla_clock(around_the_clock_policy(), office(), opened_at=opened, history=history, now=opened + 2 * HOUR)

    assert clock.first_response.state is SlaState.BREACHED
    assert clock.first_response.due_at == opened + timedelta(minutes=30)
    assert clock.resolution.state is SlaState.PAUSED


# --- Daylight saving time (Europe/London: forward 29 March, back 25 October 2026) ---


def test_a_24x7_target_across_spring_forward_is_48_real_hours():
    calendar = Calendar(timezone="Europe/London", always_open=True)
    start = london(2026, 3, 28, 12, 0)

    due, explanation = add_business_time(calendar, start, timedelta(hours=48))

    assert due - start == timedelta(hours=48)
    assert due.astimezone(LONDON) == london(2026, 3, 30, 13, 0)  # 49 hours on the wall clock
    assert explanation.counted == timedelta(hours=48)


def test_a_24x7_target_across_fall_back_is_48_real_hours():
    calendar = Calendar(timezone="Europe/London", always_open=True)
    start = london(2026, 10, 24, 12, 0)

    due, _ = add_business_time(calendar, start, timedelta(hours=48))

    assert due == start.astimezone(UTC) + timedelta(hours=48)  # aware + timedelta in one zone is wall-clock arithmetic
    assert due.astimezone(LONDON) == london(2026, 10, 26, 11, 0)


@pytest.mark.parametrize(
    ("opened", "due_utc"),
    [
        (london(2026, 3, 27, 17, 0), utc(2026, 3, 30, 9, 0)),  # reopens Monday 10:00 BST
        (london(2026, 10, 23, 17, 0), utc(2026, 10, 26, 10, 0)),  # reopens Monday 10:00 GMT
    ],
)
def test_business_hours_follow_the_local_clock_after_a_dst_weekend(opened, due_utc):
    calendar = office(timezone="Europe/London", holiday_country=None)

    due, _ = add_business_time(calendar, opened, 2 * HOUR)

    assert due == due_utc
    assert due.astimezone(LONDON).hour == 10


@pytest.mark.parametrize(("day", "open_hours"), [(date(2026, 3, 29), 5), (date(2026, 10, 25), 7)])
def test_night_hours_on_a_dst_night_count_the_real_hours(day, open_hours):
    night_shift = Calendar(
        timezone="Europe/London", holiday_country=None, weekly_hours={d: [("00:00", "06:00")] for d in WEEKDAYS}
    )
    start = datetime.combine(day, datetime.min.time(), tzinfo=LONDON)

    intervals = list(open_intervals(night_shift, start, start + timedelta(hours=12)))

    assert sum((end - begin for begin, end in intervals), timedelta()) == timedelta(hours=open_hours)
    due, _ = add_business_time(night_shift, start, timedelta(hours=open_hours))
    assert due == london(day.year, day.month, day.day, 6)


def test_an_opening_time_skipped_by_the_clocks_opens_at_the_change():
    calendar = Calendar(timezone="Europe/London", holiday_country=None, weekly_hours={"sun": [("01:30", "03:00")]})

    intervals = list(open_intervals(calendar, london(2026, 3, 29), london(2026, 3, 30)))

    assert intervals == [(utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 2, 0))]  # 02:00 to 03:00 BST


def test_an_opening_time_that_occurs_twice_is_read_as_its_first_occurrence():
    calendar = Calendar(timezone="Europe/London", holiday_country=None, weekly_hours={"sun": [("01:30", "02:00")]})

    intervals = list(open_intervals(calendar, london(2026, 10, 25), london(2026, 10, 26)))

    assert intervals == [(utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 2, 0))]  # 01:30 BST to 02:00 GMT


# --- States: on track, warning, breached, met ---------------------------------


def clock_at(now: datetime, **kwargs):
    opened = utc(2026, 3, 10, 10)
    policy = kwargs.pop("policy", around_the_clock_policy())
    return sla_clock(policy, office(), opened_at=opened, history=kwargs.pop("history", []), now=now, **kwargs)


def test_a_clock_warns_once_80_percent_of_the_target_is_used():
    assert clock_at(utc(2026, 3, 10, 10, 23)).first_response.state is SlaState.ON_TRACK
    warned = clock_at(utc(2026, 3, 10, 10, 24)).first_response
    assert warned.state is SlaState.WARNING
    assert warned.warning_at == utc(2026, 3, 10, 10, 24)
    assert warned.remaining == timedelta(minutes=6)


def test_the_warning_share_is_configurable():
    clock = clock_at(utc(2026, 3, 10, 10, 15), policy=around_the_clock_policy(warning_ratio=0.5))

    assert clock.first_response.warning_at == utc(2026, 3, 10, 10, 15)
    assert clock.first_response.state is SlaState.WARNING


def test_a_clock_is_breached_once_its_due_time_has_passed():
    assert clock_at(utc(2026, 3, 10, 10, 30)).first_response.state is SlaState.WARNING
    late = clock_at(utc(2026, 3, 10, 10, 40)).first_response
    assert late.state is SlaState.BREACHED
    assert late.remaining == -timedelta(minutes=10)


def test_business_time_overdue_counts_only_open_time():
    opened = shanghai(2026, 3, 6, 17, 0)  # Friday
    policy = DEFAULT_POLICIES["normal"]

    clock = sla_clock(policy, office(), opened_at=opened, history=[], now=shanghai(2026, 3, 9, 9, 45))

    assert clock.first_response.due_at == shanghai(2026, 3, 6, 17, 30)
    assert clock.first_response.state is SlaState.BREACHED
    assert clock.first_response.remaining == -timedelta(minutes=30 + 45)


def test_a_reply_in_time_meets_the_first_response_target():
    first = clock_at(utc(2026, 3, 10, 12), first_response_at=utc(2026, 3, 10, 10, 20)).first_response

    assert first.state is SlaState.MET
    assert first.stopped_at == utc(2026, 3, 10, 10, 20)
    assert first.elapsed == timedelta(minutes=20)


def test_a_late_reply_leaves_the_first_response_breached():
    first = clock_at(utc(2026, 3, 10, 12), first_response_at=utc(2026, 3, 10, 10, 45)).first_response

    assert first.state is SlaState.BREACHED
    assert first.remaining == -timedelta(minutes=15)


def test_resolving_without_a_reply_counts_as_the_first_response():
    history = [StatusChange(utc(2026, 3, 10, 10, 10), "resolved")]

    clock = clock_at(utc(2026, 3, 10, 12), history=history)

    assert clock.first_response.state is SlaState.MET
    assert clock.first_response.stopped_at == utc(2026, 3, 10, 10, 10)
    assert clock.resolution.state is SlaState.MET


def test_changes_after_now_are_ignored():
    history = [StatusChange(utc(2026, 3, 10, 11), "resolved")]

    clock = clock_at(utc(2026, 3, 10, 10, 5), history=history, first_response_at=utc(2026, 3, 10, 10, 20))

    assert clock.first_response.state is SlaState.ON_TRACK
    assert clock.resolution.stopped_at is None


# --- Reopen -------------------------------------------------------------------


def test_the_resolution_clock_runs_from_the_last_reopen_to_the_resolution_after_it():
    opened = utc(2026, 3, 10, 10)
    history = [
        StatusChange(opened, "new"),
        StatusChange(opened + HOUR, "resolved"),
        StatusChange(opened + 2 * HOUR, "closed"),
        StatusChange(opened + 5 * HOUR, "in_progress"),
        StatusChange(opened + 6 * HOUR, "resolved"),
        StatusChange(opened + 7 * HOUR, "closed"),
    ]

    assert resolution_period(history, opened) == (opened + 5 * HOUR, opened + 6 * HOUR)
    assert resolution_period(history[:4], opened) == (opened + 5 * HOUR, None)
    assert resolution_period(history[:3], opened) == (opened, opened + HOUR)


def test_a_reopen_starts_a_fresh_resolution_clock_and_keeps_the_first_response_met():
    opened = utc(2026, 3, 10, 10)
    history = [StatusChange(opened + 50 * HOUR, "resolved"), StatusChange(opened + 70 * HOUR, "in_progress")]

    clock = clock_at(opened + 71 * HOUR, history=history, first_response_at=opened + 10 * MINUTE)

    assert clock.first_response.state is SlaState.MET
    assert clock.resolution.started_at == opened + 70 * HOUR
    assert clock.resolution.due_at == opened + (70 + 48) * HOUR
    assert clock.resolution.state is SlaState.ON_TRACK


# --- Explanations -------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "start", "pauses"),
    [
        (office(), shanghai(2026, 2, 13, 17, 0), []),
        (office(), shanghai(2026, 9, 30, 12, 0), [Pause(shanghai(2026, 10, 8, 10), shanghai(2026, 10, 9, 11), "w")]),
        (office(timezone="Europe/London", holiday_country="GB"), london(2026, 3, 27, 11, 7), []),
        (Calendar(timezone="Europe/London", always_open=True), london(2026, 10, 24, 1, 2), []),
    ],
)
def test_the_counted_stretches_of_an_explanation_add_up_to_the_target(calendar, start, pauses):
    target = timedelta(hours=48)

    due, explanation = add_business_time(calendar, start, target, pauses)

    assert explanation.counted == target
    assert explanation.entries[0].at == start and explanation.entries[-1].at == due
    stretches = explanation.entries[1:-1]
    assert all(earlier.until == later.at for earlier, later in zip(stretches, stretches[1:]))
    assert business_time_between(calendar, start, due, pauses) == target


def test_the_summary_is_one_readable_line_in_local_time():
    _, explanation = add_business_time(office(), shanghai(2026, 2, 14, 17, 30), HOUR)

    summary = explanation.summary()

    assert summary.startswith("1h in Asia/Shanghai: start Sat 14 Feb 17:30; counted 30m to 18:00 (make-up workday)")
    assert "holiday Chinese New Year (Spring Festival)" in summary
    assert summary.endswith("counted 30m to 09:30; due 09:30")
    assert "\n" not in summary


def test_the_summary_of_a_paused_clock_says_the_due_time_is_unknown():
    waiting = Pause(shanghai(2026, 3, 10, 11), None, "waiting_on_customer")

    due, explanation = add_business_time(office(), shanghai(2026, 3, 10, 10), HOUR * 2, [waiting])

    assert due is None
    assert explanation.summary().endswith("paused (waiting_on_customer) since 11:00, due time unknown")


# --- Sweeps -------------------------------------------------------------------


def test_next_deadline_is_the_earliest_coming_warning_or_due_time():
    opened = utc(2026, 3, 10, 10)

    fresh = clock_at(opened)
    answered = clock_at(opened + HOUR, first_response_at=opened + 5 * MINUTE)
    warned = clock_at(opened + 40 * HOUR, first_response_at=opened + 5 * MINUTE)
    resolved = [StatusChange(opened + 40 * HOUR, "resolved")]
    done = clock_at(opened + 41 * HOUR, first_response_at=opened, history=resolved)
    paused = clock_at(
        opened + HOUR, first_response_at=opened, history=[StatusChange(opened + 30 * MINUTE, "waiting_on_customer")]
    )

    assert next_deadline(fresh) == opened + 24 * MINUTE
    assert next_deadline(answered) == answered.resolution.warning_at == opened + timedelta(hours=48 * 0.8)
    assert next_deadline(warned) == opened + 48 * HOUR
    assert next_deadline(done) is None
    assert next_deadline(paused) is None


# --- Policies and input checks ------------------------------------------------


def test_default_policies_follow_the_brief():
    targets = {priority: (p.first_response, p.resolution, p.business_hours) for priority, p in DEFAULT_POLICIES.items()}
    assert targets == {
        "urgent": (timedelta(minutes=30), timedelta(hours=1), False),
        "high": (timedelta(minutes=30), timedelta(hours=24), True),
        "normal": (timedelta(minutes=30), timedelta(hours=48), True),
        "low": (timedelta(hours=24), timedelta(hours=48), True),
    }
    assert all(policy.warning_ratio == 0.8 for policy in DEFAULT_POLICIES.values())
    with pytest.raises(TypeError):
        DEFAULT_POLICIES["normal"] = DEFAULT_POLICIES["low"]


@pytest.mark.parametrize(
    "overrides", [{"first_response": timedelta(0)}, {"resolution": -HOUR}, {"warning_ratio": 0}, {"warning_ratio": 1.5}]
)
def test_a_policy_refuses_empty_targets_and_odd_warning_shares(overrides):
    with pytest.raises(ValueError):
        around_the_clock_policy(**overrides)


def test_hours_past_midnight_are_refused_with_a_way_out():
    with pytest.raises(ValueError, match=r"split them: \('22:00', '24:00'\) and \('00:00', '02:00'\)"):
        Calendar(weekly_hours={"fri": [("22:00", "02:00")]})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"weekly_hours": {"mon": [("09:00", "12:00"), ("11:00", "14:00")]}}, "overlap"),
        ({"weekly_hours": {"monday": [("09:00", "12:00")]}}, "unknown weekdays"),
        ({"weekly_hours": {"mon": [("9h", "12:00")]}}, "not a time of day"),
        ({"weekly_hours": {"mon": [("24:00", "24:00")]}}, "not a time of day"),
        ({"weekly_hours": {"mon": [("09:00",)]}}, "not an .opens, closes. pair"),
        ({"weekly_hours": {}}, "at least one weekday"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"holiday_country": "XX"}, "no public holidays known"),
        ({"extra_holidays": {date(2026, 3, 9): ""}, "extra_workdays": frozenset({date(2026, 3, 9)})}, "both"),
    ],
)
def test_a_calendar_refuses_settings_it_cannot_follow(overrides, message):
    with pytest.raises(ValueError, match=message):
        office(**overrides)


def test_times_without_a_time_zone_are_refused():
    with pytest.raises(ValueError, match="no time zone"):
        add_business_time(office(), datetime(2026, 3, 10, 10), HOUR)


def test_a_zero_target_is_due_at_its_start():
    start = shanghai(2026, 3, 7, 23, 0)  # closed

    assert add_business_time(office(), start, timedelta(0))[0] == start


def test_the_first_response_is_the_first_reply_or_call_not_a_note():
    activity = [(utc(2026, 3, 10, 10), "note"), (utc(2026, 3, 10, 12), "reply"), (utc(2026, 3, 10, 11), "call")]

    assert find_first_response(activity) == utc(2026, 3, 10, 11)
    assert find_first_response(activity[:1]) is None


# --- Properties ---------------------------------------------------------------

ZONES = ["Asia/Shanghai", "Europe/London", "America/New_York"]
BASE = datetime(2026, 1, 1, tzinfo=UTC)


def weekly_hours_from(masks: list[int]) -> dict[str, list[tuple[str, str]]]:
    """Opening hours from one 24-bit mask per weekday (bit h: open from h:00 to h+1:00)."""
    weekly: dict[str, list[tuple[str, str]]] = {}
    for day, mask in zip(WEEKDAYS, masks):
        hour = 0
        while hour < 24:
            if not mask >> hour & 1:
                hour += 1
                continue
            end = hour
            while end < 24 and mask >> end & 1:
                end += 1
            weekly.setdefault(day, []).append((f"{hour:02d}:00", f"{end:02d}:00"))
            hour = end
    return weekly


week_masks = st.lists(st.integers(0, 2**24 - 1), min_size=7, max_size=7).filter(any)
minutes_into_2026 = st.integers(0, 365 * 24 * 60)
pause_specs = st.lists(st.tuples(st.integers(-600, 5000), st.one_of(st.none(), st.integers(1, 3000))), max_size=3)


def pauses_from(start: datetime, specs: list[tuple[int, int | None]]) -> list[Pause]:
    pauses = []
    for offset, length in specs:
        begins = start + timedelta(minutes=offset)
        pauses.append(Pause(begins, None if length is None else begins + timedelta(minutes=length), "waiting"))
    return pauses


def calendar_from(masks: list[int], timezone: str, country: str | None) -> Calendar:
    return Calendar(timezone=timezone, weekly_hours=weekly_hours_from(masks), holiday_country=country)


@st.composite
def scenarios(draw):
    """A calendar (with the masks it was built from), a start, a target and some pauses."""
    masks = draw(week_masks)
    calendar = calendar_from(masks, draw(st.sampled_from(ZONES)), draw(st.sampled_from(["CN", None])))
    start = BASE + timedelta(minutes=draw(minutes_into_2026))
    duration = timedelta(minutes=draw(st.integers(0, 48 * 60)))
    return masks, calendar, start, duration, pauses_from(start, draw(pause_specs))


def not_sooner(later: datetime | None, earlier: datetime | None) -> bool:
    """``later`` is no earlier than ``earlier``; None (paused, no due time) is the latest of all."""
    return later is None or (earlier is not None and later >= earlier)


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_a_due_time_is_never_before_its_start(scenario):
    _, calendar, start, duration, pauses = scenario

    due, explanation = add_business_time(calendar, start, duration, pauses)

    assert due is None or due >= start
    if due is not None:
        assert explanation.counted == duration


@settings(max_examples=150, deadline=None)
@given(scenarios(), st.integers(-600, 5000), st.one_of(st.none(), st.integers(1, 3000)))
def test_pausing_never_makes_a_ticket_due_sooner(scenario, offset, length):
    _, calendar, start, duration, pauses = scenario
    extra = pauses_from(start, [(offset, length)])

    before, _ = add_business_time(calendar, start, duration, pauses)
    after, _ = add_business_time(calendar, start, duration, pauses + extra)

    assert not_sooner(after, before)


@settings(max_examples=150, deadline=None)
@given(scenarios(), st.lists(st.integers(0, 2**24 - 1), min_size=7, max_size=7))
def test_more_business_hours_never_make_a_ticket_due_later(scenario, more):
    masks, calendar, start, duration, pauses = scenario
    wider_masks = [mask | extra for mask, extra in zip(masks, more)]
    wider = calendar_from(wider_masks, calendar.timezone, calendar.holiday_country)

    narrow_due, _ = add_business_time(calendar, start, duration, pauses)
    wide_due, _ = add_business_time(wider, start, duration, pauses)

    assert not_sooner(narrow_due, wide_due)


@settings(max_examples=150, deadline=None)
@given(scenarios(), st.integers(0, 24 * 60))
def test_a_longer_target_is_never_due_sooner(scenario, more_minutes):
    _, calendar, start, duration, pauses = scenario

    shorter, _ = add_business_time(calendar, start, duration, pauses)
    longer, _ = add_business_time(calendar, start, duration + timedelta(minutes=more_minutes), pauses)

    assert not_sooner(longer, shorter)
