"""Background jobs. With REDIS_URL they go to RQ; without it they run in process.

Callers commit first, then enqueue: a job never sees a row that might still be
rolled back, and a failure to enqueue loses nothing (the sweep finds the row).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from flask import current_app, has_app_context

from app.models.busy import retrying_when_busy

log = logging.getLogger(__name__)

def redis_connection(url: str):
    from redis import Redis

    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


def queue():
    """The RQ queue of this app (only when REDIS_URL is set)."""
    from rq import Queue

    url = current_app.config["REDIS_URL"]
    connections: dict = current_app.extensions.setdefault("loopdesk_redis", {})
    if url not in connections:
        connections[url] = redis_connection(url)
    return Queue(current_app.config["LOOPDESK_QUEUE"], connection=connections[url])


def enqueue(func: Callable[..., Any], *args: Any, timeout: int = 300) -> bool:
    """Run ``func(*args)`` in the background (RQ stops it after ``timeout`` seconds).

    Returns False if it could not be handed over. Never raises: the request that called it has
    already committed its work.
    """
    if current_app.config.get("REDIS_URL"):
        try:
            queue().enqueue(func, *args, job_timeout=timeout, result_ttl=3600, failure_ttl=7 * 86400)
            return True
        except Exception:
            log.exception("could not enqueue %s%r; the sweep will pick it up", func.__name__, args)
            return False
    try:
        retrying_when_busy(lambda: func(*args), f"in-process job {func.__name__}")  # jobs are safe to run twice
        return True
    except Exception:
        log.exception("in-process job %s%r failed; the sweep will retry it", func.__name__, args)
        from app.extensions import db

        db.session.rollback()
        return False


def job_context() -> AbstractContextManager:
    """The app context a job runs in: the caller's when run in process, the worker's in `flask jobs worker`.

    The worker command runs inside the app's context, and RQ's work horse is a fork of it, so every
    job finds the app the worker built once; a job that finds none was started outside both.
    """
    if has_app_context():
        return nullcontext()
    raise RuntimeError("a Loopdesk job runs in process or in `flask jobs worker`, which provide the app")
