"""Forms for departments and users under /admin/people/."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectField, SelectMultipleField, StringField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

from app.core.languages import SUPPORTED_LOCALES
from app.forms.base import LoopdeskForm, form_id
from app.forms.survey import EMAIL_PATTERN
from app.i18n import LANGUAGE_NAMES
from app.models import Branch, Department, Role
from app.services.people.admin import UserFields

ROLE_NAMES = {Role.STAFF.value: _l("Staff"), Role.SUPERVISOR.value: _l("Supervisor"), Role.ADMIN.value: _l("Admin")}
ROLE_LABELS = {
    Role.STAFF.value: _l("Staff: work the tickets of their departments and branches"),
    Role.SUPERVISOR.value: _l("Supervisor: the board, reassigning, escalations in their scope"),
    Role.ADMIN.value: _l("Admin: everything, including this administration"),
}


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes (large tap targets, no Ctrl-click)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form) -> None:  # an unknown id is dropped by the service, not an error
        return None


class DepartmentForm(LoopdeskForm):
    code = StringField(
        _l("Code"), validators=[DataRequired(), Length(max=32)],
        description=_l("Short, lower case, never shown to customers, e.g. service."),
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    is_triage = BooleanField(
        _l("Triage: complaints that no routing rule claims land here"),
        description=_l("Only one department is triage; ticking this takes it from the other."),
    )


class UserForm(LoopdeskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    display_name = StringField(_l("Name shown to colleagues"), validators=[DataRequired(), Length(max=120)])
    email = StringField(
        _l("E-mail"),
        validators=[Optional(), Length(max=255), Regexp(EMAIL_PATTERN, message=_l("That does not look like an e-mail address."))],
        description=_l("The invitation and password links go here. Without one, show the link and hand it over."),
    )
    role = RadioField(_l("Role"), choices=[SelectChoice(k, v) for k, v in ROLE_LABELS.items()], default=Role.STAFF.value)
    locale = SelectField(_l("Language"))
    all_branches = BooleanField(_l("Every branch (head office)"))
    branch_ids = CheckboxesField(_l("Branches"), coerce=form_id)
    department_ids = CheckboxesField(_l("Departments"), coerce=form_id)

    def fill_choices(self, branches: list[Branch], departments: list[Department]) -> None:
        self.locale.choices = [SelectChoice("", _l("The browser's language"))] + [
            SelectChoice(code, LANGUAGE_NAMES.get(code, code)) for code in SUPPORTED_LOCALES
        ]
        self.branch_ids.choices = [SelectChoice(b.id, f"{b.name} ({b.code})") for b in branches]
        self.department_ids.choices = [
            SelectChoice(d.id, d.name if d.active else f"{d.name} ({_l('deactivated')})") for d in departments
        ]

    def user_fields(self) -> UserFields:
        return UserFields(
            username=self.username.data or "",
            display_name=self.display_name.data or "",
            email=self.email.data or None,
            role=Role(self.role.data),
            locale=self.locale.data or None,
            all_branches=bool(self.all_branches.data),
            branch_ids=self.branch_ids.data or [],
            department_ids=self.department_ids.data or [],
        )
