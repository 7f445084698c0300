"""Why an edited routing rule cannot be saved: the core's own check, beside the form's."""
from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from app.core.routing import CATEGORIES, PRIORITIES, Rule
from app.core.skip_logic import OPERATORS


@dataclass(frozen=True)
class RuleProblem:
    position: int
    name: str
    field: str        # the editor field to show it at: department, priority, conditions...
    message: str

    def __str__(self) -> str:
        return f'rule {self.position} "{self.name}": {self.message}'


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def rule_problems(
    rules: Iterable[Rule],
    known_departments: Collection[str],
    known_questions: Collection[str],
    categories: Collection[str] = CATEGORIES,
) -> list[RuleProblem]:
    """Why rules cannot be saved, each tied to the editor field to show it at; empty when fine."""
    problems: list[RuleProblem] = []
    for rule in rules:
        def problem(field_name: str, message: str, rule: Rule = rule) -> None:
            problems.append(RuleProblem(rule.position, rule.name, field_name, message))

        if not rule.department:
            problem("department", "choose a department")
        elif rule.department not in known_departments:
            problem("department", f"unknown department {rule.department!r}")
        if rule.priority not in PRIORITIES:
            problem("priority", f"unknown priority {rule.priority!r}; use {', '.join(PRIORITIES)}")
        if rule.set_category is not None and rule.set_category not in categories:
            problem("set_category", f"unknown category {rule.set_category!r}")
        for category in sorted(set(rule.categories) - set(categories)):
            problem("categories", f"unknown category {category!r}")
        for condition in rule.conditions:
            if condition.question not in known_questions:
                problem("conditions", f"unknown question {condition.question!r}")
            elif condition.operator not in OPERATORS:
                problem("conditions", f"unknown operator {condition.operator!r}")
            elif condition.operator in ("lt", "lte", "gt", "gte") and not _is_number(condition.value):
                problem(
                    "conditions",
                    f"{condition.question} {condition.operator} needs a number, got {condition.value!r}",
                )
        if any(not keyword.strip() for keyword in rule.keywords):
            problem("keywords", "a keyword is empty")
    return problems
