"""RQ entry point of the SLA sweep (periodic: `flask jobs cron`, or `flask jobs sweep`)."""
from __future__ import annotations

from app.core.clock import utcnow
from app.extensions import db
from app.jobs import job_context
from app.jobs.notifications import deliver_due, hand_over_webhooks
from app.services import escalations, sla_clocks
from app.services.escalations import SweepResult


def sweep_sla() -> SweepResult:
    """Escalate every ticket whose next deadline came, then send what is due. Safe to run twice."""
    with job_context():
        sla_clocks.ensure_default_policies()
        db.session.commit()
        now = utcnow()
        result = escalations.sweep(now)
        hand_over_webhooks(result.delivery_ids)
        deliver_due(now)
        return result
