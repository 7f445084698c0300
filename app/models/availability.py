"""Which database errors mean "the database is away for a moment" rather than a bug.

A PostgreSQL restart, a fail-over or a full connection pool fails requests for a few seconds;
the pool reconnects by itself (``pool_pre_ping``), so such a request is answered 503 with
Retry-After (app/blueprints/errors.py), never 500. SQLite's own OperationalError also covers
bugs ("no such table"), so on SQLite only a file that cannot be opened or stays locked counts.
"""
from __future__ import annotations

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

_SQLITE_AWAY = ("database is locked", "unable to open database", "disk i/o error")


def database_unavailable(error: BaseException) -> bool:
    """A lost, refused or exhausted connection (or SQLite's file away or locked too long)."""
    if isinstance(error, (PoolTimeout, DisconnectionError)):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    if not isinstance(error, (OperationalError, InterfaceError)):
        return False
    if type(error.orig).__module__.startswith("sqlite3"):
        message = str(error.orig).lower()
        return any(part in message for part in _SQLITE_AWAY)
    return True
