"""A questionnaire's own settings: its code and name (new, copy), its window, the branches it targets."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.fields.datetime import DateTimeLocalField
from wtforms.validators import DataRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput

from app.forms.admin_questionnaires.texts import fill_texts, texts_of
from app.forms.base import CHECKBOXES, LoopdeskForm, form_id

CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]{1,39}\Z"
#: The local date and time as a browser's datetime-local input sends it.
LOCAL_TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def _home_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["LOOPDESK_HOME_TIMEZONE"])


class _CodeAndNameForm(LoopdeskForm):
    code = StringField(
        _l("Code (short, for links and exports)"),
        validators=[
            DataRequired(message=_l("Give the questionnaire a code.")),
            Regexp(CODE_PATTERN, message=_l("Use 2–40 lower-case letters, digits, _ or -.")),
        ],
    )
    name_zh_Hans = StringField(_l("Name in Chinese"), validators=[Length(max=200)])
    name_en = StringField(_l("Name in English"), validators=[Length(max=200)])

    def name(self) -> dict[str, str]:
        return texts_of(self, "name")


class NewQuestionnaireForm(_CodeAndNameForm):
    start = RadioField(
        _l("Start from"),
        choices=[
            SelectChoice("blank", _l("An empty questionnaire")),
            SelectChoice("template", _l("The default satisfaction questionnaire (Chinese and English)")),
        ],
        default="blank",
    )

    def validate_name_zh_Hans(self, field) -> None:
        if self.start.data == "blank" and not any(self.name().values()):
            field.errors.append(_l("Give the questionnaire a name in at least one language."))


class CopyQuestionnaireForm(_CodeAndNameForm):
    """A copy needs its own code and name; the form starts with the original's name marked as a copy."""

    def validate_name_zh_Hans(self, field) -> None:
        if not any(self.name().values()):
            field.errors.append(_l("Give the questionnaire a name in at least one language."))

    @classmethod
    def of(cls, questionnaire) -> CopyQuestionnaireForm:
        form = cls(formdata=None)
        form.code.data = f"{questionnaire.code}-copy"[:40]
        names = questionnaire.name or {}
        form.name_zh_Hans.data = f"{names['zh_Hans']}（副本）" if names.get("zh_Hans") else ""
        form.name_en.data = f"{names['en']} (copy)" if names.get("en") else ""
        return form


class SettingsForm(LoopdeskForm):
    name_zh_Hans = StringField(_l("Name in Chinese"), validators=[Length(max=200)])
    name_en = StringField(_l("Name in English"), validators=[Length(max=200)])
    starts_at = DateTimeLocalField(_l("Open from"), format=LOCAL_TIME_FORMATS, tz=_home_zone, validators=[Optional()])
    ends_at = DateTimeLocalField(_l("Open until"), format=LOCAL_TIME_FORMATS, tz=_home_zone, validators=[Optional()])

    def validate_name_zh_Hans(self, field) -> None:
        if not any(self.name().values()):
            field.errors.append(_l("Give the questionnaire a name in at least one language."))

    def validate_ends_at(self, field) -> None:
        if field.data and self.starts_at.data and field.data <= self.starts_at.data:
            field.errors.append(_l("The end must be after the start."))

    def name(self) -> dict[str, str]:
        return texts_of(self, "name")

    @classmethod
    def of(cls, questionnaire) -> SettingsForm:
        form = cls(formdata=None)
        fill_texts(form, "name", questionnaire.name)
        form.starts_at.data, form.ends_at.data = questionnaire.starts_at, questionnaire.ends_at
        return form


class TargetingForm(LoopdeskForm):
    branch_ids = SelectMultipleField(_l("Branches"), coerce=form_id, widget=CHECKBOXES, option_widget=CheckboxInput())
    regions = SelectMultipleField(_l("Regions"), widget=CHECKBOXES, option_widget=CheckboxInput())

    def fill_choices(self, branches, regions) -> None:
        self.branch_ids.choices = [SelectChoice(b.id, f"{b.name} ({b.code})") for b in branches]
        self.regions.choices = [SelectChoice(r, r) for r in regions]
