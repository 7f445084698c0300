"""Daily roll-ups of responses for the dashboard, rebuilt by a job from the raw rows.

Whatever changes what a branch's day counts (a response processed, a quality verdict) marks that
(branch, local day) dirty with ``mark_dirty``; the roll-up job rebuilds dirty days.
"""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from app.core.clock import utcnow
from app.extensions import db
from app.models import RollupDirty
from app.models.upsert import insert_on_conflict


def local_day(moment: datetime, timezone: str) -> date:
    """The branch's calendar day of a UTC moment: roll-ups are by the day the customer lived."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def mark_dirty(branch_id: int, day: date) -> None:
    """Ask for (branch, day) to be rebuilt; idempotent, cheap, part of the caller's transaction."""
    db.session.execute(
        insert_on_conflict(RollupDirty)
        .values(branch_id=branch_id, day=day, marked_at=utcnow())
        .on_conflict_do_update(index_elements=["branch_id", "day"], set_={"marked_at": utcnow()})
    )
