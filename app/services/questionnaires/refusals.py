"""A builder change the admin can fix, and at which field of the form each problem shows."""
from __future__ import annotations

from collections.abc import Sequence

from app.core.questionnaire_checks import Problem

#: Where a problem with a rule being saved shows on the rule's form.
RULE_FORM_FIELDS = {
    "rule_unknown_question": "source_id",
    "rule_same_question": "target_id",
    "rule_backwards": "target_id",
    "rule_action": "action",
    "rule_reads_contact": "source_id",
    "rule_operator_type": "operator",
    "rule_value_missing": "value",
    "rule_value_number": "value",
    "rule_value_option": "value",
}
#: Where a rule broken by changing a question shows on the question's form, and what it says there.
RULE_BROKEN_BY_QUESTION = {
    "rule_backwards": ("step", "step_breaks_rule"),
    "rule_operator_type": ("type", "type_breaks_rule"),
    "rule_reads_contact": ("type", "type_breaks_rule"),
    "rule_value_number": ("type", "type_breaks_rule"),
    "rule_value_option": ("options", "options_break_rule"),
}


class Refused(Exception):
    """A change the admin can fix: the problems say at which fields and why."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(", ".join(p.code for p in problems))
        self.problems = list(problems)
