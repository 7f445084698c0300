"""China's public holidays are closed as the State Council's whole breaks, checked against its notices.

The table below is typed from the notices themselves, apart from the code (which derives the
breaks from the ``holidays`` package's dates):

- 2025: 国务院办公厅关于2025年部分节假日安排的通知 (published 12 November 2024),
  https://www.gov.cn/gongbao/2024/issue_11726/202411/content_6989767.html
- 2026: 国务院办公厅关于2026年部分节假日安排的通知 (published November 2025),
  https://www.gov.cn/gongbao/2025/issue_12406/202511/content_7048922.html
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays

from app.core.calendars import Calendar, Note, announced, open_intervals, public_days

#: (first day, last day) of each break, both included: 放假 in the notices.
OFFICIAL_BREAKS = {
    2025: [
        (date(2025, 1, 1), date(2025, 1, 1)),    # 元旦: 1月1日（周三）放假1天
        (date(2025, 1, 28), date(2025, 2, 4)),   # 春节: 1月28日（除夕、周二）至2月4日（周二）放假调休，共8天
        (date(2025, 4, 4), date(2025, 4, 6)),    # 清明节: 4月4日（周五）至6日（周日），共3天
        (date(2025, 5, 1), date(2025, 5, 5)),    # 劳动节: 5月1日（周四）至5日（周一）放假调休，共5天
        (date(2025, 5, 31), date(2025, 6, 2)),   # 端午节: 5月31日（周六）至6月2日（周一），共3天
        (date(2025, 10, 1), date(2025, 10, 8)),  # 国庆节、中秋节: 10月1日（周三）至8日（周三）放假调休，共8天
    ],
    2026: [
        (date(2026, 1, 1), date(2026, 1, 3)),    # 元旦: 1月1日（周四）至3日（周六）放假调休，共3天
        (date(2026, 2, 15), date(2026, 2, 23)),  # 春节: 2月15日（周日）至23日（周一）放假调休，共9天
        (date(2026, 4, 4), date(2026, 4, 6)),    # 清明节: 4月4日（周六）至6日（周一），共3天
        (date(2026, 5, 1), date(2026, 5, 5)),    # 劳动节: 5月1日（周五）至5日（周二）放假调休，共5天
        (date(2026, 6, 19), date(2026, 6, 21)),  # 端午节: 6月19日（周五）至21日（周日），共3天
        (date(2026, 9, 25), date(2026, 9, 27)),  # 中秋节: 9月25日（周五）至27日（周日），共3天
        (date(2026, 10, 1), date(2026, 10, 7)),  # 国庆节: 10月1日（周四）至7日（周三）放假调休，共7天
    ],
}
#: 上班 in the notices: the weekend days that are working days.
OFFICIAL_WORKDAYS = {
    2025: {date(2025, 1, 26), date(2025, 2, 8), date(2025, 4, 27), date(2025, 9, 28), date(2025, 10, 11)},
    2026: {
        date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28),
        date(2026, 5, 9), date(2026, 9, 20), date(2026, 10, 10),
    },
}
SHANGHAI = ZoneInfo("Asia/Shanghai")
EVERY_DAY = {day: [("10:00", "22:00")] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def days_of(first: date, last: date) -> set[date]:
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


def test_the_holidays_of_2025_and_2026_are_the_state_councils_whole_breaks():
    for year, breaks in OFFICIAL_BREAKS.items():
        notes = public_days("CN", date(year, 1, 1), date(year, 12, 31))
        closed = {note.day for note in notes if note.kind == "holiday"}
        workdays = {note.day for note in notes if note.kind == "makeup_workday"}

        assert closed == set().union(*(days_of(first, last) for first, last in breaks)), year
        assert workdays == OFFICIAL_WORKDAYS[year], year


def test_twenty_weekend_days_inside_breaks_are_closed_beyond_the_packages_own_dates():
    package = holidays.country_holidays("CN", years=[2025, 2026])
    ours = {n.day for n in public_days("CN", date(2025, 1, 1), date(2026, 12, 31)) if n.kind == "holiday"}

    added = ours - set(package)

    assert len(added) == 20
    assert all(day.weekday() >= 5 for day in added)
    assert set(package) <= ours


def test_a_branch_open_at_weekends_is_closed_on_the_weekend_inside_the_spring_festival_break():
    calendar = Calendar(timezone="Asia/Shanghai", weekly_hours=EVERY_DAY)
    start = datetime(2025, 1, 27, tzinfo=SHANGHAI)

    opened = list(open_intervals(calendar, start, datetime(2025, 2, 6, tzinfo=SHANGHAI)))

    assert [opens.astimezone(SHANGHAI).date() for opens, _ in opened] == [date(2025, 1, 27), date(2025, 2, 5)]


def test_the_weekend_days_of_a_break_are_named_after_its_festival_not_a_day_off():
    names = {n.day: n.name for n in public_days("CN", date(2026, 1, 1), date(2026, 12, 31))}

    assert names[date(2026, 2, 21)] == "Chinese New Year (Spring Festival)"
    assert names[date(2026, 1, 3)] == "New Year's Day"
    assert names[date(2026, 10, 4)] == "National Day"


def test_names_come_in_the_language_asked_for():
    names = {n.day: n.name for n in public_days("CN", date(2026, 2, 1), date(2026, 2, 28), language="zh_CN")}

    assert names[date(2026, 2, 17)] == "春节"
    assert names[date(2026, 2, 21)] == "春节"


def test_a_year_the_package_only_estimates_closes_its_listed_dates_alone():
    assert announced("CN", 2026)
    assert not announced("CN", 2027)
    closed = {n.day for n in public_days("CN", date(2027, 1, 1), date(2027, 12, 31)) if n.kind == "holiday"}

    assert closed == set(holidays.country_holidays("CN", years=2027))
    assert date(2027, 4, 3) not in closed  # the weekend before Tomb-Sweeping Day (Mon 5 April): not known yet
    assert not [n for n in public_days("CN", date(2027, 1, 1), date(2027, 12, 31)) if n.kind == "makeup_workday"]


def test_other_countries_keep_their_single_days():
    assert announced("GB", 2027)
    closed = {n.day for n in public_days("GB", date(2026, 4, 1), date(2026, 4, 30), subdivision="ENG")}

    assert closed == {date(2026, 4, 3), date(2026, 4, 6)}  # Good Friday, Easter Monday; not the weekend between
    assert Note("holiday", date(2026, 4, 6), "Easter Monday") in public_days(
        "GB", date(2026, 4, 6), date(2026, 4, 6), subdivision="ENG"
    )


def test_a_traditional_chinese_reader_gets_holiday_names_in_traditional_characters():
    from app.core.calendars import HOLIDAY_LANGUAGES, public_holiday_name

    language = HOLIDAY_LANGUAGES["zh_Hant"]
    assert public_holiday_name("TW", date(2026, 10, 10), language) == "國慶日"
    assert public_holiday_name("CN", date(2026, 10, 1), language) == "國慶節"
    # Hong Kong has its names as zh_HK only: the same script is taken, not English
    assert public_holiday_name("HK", date(2026, 7, 1), language) == "香港特別行政區成立紀念日"
    assert public_holiday_name("GB-ENG", date(2026, 12, 25), language) == "Christmas Day"  # none in Chinese
