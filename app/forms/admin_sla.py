"""Forms of the SLA admin area, and the words a policy's ladder is read out in.

Durations are typed as a number with a unit (minutes or hours; 1.5 hours is 90 minutes).
The forms only read what was typed; whether a value is allowed is decided by
``app.services.sla.settings`` and shown at the field by ``show``.
"""
from __future__ import annotations

import re
from decimal import Decimal

from flask_babel import gettext as _, lazy_gettext as _l
from wtforms import RadioField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, ValidationError

from app import labels
from app.forms.base import LoopdeskForm
from app.models import Department, EscalationRule, SlaPolicy
from app.services.sla.settings import SettingError

NUMBER = re.compile(r"^-?\d{1,9}([.,]\d{1,4})?$")
WHOLE_NUMBER = re.compile(r"^-?\d{1,9}$")
UNIT_MINUTES = {"minutes": 1, "hours": 60}
UNIT_CHOICES = [SelectChoice("minutes", _l("minutes")), SelectChoice("hours", _l("hours"))]

CLOCK_LABELS = {"first_response": _l("first response"), "resolution": _l("resolution")}
TRIGGER_LABELS = {"warning": _l("at the warning"), "due": _l("at the deadline")}
TARGET_LABELS = {
    "assignee": _l("the assignee (or the staff who could claim the ticket)"),
    "supervisors": _l("the supervisors of the ticket's branch and department"),
    "admins": _l("the admins"),
}
ACTION_LABELS = {
    "notify": _l("only notify"),
    "raise_priority": _l("notify and raise the priority one step"),
    "move_queue": _l("notify and move the ticket to another department"),
}
COUNTING_LABELS = {
    "business_hours": _l("the branch's business hours (closed hours and holidays do not count)"),
    "24x7": _l("around the clock (24x7)"),
}


def _number(field) -> Decimal | None:
    text = (field.data or "").strip().replace(",", ".")
    return Decimal(text) if NUMBER.match(text) else None


def _minutes(value_field, unit_field) -> int:
    return int(_number(value_field) * UNIT_MINUTES.get(unit_field.data, 1))


def _check_duration(form, field) -> None:
    value = _number(field)
    if value is None:
        raise ValidationError(_("Enter a number, e.g. 30 or 1.5."))
    unit = getattr(form, f"{field.short_name}_unit").data
    if (value * UNIT_MINUTES.get(unit, 1)) % 1:
        raise ValidationError(_("Use whole minutes (1.5 hours is fine, 1.5 minutes is not)."))


def split_minutes(minutes: int) -> tuple[str, str]:
    """(value, unit) to show a stored number of minutes: whole hours in hours, the rest in minutes."""
    return (str(minutes // 60), "hours") if minutes and minutes % 60 == 0 else (str(minutes), "minutes")


def duration_text(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return _("%(minutes)d min", minutes=rest)
    if not rest:
        return _("%(hours)d h", hours=hours)
    return _("%(hours)d h %(minutes)d min", hours=hours, minutes=rest)


class _SettingForm(LoopdeskForm):
    #: Service field → form field, where their names differ.
    FIELD_OF: dict[str, str] = {}

    def show(self, error: SettingError) -> None:
        """Put the service's messages at their fields."""
        for name, message in error.errors.items():
            field = getattr(self, self.FIELD_OF.get(name, name), None)
            if field is None:
                self.form_errors.append(str(message))
            else:
                field.errors = [*field.errors, str(message)]


class PolicyForm(_SettingForm):
    FIELD_OF = {"first_response_minutes": "first_response", "resolution_minutes": "resolution"}

    first_response = StringField(_l("First response within"), validators=[InputRequired(_l("Enter a number, e.g. 30 or 1.5.")), _check_duration])
    first_response_unit = SelectField(_l("Unit"), choices=UNIT_CHOICES, default="minutes")
    resolution = StringField(_l("Resolution within"), validators=[InputRequired(_l("Enter a number, e.g. 30 or 1.5.")), _check_duration])
    resolution_unit = SelectField(_l("Unit"), choices=UNIT_CHOICES, default="hours")
    counting = RadioField(
        _l("Count"), choices=[SelectChoice(k, v) for k, v in COUNTING_LABELS.items()], default="business_hours"
    )
    warning_percent = StringField(_l("Warn when this share of the time is used (%)"), validators=[InputRequired(_l("Enter a whole number between 1 and 99."))])

    def validate_warning_percent(self, field) -> None:
        if not WHOLE_NUMBER.match((field.data or "").strip()):
            raise ValidationError(_("Enter a whole number between 1 and 99."))

    @classmethod
    def of(cls, policy: SlaPolicy) -> PolicyForm:
        first, first_unit = split_minutes(policy.first_response_minutes)
        resolution, resolution_unit = split_minutes(policy.resolution_minutes)
        return cls(
            formdata=None,
            prefix=f"policy{policy.id}",
            first_response=first,
            first_response_unit=first_unit,
            resolution=resolution,
            resolution_unit=resolution_unit,
            counting="business_hours" if policy.business_hours else "24x7",
            warning_percent=str(policy.warning_percent),
        )

    def policy_values(self) -> dict:
        return {
            "first_response_minutes": _minutes(self.first_response, self.first_response_unit),
            "resolution_minutes": _minutes(self.resolution, self.resolution_unit),
            "business_hours": self.counting.data == "business_hours",
            "warning_percent": int(self.warning_percent.data.strip()),
        }


def _optional_id(value) -> int | None:
    return int(value) if value not in (None, "", "None") else None


class RungForm(_SettingForm):
    FIELD_OF = {"offset_minutes": "offset"}

    level = StringField(_l("Level"), default="1", validators=[InputRequired(_l("Enter a level from 0 to 9."))])
    clock = SelectField(_l("Clock"), choices=[SelectChoice(k, v) for k, v in CLOCK_LABELS.items()], default="resolution")
    trigger = SelectField(_l("When"), choices=[SelectChoice(k, v) for k, v in TRIGGER_LABELS.items()], default="due")
    offset = StringField(_l("Plus"), default="0", validators=[InputRequired(_l("Enter a number, e.g. 30 or 1.5.")), _check_duration])
    offset_unit = SelectField(_l("Unit"), choices=UNIT_CHOICES, default="hours")
    target = SelectField(_l("Notify"), choices=[SelectChoice(k, v) for k, v in TARGET_LABELS.items()], default="supervisors")
    action = SelectField(_l("And"), choices=[SelectChoice(k, v) for k, v in ACTION_LABELS.items()], default="notify")
    move_to_department_id = SelectField(_l("Move to department (only when moving the ticket)"), coerce=_optional_id)

    def validate_level(self, field) -> None:
        if not WHOLE_NUMBER.match((field.data or "").strip()):
            raise ValidationError(_("Enter a level from 0 to 9."))

    def fill_departments(self, departments: list[Department], current: Department | None = None) -> None:
        """Active departments, and the rung's own one even if deactivated since (refused on save, visibly)."""
        shown = list(departments)
        if current is not None and current not in shown:
            shown.append(current)
        self.move_to_department_id.choices = [SelectChoice("", _l("— none —"))] + [
            SelectChoice(d.id, d.name if d.active else _("%(name)s (inactive)", name=d.name)) for d in shown
        ]

    @classmethod
    def of(cls, rule: EscalationRule) -> RungForm:
        offset, unit = split_minutes(rule.offset_minutes)
        return cls(
            formdata=None, level=str(rule.level), clock=rule.clock, trigger=rule.trigger, offset=offset,
            offset_unit=unit if rule.offset_minutes else "hours", target=rule.target, action=rule.action,
            move_to_department_id=rule.move_to_department_id,
        )

    def rung_values(self) -> dict:
        return {
            "level": int(self.level.data.strip()),
            "clock": self.clock.data,
            "trigger": self.trigger.data,
            "offset_minutes": _minutes(self.offset, self.offset_unit),
            "target": self.target.data,
            "action": self.action.data,
            "move_to_department_id": self.move_to_department_id.data,
        }


class PausingForm(_SettingForm):
    pausing = SelectMultipleField(_l("Pauses the SLA clock"))

    def fill_statuses(self, statuses: list[str]) -> None:
        self.pausing.choices = [SelectChoice(s, labels.STATUS_LABELS.get(s, s)) for s in statuses]


def rung_sentence(rule: EscalationRule, policy: SlaPolicy) -> str:
    """A rung read out, e.g. "Level 2 · At the deadline of the resolution clock + 4 h: notify the admins"."""
    clock = CLOCK_LABELS.get(rule.clock, rule.clock)
    after = f" + {duration_text(rule.offset_minutes)}" if rule.offset_minutes else ""
    if rule.trigger == "warning":
        moment = _("At the warning (%(percent)d %% used) of the %(clock)s clock%(after)s",
                   percent=policy.warning_percent, clock=clock, after=after)
    else:
        moment = _("At the deadline of the %(clock)s clock%(after)s", clock=clock, after=after)
    who = {
        "assignee": _("the assignee (or the staff who could claim it)"),
        "supervisors": _("the supervisors"),
        "admins": _("the admins"),
    }.get(rule.target, rule.target)
    if rule.action == "raise_priority":
        what = _("notify %(who)s and raise the priority one step", who=who)
    elif rule.action == "move_queue":
        department = rule.move_to_department.name if rule.move_to_department else "—"
        if rule.move_to_department is not None and not rule.move_to_department.active:
            department = _("%(name)s (inactive: the ticket is not moved)", name=department)
        what = _("notify %(who)s and move the ticket to %(department)s", who=who, department=department)
    else:
        what = _("notify %(who)s", who=who)
    return _("Level %(level)d · %(moment)s: %(what)s", level=rule.level, moment=moment, what=what)
