"""SLA attainment (服务时限达标率): the one rule behind every attainment figure.

The supervisor board, the dashboard and the ticket list behind a figure all count with the SQL
expressions of this module (exports and the API are to use them too), so they cannot disagree.

The rule, for each target (first response, resolution) of a ticket:

- **met**: its clock stopped by its due time. The due times are the ones the ticket stores
  (``first_response_due_at``, ``resolution_due_at``), which ``app.services.sla.clocks`` computes
  from the ticket's own policy, its branch's business hours and holidays and its pauses, and
  refreshes on every change: the ticket page's "met" / "breached" (``app.core.sla``).
  The first-response clock stops at the first reply or call, or at the first time the ticket
  was resolved or closed, whichever came first (as ``app.core.sla.sla_clock``); the resolution
  clock stops when the ticket is done (resolved or closed), its current cycle after a reopen.
- **missed**: it stopped after its due time, or it is still running and its due time has passed.
- **running**: neither yet (due time to come, or paused). A running target counts nowhere: a
  fresh ticket does not lower the figure.

The share is met / (met + missed). Periods: ``local_days`` counts the last N calendar days of
each ticket's branch (1 = today), from local midnight; the dashboard's dates are head office's
days (``app.services.insight.filters``) and say so.

Decision: a policy edit after a ticket is done does not rewrite its outcome (done tickets keep
the due times stored when they were done; open ones follow the edit).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, case, false, func, literal, or_, select

from app.extensions import db
from app.models import Branch, Ticket, TicketEvent, TicketStatus
from app.models.types import UtcDateTime

#: The brief's targets.
TARGET_FIRST_RESPONSE = 90.0
TARGET_RESOLUTION = 98.0

TARGETS = ("first_response", "resolution")
OUTCOMES = ("met", "missed", "running")
#: The periods the board shows: today and the last 7 and 30 local days.
PERIOD_DAYS = (1, 7, 30)
MAX_LOCAL_DAYS = 366

_DONE = (TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value)


@dataclass(frozen=True)
class Tally:
    """One target over some tickets: how many met, missed, still running."""

    met: int = 0
    missed: int = 0
    running: int = 0

    @property
    def counted(self) -> int:
        return self.met + self.missed

    @property
    def share(self) -> float | None:
        return 100.0 * self.met / self.counted if self.counted else None

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.met + other.met, self.missed + other.missed, self.running + other.running)


@dataclass(frozen=True)
class Attainment:
    tickets: int
    first_response: Tally
    resolution: Tally

    def tally(self, target: str) -> Tally:
        return self.first_response if target == "first_response" else self.resolution


def _earlier(a: ColumnElement, b: ColumnElement) -> ColumnElement:
    """The earlier of two moments, either of which may be NULL (portable: no LEAST in SQLite)."""
    return case((a.is_(None), b), (b.is_(None), a), (a <= b, a), else_=b)


def _first_done_at() -> ColumnElement:
    """When the ticket was first resolved or closed (its status events), NULL if never."""
    return (
        select(func.min(TicketEvent.at))
        .where(
            TicketEvent.ticket_id == Ticket.id,
            TicketEvent.kind.in_(("status", "reopened")),
            TicketEvent.new_value.in_(_DONE),
        )
        .correlate(Ticket)
        .scalar_subquery()
    )


def stopped_at(target: str) -> ColumnElement:
    """When the target's clock stopped, NULL while it runs."""
    if target == "first_response":
        return _earlier(Ticket.first_response_at, _first_done_at())
    done = Ticket.status.in_((TicketStatus.RESOLVED, TicketStatus.CLOSED))
    return case((done, _earlier(Ticket.resolved_at, Ticket.closed_at)), else_=None)


def _due_at(target: str) -> ColumnElement:
    return Ticket.first_response_due_at if target == "first_response" else Ticket.resolution_due_at


def is_met(target: str) -> ColumnElement[bool]:
    stop, due = stopped_at(target), _due_at(target)
    return and_(stop.is_not(None), due.is_not(None), stop <= due)


def is_missed(target: str, now: datetime) -> ColumnElement[bool]:
    stop, due = stopped_at(target), _due_at(target)
    return and_(~is_met(target), or_(stop.is_not(None), and_(due.is_not(None), due < literal(now, UtcDateTime))))


def outcome_is(target: str, outcome: str, now: datetime) -> ColumnElement[bool]:
    """The tickets whose ``target`` has ``outcome`` (met, missed, running) as of ``now``."""
    if outcome == "met":
        return is_met(target)
    if outcome == "missed":
        return is_missed(target, now)
    return and_(~is_met(target), ~is_missed(target, now))


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def tally_columns(now: datetime) -> list[ColumnElement[int]]:
    """Columns to add to a grouped query: total, then met and missed of each target (running is the rest)."""
    columns: list[ColumnElement[int]] = [func.count(Ticket.id)]
    for target in TARGETS:
        columns += [_count_if(is_met(target)), _count_if(is_missed(target, now))]
    return columns


def from_counts(counts) -> Attainment:
    """The values of ``tally_columns`` (one row) as an Attainment."""
    total, fr_met, fr_missed, res_met, res_missed = (int(value or 0) for value in counts)
    return Attainment(
        total,
        Tally(fr_met, fr_missed, total - fr_met - fr_missed),
        Tally(res_met, res_missed, total - res_met - res_missed),
    )


def attainment(query: Select, now: datetime) -> Attainment:
    """Attainment of the tickets ``query`` selects (a ``select()`` whose conditions are already set:
    scope, period, branches; its columns are replaced)."""
    row = db.session.execute(query.with_only_columns(*tally_columns(now)).order_by(None)).one()
    return from_counts(row)


# --- Periods ------------------------------------------------------------------------------------


def local_days_since(days: int, now: datetime) -> ColumnElement[bool]:
    """Tickets opened in the last ``days`` calendar days of their branch (1 = since local midnight today)."""
    days = max(1, min(int(days), MAX_LOCAL_DAYS))
    by_zone: dict[str, list[int]] = defaultdict(list)
    for branch_id, zone in db.session.execute(select(Branch.id, Branch.timezone)):
        by_zone[zone or "UTC"].append(branch_id)
    conditions = []
    for zone, ids in sorted(by_zone.items()):
        conditions.append(and_(Ticket.branch_id.in_(ids), Ticket.created_at >= local_midnight(zone, now, days)))
    return or_(*conditions) if conditions else false()


def local_midnight(zone: str, now: datetime, days: int) -> datetime:
    """The UTC moment of local midnight at the start of the last ``days`` days (1 = today) in ``zone``."""
    tz = ZoneInfo(zone)
    first = now.astimezone(tz).date() - timedelta(days=days - 1)
    return datetime.combine(first, time(), tz).astimezone(UTC)
