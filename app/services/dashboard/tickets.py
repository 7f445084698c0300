"""The dashboard's ticket figures: per department (open, breached, resolved, answered in time) and per category.

Tickets are few enough to aggregate directly (no roll-ups); they follow the shared ``InsightFilter``
(head office's days, by creation).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Select, and_, case, func, select

from app.extensions import db
from app.models import Department, Ticket
from app.models.tickets import OPEN_STATUSES
from app.services.sla import board
from app.services.dashboard.selection import Selection

#: The brief's clocks behind the SLA targets: first response within 30 min, any feedback answered within 24 h.
FIRST_RESPONSE_WITHIN = timedelta(minutes=30)
ANSWERED_WITHIN = timedelta(hours=24)


@dataclass(frozen=True)
class DepartmentRow:
    id: int | None
    name: str
    tickets: int
    open: int
    breached: int
    resolved: int
    first_response_30_min: int
    answered_24_h: int

    def share(self, count: int) -> float | None:
        return 100.0 * count / self.tickets if self.tickets else None


@dataclass(frozen=True)
class CategoryRow:
    category: str | None
    tickets: int
    share: float


def _answered_within(limit: timedelta):
    """The first answer came within ``limit`` of the opening, in SQL (SQLite has no interval type)."""
    answered = Ticket.first_response_at.is_not(None)
    if db.session.get_bind().dialect.name == "postgresql":
        return and_(answered, Ticket.first_response_at - Ticket.created_at <= limit)
    # julianday is a float of days: keep a millisecond of slack against its rounding.
    seconds = (func.julianday(Ticket.first_response_at) - func.julianday(Ticket.created_at)) * 86400.0 - 0.001
    return and_(answered, seconds <= limit.total_seconds())


def count_if(condition):
    """How many of the grouped rows meet ``condition``, in SQL."""
    return func.sum(case((condition, 1), else_=0))


@dataclass(frozen=True)
class TicketSums:
    departments: list[DepartmentRow]
    categories: list[CategoryRow]


def ticket_sums(selection: Selection) -> TicketSums:
    """The selection's tickets per department (open, breached, resolved, answered in time) and per
    category (problem distribution): one pass over the tickets, grouped by both."""
    query = select(
        Ticket.department_id, Ticket.category, func.count(Ticket.id),
        count_if(Ticket.status.in_(OPEN_STATUSES)),
        count_if(Ticket.sla_state == "breached"),
        count_if(Ticket.status.in_(board.DONE_STATUSES)),
        count_if(_answered_within(FIRST_RESPONSE_WITHIN)),
        count_if(_answered_within(ANSWERED_WITHIN)),
    ).group_by(Ticket.department_id, Ticket.category)
    rows = db.session.execute(_tickets_of(selection, query)).all()
    by_department: dict[int, list[int]] = defaultdict(lambda: [0] * 6)
    by_category: dict[str | None, int] = defaultdict(int)
    for department_id, category, *counts in rows:
        totals = by_department[department_id]
        for i, count in enumerate(counts):
            totals[i] += int(count or 0)
        by_category[str(category) if category is not None else None] += int(counts[0] or 0)
    names = dict(db.session.execute(
        select(Department.id, Department.name).where(Department.id.in_(list(by_department) or [-1]))
    ).all())
    departments = sorted(
        (DepartmentRow(d, names.get(d, ""), *totals) for d, totals in by_department.items()),
        key=lambda r: (-r.tickets, r.name, r.id),
    )
    total = sum(by_category.values())
    categories = sorted(
        (CategoryRow(c, n, 100 * n / total) for c, n in by_category.items() if n),
        key=lambda r: (-r.tickets, r.category or "~"),
    )
    return TicketSums(departments, categories)


def _tickets_of(selection: Selection, query: Select) -> Select:
    """Tickets of the selection: the shared filter (its days, scope) and the selection's branches."""
    query = selection.filter.apply_to_tickets(query, selection.user)
    if not selection.everything:
        query = query.where(Ticket.branch_id.in_(selection.branch_ids or [-1]))
    return query
