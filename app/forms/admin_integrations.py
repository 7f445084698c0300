"""The form of an API key under /admin/api-keys/."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app.forms.admin_people import CheckboxesField
from app.forms.base import LoopdeskForm, form_id
from app.models import API_SCOPES, Branch
from app.services.integrations.keys import NAME_MAX_LENGTH

SCOPE_LABELS = {
    "responses:read": _l("Read responses (answers, scores, quality flags, ticket reference)"),
    "responses:write": _l("Post responses from another channel"),
    "tickets:read": _l("Read tickets (events, SLA state and due times)"),
    "tickets:write": _l("Work tickets (status, assignment, replies, notes)"),
    "customers:read": _l("Read customers (reserved: no customer records yet)"),
    "customers:write": _l("Write customers (reserved: no customer records yet)"),
}


class ApiKeyForm(LoopdeskForm):
    name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=NAME_MAX_LENGTH)],
        description=_l("The integration that will use it, e.g. CRM or call centre."),
    )
    scopes = CheckboxesField(_l("What it may do"), choices=[SelectChoice(s, SCOPE_LABELS[s]) for s in API_SCOPES])
    all_branches = BooleanField(_l("Every branch"))
    branch_ids = CheckboxesField(
        _l("Branches"), coerce=form_id,
        description=_l("Tickets too are limited by branch only: a key has no departments."),
    )

    def fill_choices(self, branches: list[Branch]) -> None:
        self.branch_ids.choices = [SelectChoice(b.id, f"{b.name} ({b.code})") for b in branches]
