"""Which questionnaire each QR code opens, now and after a change: the survey's own choice, run twice."""
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from app.core.targeting import (
    CodeTarget,
    QuestionnaireWindow,
    Switch,
    choose_questionnaire,
    moments_to_check,
    serving,
    switches,
    with_window,
)

NOW = datetime(2026, 12, 3, 8, 0, tzinfo=timezone.utc)
SHANGHAI, HANGZHOU, LONDON = 1, 2, 3
ENTRANCE_SH = CodeTarget(qr_id=10, branch_id=SHANGHAI, region="East", pinned_id=None)
KIOSK_SH = CodeTarget(qr_id=11, branch_id=SHANGHAI, region="East", pinned_id=None)
ENTRANCE_HZ = CodeTarget(qr_id=20, branch_id=HANGZHOU, region="East", pinned_id=None)
ENTRANCE_LDN = CodeTarget(qr_id=30, branch_id=LONDON, region="Europe", pinned_id=None)
CODES = [ENTRANCE_SH, KIOSK_SH, ENTRANCE_HZ, ENTRANCE_LDN]


def window(qid: int, version_id: int, branches=(), regions=(), starts_at=None, ends_at=None) -> QuestionnaireWindow:
    return QuestionnaireWindow(qid, version_id, starts_at, ends_at, frozenset(branches), frozenset(regions))


DEFAULT = window(1, 100)  # the chain's default survey, at every branch


def test_a_new_questionnaire_for_every_branch_replaces_the_default_at_every_code():
    new = window(2, 200)
    found = switches(CODES, [DEFAULT], with_window([DEFAULT], new, 2), NOW)
    assert [(s.code.qr_id, s.before.id, s.after.id) for s in found] == [(10, 1, 2), (11, 1, 2), (20, 1, 2), (30, 1, 2)]


def test_a_questionnaire_for_one_branch_switches_only_that_branchs_codes():
    found = switches(CODES, [DEFAULT], [DEFAULT, window(2, 200, branches=[HANGZHOU])], NOW)
    assert found == [Switch(ENTRANCE_HZ, DEFAULT, window(2, 200, branches=[HANGZHOU]))]


def test_a_region_beats_every_branch_and_a_branch_beats_its_region_whatever_is_newer():
    east = window(2, 200, regions=["East"])
    shanghai = window(3, 300, branches=[SHANGHAI])
    assert serving([DEFAULT, east, shanghai], ENTRANCE_HZ, NOW) == east
    assert serving([DEFAULT, east, shanghai], ENTRANCE_SH, NOW) == shanghai
    later_default = window(9, 900)
    assert serving([east, later_default], ENTRANCE_HZ, NOW) == east
    assert serving([east, later_default], ENTRANCE_LDN, NOW) == later_default


def test_a_new_version_of_the_questionnaire_in_use_switches_its_codes_to_that_version():
    found = switches(CODES, [DEFAULT], with_window([DEFAULT], replace(DEFAULT, version_id=101), 1), NOW)
    assert len(found) == 4 and {(s.before.version_id, s.after.version_id) for s in found} == {(100, 101)}


def test_a_code_pinned_to_its_own_questionnaire_never_switches_to_another():
    pinned = CodeTarget(qr_id=12, branch_id=SHANGHAI, region="East", pinned_id=1)
    found = switches([pinned, ENTRANCE_SH], [DEFAULT], [DEFAULT, window(2, 200)], NOW)
    assert [s.code for s in found] == [ENTRANCE_SH]


def test_narrowing_the_only_questionnaire_leaves_the_other_branches_with_nothing_open():
    found = switches(CODES, [DEFAULT], with_window([DEFAULT], replace(DEFAULT, branch_ids=frozenset([SHANGHAI])), 1), NOW)
    assert [(s.code.qr_id, s.before, s.after) for s in found] == [(20, DEFAULT, None), (30, DEFAULT, None)]


def test_a_window_that_opens_later_switches_nothing_now_and_ending_one_falls_back_to_the_default():
    region = window(2, 200, regions=["East"])
    later = replace(region, starts_at=NOW + timedelta(days=7))
    assert switches(CODES, [DEFAULT], [DEFAULT, later], NOW) == []
    ended = replace(region, ends_at=NOW - timedelta(minutes=1))
    found = switches(CODES, [DEFAULT, region], with_window([DEFAULT, region], ended, 2), NOW)
    assert [(s.code.qr_id, s.before.id, s.after.id) for s in found] == [(10, 2, 1), (11, 2, 1), (20, 2, 1)]


def test_no_change_switches_nothing_and_the_choice_is_the_surveys():
    assert switches(CODES, [DEFAULT], [DEFAULT], NOW) == []
    for code in CODES:
        assert serving([DEFAULT], code, NOW) == choose_questionnaire([DEFAULT], code.branch_id, code.region, None, NOW)
    assert with_window([DEFAULT], None, 1) == ()


def test_the_moments_to_check_are_now_and_each_later_opening_or_closing_of_the_windows():
    opens, closes = NOW + timedelta(days=7), NOW + timedelta(days=14)
    assert moments_to_check([window(2, 200, starts_at=opens, ends_at=closes), None], NOW) == [NOW, opens, closes]
    past = window(1, 100, starts_at=NOW - timedelta(days=1), ends_at=opens)
    assert moments_to_check([past, window(1, 100, ends_at=opens)], NOW) == [NOW, opens]
    assert moments_to_check([DEFAULT], NOW) == [NOW]
