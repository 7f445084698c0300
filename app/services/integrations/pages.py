"""Keyset pages: every list of the API walks its rows by a sort key, never by OFFSET.

Usage in a view (the query already scoped and filtered)::

    page = pages.keyset_page(query, (Response.updated_at, Response.id), after=cursor_values, limit=100)
    page.rows, page.next_cursor   # next_cursor None on the last page

``after`` is what ``app.core.cursors.decode(cursor, pages.kinds(columns))`` gave (or None for the first page).
The condition is a row-value comparison, ``(updated_at, id) > (:t, :id)``, which PostgreSQL answers from the
index on the same columns (``ix_responses_updated``): the time of a page does not grow with how far the walk
is (bench/api_cursor.py).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Select, bindparam, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from app.core import cursors
from app.extensions import db

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    next_cursor: str | None


def kinds(columns: Sequence[InstrumentedAttribute]) -> tuple[type, ...]:
    """The kind of each sort column, as app.core.cursors reads them: a time or an id."""
    return tuple(
        datetime if isinstance(getattr(column.type, "impl", column.type), DateTime) else int for column in columns
    )


def keyset_page(
    query: Select, columns: Sequence[InstrumentedAttribute], *, after: Sequence[Any] | None, limit: int
) -> Page:
    """The ``limit`` rows after ``after`` in the order of ``columns`` (ascending), and the cursor of the next page."""
    if after is not None:
        query = query.where(tuple_(*columns) > tuple_(*[
            bindparam(None, value, type_=column.type) for column, value in zip(columns, after, strict=True)
        ]))
    rows = list(db.session.scalars(query.order_by(*columns).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more and rows else None
    return Page(rows, cursors.encode([getattr(last, column.key) for column in columns]) if last is not None else None)
