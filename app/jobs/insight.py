"""RQ entry point of the roll-up sweep (periodic: `flask jobs cron`, or `flask jobs sweep`)."""
from __future__ import annotations

from app.extensions import db
from app.jobs import BULK, job_context, runs_on
from app.services.insight import rollups

#: Days rebuilt per transaction: a commit every batch keeps locks short and progress kept.
BATCH_DAYS = 100


@runs_on(BULK)
def sweep_rollups() -> int:
    """Rebuild every dirty (branch, day) from the raw rows. Safe to run twice, or two at once."""
    with job_context():
        done = 0
        while True:
            rebuilt = rollups.rebuild_dirty(limit=BATCH_DAYS)
            db.session.commit()
            done += rebuilt
            if rebuilt < BATCH_DAYS:
                return done


@runs_on(BULK)
def rebuild_branch_rollups(branch_id: int) -> int:
    """After a branch's time zone changed: its responses fall on other local days, so rebuild them all."""
    with job_context():
        done = rollups.rebuild_all([branch_id])
        db.session.commit()
        return done
