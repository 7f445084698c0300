"""Who is asking: the API key of ``Authorization: Bearer <key>``, its scopes, and its rate limit.

Every resource blueprint of the API runs ``authenticate`` before its views (app/blueprints/api/__init__.py):
no key, a malformed, unknown, rotated or revoked one is 401 with ``WWW-Authenticate: Bearer``. A session
cookie is never read: signing in to the pages does not open the API. Each view says the scope it needs::

    @bp.route("/responses")
    @auth.requires("responses:read")
    ...
    def list_responses(args):
        key = auth.current_key()       # the ApiKey: its branch scope for app.permissions, the actor for audit.record

A key without the scope is 403. ``requires`` also documents the bearer security and the 401/403/429 answers.
Each key has ``LOOPDESK_API_RATE_LIMIT`` requests per window; every answer carries RateLimit-Limit,
RateLimit-Remaining and RateLimit-Reset (draft-ietf-httpapi-ratelimit-headers), a 429 Retry-After too.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, g, request
from flask_smorest import Blueprint

from app.blueprints.api import problems
from app.extensions import db
from app.models import ApiKey
from app.rate_limits import count_request
from app.services.integrations import keys

SECURITY_SCHEME = "bearerAuth"
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="loopdesk"'}


def authenticate() -> None:
    """before_request of every resource blueprint: the key, or 401; then its rate limit (429)."""
    scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        problems.abort(401, "Send an API key: Authorization: Bearer <key>.", headers=_CHALLENGE)
    key = keys.authenticate(token.strip())
    if key is None:
        problems.abort(401, "This API key is not valid: unknown, rotated or revoked.",
                       headers={"WWW-Authenticate": 'Bearer realm="loopdesk", error="invalid_token"'})
    g.api_key = key
    state = count_request("LOOPDESK_API_RATE_LIMIT", "api", f"key:{key.id}")
    if state is not None:
        g.api_rate_headers = {
            "RateLimit-Limit": str(state.limit),
            "RateLimit-Remaining": str(state.remaining),
            "RateLimit-Reset": str(state.reset_seconds),
            "RateLimit-Policy": f"{state.limit};w={state.window_seconds}",
        }
        if state.breached:
            problems.abort(429, f"This key may make {state.limit} requests per {state.window_seconds} s; "
                                "try again after Retry-After seconds.",
                           headers={**g.api_rate_headers, "Retry-After": str(max(1, state.reset_seconds))})
    if keys.note_use(key):
        db.session.commit()


def rate_headers(response: Response) -> Response:
    """after_request: the key's RateLimit-* headers on every answer."""
    for name, value in (g.get("api_rate_headers") or {}).items():
        response.headers.setdefault(name, value)
    return response


def current_key() -> ApiKey:
    """The key of this request (set by ``authenticate``)."""
    return g.api_key


def requires(scope: str | None) -> Callable:
    """Decorator: the view needs a key with ``scope`` (403 without it; None: any key, as for branches and
    questionnaires, which every integration reads); documents the bearer security and the errors."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if scope is not None and not current_key().allows(scope):
                problems.abort(403, f"This API key does not have the scope {scope}.")
            return view(*args, **kwargs)

        # 400: a request the app refuses whatever the view (a NUL character anywhere: app/blueprints/inputs.py).
        documented = problems.documented(*((400, 401, 403, 429) if scope else (400, 401, 429)))(wrapped)
        return Blueprint.doc(security=[{SECURITY_SCHEME: [scope] if scope else []}])(documented)

    return decorator
