"""Every /api/v1 error as an RFC 9457 problem document (``application/problem+json``).

``{"type": "about:blank", "title": "Not Found", "status": 404, "detail": "…"}``; a 422 adds ``errors``, one
entry per field (``{"in": "query", "field": "limit", "detail": "…"}``).

Raise one from a view or a helper with ``problems.abort(404, "No such response.")`` (or Flask's and
flask-smorest's ``abort``: webargs' validation errors arrive here as 422 with their messages). Document the
statuses a view can answer beyond its arguments' 422 with ``@problems.documented(400, 404)``: the OpenAPI
document lists every status an operation returns and no "default" catch-all. The words are English: they are
read by the developers of an integration, as the field names and the OpenAPI document are.
"""
from __future__ import annotations

import http
import logging
from collections.abc import Callable, Mapping
from copy import deepcopy
from typing import Any, NoReturn

import marshmallow as ma
from flask import Response, json, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
MEDIA_TYPE = "application/problem+json"
#: What the API answers beside its successes, each one a problem document.
STATUSES = (400, 401, 403, 404, 405, 409, 412, 413, 415, 422, 428, 429, 500, 503)


class FieldErrorSchema(ma.Schema):
    in_ = ma.fields.String(data_key="in", required=True, metadata={"description": "query, json, headers or path"})
    field = ma.fields.String(required=True, metadata={"description": "the field's name; nested fields dotted"})
    detail = ma.fields.String(required=True)


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details."""

    type = ma.fields.String(required=True, metadata={"description": "about:blank: the status says what it is"})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(required=True)
    errors = ma.fields.List(ma.fields.Nested(FieldErrorSchema), metadata={"description": "422: the fields refused"})


class ApiProblem(HTTPException):
    """An HTTP error with the problem's detail and, for a 422, its field errors."""

    def __init__(self, status: int, detail: str, *, errors: list[dict] | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(description=detail)
        self.code = status
        self.errors = errors
        self.extra_headers = dict(headers or {})


def abort(status: int, detail: str, *, errors: list[dict] | None = None,
          headers: Mapping[str, str] | None = None) -> NoReturn:
    raise ApiProblem(status, detail, errors=errors, headers=headers)


def is_api_request() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def problem(status: int, detail: str, *, errors: list[dict] | None = None,
            headers: Mapping[str, str] | None = None) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank", "title": http.HTTPStatus(status).phrase, "status": status, "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=MEDIA_TYPE)
    response.headers.update(headers or {})
    return response


def _field_errors(messages: Any, location: str, path: str = "") -> list[dict]:
    """webargs' {"query": {"limit": ["Not a valid integer."]}} as a flat list of field errors."""
    found: list[dict] = []
    if isinstance(messages, Mapping):
        for name, inner in messages.items():
            found += _field_errors(inner, location, f"{path}.{name}" if path else str(name))
    elif isinstance(messages, (list, tuple)):
        for item in messages:
            if isinstance(item, (Mapping, list, tuple)):
                found += _field_errors(item, location, path)
            else:
                found.append({"in": location, "field": path or "_schema", "detail": str(item)})
    else:
        found.append({"in": location, "field": path or "_schema", "detail": str(messages)})
    return found


def from_http_exception(error: HTTPException) -> Response:
    """The problem document of any HTTP error raised while answering an /api/v1 request."""
    status = error.code or 500
    headers = dict(getattr(error, "extra_headers", {}) or {})
    if isinstance(error, ApiProblem):
        return problem(status, error.description or "", errors=error.errors, headers=headers)
    # Werkzeug's own headers of the error (405: Allow; 429: Retry-After), not its HTML content type.
    headers.update({k: v for k, v in error.get_headers() if k.lower() != "content-type"})
    data = getattr(error, "data", None) or {}
    headers.update(data.get("headers") or {})
    messages = data.get("errors") or data.get("messages")
    if status == 422 and messages:
        errors = [e for location, inner in messages.items() for e in _field_errors(inner, location)]
        return problem(422, "The request's fields are not valid: see errors.", errors=errors, headers=headers)
    if status == 400 and messages:
        details = [e["detail"] for location, inner in messages.items() for e in _field_errors(inner, location)]
        return problem(400, " ".join(details) or error.description or "", headers=headers)
    return problem(status, error.description or http.HTTPStatus(status).description, headers=headers)


def documented(*statuses: int) -> Callable:
    """Decorator: the view may also answer these statuses (each a problem document in the OpenAPI document)."""

    def decorator(view: Callable) -> Callable:
        view._apidoc = deepcopy(getattr(view, "_apidoc", {}))  # type: ignore[attr-defined]
        responses = view._apidoc.setdefault("response", {}).setdefault("responses", {})  # type: ignore[attr-defined]
        for status in statuses:
            responses.setdefault(status, []).append(http.HTTPStatus(status).name)
        return view

    return decorator
