"""Due times being recomputed after an edit: which open tickets still carry the old ones.

An admin's edit that moves due times (a policy's targets, the statuses that pause the clock, a
branch's hours or holidays) is committed first, then its open tickets are re-timed by a job
(``app.jobs.sla``), which takes a while for 100,000 tickets. Meanwhile the pages say "due time
being recalculated" instead of showing a due time that is no longer true.

Decisions:

- **One ``SlaRefresh`` row per edit**, with its scope (a priority, a branch, or every open
  ticket) and the highest ticket id when it was requested (tickets opened later are timed with
  the new settings already). ``request`` adds it; the view commits it before enqueuing the job.
- **Per ticket, not per job**: the refresh goes through the tickets by id and commits each
  batch with the row's ``done_through_id``, so a ticket is "being recalculated" while
  ``done_through_id < id <= up_to_ticket_id`` in the row's scope, until ``finished_at``.
- **A refresh finishes the rows of its scope that were pending when it started** (it reads the
  settings after them, so it applies those edits); two edits in a row may be finished by one run.
- **A lost job** (the queue was down): the SLA sweep runs the refreshes still pending
  ``STALE_AFTER`` after they were requested, so no ticket says "being recalculated" for good.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import func, select, update

from app.core.clock import utcnow
from app.extensions import db
from app.models import Priority, SlaRefresh, Ticket
from app.services.sla import clocks

#: A refresh still pending this long after its edit lost its job: the sweep runs it.
STALE_AFTER = timedelta(minutes=10)


class Pending(NamedTuple):
    """An unfinished refresh as plain values (read once per page)."""

    priority: str | None
    branch_id: int | None
    done_through_id: int
    up_to_ticket_id: int


def request(priority: str | None = None, branch_id: int | None = None) -> SlaRefresh:
    """Record that the open tickets of a priority, of a branch, or (neither) all of them are to be re-timed. Flushes."""
    db.session.flush()
    row = SlaRefresh(
        priority=None if priority is None else str(priority),
        branch_id=branch_id,
        up_to_ticket_id=db.session.scalar(select(func.max(Ticket.id))) or 0,
        done_through_id=0,
        requested_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    return row


def pending() -> list[Pending]:
    return [Pending(*row) for row in db.session.execute(
        select(SlaRefresh.priority, SlaRefresh.branch_id, SlaRefresh.done_through_id, SlaRefresh.up_to_ticket_id)
        .where(SlaRefresh.finished_at.is_(None))
    )]


def is_recalculating(ticket: Ticket, refreshes: Sequence[Pending]) -> bool:
    """Whether a refresh that has not reached ``ticket`` yet will move its due times."""
    if not refreshes or not ticket.is_open:
        return False
    return any(
        refresh.done_through_id < ticket.id <= refresh.up_to_ticket_id
        and (refresh.priority is None or refresh.priority == str(ticket.priority))
        and (refresh.branch_id is None or refresh.branch_id == ticket.branch_id)
        for refresh in refreshes
    )


def _scope(priority: str | None, branch_id: int | None):
    return (
        SlaRefresh.finished_at.is_(None),
        SlaRefresh.priority.is_(None) if priority is None else SlaRefresh.priority == str(priority),
        SlaRefresh.branch_id.is_(None) if branch_id is None else SlaRefresh.branch_id == branch_id,
    )


def run(priority: str | None = None, branch_id: int | None = None, now: datetime | None = None) -> int:
    """Re-time the open tickets of the scope, committing each batch with the progress of the scope's pending
    refreshes, and finish them. Returns how many tickets were re-timed. Commits."""
    db.session.flush()
    claimed = list(db.session.scalars(select(SlaRefresh.id).where(*_scope(priority, branch_id))))
    db.session.commit()

    def progress(last_id: int) -> None:
        if claimed:
            db.session.execute(update(SlaRefresh).where(SlaRefresh.id.in_(claimed)).values(done_through_id=last_id))
        db.session.commit()

    conditions = []
    if priority is not None:
        conditions.append(Ticket.priority == Priority(priority))
    if branch_id is not None:
        conditions.append(Ticket.branch_id == branch_id)
    moved = clocks.refresh_open_tickets(*conditions, now=now, after_batch=progress)
    if claimed:
        db.session.execute(update(SlaRefresh).where(SlaRefresh.id.in_(claimed)).values(finished_at=utcnow()))
    db.session.commit()
    return moved


def run_stale(now: datetime | None = None) -> int:
    """Run the refreshes whose job was lost (pending ``STALE_AFTER`` after the edit). Returns how many ran."""
    now = now or utcnow()
    scopes = {tuple(row) for row in db.session.execute(
        select(SlaRefresh.priority, SlaRefresh.branch_id)
        .where(SlaRefresh.finished_at.is_(None), SlaRefresh.requested_at <= now - STALE_AFTER)
    )}
    for priority, branch_id in sorted(scopes, key=lambda scope: (scope[0] or "", scope[1] or 0)):
        run(priority, branch_id)
    return len(scopes)
