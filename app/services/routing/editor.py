"""The admins' routing rule editor: check, save, reorder and switch rules, each change audited.

Editor decisions:

- **The defaults are stored before the first change** (``store_defaults``): while no rule is
  stored the brief's defaults apply, and the first edit must not silently replace them.
- **A rule needs a target**: an active department. A rule of a department deactivated later
  is kept but skipped (``active_rules``), and the list says so.
- **Warnings an admin may accept** (``rule_warnings``): a condition on a question key no
  questionnaire has (a typo would make the rule never match), and a rule with no condition at
  all, which takes every negative response that reaches it (the rules below it and triage
  get nothing). Both are legitimate sometimes (a question of a questionnaire still to come;
  "everything else → customer service"), so they are confirmed, not refused.
- **Positions are renumbered 1..n** on every change of order; only rules whose place among
  the others changed get a "reorder" entry in the audit log.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.core.routing import CATEGORIES, DEFAULT_RULES, PRIORITIES, AnswerCondition, Rule
from app.core.routing_rule_checks import rule_problems
from app.core.skip_logic import OPERATORS
from app.extensions import db
from app.models import Department, Question, RoutingRule, User
from app.services import audit
from app.services.routing.stored import rule_of, seed_default_rules, stored_rules

RULE_FIELDS = (
    "position", "name", "active", "department", "priority", "set_category", "conditions", "categories",
    "branch_codes", "regions", "keywords",
)
NUMBER_OPERATORS = ("lt", "lte", "gt", "gte")
NO_VALUE_OPERATORS = ("answered", "unanswered")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
#: Keywords are typed one per line or separated by commas (also Chinese ones) or semicolons.
KEYWORD_SEPARATORS = re.compile(r"[\n,，、;；]+")


class RuleError(ValueError):
    """Input the editor or the "try it" box cannot use; ``errors`` maps each form field to its message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(str(message) for message in self.errors.values()))


@dataclass(frozen=True)
class RuleFields:
    """What the editor's form says of a rule, before it is checked."""

    name: str
    department_id: int | None
    priority: str = "normal"
    set_category: str | None = None
    conditions: Sequence[AnswerCondition] = ()
    categories: Sequence[str] = ()
    branch_codes: Sequence[str] = ()
    regions: Sequence[str] = ()
    keywords: Sequence[str] = ()
    active: bool = True

    @property
    def is_catch_all(self) -> bool:
        return not (self.conditions or self.categories or self.branch_codes or self.regions or self.keywords)


@dataclass(frozen=True)
class RuleRow:
    """A stored rule as the list shows it."""

    row: RoutingRule
    unknown_questions: list[str] = field(default_factory=list)
    #: An active catch-all above it takes every response first.
    unreachable: bool = False

    @property
    def skipped(self) -> bool:
        return not self.row.active or not self.row.department.active


def split_keywords(text: str) -> list[str]:
    return list(dict.fromkeys(part.strip() for part in KEYWORD_SEPARATORS.split(text or "") if part.strip()))


def known_question_keys() -> set[str]:
    """Question keys of every questionnaire version (drafts too: their rules may come first)."""
    return set(db.session.scalars(select(Question.key).distinct()))


def rule_list() -> list[RuleRow]:
    """The stored rules with what the list warns about."""
    known = known_question_keys()
    rows, catch_all_above = [], False
    for row in stored_rules():
        unknown = sorted({str(c.get("question")) for c in row.conditions or []} - known)
        rows.append(RuleRow(row, unknown, unreachable=catch_all_above))
        if row.active and row.department.active and _fields_of(row).is_catch_all:
            catch_all_above = True
    return rows


def _fields_of(row: RoutingRule) -> RuleFields:
    rule = rule_of(row)
    return RuleFields(
        name=row.name, department_id=row.department_id, priority=row.priority, set_category=row.set_category,
        conditions=rule.conditions, categories=sorted(rule.categories), branch_codes=sorted(rule.branch_codes),
        regions=sorted(rule.regions), keywords=rule.keywords, active=row.active,
    )


def missing_default_departments() -> list[str]:
    """Departments the brief's default rules name that do not exist (their rules cannot be stored)."""
    codes = set(db.session.scalars(select(Department.code)))
    return sorted({rule.department for rule in DEFAULT_RULES} - codes)


def store_defaults(actor: User | None) -> list[RoutingRule]:
    """Before the first change: store the defaults that apply while nothing is stored, audited.

    Returns the stored rows; none when rules exist already or a department the defaults name is
    missing (``missing_default_departments`` says which; the view tells the admin).
    """
    rows = seed_default_rules()
    for row in rows:
        audit.record(actor, "create", row, after=audit.values(row, RULE_FIELDS))
    return rows


def rule_errors(fields: RuleFields, position: int = 1) -> dict[str, str]:
    """Why the rule cannot be saved, by editor field; empty when it can."""
    errors: dict[str, str] = {}
    department = db.session.get(Department, fields.department_id) if fields.department_id else None
    if not fields.name.strip():
        errors["name"] = _l("Give the rule a name, e.g. “Washrooms → store operations”.")
    if department is None:
        errors["department"] = _l(
            "A routing rule needs a target: choose the department its tickets go to."
        )
    elif not department.active:
        errors["department"] = _l("This department is deactivated: choose an active one.")
    if fields.priority not in PRIORITIES:
        errors["priority"] = _l("Choose one of the listed priorities.")
    if fields.set_category and fields.set_category not in CATEGORIES:
        errors["set_category"] = _l("Choose one of the listed categories.")
    if set(fields.categories) - set(CATEGORIES):
        errors["categories"] = _l("Choose one of the listed categories.")
    condition_problems = []
    for condition in fields.conditions:
        shown = f"{condition.question} {condition.operator} {condition.value}".strip()
        if not condition.question:
            condition_problems.append(_l("“%(c)s”: choose the question it reads.", c=shown))
        elif condition.operator not in OPERATORS:
            condition_problems.append(_l("“%(c)s”: choose an operator.", c=shown))
        elif condition.operator in NUMBER_OPERATORS and not NUMBER.fullmatch(condition.value):
            condition_problems.append(_l("“%(c)s”: this comparison needs a number.", c=shown))
        elif condition.operator not in NO_VALUE_OPERATORS and not condition.value:
            condition_problems.append(_l("“%(c)s”: give the value to compare with.", c=shown))
    if condition_problems:
        errors["conditions"] = " ".join(str(problem) for problem in condition_problems)
    if not errors:  # the core's own check, for anything the form let through
        rule = _core_rule(fields, department, position)
        for problem in rule_problems([rule], {department.code}, {c.question for c in rule.conditions}):
            errors.setdefault(problem.field, problem.message)
    return errors


def rule_warnings(fields: RuleFields) -> dict[str, str]:
    """What the admin should confirm before saving, by editor field (see the module's docstring)."""
    warnings: dict[str, str] = {}
    unknown = sorted({c.question for c in fields.conditions if c.question} - known_question_keys())
    if unknown:
        warnings["conditions"] = _l(
            "No questionnaire has a question %(keys)s: this condition never holds until one does. Check the key.",
            keys=", ".join(unknown),
        )
    if fields.is_catch_all:
        warnings["catch_all"] = _l(
            "This rule has no condition: it takes every negative response that reaches it, so the rules "
            "below it and triage get nothing."
        )
    return warnings


def _core_rule(fields: RuleFields, department: Department, position: int) -> Rule:
    return Rule(
        position=position,
        name=fields.name.strip(),
        department=department.code,
        priority=fields.priority,
        set_category=fields.set_category or None,
        conditions=[AnswerCondition(c.question, c.operator, c.value) for c in fields.conditions],
        categories=fields.categories,
        branch_codes=fields.branch_codes,
        regions=fields.regions,
        keywords=fields.keywords,
    )


def unsaved_rule(fields: RuleFields, row: RoutingRule | None, at_top: bool) -> Rule:
    """The rule being edited as routing would use it, in its place: for "try it" before saving."""
    department = db.session.get(Department, fields.department_id)
    assert department is not None, "check rule_errors first"
    if row is not None:
        position = row.position
    else:
        positions = [r.position for r in stored_rules()] or [rule.position for rule in DEFAULT_RULES]
        position = min(positions) - 1 if at_top else max(positions) + 1
    return _core_rule(fields, department, position)


def _apply(row: RoutingRule, fields: RuleFields) -> None:
    row.name = fields.name.strip()
    row.department = db.session.get(Department, fields.department_id)
    row.priority = fields.priority
    row.set_category = fields.set_category or None
    row.conditions = [{"question": c.question, "operator": c.operator, "value": c.value} for c in fields.conditions]
    row.categories = sorted(fields.categories)
    row.branch_codes = sorted(fields.branch_codes)
    row.regions = sorted(fields.regions)
    row.keywords = list(fields.keywords)


def create_rule(actor: User, fields: RuleFields, at_top: bool = True) -> RoutingRule:
    """A new active rule, first or last; the defaults are stored first when nothing is stored yet."""
    errors = rule_errors(fields)
    if errors:
        raise RuleError(errors)
    store_defaults(actor)
    ordered = stored_rules()
    row = RoutingRule(active=True)
    _apply(row, fields)
    db.session.add(row)
    ordered = [row, *ordered] if at_top else [*ordered, row]
    _renumber(actor, ordered, moved=None)
    audit.record(actor, "create", row, after=audit.values(row, RULE_FIELDS))
    return row


def update_rule(actor: User, row: RoutingRule, fields: RuleFields) -> RoutingRule:
    errors = rule_errors(fields, row.position)
    if errors:
        raise RuleError(errors)
    before = audit.values(row, RULE_FIELDS)
    _apply(row, fields)
    db.session.flush()
    audit.record(actor, "update", row, before=before, after=audit.values(row, RULE_FIELDS))
    return row


def set_rule_active(actor: User, row: RoutingRule, active: bool) -> None:
    if row.active == active:
        return
    row.active = active
    db.session.flush()
    audit.record(actor, "activate" if active else "deactivate", row,
                 before={"active": not active}, after={"active": active})


def move_rule(actor: User, row: RoutingRule, steps: int) -> bool:
    """Move a rule up (negative) or down the order; False when it is at that end already."""
    ordered = stored_rules()
    index = next(i for i, r in enumerate(ordered) if r.id == row.id)
    target = min(max(index + steps, 0), len(ordered) - 1)
    if target == index:
        return False
    ordered.insert(target, ordered.pop(index))
    _renumber(actor, ordered, moved=row)
    return True


def _renumber(actor: User, ordered: list[RoutingRule], moved: RoutingRule | None) -> None:
    """Positions 1..n in this order; a "reorder" entry for each stored rule whose place changed."""
    before = sorted((r for r in ordered if r.id is not None), key=lambda r: (r.position, r.id))
    old_rank = {r.id: rank for rank, r in enumerate(before, start=1)}
    new_rank = {r.id: rank for rank, r in enumerate((r for r in ordered if r.id is not None), start=1)}
    old_positions = {r.id: r.position for r in ordered if r.id is not None}
    for position, r in enumerate(ordered, start=1):
        r.position = position
    db.session.flush()
    if moved is None:
        return
    for r in ordered:
        if r.id in old_rank and old_rank[r.id] != new_rank[r.id]:
            audit.record(actor, "reorder", r, before={"position": old_positions[r.id]}, after={"position": r.position})


def rules_of_department(department_id: int) -> int:
    """How many active rules send tickets to the department."""
    return db.session.scalar(
        select(func.count(RoutingRule.id)).where(
            RoutingRule.department_id == department_id, RoutingRule.active.is_(True)
        )
    ) or 0
