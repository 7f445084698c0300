"""What makes a questionnaire version fit to publish, and a skip rule or a question fit to save.

Pure: the builder hands in plain specs (no ORM objects) and gets back problems, each
with the field it belongs to (so the page shows it there) and a code with parameters
(so the page words it in the admin's language).

Field names the view relies on:
  ``languages``, ``title_<locale>``, ``intro_<locale>``, ``thanks_<locale>`` (the version's texts),
  ``questions`` (the list as a whole), ``weights`` (the dimensions' total),
  ``question-<ref>-<field>`` (``key``, ``type``, ``step``, ``prompt_<locale>``, ``help_<locale>``, ``options``),
  ``rule-<ref>``.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from app.core.languages import SUPPORTED_LOCALES
from app.core.scoring import CSAT_MAX, CSAT_MIN, NPS_MAX, NPS_MIN
from app.core.skip_logic import Rule, rule_problems

Texts = Mapping[str, str]

#: A key or option value: lower-case, starts with a letter, safe in URLs, form names and exports.
SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}\Z")
OPTION_VALUE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,40}\Z")
#: The guides' hard limit for one survey.
MAX_QUESTIONS = 10
WEIGHT_TOTAL = 100
CHOICE_TYPES = ("single", "multiple")

#: What a rule may ask of each question type's answer.
OPERATORS_BY_TYPE: Mapping[str, tuple[str, ...]] = {
    "csat": ("eq", "ne", "lt", "lte", "gt", "gte", "answered", "unanswered"),
    "nps": ("eq", "ne", "lt", "lte", "gt", "gte", "answered", "unanswered"),
    "single": ("eq", "ne", "includes", "excludes", "answered", "unanswered"),
    "multiple": ("includes", "excludes", "answered", "unanswered"),
    "text": ("answered", "unanswered"),
    "contact": (),
}
SCORE_RANGES: Mapping[str, tuple[int, int]] = {"csat": (CSAT_MIN, CSAT_MAX), "nps": (NPS_MIN, NPS_MAX)}
VALUELESS_OPERATORS = ("answered", "unanswered")


@dataclass(frozen=True)
class Problem:
    field: str
    code: str
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class OptionSpec:
    value: str
    label: Texts


@dataclass(frozen=True)
class QuestionSpec:
    ref: int | str
    key: str
    step: int
    type: str
    prompt: Texts = field(default_factory=dict)
    help: Texts = field(default_factory=dict)
    options: tuple[OptionSpec, ...] = ()


@dataclass(frozen=True)
class DimensionSpec:
    ref: int | str
    key: str
    weight: int


@dataclass(frozen=True)
class RuleSpec:
    ref: int | str
    source: int | str  # a QuestionSpec.ref
    operator: str
    value: str
    action: str
    target: int | str


@dataclass(frozen=True)
class VersionSpec:
    languages: tuple[str, ...]
    title: Texts
    intro: Texts
    thanks: Texts
    questions: tuple[QuestionSpec, ...]  # in the order customers see them
    dimensions: tuple[DimensionSpec, ...] = ()
    rules: tuple[RuleSpec, ...] = ()


def question_field(ref: int | str, name: str) -> str:
    return f"question-{ref}-{name}"


def rule_field(ref: int | str) -> str:
    return f"rule-{ref}"


def key_problem(key: str, taken: Sequence[str] = ()) -> str | None:
    """"key_format" or "key_taken" when ``key`` cannot name a question; None when it can."""
    if not SLUG_PATTERN.match(key or ""):
        return "key_format"
    if key in taken:
        return "key_taken"
    return None


def weights_problem(weights: Sequence[int]) -> Problem | None:
    """Dimension weights are percentages of the index: with any dimension they add up to exactly 100."""
    if not weights:
        return None
    if any(w < 0 for w in weights):
        return Problem("weights", "weight_negative")
    total = sum(weights)
    if total != WEIGHT_TOTAL:
        return Problem("weights", "weights_total", {"total": total})
    return None


def option_problems(question_type: str, options: Sequence[OptionSpec]) -> list[str]:
    """Codes of what is wrong with a question's options (only choice questions have any)."""
    if question_type not in CHOICE_TYPES:
        return []
    problems = []
    values = [o.value for o in options]
    if len(values) < 2:
        problems.append("too_few_options")
    if any(not OPTION_VALUE_PATTERN.match(v or "") for v in values):
        problems.append("option_value_format")
    if len(set(values)) != len(values):
        problems.append("duplicate_option")
    return problems


def rule_problem(rule: RuleSpec, questions: Sequence[QuestionSpec]) -> Problem | None:
    """Why one rule cannot be used with these questions (in order); None when it can.

    A rule reads a question on an earlier step than the one it shows or skips, so
    rules never point backwards and can never loop.
    """
    where = rule_field(rule.ref)
    order = {q.ref: index for index, q in enumerate(questions)}
    if rule.source not in order or rule.target not in order:
        return Problem(where, "rule_unknown_question")
    source, target = questions[order[rule.source]], questions[order[rule.target]]
    if rule.source == rule.target:
        return Problem(where, "rule_same_question")
    if source.step >= target.step or order[rule.source] > order[rule.target]:
        return Problem(where, "rule_backwards", {"source": source.key, "target": target.key})
    if rule.action not in ("show", "skip"):
        return Problem(where, "rule_action")
    allowed = OPERATORS_BY_TYPE.get(source.type, ())
    if not allowed:
        return Problem(where, "rule_reads_contact")
    if rule.operator not in allowed:
        return Problem(where, "rule_operator_type", {"operator": rule.operator, "type": source.type})
    if rule.operator in VALUELESS_OPERATORS:
        return None
    value = (rule.value or "").strip()
    if not value:
        return Problem(where, "rule_value_missing")
    if source.type in SCORE_RANGES:
        low, high = SCORE_RANGES[source.type]
        if not (value.isascii() and value.lstrip("-").isdigit() and low <= int(value) <= high):
            return Problem(where, "rule_value_number", {"low": low, "high": high})
    elif source.type in CHOICE_TYPES:
        values = [o.value for o in source.options]
        if value not in values:
            return Problem(where, "rule_value_option", {"values": ", ".join(values)})
    return None


def publish_problems(version: VersionSpec) -> list[Problem]:
    """Everything that keeps a draft from being published; empty when it can be."""
    problems: list[Problem] = []
    problems += _language_problems(version)
    questions = version.questions
    if not questions:
        problems.append(Problem("questions", "no_questions"))
    if len(questions) > MAX_QUESTIONS:
        problems.append(Problem("questions", "too_many_questions", {"max": MAX_QUESTIONS, "count": len(questions)}))
    if sum(1 for q in questions if q.type == "contact") > 1:
        problems.append(Problem("questions", "two_contact_questions"))
    keys = Counter(q.key for q in questions)
    for question in questions:
        code = key_problem(question.key)
        if code is None and keys[question.key] > 1:
            code = "key_taken"
        if code:
            problems.append(Problem(question_field(question.ref, "key"), code))
        if question.type not in OPERATORS_BY_TYPE:
            problems.append(Problem(question_field(question.ref, "type"), "unknown_type"))
        for code in option_problems(question.type, question.options):
            problems.append(Problem(question_field(question.ref, "options"), code))
    weights = weights_problem([d.weight for d in version.dimensions])
    if weights:
        problems.append(weights)
    problems += [p for p in (rule_problem(r, questions) for r in version.rules) if p]
    if not any(p.field.startswith("rule-") for p in problems):
        # The survey's own guard, which the checks above are meant to match.
        plain = [_plain_rule(r, questions) for r in version.rules]
        if rule_problems([q.key for q in questions], {q.key: q.step for q in questions}, plain):
            problems.append(Problem("questions", "rules_invalid"))
    return problems


def _plain_rule(rule: RuleSpec, questions: Sequence[QuestionSpec]) -> Rule:
    keys = {q.ref: q.key for q in questions}
    return Rule(keys[rule.source], rule.operator, rule.value, rule.action, keys[rule.target])


def _language_problems(version: VersionSpec) -> list[Problem]:
    """Every offered language has the title, every prompt and every option label; optional texts
    (intro, thanks, help) given in one offered language are given in all of them."""
    problems: list[Problem] = []
    languages = [lang for lang in version.languages if lang in SUPPORTED_LOCALES]
    if not languages:
        return [Problem("languages", "no_language")]

    def required(texts: Texts, where: str) -> None:
        for lang in languages:
            if not (texts or {}).get(lang, "").strip():
                problems.append(Problem(f"{where}_{lang}", "missing_text", {"language": lang}))

    def optional(texts: Texts, where: str) -> None:
        if any((texts or {}).get(lang, "").strip() for lang in languages):
            required(texts, where)

    required(version.title, "title")
    optional(version.intro, "intro")
    optional(version.thanks, "thanks")
    for question in version.questions:
        required(question.prompt, question_field(question.ref, "prompt"))
        optional(question.help, question_field(question.ref, "help"))
        if question.type in CHOICE_TYPES:
            for option in question.options:
                for lang in languages:
                    if not (option.label or {}).get(lang, "").strip():
                        problems.append(Problem(
                            question_field(question.ref, "options"), "missing_option_label",
                            {"language": lang, "value": option.value},
                        ))
    return problems


def problems_by_field(problems: Sequence[Problem]) -> dict[str, list[Problem]]:
    grouped: dict[str, list[Problem]] = {}
    for problem in problems:
        grouped.setdefault(problem.field, []).append(problem)
    return grouped
