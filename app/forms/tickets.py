"""Forms for tickets that staff enter for phone and walk-in complaints."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

from app import labels
from app.forms.base import LoopdeskForm, form_id
from app.forms.survey import EMAIL_PATTERN, PHONE_PATTERN


class NewTicketForm(LoopdeskForm):
    source = SelectField(_l("Source"), choices=[SelectChoice("phone", _l("Phone call")), SelectChoice("walk_in", _l("Walk-in"))])
    branch_id = SelectField(_l("Branch"), coerce=form_id)
    department_id = SelectField(_l("Department"), coerce=form_id)
    category = SelectField(_l("Category"), choices=[SelectChoice(k, v) for k, v in labels.CATEGORY_LABELS.items()])
    priority = SelectField(
        _l("Priority"), choices=[SelectChoice(k, v) for k, v in labels.PRIORITY_LABELS.items()], default="normal"
    )
    subject = StringField(_l("Subject"), validators=[DataRequired(message=_l("Say in a few words what happened.")), Length(max=200)])
    description = TextAreaField(_l("What the customer said"), validators=[Optional(), Length(max=5000)])
    contact_consent = BooleanField(_l("The customer agrees to be contacted about it"))
    contact_name = StringField(_l("Name"), validators=[Optional(), Length(max=80)])
    contact_phone = StringField(
        _l("Phone"), validators=[Optional(), Regexp(PHONE_PATTERN, message=_l("That does not look like a phone number."))]
    )
    contact_email = StringField(
        _l("E-mail"), validators=[Optional(), Regexp(EMAIL_PATTERN, message=_l("That does not look like an e-mail address."))]
    )

    def fill_choices(self, branches, departments) -> None:
        self.branch_id.choices = [SelectChoice(b.id, b.name) for b in branches]
        self.department_id.choices = [SelectChoice(d.id, d.name) for d in departments]

    def ticket_fields(self) -> dict:
        consent = self.contact_consent.data
        return {
            "source": self.source.data,
            "branch_id": self.branch_id.data,
            "department_id": self.department_id.data,
            "category": self.category.data,
            "priority": self.priority.data,
            "subject": self.subject.data.strip(),
            "description": (self.description.data or "").strip(),
            "contact_consent": consent,
            "contact_name": (self.contact_name.data or "").strip() or None if consent else None,
            "contact_phone": (self.contact_phone.data or "").strip() or None if consent else None,
            "contact_email": (self.contact_email.data or "").strip() or None if consent else None,
        }
