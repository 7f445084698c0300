"""What every request's input must look like before a view reads it: ids in URLs, no NUL anywhere.

- ``<id:name>`` is the URL converter for row ids (``app.core.ids``): 1 to 2³¹−1 in ASCII digits,
  anything else is a 404 before the view runs. ``<id:…>`` is the same converter, so a route
  written the old way is covered too.
- A NUL character in the path, a query argument or a form field (names or values) is refused
  with a 400: no browser sends one, and PostgreSQL refuses it in a text parameter.
"""
from __future__ import annotations

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter

from app.core.ids import MAX_ID, MAX_ID_DIGITS


class IdConverter(IntegerConverter):
    """A row id: ASCII digits only (no sign, not "５", which Python's \\d takes), 1 to 2³¹−1."""

    regex = r"[0-9]{1,%d}" % MAX_ID_DIGITS

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 (Werkzeug's name)
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def _has_nul(pairs) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in pairs)


def refuse_nul() -> None:
    if request.view_args and any(isinstance(v, str) and "\x00" in v for v in request.view_args.values()):
        abort(404)
    if _has_nul(request.args.items(multi=True)):
        abort(400)
    if request.method in ("POST", "PUT", "PATCH") and _has_nul(request.form.items(multi=True)):
        abort(400)


def init_app(app: Flask) -> None:
    """Register the converters (before any route is added) and the NUL guard."""
    app.url_map.converters["id"] = IdConverter
    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_nul)
