"""The dashboard's ticket figures: per department (open, breached, resolved, SLA attainment) and per category.

Tickets are few enough to aggregate directly (no roll-ups); they follow the shared ``InsightFilter``
(head office's days, by creation). SLA attainment is ``app.services.sla.attainment``'s, the board's rule.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, case, func, select

from app.extensions import db
from app.models import Department, Ticket
from app.models.tickets import OPEN_STATUSES
from app.services.sla import attainment as sla_attainment, board
from app.services.sla.attainment import Attainment, Tally
from app.services.dashboard.selection import Selection


@dataclass(frozen=True)
class DepartmentRow:
    id: int | None
    name: str
    tickets: int
    open: int
    breached: int
    resolved: int
    #: SLA attainment of the department's tickets (met, missed, still running).
    first_response: Tally
    resolution: Tally

    def share(self, count: int) -> float | None:
        return 100.0 * count / self.tickets if self.tickets else None


@dataclass(frozen=True)
class CategoryRow:
    category: str | None
    tickets: int
    share: float


def count_if(condition):
    """How many of the grouped rows meet ``condition``, in SQL."""
    return func.sum(case((condition, 1), else_=0))


@dataclass(frozen=True)
class TicketSums:
    departments: list[DepartmentRow]
    categories: list[CategoryRow]

    @property
    def attainment(self) -> Attainment:
        """Of every ticket of the selection (the sum of the departments')."""
        return Attainment(
            sum(d.tickets for d in self.departments),
            sum((d.first_response for d in self.departments), Tally()),
            sum((d.resolution for d in self.departments), Tally()),
        )


def ticket_sums(selection: Selection, now: datetime) -> TicketSums:
    """The selection's tickets per department (open, breached, resolved, SLA attainment as of ``now``)
    and per category (problem distribution): one pass over the tickets, grouped by both."""
    query = select(
        Ticket.department_id, Ticket.category,
        count_if(Ticket.status.in_(OPEN_STATUSES)),
        count_if(Ticket.sla_state == "breached"),
        count_if(Ticket.status.in_(board.DONE_STATUSES)),
        *sla_attainment.tally_columns(now),
    ).group_by(Ticket.department_id, Ticket.category)
    rows = db.session.execute(_tickets_of(selection, query)).all()
    by_department: dict[int, list[int]] = defaultdict(lambda: [0] * 8)
    by_category: dict[str | None, int] = defaultdict(int)
    for department_id, category, *counts in rows:
        totals = by_department[department_id]
        for i, count in enumerate(counts):
            totals[i] += int(count or 0)
        by_category[str(category) if category is not None else None] += int(counts[3] or 0)
    names = dict(db.session.execute(
        select(Department.id, Department.name).where(Department.id.in_(list(by_department) or [-1]))
    ).all())
    departments = sorted(
        (_department_row(d, names.get(d, ""), totals) for d, totals in by_department.items()),
        key=lambda r: (-r.tickets, r.name, r.id),
    )
    total = sum(by_category.values())
    categories = sorted(
        (CategoryRow(c, n, 100 * n / total) for c, n in by_category.items() if n),
        key=lambda r: (-r.tickets, r.category or "~"),
    )
    return TicketSums(departments, categories)


def _department_row(department_id: int, name: str, totals: list[int]) -> DepartmentRow:
    open_, breached, resolved, *tally = totals
    attained = sla_attainment.from_counts(tally)
    return DepartmentRow(department_id, name, attained.tickets, open_, breached, resolved,
                         attained.first_response, attained.resolution)


def _tickets_of(selection: Selection, query: Select) -> Select:
    """Tickets of the selection: the shared filter (its days, scope) and the selection's branches."""
    query = selection.filter.apply_to_tickets(query, selection.user)
    if not selection.everything:
        query = query.where(Ticket.branch_id.in_(selection.branch_ids or [-1]))
    return query
