"""Row ids as people and links send them: ASCII digits, 1 to 2³¹−1 (PostgreSQL's integer).

Anything else (negative, zero, "５", "²", 99999999999) is no id of ours: the caller answers
404 or a form error, never passes it to the database (PostgreSQL refuses an integer above
2³¹−1 with an error, which would be a 500).
"""
from __future__ import annotations

MAX_ID = 2**31 - 1
#: The most digits an id can have: longer strings are refused before int() reads them.
MAX_ID_DIGITS = len(str(MAX_ID))


def parse_id(value: object) -> int:
    """The id a string (or int) names; ValueError when it names none.

    Shaped as a `type=` for Werkzeug's MultiDict.get / getlist, which treat ValueError as "absent".
    """
    if isinstance(value, bool):
        raise ValueError("not an id")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and 0 < len(value) <= MAX_ID_DIGITS and value.isascii() and value.isdigit():
        number = int(value)
    else:
        raise ValueError("not an id")
    if not 1 <= number <= MAX_ID:
        raise ValueError("not an id")
    return number


def id_or_none(value: object) -> int | None:
    """The id a value names, or None."""
    try:
        return parse_id(value)
    except ValueError:
        return None


def id_or_zero(value: object) -> int:
    """For a select whose "none" option is 0: that 0, or the id chosen; ValueError otherwise."""
    if value in (0, "0"):
        return 0
    return parse_id(value)
