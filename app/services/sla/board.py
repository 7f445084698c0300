"""The supervisor board: breached and at-risk counts, and SLA attainment against the brief's targets."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select

from app.extensions import db
from app.models import Branch, Department, Ticket, TicketStatus, User
from app.models.tickets import OPEN_STATUSES
from app.permissions import scope_tickets

#: The targets the brief's guides set for the business.
TARGET_FIRST_RESPONSE_30_MIN = 90.0
TARGET_ANSWERED_24_H = 98.0
TARGET_RESOLVED = 98.0

DONE_STATUSES = (TicketStatus.RESOLVED, TicketStatus.CLOSED)


@dataclass(frozen=True)
class RiskRow:
    name: str
    breached: int
    at_risk: int
    open: int


@dataclass(frozen=True)
class Attainment:
    label: str
    tickets: int
    first_response_30_min: float | None
    answered_24_h: float | None
    resolved: float | None


def risk_by(user: User, group: str) -> list[RiskRow]:
    """Open tickets per department or branch: how many breached, how many at risk (warning)."""
    key = Department.name if group == "department" else Branch.name
    query = (
        select(
            key,
            func.sum(case((Ticket.sla_state == "breached", 1), else_=0)),
            func.sum(case((Ticket.sla_state == "warning", 1), else_=0)),
            func.count(Ticket.id),
        )
        .join(Department, Ticket.department_id == Department.id)
        .join(Branch, Ticket.branch_id == Branch.id)
        .where(Ticket.status.in_(OPEN_STATUSES))
        .group_by(key)
        .order_by(key)
    )
    rows = db.session.execute(scope_tickets(query, user)).all()
    return [RiskRow(name, int(b or 0), int(w or 0), int(n)) for name, b, w, n in rows]


def attainment(user: User, now: datetime, days: int, label: str) -> Attainment:
    """Of the tickets opened in the period (0 days = today, UTC): the shares first answered within
    30 min and within 24 h, and the share resolved or closed."""
    since = now - timedelta(days=days) if days else now.replace(hour=0, minute=0, second=0, microsecond=0)
    query = select(Ticket.created_at, Ticket.first_response_at, Ticket.status).where(Ticket.created_at >= since)
    rows = db.session.execute(scope_tickets(query, user)).all()
    total = len(rows)

    def share(count: int) -> float | None:
        return 100.0 * count / total if total else None

    def answered_within(limit: timedelta) -> int:
        return sum(1 for created, first, _ in rows if first is not None and first - created <= limit)

    return Attainment(
        label=label,
        tickets=total,
        first_response_30_min=share(answered_within(timedelta(minutes=30))),
        answered_24_h=share(answered_within(timedelta(hours=24))),
        resolved=share(sum(1 for *_, status in rows if status in DONE_STATUSES)),
    )
