"""Forms for improvement actions (整改措施): the action itself, its status, linked tickets, telling customers."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.core.ids import parse_id
from app import labels
from app.forms.admin_people import CheckboxesField
from app.forms.base import LoopdeskForm, form_id
from app.i18n import LANGUAGE_NAMES, text
from app.models import Branch, ImprovementAction, User
from app.services.improvement_actions.queries import MAX_TITLE
from app.services.improvement_actions.replies import REPLY_LANGUAGES
from app.services.improvement_actions import ActionValues, FISHBONE_LABELS, GENERAL, MAX_TEXT, MAX_WHYS

WHY_FIELDS = tuple(f"why_{i}" for i in range(1, MAX_WHYS + 1))


def _optional_int(value) -> int | None:
    """A select's value as an id; "" is nobody (anything else that is not a number is refused)."""
    if value is None or value == "":
        return None
    return parse_id(value)


def show_problems(form: LoopdeskForm, problems: Mapping[str, object]) -> list[str]:
    """Put a service's refusal at the fields it names; returns the messages that belong to none."""
    general = []
    for key, message in problems.items():
        if key in form and key != GENERAL:
            form[key].errors = [*form[key].errors, str(message)]
        else:
            general.append(str(message))
    return general


def _text_field(label, **kwargs) -> TextAreaField:
    return TextAreaField(label, validators=[Optional(), Length(max=MAX_TEXT)], **kwargs)


class ActionForm(LoopdeskForm):
    title = StringField(
        _l("Title"), validators=[DataRequired(message=_l("Give the action a title.")), Length(max=MAX_TITLE)]
    )
    category = SelectField(_l("Category"), choices=[], default="")
    dimension_key = SelectField(
        _l("Dimension whose effect is checked"), choices=[], default="",
        description=_l("The check compares this dimension's mean rating before and after the fix."),
    )
    why_1 = StringField(_l("Why did it happen?"), validators=[Optional(), Length(max=MAX_TEXT)])
    why_2 = StringField(_l("Why? (2)"), validators=[Optional(), Length(max=MAX_TEXT)])
    why_3 = StringField(_l("Why? (3)"), validators=[Optional(), Length(max=MAX_TEXT)])
    why_4 = StringField(_l("Why? (4)"), validators=[Optional(), Length(max=MAX_TEXT)])
    why_5 = StringField(_l("Why? (5)"), validators=[Optional(), Length(max=MAX_TEXT)])
    root_cause = _text_field(_l("Root cause"))
    fishbone = SelectField(_l("Where the root cause lies (fishbone)"), choices=[], default="")
    owner_id = SelectField(_l("Owner"), coerce=_optional_int, choices=[])
    deadline = DateField(_l("Deadline"), validators=[Optional()])
    resources = _text_field(_l("Resources (people, budget, equipment)"))
    expected_effect = _text_field(_l("Expected effect"))
    branch_ids = CheckboxesField(_l("Branches"), coerce=form_id)
    check_due_on = DateField(
        _l("Check the effect on"), validators=[Optional()],
        description=_l("At least 30 days after the fix was done."),
    )
    check_notes = _text_field(_l("What the check found"))

    def fill_choices(
        self, branches: Iterable[Branch], owners: Iterable[User], dimensions: Iterable[tuple[str, Mapping]]
    ) -> None:
        nothing = SelectChoice("", _l("— none —"))
        self.category.choices = [nothing] + [SelectChoice(k, v) for k, v in labels.CATEGORY_LABELS.items()]
        self.dimension_key.choices = [nothing] + [SelectChoice(k, f"{text(name) or k} ({k})") for k, name in dimensions]
        self.fishbone.choices = [nothing] + [SelectChoice(k.value, v) for k, v in FISHBONE_LABELS.items()]
        self.owner_id.choices = [SelectChoice("", _l("— nobody yet —"))] + [
            SelectChoice(u.id, u.display_name or u.username) for u in owners
        ]
        self.branch_ids.choices = [SelectChoice(b.id, b.name) for b in branches]

    def fill_from(self, action: ImprovementAction) -> None:
        """Show a saved action (the branches the user cannot tick stay as they are)."""
        self.title.data = action.title
        self.category.data = action.category or ""
        self.dimension_key.data = action.dimension_key or ""
        for name, why in zip(WHY_FIELDS, list(action.whys or []) + [""] * MAX_WHYS):
            self[name].data = why
        self.root_cause.data = action.root_cause
        self.fishbone.data = action.fishbone.value if action.fishbone else ""
        self.owner_id.data = action.owner_id
        self.deadline.data = action.deadline
        self.resources.data = action.resources
        self.expected_effect.data = action.expected_effect
        self.branch_ids.data = [b.id for b in action.branches]
        self.check_due_on.data = action.check_due_on
        self.check_notes.data = action.check_notes

    def values(self) -> ActionValues:
        return ActionValues(
            title=(self.title.data or "").strip(),
            category=self.category.data or None,
            dimension_key=self.dimension_key.data or None,
            whys=tuple((self[name].data or "") for name in WHY_FIELDS),
            root_cause=self.root_cause.data or "",
            fishbone=self.fishbone.data or None,
            owner_id=self.owner_id.data,
            deadline=self.deadline.data,
            resources=self.resources.data or "",
            expected_effect=self.expected_effect.data or "",
            branch_ids=tuple(self.branch_ids.data or ()),
            check_due_on=self.check_due_on.data,
            check_notes=self.check_notes.data or "",
        )

    def show_problems(self, problems: Mapping[str, object]) -> list[str]:
        return show_problems(self, {WHY_FIELDS[0] if key == "whys" else key: m for key, m in problems.items()})


class StatusForm(LoopdeskForm):
    status = HiddenField()


class LinkTicketForm(LoopdeskForm):
    reference_code = StringField(
        _l("Reference code of a ticket"),
        validators=[DataRequired(message=_l("Type the ticket's reference code, e.g. LD-7K2Q9M.")), Length(max=16)],
    )


class TellCustomersForm(LoopdeskForm):
    """One message per language the linked tickets were written in."""

    message_zh_Hans = TextAreaField(
        _l("Message in %(language)s", language=LANGUAGE_NAMES["zh_Hans"]), validators=[Length(max=5000)]
    )
    message_en = TextAreaField(_l("Message in %(language)s", language=LANGUAGE_NAMES["en"]), validators=[Length(max=5000)])
    message_zh_Hant = TextAreaField(
        _l("Message in %(language)s", language=LANGUAGE_NAMES["zh_Hant"]), validators=[Length(max=5000)]
    )

    def messages(self) -> dict[str, str]:
        return {language: self[f"message_{language}"].data or "" for language in REPLY_LANGUAGES}


class AskCustomersForm(TellCustomersForm):
    """At the effect check: one request per language to rate the handling."""


class ConfirmForm(LoopdeskForm):
    """A button that changes something: only the CSRF token."""
