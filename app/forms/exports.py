"""The export form: what, which rows (the dashboard's filter), which file and language."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, RadioField, SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError
from wtforms.widgets import CheckboxInput

from app.forms.base import CHECKBOXES, LoopdeskForm, form_id
from app.i18n import LANGUAGE_NAMES
from app.models import Channel
from app.labels import CHANNEL_LABELS
from app.services.insight.filters import InsightFilter, MAX_DATE, MIN_DATE


class ExportForm(LoopdeskForm):
    subject = RadioField(
        _l("Export"),
        choices=[SelectChoice("responses", _l("Responses")), SelectChoice("tickets", _l("Tickets"))],
        default="responses",
    )
    file_format = RadioField(
        _l("File"),
        choices=[SelectChoice("xlsx", _l("Excel (.xlsx)")), SelectChoice("csv", _l("CSV (.csv)"))],
        default="xlsx",
    )
    language = RadioField(
        _l("Language of headers and answers"),
        choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()],
    )
    date_from = DateField(_l("From"), validators=[Optional()], format="%Y-%m-%d")
    date_to = DateField(_l("To (included)"), validators=[Optional()], format="%Y-%m-%d")
    branch_ids = SelectMultipleField(
        _l("Branches (none ticked: all of yours)"),
        coerce=form_id,
        widget=CHECKBOXES,
        option_widget=CheckboxInput(),
    )
    region = SelectField(_l("Region"), default="")
    version_id = SelectField(_l("Questionnaire version"), coerce=form_id, default=0)
    channel = SelectField(
        _l("Channel"),
        choices=[SelectChoice("", _l("All channels"))] + [SelectChoice(c, label) for c, label in CHANNEL_LABELS.items()],
        default="",
    )
    include_flagged = BooleanField(_l("Include responses flagged for data quality"))

    def fill_choices(self, branches, regions, versions) -> None:
        """``versions``: (id, label) pairs."""
        self.branch_ids.choices = [SelectChoice(b.id, f"{b.name} ({b.code})") for b in branches]
        self.region.choices = [SelectChoice("", _l("All regions"))] + [SelectChoice(r, r) for r in regions]
        self.version_id.choices = [SelectChoice(0, _l("All versions"))] + [
            SelectChoice(version_id, label) for version_id, label in versions
        ]

    def prefill(self, insight_filter: InsightFilter) -> None:
        """Start from a filter given in the address (a dashboard's "export these")."""
        def offered(field) -> set:
            return {choice.value for choice in field.choices}

        self.date_from.data = insight_filter.date_from
        self.date_to.data = insight_filter.date_to
        self.branch_ids.data = [i for i in insight_filter.branch_ids if i in offered(self.branch_ids)]
        if insight_filter.region in offered(self.region):
            self.region.data = insight_filter.region
        if insight_filter.version_id in offered(self.version_id):
            self.version_id.data = insight_filter.version_id
        self.channel.data = insight_filter.channel.value if insight_filter.channel else ""
        self.include_flagged.data = insight_filter.include_flagged

    def validate_date_from(self, field) -> None:
        if field.data and not MIN_DATE <= field.data <= MAX_DATE:
            raise ValidationError(_l("Choose a date between %(first)s and %(last)s.", first=MIN_DATE, last=MAX_DATE))

    def validate_date_to(self, field) -> None:
        self.validate_date_from(field)
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))

    def insight_filter(self) -> InsightFilter:
        return InsightFilter(
            date_from=self.date_from.data,
            date_to=self.date_to.data,
            branch_ids=tuple(sorted(set(self.branch_ids.data or ()))),
            region=self.region.data or None,
            version_id=self.version_id.data or None,
            channel=Channel(self.channel.data) if self.channel.data else None,
            include_flagged=bool(self.include_flagged.data),
        )
