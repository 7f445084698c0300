"""The opaque cursors of the API's lists: the sort key of the last row a page gave, as URL-safe base64 of JSON.

A cursor only says where to go on; it never widens what a list shows (the scope and the filters are applied
to every page). A cursor that does not decode to the kinds of the list's sort key is a ``CursorError``
(the API answers 400), never passed to the database.
"""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import UTC, datetime

from app.core.ids import MAX_ID

#: Longer than any key of ours: refused before it is decoded.
MAX_CURSOR_LENGTH = 200


class CursorError(ValueError):
    """Not a cursor of this list."""


def encode(values: Sequence[datetime | int]) -> str:
    plain = [value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value for value in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode(cursor: str, kinds: Sequence[type]) -> tuple[datetime | int, ...]:
    """The sort key a cursor carries; each value of the kind (``datetime`` or ``int``) the list sorts by."""
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH or not cursor.isascii():
        raise CursorError("not a cursor")
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise CursorError("not a cursor") from error
    if not isinstance(values, list) or len(values) != len(kinds):
        raise CursorError("not a cursor")
    decoded: list[datetime | int] = []
    for value, kind in zip(values, kinds, strict=True):
        if kind is int:
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ID:
                raise CursorError("not a cursor")
            decoded.append(value)
        elif kind is datetime:
            try:
                moment = datetime.fromisoformat(value) if isinstance(value, str) else None
            except ValueError as error:
                raise CursorError("not a cursor") from error
            if moment is None or moment.tzinfo is None:
                raise CursorError("not a cursor")
            decoded.append(moment.astimezone(UTC))
        else:  # pragma: no cover - a list sorts by ids and times only
            raise TypeError(kind)
    return tuple(decoded)
