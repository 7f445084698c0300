"""Forms for the routing rules editor and its "try it" box under /admin/routing/."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, FieldList, Form, FormField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app import labels
from app.core.routing import AnswerCondition
from app.core.ids import id_or_none
from app.forms.admin_people import CheckboxesField
from app.forms.base import LoopdeskForm
from app.models import Branch, Department, RoutingRule
from app.services.routing.editor import RuleFields, split_keywords

OPERATOR_LABELS = {
    "lte": "≤", "lt": "<", "eq": "=", "ne": "≠", "gte": "≥", "gt": ">",
    "includes": _l("includes"), "excludes": _l("does not include"),
    "answered": _l("is answered"), "unanswered": _l("is not answered"),
}
#: Rows of conditions the editor offers; one more appears when all are filled.
CONDITION_ROWS = 3


class ConditionForm(Form):
    """One condition row: a sub-form of RuleForm (the CSRF token is the parent's)."""

    question = StringField(_l("Question key"), validators=[Optional(), Length(max=40)])
    operator = SelectField(
        _l("Operator"), choices=[SelectChoice("", "—")] + [SelectChoice(k, v) for k, v in OPERATOR_LABELS.items()]
    )
    value = StringField(_l("Value"), validators=[Optional(), Length(max=100)])

    @property
    def is_blank(self) -> bool:
        return not ((self.question.data or "").strip() or self.operator.data or (self.value.data or "").strip())


class RuleForm(LoopdeskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    department = SelectField(_l("Send the ticket to"))
    priority = SelectField(
        _l("Priority"), choices=[SelectChoice(k, v) for k, v in labels.PRIORITY_LABELS.items()], default="normal",
        description=_l("Urgent words (safety) and a CSAT of 1 still raise it."),
    )
    set_category = SelectField(
        _l("Set the category"),
        choices=[SelectChoice("", _l("Keep the category found"))]
        + [SelectChoice(k, v) for k, v in labels.CATEGORY_LABELS.items()],
    )
    conditions = FieldList(FormField(ConditionForm), label=_l("Answers"), min_entries=CONDITION_ROWS)
    categories = CheckboxesField(
        _l("Category is one of"), choices=[SelectChoice(k, v) for k, v in labels.CATEGORY_LABELS.items()]
    )
    branch_codes = CheckboxesField(_l("Branch is one of"))
    regions = CheckboxesField(_l("Region is one of"))
    keywords = TextAreaField(
        _l("The comment mentions one of these words"), validators=[Optional(), Length(max=4000)],
        description=_l("One per line or separated by commas, Chinese or English: 洗手间, toilet, rude."),
    )
    place = RadioField(
        _l("Where in the order"), default="top",
        choices=[SelectChoice("top", _l("First: tried before every other rule")),
                 SelectChoice("bottom", _l("Last: tried after every other rule"))],
    )
    confirm = BooleanField(_l("Save anyway"))
    try_response_id = SelectField(_l("Response to try"), validators=[Optional()])

    def fill_choices(
        self, departments: list[Department], branches: list[Branch], regions: list[str], rule: RoutingRule | None
    ) -> None:
        """Active departments (and the rule's own, even deactivated); branches and regions known or in the rule."""
        shown = [d for d in departments if d.active or (rule is not None and d.id == rule.department_id)]
        self.department.choices = [SelectChoice("", _l("— choose the department —"))] + [
            SelectChoice(str(d.id), d.name if d.active else f"{d.name} ({_l('deactivated')})") for d in shown
        ]
        codes = {b.code: f"{b.name} ({b.code})" for b in branches}
        for code in (rule.branch_codes if rule is not None else None) or []:
            codes.setdefault(code, code)
        self.branch_codes.choices = [SelectChoice(code, label) for code, label in codes.items()]
        known_regions = list(dict.fromkeys([*regions, *((rule.regions if rule is not None else None) or [])]))
        self.regions.choices = [SelectChoice(region, region) for region in known_regions if region]

    def fill_from(self, rule: RoutingRule) -> None:
        """The stored rule into the fields (a GET of the editor)."""
        self.name.data = rule.name
        self.department.data = str(rule.department_id)
        self.priority.data = rule.priority
        self.set_category.data = rule.set_category or ""
        self.categories.data = list(rule.categories or [])
        self.branch_codes.data = list(rule.branch_codes or [])
        self.regions.data = list(rule.regions or [])
        self.keywords.data = "\n".join(rule.keywords or [])
        while len(self.conditions):
            self.conditions.pop_entry()
        for condition in rule.conditions or []:
            self.conditions.append_entry(
                {"question": condition.get("question", ""), "operator": condition.get("operator", ""),
                 "value": condition.get("value", "")}
            )

    def add_blank_condition(self) -> None:
        """At least CONDITION_ROWS rows, and always one blank row to add a condition in."""
        while len(self.conditions) < CONDITION_ROWS or not any(entry.form.is_blank for entry in self.conditions):
            self.conditions.append_entry()

    def rule_fields(self) -> RuleFields:
        department = self.department.data or ""
        return RuleFields(
            name=(self.name.data or "").strip(),
            department_id=id_or_none(department),
            priority=self.priority.data or "normal",
            set_category=self.set_category.data or None,
            conditions=[
                AnswerCondition(
                    (entry.form.question.data or "").strip(), entry.form.operator.data or "",
                    (entry.form.value.data or "").strip(),
                )
                for entry in self.conditions if not entry.form.is_blank
            ],
            categories=self.categories.data or [],
            branch_codes=self.branch_codes.data or [],
            regions=self.regions.data or [],
            keywords=split_keywords(self.keywords.data or ""),
        )


class PickedResponseForm(LoopdeskForm):
    """Try a stored response (a GET form: trying changes nothing)."""

    class Meta(LoopdeskForm.Meta):
        csrf = False

    response_id = SelectField(_l("A recent response"), validators=[DataRequired()])


class PastedAnswersForm(LoopdeskForm):
    """Try answers typed in (a GET form)."""

    class Meta(LoopdeskForm.Meta):
        csrf = False

    version_id = SelectField(_l("Questionnaire"), validators=[DataRequired()])
    branch_id = SelectField(_l("Branch"), validators=[DataRequired()])
    answers = TextAreaField(
        _l("Answers, one per line as key=value"), validators=[Optional(), Length(max=2000)],
        description=_l("e.g. service=1, nps=4, service_problem=waiting,attitude"),
    )
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)])
