"""Long tasks that build a file (all posters at once, exports): start one, track its progress, keep its file.

A builder is ``build(run, out, progress) -> (file_name, mimetype)``: it writes the file to the
binary stream ``out`` and calls ``progress(done, total)`` as it goes. A task that makes no file (a
customer import) returns None and leaves ``out`` empty. ``start`` stores the run and
hands it to the job queue (RQ, or in process without Redis); the page of the run polls its row.

Which builder makes which kind of file, and how a run reaches a worker, is plugged in at start-up
by ``app.jobs.files`` (``FileJobs``): the jobs layer knows the services, never the other way round.
"""
from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO

from flask import current_app
from sqlalchemy import select

from app.core.clock import utcnow
from app.extensions import db
from app.models import JobRun, JobStatus, Role, User
from app.services import file_store

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
Builder = Callable[[JobRun, BinaryIO, Progress], tuple[str, str] | None]

#: Seconds between progress writes: often enough for the page, rare enough not to slow the job.
PROGRESS_EVERY = 0.5


@dataclass(frozen=True)
class FileJobs:
    """What ``app.jobs.files`` plugs into the app: the builder of each kind, and how a stored run is handed over."""

    builders: Mapping[str, Builder]
    hand_over: Callable[[JobRun], None]


EXTENSION = "loopdesk.file_jobs"


def file_jobs() -> FileJobs:
    return current_app.extensions[EXTENSION]


def kinds() -> frozenset[str]:
    return frozenset(file_jobs().builders)


def start(kind: str, user: User, params: dict | None = None) -> JobRun:
    """Store a run of ``kind`` and commit, then hand it to the job queue."""
    if kind not in kinds():
        raise ValueError(f"unknown job kind {kind!r}")
    run = JobRun(kind=kind, user_id=user.id, params=params or {})
    db.session.add(run)
    db.session.commit()
    file_jobs().hand_over(run)
    return run


def run_for(user: User, run_id: int) -> JobRun | None:
    """A run its owner (or an admin) may see."""
    run = db.session.get(JobRun, run_id)
    if run is None or (run.user_id != user.id and user.role != Role.ADMIN):
        return None
    return run


def build(run_id: int) -> None:
    """Build the run's file. Safe to run twice: a finished run is left alone."""
    run = db.session.get(JobRun, run_id)
    if run is None or run.finished:
        return
    builder = file_jobs().builders[run.kind]
    run.status, run.started_at, run.done = JobStatus.RUNNING, utcnow(), 0
    db.session.commit()
    last = [0.0]

    def progress(done: int, total: int) -> None:
        run.done, run.total = done, total
        if time.monotonic() - last[0] >= PROGRESS_EVERY:
            last[0] = time.monotonic()
            db.session.commit()

    path = file_store.scratch_file(f"{run.id}-")
    store = file_store.current()
    try:
        with open(path, "wb") as out:
            made = builder(run, out, progress)
        if made is None:  # a task that makes no file (an import): its own page says what it did
            os.remove(path)
            run.status, run.finished_at = JobStatus.DONE, utcnow()
            run.done = max(run.done, run.total)
            db.session.commit()
            return
        name, mimetype = made
        key = f"run-{run.id}-{uuid.uuid4().hex}{os.path.splitext(name)[1][:10]}"
        size = store.put(key, path)
    except Exception as error:
        log.exception("job run %s (%s) failed", run.id, run.kind)
        db.session.rollback()
        run.status, run.error, run.finished_at = JobStatus.FAILED, str(error)[:2000], utcnow()
        db.session.commit()
        if os.path.exists(path):
            os.remove(path)
        return
    run.status, run.finished_at = JobStatus.DONE, utcnow()
    run.file_store, run.file_key, run.file_size = store.name, key, size
    run.file_name, run.mimetype = name, mimetype
    run.done = max(run.done, run.total)
    db.session.commit()


def forget_old_files(now: datetime | None = None, batch: int = 200) -> int:
    """Remove the files finished more than LOOPDESK_JOB_FILE_DAYS ago from their store; how many.

    The run stays (who built what, when) and its page says the file was removed. Safe to run twice.
    """
    before = (now or utcnow()) - timedelta(days=current_app.config["LOOPDESK_JOB_FILE_DAYS"])
    removed = 0
    while True:
        runs = list(db.session.scalars(
            select(JobRun).where(JobRun.status == JobStatus.DONE, JobRun.file_key.is_not(None),
                                 JobRun.finished_at < before).order_by(JobRun.id).limit(batch)
        ))
        for run in runs:
            file_store.named(run.file_store or "folder").delete(run.file_key)
            run.file_key = None
        db.session.commit()
        removed += len(runs)
        if len(runs) < batch:
            if removed:
                log.info("removed %d file(s) older than %s days", removed, current_app.config["LOOPDESK_JOB_FILE_DAYS"])
            return removed


def stored_file(run: JobRun) -> tuple[file_store.FileStore, str] | None:
    """The store and key of the run's finished file, None when it has none (yet)."""
    if run.status != JobStatus.DONE or not run.file_key:
        return None
    return file_store.named(run.file_store or "folder"), run.file_key
