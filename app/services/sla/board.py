"""The supervisor board: breached and at-risk counts, and SLA attainment (``attainment``) per local period."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Branch, Department, Role, Ticket, TicketStatus, User
from app.models.tickets import OPEN_STATUSES
from app.permissions import scope_tickets
from app.services.tickets.customer_status import REOPEN_AT_MOST
from app.services.sla.attainment import Attainment, attainment as attainment_of, local_days_since

DONE_STATUSES = (TicketStatus.RESOLVED, TicketStatus.CLOSED)


@dataclass(frozen=True)
class RiskRow:
    name: str
    breached: int
    at_risk: int
    open: int


@dataclass(frozen=True)
class PeriodAttainment:
    """Attainment over the last ``days`` local days of each branch (1 = today)."""

    days: int
    attainment: Attainment


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


def attainment(user: User, now: datetime, days: int) -> PeriodAttainment:
    """Of the tickets in the user's scope opened in the last ``days`` calendar days of their branch
    (1 = today, from local midnight): first response and resolution met, missed, still running by
    their own SLA clocks (``app.services.sla.attainment``)."""
    query = select(Ticket.id).where(local_days_since(days, now))
    return PeriodAttainment(days, attainment_of(scope_tickets(query, user), now))


def zones_of(user: User) -> list[str]:
    """The time zones of the branches whose tickets the user sees: the days the board counts in."""
    query = select(Branch.timezone).distinct().order_by(Branch.timezone)
    if not (user.role == Role.ADMIN or user.all_branches):
        query = query.where(Branch.id.in_([b.id for b in user.branches] or [-1]))
    return list(db.session.scalars(query))


def reopened_by_customers(user: User, limit: int = 50) -> list[Ticket]:
    """Open tickets in the user's scope that the customer reopened with a low rating, newest rating first."""
    query = (
        select(Ticket)
        .where(Ticket.status.in_(OPEN_STATUSES), Ticket.customer_rating.is_not(None),
               Ticket.customer_rating <= REOPEN_AT_MOST)
        .order_by(Ticket.customer_rated_at.desc())
        .limit(limit)
        .options(joinedload(Ticket.branch), joinedload(Ticket.department))
    )
    return list(db.session.scalars(scope_tickets(query, user)))
