"""Writes the embedded SQLite refused as busy are tried again, the whole unit of work.

SQLite has one writer at a time. A write waits up to the busy timeout (``PRAGMA busy_timeout``,
``LOOPDESK_SQLITE_BUSY_SECONDS``) for the lock; a writer holding it longer (a sweep, a roll-up
rebuild, a burst of submits on two CPUs), or a read snapshot that went stale before its first
write, makes the statement fail with "database is locked". Such a failure changed nothing: the
transaction is rolled back and the work runs again from the start, so it must be safe to repeat
(the survey's writes are upserts keyed by the draft; jobs are safe to run twice).

PostgreSQL's writers wait for row locks instead, but two of them that wait for each other (several
workers opening tickets at once) are a deadlock: the server rolls one back (SQLSTATE 40P01, or 40001
for a serialization failure), and running it again is the remedy, the same way.
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


#: PostgreSQL's deadlock_detected and serialization_failure: the transaction was rolled back, try it again.
RETRY_SQLSTATES = {"40P01", "40001"}


def is_busy(error: OperationalError) -> bool:
    """SQLite's "database is locked" / "database table is locked" / SQLITE_BUSY, or a PostgreSQL deadlock."""
    if getattr(error.orig, "sqlstate", None) in RETRY_SQLSTATES:
        return True
    if db.session.get_bind().dialect.name != "sqlite":
        return False
    message = str(error.orig).lower()
    return "database is locked" in message or "database table is locked" in message or "busy" in message


def retrying_when_busy(work: Callable[[], T], what: str = "write") -> T:
    """Run ``work()`` (which commits) and, when SQLite refuses it as busy or PostgreSQL as a deadlock,
    roll back and run it again."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return work()
        except OperationalError as error:
            db.session.rollback()
            if attempt == ATTEMPTS or not is_busy(error):
                raise
            pause = FIRST_PAUSE_SECONDS * 2 ** (attempt - 1) * (0.5 + random.random())
            refused = "SQLite busy" if db.session.get_bind().dialect.name == "sqlite" else "PostgreSQL deadlock"
            log.warning("%s: %s (%s), trying again in %.0f ms (attempt %d of %d)",
                        what, refused, error.orig, pause * 1000, attempt + 1, ATTEMPTS)
            time.sleep(pause)
    raise AssertionError("unreachable")
