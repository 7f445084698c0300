"""RQ entry points for responses: thin, each calls a service, safe to run twice."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app

from app.core.clock import utcnow
from app.extensions import db
from app.jobs import URGENT, job_context, runs_on
from app.jobs.notifications import deliver_due, hand_over_emitted
from app.models.busy import retrying_when_busy
from app.services.insight import alerts
from app.services.insight.alerts import EvaluateResult
from app.services.survey import responses


@runs_on(URGENT)
def response_submitted(response_id: int, source_key: str | None = None) -> None:
    with job_context():
        _process(response_id, source_key)


def _process(response_id: int, source_key: str | None = None) -> bool:
    """Process one response and raise the real-time alert it completes; notify after the commit.

    Each transaction runs again if the database rolls it back as a deadlock (workers opening
    tickets at once lock the same QR code and roll-up day) or as busy (SQLite).
    """
    def claim() -> bool:
        done = responses.process_submitted(response_id, source_key)
        db.session.commit()
        return done

    def alert() -> EvaluateResult:
        raised = alerts.after_response(response_id, now)
        db.session.commit()
        return raised

    if not retrying_when_busy(claim, f"response {response_id}"):
        return False
    now = utcnow()
    raised = retrying_when_busy(alert, f"alert after response {response_id}")
    hand_over_emitted()
    if raised.notifications:
        deliver_due(now)
    return True


@runs_on(URGENT)
def sweep_unprocessed() -> int:
    """Hand every submitted response whose job never ran to the job again. Returns how many."""
    with job_context():
        after = timedelta(seconds=current_app.config["LOOPDESK_SWEEP_AFTER_SECONDS"])
        done = 0
        while True:
            ids = responses.unprocessed_response_ids(after)
            for response_id in ids:
                if _process(response_id):
                    done += 1
            if len(ids) < 1000:
                return done
