"""Routing (分类与派单): where a negative response's ticket goes, by the stored rules.

The face of the package is ``decide``, where a routed response meets the stored rules: the
ticket opener and the admin's "try it" box both call it, so a preview and the real ticket
cannot differ; and ``triage_department``, where feedback no rule claims lands.

Beside it: ``stored`` (rule rows ↔ the pure rules of ``app.core.routing``: rows name
departments by id, core rules by code; ``active_rules`` for the ticket opener,
``seed_default_rules`` for a fresh installation and the demo), ``editor`` (the admins' rule
editor, audited) and ``try_it`` (the "try it" box's responses and typed answers).
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from app.core import routing
from app.core.routing import DEFAULT_TRIAGE_DEPARTMENT, Rule
from app.extensions import db
from app.models import Department
from app.services.routing.stored import active_rules

log = logging.getLogger(__name__)



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


@dataclass(frozen=True)
class TicketRoute:
    """Where a negative response's ticket goes: the core decision and the stored department it names."""

    decision: routing.RoutingDecision
    department: Department
    #: The decision's reasons, plus the fallback when its department is missing (codes and values:
    #: ``app.labels.routing_reasons`` words them in the reader's language).
    reasons: list[routing.Reason]


def decide(routed: routing.RoutedResponse, rules: Sequence[Rule] | None = None) -> TicketRoute | None:
    """Route ``routed`` with the stored rules (or ``rules``); None when it opens no ticket.

    A decision for a department that is missing or inactive goes to triage, with a reason.
    """
    departments = {d.code: d for d in db.session.scalars(select(Department).where(Department.active.is_(True)))}
    triage = next((d for d in departments.values() if d.is_triage), None) or triage_department()
    decision = routing.route(routed, active_rules() if rules is None else rules, triage.code)
    if decision is None:
        return None
    reasons = list(decision.reasons)
    department = departments.get(decision.department)
    if department is None:
        reasons.append(routing.Reason("department_missing", {"department": decision.department, "triage": triage.code}))
        department = triage
    return TicketRoute(decision, department, reasons)
