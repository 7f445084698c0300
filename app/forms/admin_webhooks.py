"""The form of a webhook endpoint under /admin/webhooks/: name, URL, events, branch scope."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app.forms.admin_people import CheckboxesField
from app.forms.base import LoopdeskForm, form_id
from app.models import Branch, WebhookEndpoint
from app.services.webhooks.endpoints import EndpointError, EndpointFields
from app.services.webhooks.events import EVENT_TYPES

#: What each event means, for the admin choosing them (the code is what a receiver reads in ``type``).
EVENT_LABELS = {
    "response.submitted": _l("A customer's response was processed (scores, flags, its ticket)"),
    "ticket.created": _l("A ticket was opened"),
    "ticket.updated": _l("A ticket changed (status, assignee, priority, department, reply, note)"),
    "ticket.resolved": _l("A ticket was resolved"),
    "sla.warning": _l("A ticket's deadline is near (SLA warning)"),
    "sla.breached": _l("A ticket's deadline passed (SLA breached)"),
    "escalation.fired": _l("A later rung of the escalation ladder fired"),
    "alert.raised": _l("A branch alert was raised"),
    "webhook.test": _l("A test event sent from this page"),
}


class EndpointForm(LoopdeskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)],
                       description=_l("What it feeds, e.g. CRM or call centre."))
    url = StringField(_l("Receiver's URL"), validators=[DataRequired(), Length(max=500)],
                      description=_l("http:// or https://; Loopdesk sends a signed POST there for each event."))
    events = CheckboxesField(_l("Events"))
    all_branches = BooleanField(_l("Events of every branch"))
    branch_ids = CheckboxesField(_l("Only the events of these branches"), coerce=form_id)

    def fill_choices(self, branches: list[Branch]) -> None:
        self.events.choices = [SelectChoice(event, f"{event}: {EVENT_LABELS[event]}") for event in EVENT_TYPES]
        self.branch_ids.choices = [SelectChoice(b.id, f"{b.name} ({b.code})") for b in branches]

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> EndpointForm:
        return cls(formdata=None, name=endpoint.name, url=endpoint.url,
                   events=list(endpoint.events or EVENT_TYPES), all_branches=endpoint.all_branches,
                   branch_ids=[branch.id for branch in endpoint.branches])

    @classmethod
    def blank(cls) -> EndpointForm:
        return cls(formdata=None, events=list(EVENT_TYPES), all_branches=True)

    def fields(self) -> EndpointFields:
        return EndpointFields(
            name=self.name.data or "", url=self.url.data or "", events=list(self.events.data or []),
            all_branches=bool(self.all_branches.data), branch_ids=self.branch_ids.data or [],
        )

    def show(self, error: EndpointError) -> None:
        getattr(self, error.field).errors = [error.message]
