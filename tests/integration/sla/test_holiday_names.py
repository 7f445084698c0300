"""A ticket's SLA explanation names public holidays in the page's language (the holidays package's names)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from app.core.business_time import add_business_time
from app.core.calendars import public_holiday_name
from app.labels import timeline_label
from app.models import Branch
from app.services.branches.calendars import branch_calendar

EVERY_DAY = {day: [("10:00", "22:00")] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def skipped_lines(app, branch: Branch, start: datetime, lang: str) -> list[str]:
    _, explanation = add_business_time(branch_calendar(branch, {}), start, timedelta(hours=1))
    with app.test_request_context(f"/?lang={lang}"):
        return [timeline_label(entry, branch.timezone) for entry in explanation.entries if entry.kind == "closed"]


def test_a_spring_festival_skip_reads_in_chinese_and_in_english(app):
    shanghai = Branch(id=1, timezone="Asia/Shanghai", opening_hours=EVERY_DAY, open_on_public_holidays=False)
    start = datetime(2026, 2, 14, 13, 30, tzinfo=UTC)  # Sat 21:30, the make-up working day before the break

    chinese = " ".join(skipped_lines(app, shanghai, start, "zh_Hans"))
    english = " ".join(skipped_lines(app, shanghai, start, "en"))

    assert "春节" in chinese and "Spring Festival" not in chinese
    assert "Chinese New Year (Spring Festival)" in english


def test_a_bank_holiday_keeps_the_packages_english_name_on_a_chinese_page(app):
    london = Branch(id=2, timezone="Europe/London", opening_hours=EVERY_DAY, open_on_public_holidays=False)

    lines = skipped_lines(app, london, datetime(2026, 4, 5, 21, 30, tzinfo=UTC), "zh_Hans")

    assert any("Easter Monday" in line for line in lines)  # the package has no Chinese names for GB
    assert public_holiday_name("GB-ENG", date(2026, 4, 6), "zh_CN") == "Easter Monday"
    assert public_holiday_name("XX", date(2026, 4, 6), "zh_CN") is None


def test_a_zone_names_a_region_only_when_it_stands_for_one():
    from app.services.branches.calendars import default_holiday_region

    assert default_holiday_region("Europe/London") == "GB-ENG"
    assert default_holiday_region("Australia/Sydney") == "AU-NSW"
    assert default_holiday_region("Europe/Berlin") == "DE"  # all of Germany: the admin picks the Land
    assert default_holiday_region("Asia/Shanghai") == "CN"
