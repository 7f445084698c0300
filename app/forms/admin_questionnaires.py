"""Forms of the questionnaire builder, and the words its pages use for types, operators and problems."""
from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.fields.datetime import DateTimeLocalField
from wtforms.widgets import CheckboxInput, ListWidget
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from app.core.languages import SUPPORTED_LOCALES
from app.core.questionnaire_checks import OPTION_VALUE_PATTERN, OptionSpec, Problem, key_problem
from app.core.skip_logic import OPERATORS
from app.core.ids import id_or_none
from app.forms.base import LoopdeskForm, form_id
from app.i18n import LANGUAGE_NAMES, text
from app.services.questionnaires.dimensions import DimensionInput
from app.services.questionnaires.questions import QuestionInput
from app.services.questionnaires.skip_rules import RuleInput

CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]{1,39}\Z"
#: The local date and time as a browser's datetime-local input sends it.
LOCAL_TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
CHECKBOXES = ListWidget(prefix_label=False)
BLANK_DIMENSION_ROWS = 3
BLANK_OPTION_ROWS = 2
MIN_OPTION_ROWS = 4

TYPE_LABELS = {
    "csat": _l("CSAT rating 1–5"),
    "nps": _l("NPS 0–10 (would you recommend us)"),
    "single": _l("Single choice"),
    "multiple": _l("Multiple choice"),
    "text": _l("Open text"),
    "contact": _l("Contact details (with consent)"),
}
OPERATOR_LABELS = {
    "eq": _l("is (=)"),
    "ne": _l("is not (≠)"),
    "lt": _l("is less than (<)"),
    "lte": _l("is at most (≤)"),
    "gt": _l("is more than (>)"),
    "gte": _l("is at least (≥)"),
    "includes": _l("includes"),
    "excludes": _l("does not include"),
    "answered": _l("is answered"),
    "unanswered": _l("is not answered"),
}
ACTION_LABELS = {"show": _l("show"), "skip": _l("skip")}
STATUS_LABELS = {
    "draft": _l("Draft"),
    "published": _l("Published"),
    "archived": _l("Archived"),
    "not_published": _l("Not published yet"),
    "scheduled": _l("Scheduled"),
    "ended": _l("Ended"),
    "live": _l("Live"),
}

PROBLEM_MESSAGES = {
    "code_taken": _l("Another questionnaire already uses this code."),
    "no_language": _l("Offer the questionnaire in at least one language."),
    "missing_text": _l("Missing in %(language)s, which this version is offered in."),
    "missing_option_label": _l("Option “%(value)s” has no label in %(language)s."),
    "no_questions": _l("Add at least one question before publishing."),
    "too_many_questions": _l("The guides allow at most %(max)s questions; this version has %(count)s."),
    "two_contact_questions": _l("Ask for contact details only once."),
    "rules_invalid": _l("A skip rule does not fit the questions; check the rules."),
    "key_format": _l("Use lower-case letters, digits and _ only, starting with a letter (at most 40)."),
    "key_taken": _l("Another one in this version already uses this key."),
    "unknown_type": _l("Choose one of the question types."),
    "too_few_options": _l("A choice question needs at least two options."),
    "option_value_format": _l("Option values use letters, digits, _ and - only (at most 40)."),
    "duplicate_option": _l("Two options have the same value; each needs its own."),
    "weights_total": _l("The weights add up to %(total)s; they must add up to exactly 100."),
    "weight_negative": _l("A weight cannot be negative."),
    "rule_unknown_question": _l("Choose questions of this version."),
    "rule_same_question": _l("A rule cannot show or skip the question it reads."),
    "rule_backwards": _l(
        "“%(target)s” must be on a later step than “%(source)s”: a rule only reads earlier questions, "
        "so it never points backwards or loops."
    ),
    "rule_action": _l("Choose show or skip."),
    "rule_reads_contact": _l("A rule cannot read the contact details question."),
    "rule_operator_type": _l("“%(operator)s” does not fit a question of type %(type)s."),
    "rule_value_missing": _l("Give the value to compare the answer with."),
    "rule_value_number": _l("Give a whole number from %(low)s to %(high)s."),
    "rule_value_option": _l("Give one of the question's option values: %(values)s."),
    "step_breaks_rule": _l(
        "A skip rule reads “%(source)s” to show or skip “%(target)s”, so “%(target)s” must stay on a later step. "
        "Change or remove the rule first."
    ),
    "type_breaks_rule": _l("A skip rule reads this question and would not fit this type. Change or remove the rule first."),
    "options_break_rule": _l("A skip rule compares this question with an option value that would be gone. "
                             "Change or remove the rule first."),
    "move_breaks_rule": _l(
        "Not moved: a skip rule reads “%(source)s” to show or skip “%(target)s”, so “%(target)s” must stay on a "
        "later step. Change or remove the rule first."
    ),
}


def problem_message(problem: Problem) -> str:
    """A problem found by the checks, in the admin's language."""
    params: dict[str, object] = dict(problem.params)
    if "language" in params:
        params["language"] = LANGUAGE_NAMES.get(str(params["language"]), params["language"])
    if "operator" in params:
        params["operator"] = str(OPERATOR_LABELS.get(str(params["operator"]), params["operator"]))
    if "type" in params:
        params["type"] = str(TYPE_LABELS.get(str(params["type"]), params["type"]))
    message = PROBLEM_MESSAGES.get(problem.code)
    return str(message) % params if message is not None else problem.code


def add_problems(form: Form, problems: list[Problem]) -> None:
    """Show a refused change's problems at the form's fields (the form as a whole when it has no such field)."""
    for problem in problems:
        target = form._fields.get(problem.field)
        if target is None:
            form.form_errors.append(problem_message(problem))
        else:
            target.errors = [*target.errors, problem_message(problem)]


def _home_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["LOOPDESK_HOME_TIMEZONE"])


#: The languages every questionnaire is written in; Traditional Chinese is a third one a version may
#: offer (for Hong Kong and Taiwan branches): its fields show where the version offers it or has its texts.
BASE_LOCALES = ("zh_Hans", "en")


def editor_locales(languages, *texts: Mapping[str, str] | None) -> tuple[str, ...]:
    """The languages whose fields the editor shows for a version offered in ``languages``."""
    return tuple(
        lang for lang in SUPPORTED_LOCALES
        if lang in BASE_LOCALES or lang in (languages or ()) or any((t or {}).get(lang) for t in texts)
    )


def _texts(form: Form, prefix: str) -> dict[str, str]:
    """The texts of the form's fields ``<prefix>_<locale>``; a language beyond the base ones only when given
    (a form without a language's field has none)."""
    texts = {}
    for lang in SUPPORTED_LOCALES:
        if f"{prefix}_{lang}" in form:
            value = (form[f"{prefix}_{lang}"].data or "").strip()
            if value or lang in BASE_LOCALES:
                texts[lang] = value
    return texts


def _fill_texts(form: Form, prefix: str, texts: Mapping[str, str] | None) -> None:
    for lang in SUPPORTED_LOCALES:
        if f"{prefix}_{lang}" in form:
            form[f"{prefix}_{lang}"].data = (texts or {}).get(lang, "")


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
        return _texts(self, "name")


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
        return _texts(self, "name")

    @classmethod
    def of(cls, questionnaire) -> SettingsForm:
        form = cls(formdata=None)
        _fill_texts(form, "name", questionnaire.name)
        form.starts_at.data, form.ends_at.data = questionnaire.starts_at, questionnaire.ends_at
        return form


class TargetingForm(LoopdeskForm):
    branch_ids = SelectMultipleField(_l("Branches"), coerce=form_id, widget=CHECKBOXES, option_widget=CheckboxInput())
    regions = SelectMultipleField(_l("Regions"), widget=CHECKBOXES, option_widget=CheckboxInput())

    def fill_choices(self, branches, regions) -> None:
        self.branch_ids.choices = [SelectChoice(b.id, f"{b.name} ({b.code})") for b in branches]
        self.regions.choices = [SelectChoice(r, r) for r in regions]


class ActionForm(LoopdeskForm):
    """A button that changes one thing (archive, publish, remove, new draft): only the CSRF token."""


class MoveForm(LoopdeskForm):
    direction = HiddenField(validators=[AnyOf(("up", "down"))])


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
        return _texts(self, prefix)

    def chosen_languages(self) -> list[str]:
        return [lang for lang in SUPPORTED_LOCALES if lang in (self.languages.data or [])]

    @classmethod
    def of(cls, version) -> VersionTextsForm:
        form = cls(formdata=None)
        form.languages.data = list(version.languages or [])
        for prefix in ("title", "intro", "thanks"):
            _fill_texts(form, prefix, getattr(version, prefix))
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
                name=_texts(row, "name"),
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
        if not any(_texts(self, "prompt").values()):
            field.errors.append(_l("Write the question in at least one language."))

    def validate(self, extra_validators=None) -> bool:
        """Also: an option with a label needs a value, and values are plain words."""
        valid = super().validate(extra_validators)
        for entry in self.options:
            row = entry.form
            value = (row.value.data or "").strip()
            message = None
            if not value and any(_texts(row, "label").values()):
                message = _l("Give this option a value.")
            elif value and not OPTION_VALUE_PATTERN.match(value):
                message = _l("Use letters, digits, _ and - only.")
            if message:
                row.value.errors = [*row.value.errors, message]
                valid = False
        return valid

    def question_input(self) -> QuestionInput:
        options = tuple(
            OptionSpec(entry.form.value.data.strip(), _texts(entry.form, "label"))
            for entry in self.options if (entry.form.value.data or "").strip()
        )
        return QuestionInput(
            key=(self.key.data or "").strip(),
            step=self.step.data,
            type=self.type.data,
            required=bool(self.required.data),
            dimension_id=self.dimension_id.data or None,
            prompt=_texts(self, "prompt"),
            help=_texts(self, "help"),
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
            _fill_texts(form, "prompt", question.prompt)
            _fill_texts(form, "help", question.help)
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
