"""Forms of the branch admin: a branch with its weekly hours, a QR code, a holiday, a confirmation."""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from zoneinfo import available_timezones

from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from wtforms import BooleanField, DateField, Form, FormField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import TimeInput

from app.core.calendars import WEEKDAYS, WHOLE_WEEK
from app.forms.base import LoopdeskForm, form_id
from app.i18n import LANGUAGE_NAMES, text
from app.services.branches.admin import BranchValues, CodeValues, GENERAL
from app.services.branches.calendars import default_holiday_region, holiday_regions, split_region, subdivision_names

DAY_NAMES = {
    "mon": _l("Monday"), "tue": _l("Tuesday"), "wed": _l("Wednesday"), "thu": _l("Thursday"),
    "fri": _l("Friday"), "sat": _l("Saturday"), "sun": _l("Sunday"),
}
#: Offered first in the time zone list: where the business mostly is.
COMMON_TIMEZONES = (
    "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Macau", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo",
    "Asia/Seoul", "Europe/London", "Europe/Paris", "Europe/Berlin", "America/New_York",
    "America/Los_Angeles", "Australia/Sydney", "UTC",
)
#: A new branch's hours until the admin changes them.
DEFAULT_HOURS = {day: [["09:00", "21:00"]] for day in WEEKDAYS}
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2})?$")
MIDNIGHT = "24:00"


@functools.cache
def timezone_names() -> tuple[str, ...]:
    """The common zones, then every other region/city zone alphabetically (no legacy aliases)."""
    rest = sorted(
        zone for zone in available_timezones()
        if "/" in zone and zone not in COMMON_TIMEZONES
        and not zone.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/", "Brazil/", "Canada/", "Chile/", "Mexico/"))
    )
    return (*COMMON_TIMEZONES, *rest)


def region_label(region: str) -> str:
    """A holiday region by name in the page's language, e.g. "United Kingdom: England" (subdivisions in English)."""
    country, subdivision = split_region(region)
    locale = get_locale()
    name = locale.territories.get(country, country) if locale is not None else country
    if subdivision is None:
        return name
    return f"{name}: {subdivision_names(country).get(subdivision, subdivision)}"


def _time_of_day(value: str) -> str | None:
    """``9:00`` or ``09:00:00`` as ``09:00``; None when it is no time of day."""
    match = _TIME.match(value.strip())
    hours, minutes = (int(match.group(1)), int(match.group(2))) if match else (99, 99)
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        return None
    return f"{int(match.group(1)):02d}:{match.group(2)}"


class DayHoursForm(Form):
    """One weekday: closed, or one or two intervals (a break in the middle of the day splits it)."""

    closed = BooleanField(_l("Closed"))
    opens_1 = StringField(_l("Opens"), widget=TimeInput())
    closes_1 = StringField(_l("Closes"), widget=TimeInput())
    opens_2 = StringField(_l("Opens again (optional)"), widget=TimeInput())
    closes_2 = StringField(_l("Closes again"), widget=TimeInput())

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        #: Problems of the day as a whole (overlap, empty interval), shown beside its inputs.
        self.problems: list[str] = []

    def pairs(self):
        return ((self.opens_1, self.closes_1), (self.opens_2, self.closes_2))

    def validate(self, extra_validators=None) -> bool:
        super().validate(extra_validators)
        self.problems = []
        if self.closed.data:
            return True
        filled = 0
        for opens, closes in self.pairs():
            for field in (opens, closes):
                field.data = (field.data or "").strip()
                if field.data:
                    normal = _time_of_day(field.data)
                    if normal is None:
                        field.errors.append(_("Use a time like 09:00."))
                    else:
                        field.data = normal
            if opens.data and not closes.data:
                closes.errors.append(_("Give the closing time too."))
            elif closes.data and not opens.data:
                opens.errors.append(_("Give the opening time too."))
            filled += bool(opens.data or closes.data)
        if not filled:
            self.problems.append(_("Enter the opening hours, or tick Closed."))
        return not self.problems and not any(field.errors for field in self)

    def intervals(self) -> list[list[str]]:
        """The day as ``Branch.opening_hours`` keeps it; closing at 00:00 means midnight (24:00)."""
        if self.closed.data:
            return []
        return [
            [opens.data, MIDNIGHT if closes.data in ("00:00", MIDNIGHT) else closes.data]
            for opens, closes in self.pairs() if opens.data and closes.data
        ]


def hours_data(opening_hours: Mapping[str, list] | None) -> dict[str, dict]:
    """Stored hours as the weekday subforms' data (midnight shown as 00:00, as a time input can)."""
    data = {}
    for day in WEEKDAYS:
        intervals = (opening_hours or {}).get(day) or []
        fields: dict = {"closed": not intervals}
        for number, (opens, closes) in enumerate(intervals[:2], start=1):
            fields[f"opens_{number}"] = opens
            fields[f"closes_{number}"] = "00:00" if closes == MIDNIGHT else closes
        data[day] = fields
    return data


class BranchForm(LoopdeskForm):
    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(message=_l("Give the branch a short code, e.g. SH-PEOPLE.")),
            Length(max=32),
            Regexp(CODE_PATTERN, message=_l("Use only letters, digits, - and _, e.g. SH-PEOPLE.")),
        ],
        description=_l("Short and unique; it names the poster files."),
    )
    name = StringField(_l("Name"), validators=[DataRequired(message=_l("Give the branch a name.")), Length(max=120)])
    region = StringField(_l("Region"), validators=[Optional(), Length(max=80)])
    timezone = SelectField(_l("Time zone"), validate_choice=False, default="Asia/Shanghai")
    holiday_region = SelectField(
        _l("Public holidays of"),
        validate_choice=False,
        default="",
        description=_l("Whose public holidays close the branch, e.g. England and Wales' bank holidays for London."),
    )
    open_on_public_holidays = BooleanField(
        _l("Stays open on public holidays"),
        description=_l("Its SLA clocks then follow its weekly hours on public holidays too; custom holidays still close it."),
    )
    default_language = SelectField(
        _l("Language for phones that ask for another"),
        choices=[SelectChoice("", _l("The chain's default")),
                 *(SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items())],
        default="",
        validate_choice=False,  # checked with the other branch rules: branch_admin.branch_problems
        description=_l("A French or German phone at this branch gets this language (London: English)."),
    )
    kiosk_restart_seconds = IntegerField(
        _l("Kiosk: seconds before the survey starts over"),
        validators=[Optional(), NumberRange(min=3, max=600, message=_l("Between 3 and 600 seconds."))],
        description=_l("Empty: the chain's default. A thank-you page that shows a reference code stays at least 30 seconds, so the customer can scan it."),
    )
    mon = FormField(DayHoursForm, DAY_NAMES["mon"])
    tue = FormField(DayHoursForm, DAY_NAMES["tue"])
    wed = FormField(DayHoursForm, DAY_NAMES["wed"])
    thu = FormField(DayHoursForm, DAY_NAMES["thu"])
    fri = FormField(DayHoursForm, DAY_NAMES["fri"])
    sat = FormField(DayHoursForm, DAY_NAMES["sat"])
    sun = FormField(DayHoursForm, DAY_NAMES["sun"])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        #: Problems of the week as a whole (closed every day) and of no single field.
        self.week_problems: list[str] = []
        self.general_problems: list[str] = []
        zones = timezone_names()
        current = self.timezone.data
        if current and current not in zones:
            zones = (current, *zones)  # an old or unusual zone stays selectable (and is checked on save)
        self.timezone.choices = [SelectChoice(zone, zone) for zone in zones]
        automatic = region_label(default_holiday_region(current or "Asia/Shanghai"))
        self.holiday_region.choices = [SelectChoice("", _("From the time zone: %(region)s", region=automatic))] + [
            SelectChoice(region, f"{region} · {region_label(region)}") for region in holiday_regions()
        ]

    @property
    def days(self) -> list[FormField]:
        return [self[day] for day in WEEKDAYS]

    def opening_hours(self) -> dict[str, list[list[str]]]:
        hours = {day: self[day].form.intervals() for day in WEEKDAYS}
        return {day: intervals for day, intervals in hours.items() if intervals}

    def branch_values(self) -> BranchValues:
        return BranchValues(
            code=(self.code.data or "").strip().upper(),
            name=(self.name.data or "").strip(),
            region=(self.region.data or "").strip(),
            timezone=self.timezone.data or "",
            opening_hours=self.opening_hours(),
            holiday_region=(self.holiday_region.data or "").strip(),
            open_on_public_holidays=bool(self.open_on_public_holidays.data),
            kiosk_restart_seconds=self.kiosk_restart_seconds.data,
            default_language=self.default_language.data or None,
        )

    def show_rule_problems(self, problems: Mapping[str, object]) -> None:
        """The branch rules' problems beside the form's own, leaving out what the form already explains."""
        days_invalid = any(day.errors or day.form.problems for day in self.days)
        self.show_problems({
            key: message for key, message in problems.items()
            if not (key in self and self[key].errors) and not (key == WHOLE_WEEK and days_invalid)
        })

    def show_problems(self, problems: Mapping[str, object]) -> None:
        """A service's refusal at the fields it concerns."""
        for key, message in problems.items():
            if key in WEEKDAYS:
                self[key].form.problems.append(str(message))
            elif key == WHOLE_WEEK:
                self.week_problems.append(str(message))
            elif key in self and key != GENERAL:
                self[key].errors.append(str(message))
            else:
                self.general_problems.append(str(message))


class NewBranchForm(BranchForm):
    first_code_label = StringField(
        _l("Label of its first QR code"),
        validators=[DataRequired(message=_l("Give the QR code a label, e.g. Entrance.")), Length(max=80)],
        default=lambda: _("Entrance"),
        description=_l("Printed under the code on the poster; you can add more codes later."),
    )


class QrCodeForm(LoopdeskForm):
    label = StringField(
        _l("Label"),
        validators=[DataRequired(message=_l("Give the QR code a label, e.g. Entrance.")), Length(max=80)],
        description=_l("Where the code hangs, e.g. Entrance or Counter 2; printed on the poster."),
    )
    is_kiosk = BooleanField(_l("Kiosk: a tablet on the counter (the survey starts over after each customer)"))
    questionnaire_id = SelectField(_l("Questionnaire"), coerce=form_id, default=0)

    def fill_choices(self, questionnaires: Iterable) -> None:
        self.questionnaire_id.choices = [SelectChoice(0, _("The branch's current questionnaire"))] + [
            SelectChoice(q.id, text(q.name) or q.code) for q in questionnaires
        ]

    def code_values(self) -> CodeValues:
        return CodeValues(
            label=self.label.data.strip(),
            is_kiosk=bool(self.is_kiosk.data),
            questionnaire_id=self.questionnaire_id.data or None,
        )

    def show_problems(self, problems: Mapping[str, object]) -> list[str]:
        """Put a refusal at its fields; returns the messages that belong to none."""
        general = []
        for key, message in problems.items():
            if key in self and key != GENERAL:
                self[key].errors.append(str(message))
            else:
                general.append(str(message))
        return general


class HolidayForm(LoopdeskForm):
    """A closed day of one branch (the branch is the page's)."""

    day = DateField(_l("Date"), validators=[DataRequired(message=_l("Choose a date."))])
    name = StringField(
        _l("Name"),
        validators=[DataRequired(message=_l("Say what the day is, e.g. Staff training.")), Length(max=80)],
    )

    def show_problems(self, problems: Mapping[str, object]) -> None:
        for key, message in problems.items():
            self[key if key in self and key != GENERAL else "day"].errors.append(str(message))


class AnyBranchHolidayForm(HolidayForm):
    """A closed day of every branch or of the branch chosen."""

    branch_id = SelectField(_l("Closed at"), coerce=form_id, default=0)

    def fill_choices(self, branches: Iterable) -> None:
        self.branch_id.choices = [SelectChoice(0, _("Every branch"))] + [
            SelectChoice(b.id, f"{b.name} ({b.code})") for b in branches
        ]


class ConfirmForm(LoopdeskForm):
    """Only the CSRF token: the confirmation page's button."""


class PostersForm(LoopdeskForm):
    """Which file the all-posters job builds (the two buttons send ``format``)."""

    format = SelectField(choices=[SelectChoice("pdf", "PDF"), SelectChoice("zip", "ZIP")])


class BurstAlertForm(LoopdeskForm):
    """The branch's own real-time alert; an empty field takes the chain's setting (shown as its placeholder)."""

    min_negative = IntegerField(
        _l("Unhappy customers"), validators=[Optional(), NumberRange(min=1, max=1000)],
        description=_l("At least this many responses that opened a ticket …"),
    )
    min_share_percent = IntegerField(
        _l("Share of the responses (%)"), validators=[Optional(), NumberRange(min=1, max=100)],
        description=_l("… that are at least this share of the branch's responses …"),
    )
    window_minutes = IntegerField(
        _l("Within minutes"), validators=[Optional(), NumberRange(min=1, max=24 * 60)],
        description=_l("… within this many minutes."),
    )

    def rule_values(self) -> tuple[int | None, int | None, int | None]:
        return self.min_negative.data, self.min_share_percent.data, self.window_minutes.data
