"""Stored routing rule rows as the core's rules: what the ticket opener applies, and the defaults to seed."""
from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.core.routing import DEFAULT_RULES, AnswerCondition, Rule
from app.extensions import db
from app.models import Department, RoutingRule

log = logging.getLogger(__name__)


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


def stored_rules() -> list[RoutingRule]:
    """Every stored rule, active or not, in the order they are tried."""
    return list(db.session.scalars(
        select(RoutingRule).options(joinedload(RoutingRule.department)).order_by(RoutingRule.position, RoutingRule.id)
    ))


def rules_with(rule: Rule, replacing: int | None) -> list[Rule]:
    """The active stored rules with an unsaved ``rule`` in its place (instead of row ``replacing``)."""
    if not _any_rule_saved():
        return sorted([*DEFAULT_RULES, rule], key=lambda r: r.position)
    rows = [row for row in stored_rules() if row.id != replacing and row.active and row.department.active]
    return sorted([*(rule_of(row) for row in rows), rule], key=lambda r: r.position)
