"""Routing rules as stored rows ↔ the pure rules of app.core.routing.

Rows name departments by id; core rules by code. ``active_rules`` converts one way for the
ticket opener, ``seed_default_rules`` the other way for a fresh installation (and the demo).
"""
from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.core.routing import DEFAULT_RULES, DEFAULT_TRIAGE_DEPARTMENT, AnswerCondition, Rule
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
