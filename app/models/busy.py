"""Writes the embedded SQLite refused as busy are tried again, the whole unit of work.

SQLite has one writer at a time. A write waits up to the busy timeout (``PRAGMA busy_timeout``,
``LOOPDESK_SQLITE_BUSY_SECONDS``) for the lock; a writer holding it longer (a sweep, a roll-up
rebuild, a burst of submits on two CPUs), or a read snapshot that went stale before its first
write, makes the statement fail with "database is locked". Such a failure changed nothing: the
transaction is rolled back and the work runs again from the start, so it must be safe to repeat
(the survey's writes are upserts keyed by the draft; jobs are safe to run twice). PostgreSQL
never reaches the retry: its writers wait for row locks.
"""
from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import OperationalError

from app.extensions import db

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Tries in all; the waits between them grow (50, 100 ms … with jitter, so retries do not collide).
ATTEMPTS = 4
FIRST_PAUSE_SECONDS = 0.05


def is_busy(error: OperationalError) -> bool:
    """SQLite's "database is locked" / "database table is locked" / SQLITE_BUSY."""
    message = str(error.orig).lower()
    return "database is locked" in message or "database table is locked" in message or "busy" in message


def retrying_when_busy(work: Callable[[], T], what: str = "write") -> T:
    """Run ``work()`` (which commits) and, when SQLite refuses it as busy, roll back and run it again."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return work()
        except OperationalError as error:
            db.session.rollback()
            if attempt == ATTEMPTS or db.session.get_bind().dialect.name != "sqlite" or not is_busy(error):
                raise
            pause = FIRST_PAUSE_SECONDS * 2 ** (attempt - 1) * (0.5 + random.random())
            log.warning("%s: SQLite busy (%s), trying again in %.0f ms (attempt %d of %d)",
                        what, error.orig, pause * 1000, attempt + 1, ATTEMPTS)
            time.sleep(pause)
    raise AssertionError("unreachable")
