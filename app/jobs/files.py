"""RQ entry point for long tasks that build a file (app.services.job_runs)."""
from __future__ import annotations

from app.jobs import job_context


def build_file(run_id: int) -> None:
    from app.services import job_runs

    with job_context():
        job_runs.build(run_id)
