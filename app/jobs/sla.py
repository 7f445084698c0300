"""RQ entry point of the SLA sweep (periodic: `flask jobs cron`, or `flask jobs sweep`)."""
from __future__ import annotations

import logging

from app.core.clock import utcnow
from app.extensions import db
from app.jobs import BULK, NOTIFY, job_context, runs_on
from app.jobs.notifications import deliver_due, hand_over_emitted
from app.services.sla import escalations, policies, refreshes
from app.services.sla.escalations import SweepResult

log = logging.getLogger(__name__)


@runs_on(NOTIFY)
def sweep_sla() -> SweepResult:
    """Escalate every ticket whose next deadline came, then send what is due. Safe to run twice."""
    with job_context():
        policies.ensure_default_policies()
        db.session.commit()
        now = utcnow()
        result = escalations.sweep(now)
        hand_over_emitted()
        deliver_due(now)
        try:
            refreshes.run_stale(now)
        except Exception:  # a refresh that fails must not stop the escalations of the next sweeps
            log.exception("re-running a lost refresh of due times failed")
            db.session.rollback()
        return result


@runs_on(BULK)
def refresh_policy_tickets(policy_id: int) -> int:
    """After an admin edits a policy: its open tickets' due times follow (a job: 100k tickets take a while)."""
    from app.models import SlaPolicy

    with job_context():
        policy = db.session.get(SlaPolicy, policy_id)
        return refreshes.run(priority=policy.priority) if policy is not None else 0


@runs_on(BULK)
def refresh_branch_tickets(branch_id: int | None) -> int:
    """After an edit of a branch's hours or holidays (None: a holiday of every branch)."""
    with job_context():
        return refreshes.run(branch_id=branch_id)
