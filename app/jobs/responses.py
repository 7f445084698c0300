"""RQ entry points for responses: thin, each calls a service, safe to run twice."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app

from app.extensions import db
from app.jobs import job_context
from app.services.survey import responses


def response_submitted(response_id: int) -> None:
    with job_context():
        responses.process_submitted(response_id)
        db.session.commit()


def sweep_unprocessed() -> int:
    """Hand every submitted response whose job never ran to the job again. Returns how many."""
    with job_context():
        after = timedelta(seconds=current_app.config["LOOPDESK_SWEEP_AFTER_SECONDS"])
        done = 0
        while True:
            ids = responses.unprocessed_response_ids(after)
            for response_id in ids:
                if responses.process_submitted(response_id):
                    done += 1
                db.session.commit()
            if len(ids) < 1000:
                return done
