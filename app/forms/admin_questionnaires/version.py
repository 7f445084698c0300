"""A version's content: its texts and languages, dimensions, questions with their options, skip rules, preview."""
from __future__ import annotations

from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from app.core.ids import id_or_none
from app.core.languages import SUPPORTED_LOCALES
from app.core.questionnaire_checks import OPTION_VALUE_PATTERN, OptionSpec, Problem, key_problem
from app.core.skip_logic import OPERATORS
from app.forms.admin_questionnaires.texts import fill_texts, texts_of
from app.forms.admin_questionnaires.words import ACTION_LABELS, OPERATOR_LABELS, PROBLEM_MESSAGES, TYPE_LABELS, problem_message
from app.forms.base import CHECKBOXES, LoopdeskForm, form_id
from app.i18n import LANGUAGE_NAMES, text
from app.services.questionnaires.dimensions import DimensionInput
from app.services.questionnaires.questions import QuestionInput
from app.services.questionnaires.skip_rules import RuleInput

BLANK_DIMENSION_ROWS = 3
BLANK_OPTION_ROWS = 2
MIN_OPTION_ROWS = 4


class VersionTextsForm(LoopdeskForm):
    languages = SelectMultipleField(
        _l("Offered in"),
        widget=CHECKBOXES,
        option_widget=CheckboxInput(),
        choices=[SelectChoice(lang, LANGUAGE_NAMES[lang]) for lang in SUPPORTED_LOCALES],
    )
    title_zh_Hans = StringField(_l("Title in Chinese"), validators=[Length(max=200)])
    title_en = StringField(_l("Title in English"), validators=[Length(max=200)])
    intro_zh_Hans = TextAreaField(_l("Introduction in Chinese"), validators=[Length(max=1000)])
    intro_en = TextAreaField(_l("Introduction in English"), validators=[Length(max=1000)])
    thanks_zh_Hans = TextAreaField(_l("Thank-you text in Chinese"), validators=[Length(max=1000)])
    thanks_en = TextAreaField(_l("Thank-you text in English"), validators=[Length(max=1000)])
    title_zh_Hant = StringField(_l("Title in Traditional Chinese"), validators=[Length(max=200)])
    intro_zh_Hant = TextAreaField(_l("Introduction in Traditional Chinese"), validators=[Length(max=1000)])
    thanks_zh_Hant = TextAreaField(_l("Thank-you text in Traditional Chinese"), validators=[Length(max=1000)])

    def validate_languages(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Offer the questionnaire in at least one language."))

    def texts(self, prefix: str) -> dict[str, str]:
        return texts_of(self, prefix)

    def chosen_languages(self) -> list[str]:
        return [lang for lang in SUPPORTED_LOCALES if lang in (self.languages.data or [])]

    @classmethod
    def of(cls, version) -> VersionTextsForm:
        form = cls(formdata=None)
        form.languages.data = list(version.languages or [])
        for prefix in ("title", "intro", "thanks"):
            fill_texts(form, prefix, getattr(version, prefix))
        return form


class DimensionRowForm(Form):
    id = HiddenField()
    key = StringField(_l("Key"), validators=[Length(max=40)])
    name_zh_Hans = StringField(_l("Name in Chinese"), validators=[Length(max=80)])
    name_en = StringField(_l("Name in English"), validators=[Length(max=80)])
    weight = IntegerField(_l("Weight %"), validators=[Optional(), NumberRange(0, 100, message=_l("From 0 to 100."))])
    remove = BooleanField(_l("Remove"))


class DimensionsForm(LoopdeskForm):
    dimensions = FieldList(FormField(DimensionRowForm))

    @classmethod
    def of(cls, version) -> DimensionsForm:
        form = cls(formdata=None, data={"dimensions": [
            {"id": str(d.id), "key": d.key, "name_zh_Hans": (d.name or {}).get("zh_Hans", ""),
             "name_en": (d.name or {}).get("en", ""), "weight": d.weight}
            for d in version.dimensions
        ]})
        for _ in range(BLANK_DIMENSION_ROWS):
            form.dimensions.append_entry()
        return form

    def rows(self) -> list[DimensionInput]:
        rows = []
        for index, entry in enumerate(self.dimensions):
            row = entry.form
            rows.append(DimensionInput(
                row=index,
                id=id_or_none((row.id.data or "").strip()),
                key=(row.key.data or "").strip(),
                name=texts_of(row, "name"),
                weight=row.weight.data or 0,
                remove=bool(row.remove.data),
            ))
        return rows

    def add_problems(self, problems: list[Problem]) -> None:
        for problem in problems:
            message = problem_message(problem)
            if problem.field == "weights":
                for entry in self.dimensions:
                    if not entry.form.remove.data and (entry.form.key.data or entry.form.weight.data):
                        entry.form.weight.errors = [*entry.form.weight.errors, message]
            elif problem.field.startswith("dimension-"):
                index = int(problem.field.split("-")[1])
                key = self.dimensions[index].form.key
                key.errors = [*key.errors, message]


class OptionRowForm(Form):
    value = StringField(_l("Value"), validators=[Length(max=40)])
    label_zh_Hans = StringField(_l("Label in Chinese"), validators=[Length(max=200)])
    label_en = StringField(_l("Label in English"), validators=[Length(max=200)])
    label_zh_Hant = StringField(_l("Label in Traditional Chinese"), validators=[Length(max=200)])


class QuestionForm(LoopdeskForm):
    key = StringField(
        _l("Key"),
        description=_l("A short name for rules and exports, e.g. service_speed."),
        validators=[DataRequired(message=_l("Give the question a key.")), Length(max=40)],
    )
    step = IntegerField(
        _l("Step"),
        description=_l("Questions with the same step number share one screen."),
        validators=[InputRequired(message=_l("Give the step number.")), NumberRange(1, 99, message=_l("From 1 to 99."))],
    )
    type = SelectField(_l("Type"), choices=[SelectChoice(k, v) for k, v in TYPE_LABELS.items()])
    required = BooleanField(_l("An answer is required"))
    dimension_id = SelectField(_l("Dimension"), coerce=form_id, default=0)
    prompt_zh_Hans = TextAreaField(_l("Question in Chinese"), validators=[Length(max=500)])
    prompt_en = TextAreaField(_l("Question in English"), validators=[Length(max=500)])
    help_zh_Hans = StringField(_l("Help text in Chinese"), validators=[Length(max=300)])
    help_en = StringField(_l("Help text in English"), validators=[Length(max=300)])
    prompt_zh_Hant = TextAreaField(_l("Question in Traditional Chinese"), validators=[Length(max=500)])
    help_zh_Hant = StringField(_l("Help text in Traditional Chinese"), validators=[Length(max=300)])
    options = FieldList(FormField(OptionRowForm))

    #: Keys of the version's other questions (a key names one question only).
    taken_keys: tuple[str, ...] = ()

    def fill_choices(self, version, question=None) -> None:
        self.taken_keys = tuple(q.key for q in version.questions if q is not question)
        self.dimension_id.choices = [SelectChoice(0, _l("No dimension"))] + [
            SelectChoice(d.id, f"{text(d.name) or d.key} ({d.weight} %)") for d in version.dimensions
        ]

    def add_blank_options(self) -> None:
        for _ in range(max(BLANK_OPTION_ROWS, MIN_OPTION_ROWS - len(self.options))):
            self.options.append_entry()

    def validate_key(self, field) -> None:
        code = key_problem((field.data or "").strip(), self.taken_keys)
        if code:
            raise ValidationError(PROBLEM_MESSAGES[code])

    def validate_prompt_zh_Hans(self, field) -> None:
        if not any(texts_of(self, "prompt").values()):
            field.errors.append(_l("Write the question in at least one language."))

    def validate(self, extra_validators=None) -> bool:
        """Also: an option with a label needs a value, and values are plain words."""
        valid = super().validate(extra_validators)
        for entry in self.options:
            row = entry.form
            value = (row.value.data or "").strip()
            message = None
            if not value and any(texts_of(row, "label").values()):
                message = _l("Give this option a value.")
            elif value and not OPTION_VALUE_PATTERN.match(value):
                message = _l("Use letters, digits, _ and - only.")
            if message:
                row.value.errors = [*row.value.errors, message]
                valid = False
        return valid

    def question_input(self) -> QuestionInput:
        options = tuple(
            OptionSpec(entry.form.value.data.strip(), texts_of(entry.form, "label"))
            for entry in self.options if (entry.form.value.data or "").strip()
        )
        return QuestionInput(
            key=(self.key.data or "").strip(),
            step=self.step.data,
            type=self.type.data,
            required=bool(self.required.data),
            dimension_id=self.dimension_id.data or None,
            prompt=texts_of(self, "prompt"),
            help=texts_of(self, "help"),
            options=options,
        )

    @classmethod
    def of(cls, version, question=None) -> QuestionForm:
        if question is None:
            step = max((q.step for q in version.questions), default=0) + 1
            form = cls(formdata=None, data={"step": step, "required": True})
        else:
            form = cls(formdata=None, data={
                "key": question.key, "step": question.step, "type": str(question.type),
                "required": question.required, "dimension_id": question.dimension_id or 0,
                "options": [
                    {"value": o.get("value", ""),
                     **{f"label_{lang}": (o.get("label") or {}).get(lang, "") for lang in SUPPORTED_LOCALES}}
                    for o in question.options or []
                ],
            })
            fill_texts(form, "prompt", question.prompt)
            fill_texts(form, "help", question.help)
        form.fill_choices(version, question)
        form.add_blank_options()
        return form


class RuleForm(LoopdeskForm):
    source_id = SelectField(_l("If the answer to"), coerce=form_id)
    operator = SelectField(_l("Condition"), choices=[SelectChoice(op, OPERATOR_LABELS[op]) for op in OPERATORS])
    value = StringField(_l("Value"), validators=[Length(max=80)])
    action = SelectField(_l("then"), choices=[SelectChoice(k, v) for k, v in ACTION_LABELS.items()])
    target_id = SelectField(_l("the question"), coerce=form_id)

    def fill_choices(self, questions) -> None:
        choices = [SelectChoice(q.id, f"{q.step}. {text(q.prompt) or q.key} ({q.key})") for q in questions]
        self.source_id.choices = list(choices)
        self.target_id.choices = list(choices)

    def rule_input(self) -> RuleInput:
        return RuleInput(
            source_id=self.source_id.data,
            operator=self.operator.data,
            value=(self.value.data or "").strip(),
            action=self.action.data,
            target_id=self.target_id.data,
        )

    @classmethod
    def of(cls, questions, rule=None) -> RuleForm:
        if rule is None:
            form = cls(formdata=None, data={"operator": "lte", "action": "show"})
        else:
            form = cls(formdata=None, data={
                "source_id": rule.source_question_id, "operator": rule.operator, "value": rule.value,
                "action": str(rule.action), "target_id": rule.target_question_id,
            })
        form.fill_choices(questions)
        return form


class PreviewStepForm:
    """What survey/_question.html reads of a step form, empty: the preview shows questions unanswered."""

    _empty = SimpleNamespace(data=None, errors=())

    def field_name(self, question, part: str = "") -> str:
        return f"q_{question.key}{'_' + part if part else ''}"

    def __getitem__(self, name: str) -> SimpleNamespace:
        return self._empty
