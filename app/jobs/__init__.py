"""Background jobs. With REDIS_URL they go to RQ; without it they run in process.

Callers commit first, then enqueue: a job never sees a row that might still be
rolled back. While Redis is away a job is held in the database (HeldJob) and handed
to RQ once Redis answers (`hand_over_held`: a worker starting or reconnecting, and
the cron), so the work of an outage runs after it; the sweeps stay the last net.

Jobs go to three queues by urgency, and a worker takes them in that order (``QUEUES``): a new
complaint's ticket and alert never wait behind a burst of webhooks or an export. Each entry point
names its queue with ``@runs_on``, so a held job (its dotted name) goes back to the same queue.
"""
from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar

from flask import current_app, has_app_context

from app.extensions import db
from app.models import HeldJob
from app.models.busy import retrying_when_busy

log = logging.getLogger(__name__)

#: After Redis refused a job, the next ones of this process are held without asking it for this long.
REDIS_AWAY_SECONDS = 5.0
#: How often the cron hands held jobs over, beside a worker's start and reconnection.
HAND_OVER_SECONDS = 15

#: Opening tickets and the real-time alert (a customer just complained), and handing held jobs over.
URGENT = "urgent"
#: Notifications: e-mail, text messages, and the sweeps that send them (SLA escalations, alerts).
NOTIFY = "notify"
#: Webhooks (limited per endpoint: ``LOOPDESK_WEBHOOK_CONCURRENCY``), files, re-timing and roll-ups.
BULK = "bulk"
#: The order in which a worker takes jobs: all of a queue before any of the next.
QUEUES = (URGENT, NOTIFY, BULK)

F = TypeVar("F", bound=Callable[..., Any])


def runs_on(name: str) -> Callable[[F], F]:
    """Mark a job entry point with the queue ``enqueue`` sends it to (one of ``QUEUES``)."""
    if name not in QUEUES:
        raise ValueError(f"no queue {name!r}: one of {QUEUES}")

    def mark(func: F) -> F:
        func.loopdesk_queue = name  # type: ignore[attr-defined]
        return func

    return mark


def queue_of(func: Callable[..., Any]) -> str:
    """The queue an entry point runs on (``@runs_on``); one without a mark is a mistake caught in tests."""
    return getattr(func, "loopdesk_queue", NOTIFY)


def redis_connection(url: str):
    from redis import Redis

    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


def queue(name: str = URGENT):
    """One of this app's RQ queues (only when REDIS_URL is set): ``LOOPDESK_QUEUE``-urgent, -notify, -bulk."""
    from rq import Queue

    if name not in QUEUES:
        raise ValueError(f"no queue {name!r}: one of {QUEUES}")
    url = current_app.config["REDIS_URL"]
    connections: dict = current_app.extensions.setdefault("loopdesk_redis", {})
    if url not in connections:
        connections[url] = redis_connection(url)
    return Queue(f"{current_app.config['LOOPDESK_QUEUE']}-{name}", connection=connections[url])


def legacy_queue():
    """The one queue (``LOOPDESK_QUEUE``) every job went to before the queues by urgency: jobs left in
    it by the version before an upgrade still run, after everything else (workers taking bulk read it)."""
    from rq import Queue

    return Queue(current_app.config["LOOPDESK_QUEUE"], connection=queue(BULK).connection)


def enqueue(func: Callable[..., Any], *args: Any, timeout: int = 300) -> bool:
    """Run ``func(*args)`` in the background, on its queue (``@runs_on``; RQ stops it after ``timeout`` seconds).

    Returns False if it could neither be handed over nor held. Never raises: the request that
    called it has already committed its work. With Redis away, the job is held in the database
    (its arguments are ids and strings) and True is returned: it runs once Redis is back.
    """
    if current_app.config.get("REDIS_URL"):
        if time.monotonic() >= current_app.extensions.get("loopdesk_redis_away_until", 0.0):
            try:
                _to_rq(func, args, timeout, queue_of(func))
                return True
            except Exception as error:  # noqa: BLE001 - Redis away, or refusing: hold the job
                current_app.extensions["loopdesk_redis_away_until"] = time.monotonic() + REDIS_AWAY_SECONDS
                log.warning("could not enqueue %s%r (%s); holding it until Redis answers",
                            func.__name__, args, error)
        return hold(func, *args, timeout=timeout)
    try:
        retrying_when_busy(lambda: func(*args), f"in-process job {func.__name__}")  # jobs are safe to run twice
        return True
    except Exception:
        log.exception("in-process job %s%r failed; the sweep will retry it", func.__name__, args)
        db.session.rollback()
        return False


def _to_rq(func: Callable[..., Any], args: tuple | list, timeout: int, name: str) -> None:
    queue(name).enqueue(func, *args, job_timeout=timeout, result_ttl=3600, failure_ttl=7 * 86400)


def hold(func: Callable[..., Any], *args: Any, timeout: int = 300) -> bool:
    """Keep the job in the database until Redis answers (``enqueue`` does when Redis refuses it). Never raises."""
    if not func.__module__.startswith("app.jobs"):
        log.error("%s.%s is no app.jobs entry point: not held", func.__module__, func.__qualname__)
        return False
    try:
        db.session.add(HeldJob(func=f"{func.__module__}.{func.__qualname__}", args=list(args), timeout=timeout))
        db.session.commit()
        return True
    except Exception:
        log.exception("could not hold %s%r either (the database is away too); the sweeps take it up",
                      func.__name__, args)
        db.session.rollback()
        return False


@runs_on(URGENT)
def hand_over_held(limit: int = 500) -> int:
    """Enqueue the jobs held while Redis was away, oldest first, and forget them. Returns how many.

    Run by a worker when it starts or reconnects and by the cron; two at once skip each other's
    rows on PostgreSQL (SKIP LOCKED); should one be handed over twice, jobs are safe to run twice.
    """
    with job_context():
        return _hand_over(limit)


def _hand_over(limit: int) -> int:
    done = 0
    while True:
        held = list(db.session.scalars(
            db.select(HeldJob).order_by(HeldJob.id).limit(limit).with_for_update(skip_locked=True)
        ))
        try:
            for job in held:
                module, _dot, name = job.func.rpartition(".")
                if not module.startswith("app.jobs"):
                    log.error("held job %s names %s, not an app.jobs entry point: dropped", job.id, job.func)
                else:
                    func = getattr(importlib.import_module(module), name)
                    _to_rq(func, job.args, job.timeout, queue_of(func))
                    done += 1
                db.session.delete(job)
            db.session.commit()
        except Exception:
            db.session.rollback()  # the ones enqueued already go again next time: safe to run twice
            raise
        if len(held) < limit:
            if done:
                log.info("handed %d held job(s) over to RQ", done)
            return done


def job_context() -> AbstractContextManager:
    """The app context a job runs in: the caller's when run in process, the worker's in `flask jobs worker`.

    The worker command builds the app once and runs each job in an app context of its own (in
    process, or in a forked work horse for bulk jobs: ``app.jobs.runner``); a job that finds none was
    started outside both.
    """
    if has_app_context():
        return nullcontext()
    raise RuntimeError("a Loopdesk job runs in process or in `flask jobs worker`, which provide the app")
