"""RQ entry point of the alert sweep (periodic: hourly with `flask jobs cron`, or `flask jobs sweep`)."""
from __future__ import annotations

from app.core.clock import utcnow
from app.extensions import db
from app.jobs import NOTIFY, job_context, runs_on
from app.jobs.insight import sweep_rollups
from app.jobs.notifications import deliver_due, hand_over_emitted
from app.services.insight import alerts
from app.services.insight.alerts import EvaluateResult

#: How often `flask jobs cron` runs it: the figures are of 7 and 28 days, an hour late is on time.
INTERVAL_SECONDS = 3600


@runs_on(NOTIFY)
def sweep_alerts() -> EvaluateResult:
    """Bring the roll-ups up to date, open / close alert episodes, send what they notify. Safe to run twice."""
    with job_context():
        sweep_rollups()
        now = utcnow()
        result = alerts.evaluate(now)
        db.session.commit()
        hand_over_emitted()
        if result.notifications:
            deliver_due(now)
        return result
