"""Skip logic (跳转逻辑): rules of the form *question, operator, value → show/skip a later question*."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: An answer as the rules see it: a score, a text, chosen option values, or nothing.
AnswerValue = int | str | list[str] | None

OPERATORS: tuple[str, ...] = ("eq", "ne", "lt", "lte", "gt", "gte", "includes", "excludes", "answered", "unanswered")
ACTIONS: tuple[str, ...] = ("show", "skip")


@dataclass(frozen=True)
class Rule:
    source: str      # question key the condition reads
    operator: str    # one of OPERATORS
    value: str       # compared with the answer; ignored by answered/unanswered
    action: str      # "show": ask the target only when the condition holds; "skip": leave it out then
    target: str      # question key shown or skipped


def _number(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def condition_holds(operator: str, value: str, answer: AnswerValue) -> bool:
    """Whether ``answer`` meets the condition. An unanswered question meets only "unanswered"."""
    answered = answer not in (None, "", [])
    if operator == "answered":
        return answered
    if operator == "unanswered":
        return not answered
    if not answered:
        return False
    if operator in ("includes", "excludes"):
        chosen = answer if isinstance(answer, list) else [str(answer)]
        return (value in chosen) == (operator == "includes")
    if isinstance(answer, list):
        if len(answer) != 1:
            return False
        answer = answer[0]  # a single choice compares as its one value
    if operator in ("eq", "ne"):
        left = _number(str(answer))
        right = _number(value)
        same = left == right if left is not None and right is not None else str(answer) == value
        return same == (operator == "eq")
    left, right = _number(str(answer)), _number(value)
    if left is None or right is None:
        return False
    return {
        "lt": left < right,
        "lte": left <= right,
        "gt": left > right,
        "gte": left >= right,
    }[operator]


def visible_questions(
    keys: Sequence[str], rules: Sequence[Rule], answers: Mapping[str, AnswerValue]
) -> list[str]:
    """The question keys to ask, in order, given the answers so far.

    A question hidden by a rule counts as unanswered for the rules after it, so
    chains behave (a follow-up to a skipped question is skipped too).
    """
    by_target: dict[str, list[Rule]] = {}
    for rule in rules:
        by_target.setdefault(rule.target, []).append(rule)
    shown: list[str] = []
    seen: dict[str, AnswerValue] = {}
    for key in keys:
        own = by_target.get(key, [])
        show_rules = [r for r in own if r.action == "show"]
        skip_rules = [r for r in own if r.action == "skip"]
        visible = True
        if show_rules:
            visible = any(condition_holds(r.operator, r.value, seen.get(r.source)) for r in show_rules)
        if visible and any(condition_holds(r.operator, r.value, seen.get(r.source)) for r in skip_rules):
            visible = False
        if visible:
            shown.append(key)
            seen[key] = answers.get(key)
    return shown


def rule_problems(keys: Sequence[str], steps: Mapping[str, int], rules: Sequence[Rule]) -> list[str]:
    """Why a set of rules cannot be used; empty when they are fine.

    A rule may only read a question on an earlier step than the one it shows or
    skips, which also makes loops impossible.
    """
    problems: list[str] = []
    order = {key: index for index, key in enumerate(keys)}
    for rule in rules:
        if rule.source not in order:
            problems.append(f"unknown question {rule.source!r}")
        elif rule.target not in order:
            problems.append(f"unknown question {rule.target!r}")
        elif rule.operator not in OPERATORS:
            problems.append(f"unknown operator {rule.operator!r}")
        elif rule.action not in ACTIONS:
            problems.append(f"unknown action {rule.action!r}")
        elif order[rule.source] >= order[rule.target] or steps[rule.source] >= steps[rule.target]:
            problems.append(f"{rule.target!r} must come on a later step than {rule.source!r}")
    return problems
