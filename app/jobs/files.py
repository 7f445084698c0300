"""Long tasks that build a file: which builder makes which kind, and the RQ entry point that runs one.

``init_app`` plugs the builders and the hand-over into the app for ``app.services.job_runs``,
which stores the runs and tracks them but never imports the jobs.
"""
from __future__ import annotations

from flask import Flask, current_app

from app.jobs import BULK, enqueue, job_context, runs_on
from app.models import JobRun
from app.services import exports, job_runs
from app.services.branches import posters
from app.services.customers import imports as customer_imports

BUILDERS: dict[str, job_runs.Builder] = {
    "posters_pdf": posters.build_posters_pdf,
    "posters_zip": posters.build_posters_zip,
    "responses_csv": exports.build_responses_csv,
    "responses_xlsx": exports.build_responses_xlsx,
    "tickets_csv": exports.build_tickets_csv,
    "tickets_xlsx": exports.build_tickets_xlsx,
    customer_imports.KIND: customer_imports.run,
}


def init_app(app: Flask) -> None:
    app.extensions[job_runs.EXTENSION] = job_runs.FileJobs(builders=BUILDERS, hand_over=hand_over)


def hand_over(run: JobRun) -> None:
    enqueue(build_file, run.id, timeout=current_app.config["LOOPDESK_FILE_JOB_TIMEOUT"])


@runs_on(BULK)
def build_file(run_id: int) -> None:
    with job_context():
        job_runs.build(run_id)


@runs_on(BULK)
def sweep_old_files() -> int:
    """Remove the files kept past LOOPDESK_JOB_FILE_DAYS (the cron: hourly; `flask jobs sweep`)."""
    with job_context():
        return job_runs.forget_old_files()
