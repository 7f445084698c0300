"""The words the questionnaire builder's pages use for types, operators, statuses and the checks' problems."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import Form

from app.core.questionnaire_checks import Problem
from app.i18n import LANGUAGE_NAMES

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
