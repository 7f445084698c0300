"""Forms of the customer pages: a customer, an attribute definition, an import's upload and column mapping."""
from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app import labels
from app.core.contacts import FIELDS, AttributeType
from app.core.languages import SUPPORTED_LOCALES
from app.forms.base import CHECKBOXES, LoopdeskForm, form_id
from app.i18n import LANGUAGE_NAMES, text
from app.models import Branch, CustomerAttribute, User


class _Checkboxes(SelectMultipleField):
    widget = CHECKBOXES
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form) -> None:  # an id outside the user's scope is dropped by the view
        return None


class CustomerForm(LoopdeskForm):
    name = StringField(_l("Name"), validators=[Length(max=120)])
    company = StringField(_l("Company"), validators=[Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Length(max=40)],
                        description=_l("Without a country code, read in the country of the customer's first branch."))
    email = StringField(_l("E-mail"), validators=[Length(max=255)])
    language = SelectField(_l("Preferred language"))
    external_id = StringField(_l("External id (CRM)"), validators=[Length(max=64)])
    branch_ids = _Checkboxes(_l("Branches"), coerce=form_id)
    owner_id = SelectField(_l("Account owner"), coerce=form_id)

    def fill_choices(self, branches: Sequence[Branch], owners: Sequence[User]) -> None:
        self.language.choices = [SelectChoice("", "—")] + [SelectChoice(locale, LANGUAGE_NAMES[locale]) for locale in SUPPORTED_LOCALES]
        self.branch_ids.choices = branch_choices(branches)
        self.owner_id.choices = [SelectChoice(0, "—")] + [SelectChoice(u.id, u.display_name or u.username) for u in owners]


def branch_choices(branches: Sequence[Branch]) -> list[SelectChoice]:
    return [SelectChoice(b.id, f"{b.name} ({b.code})") for b in branches]


def attribute_field_name(attribute: CustomerAttribute) -> str:
    return f"attr_{attribute.key}"


def customer_form(definitions: Sequence[CustomerAttribute], **kwargs) -> CustomerForm:
    """The customer form with one field per attribute the admin defined."""

    class WithAttributes(CustomerForm):
        pass

    for attribute in definitions:
        label = text(attribute.labels) or attribute.key
        if attribute.type == AttributeType.CHOICE:
            choices = [SelectChoice("", "—")] + [SelectChoice(c["value"], text(c.get("labels")) or c["value"])
                                                 for c in attribute.choices or ()]
            field = SelectField(label, choices=choices, validate_choice=False)
        elif attribute.type == AttributeType.DATE:
            field = StringField(label, render_kw={"type": "date"})
        elif attribute.type == AttributeType.NUMBER:
            field = StringField(label, render_kw={"inputmode": "decimal"})
        elif attribute.type == AttributeType.TAGS:
            field = StringField(label, description=_l("Several, separated by commas."))
        else:
            field = StringField(label)
        setattr(WithAttributes, attribute_field_name(attribute), field)
    return WithAttributes(**kwargs)


class AttributeForm(LoopdeskForm):
    key = StringField(_l("Key"), validators=[Length(max=40)],
                      description=_l("Lower case, never changes once made; the import and the API name it, e.g. tier."))
    label_zh_Hans = StringField(_l("Label in Simplified Chinese"), validators=[Length(max=80)])
    label_en = StringField(_l("Label in English"), validators=[Length(max=80)])
    label_zh_Hant = StringField(_l("Label in Traditional Chinese"), validators=[Length(max=80)])
    type = SelectField(_l("Type"), choices=[SelectChoice(k, v) for k, v in labels.ATTRIBUTE_TYPE_LABELS.items()])
    choices_text = TextAreaField(
        _l("Choices"), validators=[Length(max=5000)],
        description=_l("For a list: one a line, the stored value then its labels: high | 高价值 | High"),
    )
    position = IntegerField(_l("Order"), default=0, validators=[Optional(), NumberRange(min=0, max=1000)])


class ImportUploadForm(LoopdeskForm):
    file = FileField(_l("CSV or Excel (.xlsx) file"), validators=[FileRequired(_l("Choose a file."))])
    branch_id = SelectField(_l("Branch of rows that name none"), coerce=form_id)


def mapping_form(headers: Sequence[str], guessed: Sequence[str], attributes: Sequence[CustomerAttribute],
                 **kwargs) -> LoopdeskForm:
    """One select per column of the file: which customer field it fills, or none."""
    options = [SelectChoice("", _l("— leave out —"))]
    options += [SelectChoice(field, labels.CUSTOMER_FIELD_LABELS[field]) for field in FIELDS]
    options += [SelectChoice(f"attr:{a.key}", _l("Attribute: %(label)s", label=text(a.labels) or a.key)) for a in attributes]

    class MappingForm(LoopdeskForm):
        pass

    for index, header in enumerate(headers):
        setattr(MappingForm, f"col_{index}", SelectField(header or f"#{index + 1}", choices=options,
                                                        default=guessed[index] if index < len(guessed) else ""))
    return MappingForm(**kwargs)


class EraseForm(LoopdeskForm):
    confirm = BooleanField(_l("I understand: the customer's personal data is removed for good."),
                           validators=[DataRequired(_l("Tick the box to erase."))])
