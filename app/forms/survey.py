"""The form of one survey step, built from the questions on that step."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from flask import current_app
from werkzeug.datastructures import MultiDict
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, Field, HiddenField, IntegerField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp, ValidationError

from app.forms.base import LoopdeskForm

from app.core.scoring import CSAT_MAX, CSAT_MIN, NPS_MAX, NPS_MIN
from app.core.skip_logic import AnswerValue
from app.models import QuestionType
from app.services.survey.plans import PlannedQuestion
from app.services.survey.submitting import ContactDetails

CSAT_VALUES = tuple(range(CSAT_MIN, CSAT_MAX + 1))
NPS_VALUES = tuple(range(NPS_MIN, NPS_MAX + 1))
MAX_TEXT_LENGTH = 2000
KEY_PATTERN = r"^[A-Za-z0-9_-]{16,43}\Z"
PHONE_PATTERN = r"^\+?[0-9][0-9 ()-]{4,19}$"
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,24}$"


class StepForm(LoopdeskForm):
    key = HiddenField(validators=[DataRequired(), Regexp(KEY_PATTERN)])
    step = IntegerField(validators=[InputRequired()])

    questions: Sequence[PlannedQuestion] = ()

    def validate(self, extra_validators=None) -> bool:
        """Also refuse what no browser sends: a one-answer field given twice, or a NUL character."""
        valid = super().validate(extra_validators)
        for field in self:
            raw = [value for value in field.raw_data or () if isinstance(value, str)]
            if (len(raw) > 1 and not isinstance(field, SelectMultipleField)) or any("\x00" in value for value in raw):
                field.errors.append(field.gettext("Invalid input."))
                valid = False
        return valid

    def field_name(self, question: PlannedQuestion, part: str = "") -> str:
        return f"q_{question.key}{'_' + part if part else ''}"

    def answer_values(self) -> dict[str, AnswerValue]:
        values: dict[str, AnswerValue] = {}
        for question in self.questions:
            if question.type == QuestionType.CONTACT:
                continue
            data = self[self.field_name(question)].data
            if question.type == QuestionType.TEXT:
                data = (data or "").strip() or None
            elif question.type == QuestionType.SINGLE:
                data = [data] if data else None
            values[question.key] = data
        return values

    def contact_details(self) -> ContactDetails | None:
        question = next((q for q in self.questions if q.type == QuestionType.CONTACT), None)
        if question is None:
            return None

        def clean(part: str) -> str | None:
            return (self[self.field_name(question, part)].data or "").strip() or None

        return ContactDetails(
            consent=bool(self[self.field_name(question, "consent")].data),
            name=clean("name"),
            phone=clean("phone"),
            email=clean("email"),
        )


def _required(question: PlannedQuestion) -> list:
    if question.required:
        return [InputRequired(message=_l("Please answer this question."))]
    return [Optional()]


def _choice_field(question: PlannedQuestion) -> Field:
    if question.type in (QuestionType.CSAT, QuestionType.NPS):
        values = CSAT_VALUES if question.type == QuestionType.CSAT else NPS_VALUES
        return RadioField(
            choices=[SelectChoice(v) for v in values],
            coerce=int,
            validators=_required(question),
            validate_choice=True,
        )
    if question.type == QuestionType.SINGLE:
        return RadioField(choices=[SelectChoice(v) for v in question.option_values], validators=_required(question))
    field = SelectMultipleField(
        choices=[SelectChoice(v) for v in question.option_values],
        # Not Optional(): it would accept forged values behind an empty first one.
        validators=[DataRequired(message=_l("Please choose at least one."))] if question.required else [],
    )
    return field


def _contact_check(question: PlannedQuestion):
    def check(form: StepForm, field: Field) -> None:
        contact = form.contact_details()
        if contact is None:
            return
        if contact.consent and not (contact.phone or contact.email):
            raise ValidationError(_l("Leave a phone number or an e-mail address so we can call you back."))
        if not contact.consent and (contact.phone or contact.email or contact.name):
            raise ValidationError(_l("Tick the box to let us contact you, or leave these fields empty."))

    return check


def build_step_form(questions: Sequence[PlannedQuestion], formdata=None, csrf: bool = True) -> StepForm:
    """The form of a step. Its class is made once per set of questions (published versions never change).
    ``csrf`` False: answers that came with an API key, not from a browser's page."""
    classes: dict = current_app.extensions.setdefault("loopdesk_step_forms", {})
    key = tuple(q.id for q in questions)
    form_class = classes.get(key)
    if form_class is None:
        form_class = classes[key] = _step_form_class(questions)
    meta = {} if csrf else {"csrf": False}
    return form_class(formdata=formdata, meta=meta) if formdata is not None else form_class(meta=meta)


def whole_response_form(
    questions: Sequence[PlannedQuestion], answers: Mapping[str, object], contact: Mapping[str, object] | None, key: str,
) -> StepForm:
    """The step form of ``questions`` (those a whole response shows) filled from an integration's answers by
    question key (a rating as an integer, a single choice as its option value, a multiple choice as a list of
    them, a text as a string) and contact details: the survey's own checks, no CSRF. A value of the wrong JSON
    type becomes a value no field accepts, so the field's own message refuses it."""
    formdata = MultiDict({"key": key, "step": "0"})
    for question in questions:
        name = f"q_{question.key}"
        if question.type == QuestionType.CONTACT:
            given = contact or {}
            for part in ("name", "phone", "email"):
                if isinstance(given.get(part), str):
                    formdata[f"{name}_{part}"] = given[part]
            if given.get("consent") is True:
                formdata[f"{name}_consent"] = "y"
            continue
        value = answers.get(question.key)
        if value is None:
            continue
        if question.type == QuestionType.MULTIPLE:
            values = value if isinstance(value, list) else [value]
            formdata.setlist(name, [v if isinstance(v, str) else WRONG_TYPE for v in values])
        elif question.type in (QuestionType.CSAT, QuestionType.NPS):
            formdata[name] = str(value) if isinstance(value, int) and not isinstance(value, bool) else WRONG_TYPE
        else:
            formdata[name] = value if isinstance(value, str) else WRONG_TYPE
    return build_step_form(questions, formdata=formdata, csrf=False)


#: What a value of the wrong JSON type becomes in ``whole_response_form``: no choice and no text is it.
WRONG_TYPE = "\x00"


def _step_form_class(questions: Sequence[PlannedQuestion]) -> type[StepForm]:
    """A StepForm subclass with one field (or four, for contact) per question on the step."""
    fields: dict[str, object] = {"questions": tuple(questions)}
    for question in questions:
        name = f"q_{question.key}"
        if question.type in (QuestionType.CSAT, QuestionType.NPS, QuestionType.SINGLE, QuestionType.MULTIPLE):
            fields[name] = _choice_field(question)
        elif question.type == QuestionType.TEXT:
            fields[name] = TextAreaField(
                validators=[
                    *(_required(question)),
                    Length(max=MAX_TEXT_LENGTH, message=_l("Please keep it under %(max)d characters.", max=MAX_TEXT_LENGTH)),
                ]
            )
        elif question.type == QuestionType.CONTACT:
            fields[f"{name}_name"] = StringField(validators=[Optional(), Length(max=80)])
            fields[f"{name}_phone"] = StringField(
                validators=[Optional(), Regexp(PHONE_PATTERN, message=_l("That does not look like a phone number."))]
            )
            fields[f"{name}_email"] = StringField(
                validators=[Optional(), Length(max=255), Regexp(EMAIL_PATTERN, message=_l("That does not look like an e-mail address."))]
            )
            fields[f"{name}_consent"] = BooleanField(validators=[_contact_check(question)])
    return type("StepForm_" + "_".join(q.key for q in questions), (StepForm,), fields)
