"""Routing rules as stored rows ↔ the pure rules of app.core.routing, and the admins' editor.

Rows name departments by id; core rules by code. ``active_rules`` converts one way for the
ticket opener, ``seed_default_rules`` the other way for a fresh installation (and the demo).
``decide`` is where a routed response meets the stored rules: the ticket opener and the
admin's "try it" box both call it, so a preview and the real ticket cannot differ.

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

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from app.core import routing
from app.core.routing import (
    CATEGORIES,
    DEFAULT_RULES,
    DEFAULT_TRIAGE_DEPARTMENT,
    PRIORITIES,
    AnswerCondition,
    Rule,
    rule_problems,
)
from app.core.skip_logic import OPERATORS
from app.extensions import db
from app.models import (
    Answer,
    Branch,
    Department,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    QuestionType,
    Response,
    RoutingRule,
    Ticket,
    User,
    VersionStatus,
)
from app.services import audit

log = logging.getLogger(__name__)

RULE_FIELDS = (
    "position", "name", "active", "department", "priority", "set_category", "conditions", "categories",
    "branch_codes", "regions", "keywords",
)
NUMBER_OPERATORS = ("lt", "lte", "gt", "gte")
NO_VALUE_OPERATORS = ("answered", "unanswered")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
#: Keywords are typed one per line or separated by commas (also Chinese ones) or semicolons.
KEYWORD_SEPARATORS = re.compile(r"[\n,，、;；]+")


def active_rules() -> list[Rule]:
    """The admins' rules in order, as core rules; the brief's defaults while no rule was ever saved.

    An inactive rule, or a rule whose department was deactivated, is left out: routing to a
    department nobody works would hide the ticket.
    """
    if not _any_rule_saved():
        return list(DEFAULT_RULES)
    rows = db.session.scalars(
        select(RoutingRule)
        .join(RoutingRule.department)
        .where(RoutingRule.active.is_(True), Department.active.is_(True))
        .options(joinedload(RoutingRule.department))
        .order_by(RoutingRule.position, RoutingRule.id)
    )
    return [rule_of(row) for row in rows]


def rules_are_stored() -> bool:
    return _any_rule_saved()


def _any_rule_saved() -> bool:
    return db.session.scalar(select(RoutingRule.id).limit(1)) is not None


def rule_of(row: RoutingRule) -> Rule:
    return Rule(
        position=row.position,
        name=row.name,
        department=row.department.code,
        priority=row.priority,
        set_category=row.set_category or None,
        conditions=[
            AnswerCondition(str(c["question"]), str(c["operator"]), str(c.get("value", "")))
            for c in row.conditions or []
        ],
        categories=row.categories or (),
        branch_codes=row.branch_codes or (),
        regions=row.regions or (),
        keywords=row.keywords or (),
    )


def seed_default_rules() -> list[RoutingRule]:
    """Store the brief's default rules (product → product, service → customer service, ...).

    Does nothing when rules exist already or when a department they name is missing.
    """
    if _any_rule_saved():
        return []
    departments = {d.code: d for d in db.session.scalars(select(Department))}
    missing = {rule.department for rule in DEFAULT_RULES} - set(departments)
    if missing:
        log.warning("default routing rules not seeded: no department %s", ", ".join(sorted(missing)))
        return []
    rows = [
        RoutingRule(
            position=rule.position,
            name=rule.name,
            department=departments[rule.department],
            priority=rule.priority,
            set_category=rule.set_category,
            conditions=[{"question": c.question, "operator": c.operator, "value": c.value} for c in rule.conditions],
            categories=sorted(rule.categories),
            branch_codes=sorted(rule.branch_codes),
            regions=sorted(rule.regions),
            keywords=list(rule.keywords),
        )
        for rule in DEFAULT_RULES
    ]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def triage_department() -> Department:
    """Where negative feedback that no rule claims lands; made on first need so none is ever lost."""
    department = db.session.scalar(
        select(Department).where(Department.is_triage.is_(True), Department.active.is_(True)).order_by(Department.id)
    )
    if department is not None:
        return department
    department = db.session.scalar(select(Department).where(Department.code == DEFAULT_TRIAGE_DEPARTMENT))
    if department is None:
        log.warning("no triage department: creating %r", DEFAULT_TRIAGE_DEPARTMENT)
        department = Department(code=DEFAULT_TRIAGE_DEPARTMENT, name="分诊 Triage", is_triage=True)
        db.session.add(department)
        db.session.flush()
    return department


class RuleError(ValueError):
    """Input the editor or the "try it" box cannot use; ``errors`` maps each form field to its message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(str(message) for message in self.errors.values()))


# --- Deciding: the ticket opener and the "try it" box ------------------------------------


@dataclass(frozen=True)
class TicketRoute:
    """Where a negative response's ticket goes: the core decision and the stored department it names."""

    decision: routing.RoutingDecision
    department: Department
    #: The decision's reasons as text, plus the fallback when its department is missing.
    reasons: list[str]


def decide(routed: routing.RoutedResponse, rules: Sequence[Rule] | None = None) -> TicketRoute | None:
    """Route ``routed`` with the stored rules (or ``rules``); None when it opens no ticket.

    A decision for a department that is missing or inactive goes to triage, with a reason.
    """
    departments = {d.code: d for d in db.session.scalars(select(Department).where(Department.active.is_(True)))}
    triage = next((d for d in departments.values() if d.is_triage), None) or triage_department()
    decision = routing.route(routed, active_rules() if rules is None else rules, triage.code)
    if decision is None:
        return None
    reasons = decision.explanation
    department = departments.get(decision.department)
    if department is None:
        reasons.append(f"department {decision.department!r} is missing or inactive → {triage.code}")
        department = triage
    return TicketRoute(decision, department, reasons)


def rules_with(rule: Rule, replacing: int | None) -> list[Rule]:
    """The active stored rules with an unsaved ``rule`` in its place (instead of row ``replacing``)."""
    if not _any_rule_saved():
        return sorted([*DEFAULT_RULES, rule], key=lambda r: r.position)
    rows = [row for row in stored_rules() if row.id != replacing and row.active and row.department.active]
    return sorted([*(rule_of(row) for row in rows), rule], key=lambda r: r.position)


def submitted_response(response_id: int) -> Response | None:
    return db.session.scalar(
        select(Response)
        .where(Response.id == response_id, Response.submitted_at.is_not(None))
        .options(selectinload(Response.answers), joinedload(Response.branch))
    )


def recent_responses(limit: int = 40) -> list[Response]:
    """Submitted responses, newest first, with their answers' questions (for a select to try)."""
    return list(db.session.scalars(
        select(Response)
        .where(Response.submitted_at.is_not(None))
        .options(joinedload(Response.branch), selectinload(Response.answers).joinedload(Answer.question))
        .order_by(Response.submitted_at.desc(), Response.id.desc())
        .limit(limit)
    ))


def ticket_of_response(response_id: int) -> Ticket | None:
    return db.session.scalar(
        select(Ticket).where(Ticket.response_id == response_id).options(joinedload(Ticket.department))
    )


def ticket_codes_of_responses(response_ids: Sequence[int]) -> dict[int, str]:
    """Response id → the reference code of the ticket it opened, for those that opened one."""
    return dict(db.session.execute(
        select(Ticket.response_id, Ticket.reference_code).where(Ticket.response_id.in_(list(response_ids)))
    ).all())


def published_versions() -> list[QuestionnaireVersion]:
    """Versions answers can be typed for: the questionnaires' current ones first, then older ones."""
    versions = db.session.scalars(
        select(QuestionnaireVersion)
        .join(QuestionnaireVersion.questionnaire)
        .where(QuestionnaireVersion.status == VersionStatus.PUBLISHED)
        .options(joinedload(QuestionnaireVersion.questionnaire))
        .order_by(Questionnaire.archived_at.is_not(None), Questionnaire.code, QuestionnaireVersion.number.desc())
    ).all()
    return sorted(versions, key=lambda v: v.questionnaire.current_version_id != v.id)


def response_summary(response: Response) -> str:
    """"service 1, nps 8, comment: The queue was…": what a response said, for a select's label."""
    parts = []
    for answer in response.answers:
        value = answer.value
        if value in (None, "", []) or answer.question.type == QuestionType.CONTACT:
            continue
        if isinstance(value, list):
            value = "+".join(value)
        elif isinstance(value, str) and len(value) > 30:
            value = value[:30] + "…"
        parts.append(f"{answer.question.key} {value}")
    return ", ".join(parts)


def pasted_response(plan, branch: Branch, lines: str, comment: str = "") -> routing.RoutedResponse:
    """A response as routing reads it, from ``key=value`` lines and a comment, for ``plan``'s questions.

    Scores are whole numbers (CSAT 1–5, NPS 0–10), a multiple choice takes its option values
    separated by commas, the comment is the answer to the first open question. Lines that do not
    fit raise ``RuleError`` (fields "answers" and "comment").
    """
    questions = {q.key: q for q in plan.questions}
    answers: dict[str, routing.AnswerValue] = {}
    problems: list[str] = []
    for number, line in enumerate(lines.splitlines(), start=1):
        if not line.strip():
            continue
        key, separator, value = line.partition("=")
        key, value = key.strip(), value.strip()
        question = questions.get(key)
        if not separator or not key:
            problems.append(_l("Line %(n)d: write key=value, e.g. service=2.", n=number))
        elif question is None:
            problems.append(_l(
                "Line %(n)d: this questionnaire has no question %(key)s (it has: %(keys)s).",
                n=number, key=key, keys=", ".join(questions),
            ))
        elif question.type in (QuestionType.CSAT, QuestionType.NPS):
            low, high = (1, 5) if question.type == QuestionType.CSAT else (0, 10)
            if not re.fullmatch(r"\d{1,2}", value) or not low <= int(value) <= high:
                problems.append(_l("Line %(n)d: %(key)s takes a whole number from %(low)d to %(high)d.",
                                   n=number, key=key, low=low, high=high))
            else:
                answers[key] = int(value)
        elif question.type == QuestionType.MULTIPLE:
            answers[key] = [part.strip() for part in value.split(",") if part.strip()]
        elif question.type == QuestionType.CONTACT:
            problems.append(_l("Line %(n)d: contact details play no part in routing.", n=number))
        else:
            answers[key] = value
    errors: dict[str, str] = {}
    if problems:
        errors["answers"] = " ".join(str(problem) for problem in problems)
    if comment.strip():
        text_question = next((q for q in plan.questions if q.type == QuestionType.TEXT), None)
        if text_question is None:
            errors["comment"] = _l("This questionnaire has no open question for a comment.")
        else:
            answers.setdefault(text_question.key, comment.strip())
    if errors:
        raise RuleError(errors)
    return routing.RoutedResponse(
        branch_code=branch.code,
        region=branch.region,
        answers=answers,
        questions={q.key: routing.QuestionKind(str(q.type), q.dimension) for q in plan.questions},
    )


# --- The editor ------------------------------------------------------------------------


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


def stored_rules() -> list[RoutingRule]:
    """Every stored rule, active or not, in the order they are tried."""
    return list(db.session.scalars(
        select(RoutingRule).options(joinedload(RoutingRule.department)).order_by(RoutingRule.position, RoutingRule.id)
    ))


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
