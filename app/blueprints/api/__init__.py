"""The JSON API at /api/v1 (issue 13): thin views over the same services as the pages.

Built with flask-smorest: one set of marshmallow schemas validates a request's arguments (webargs), shapes the
answer and writes the OpenAPI document (apispec) served at /api/v1/openapi.json; /api/v1/docs shows it (Redoc,
vendored in app/static/). Where things are:

- ``auth``: the key of ``Authorization: Bearer``, ``@auth.requires(scope)``, ``auth.current_key()``, rate limits;
- ``problems``: every error as application/problem+json, ``problems.abort(status, detail)``,
  ``@problems.documented(...)``;
- ``pagination``: cursor lists (``ListArgs`` / ``SyncArgs``, ``page_schema``, ``page``);
- one module per resource, holding its schemas and views: ``branches``, ``questionnaires``, ``responses``, ``dashboard``

CSRF does not apply (the blueprints are exempt: a request carries its key, never a cookie that a browser
would add on its own), and no session authenticates the API.
"""
from __future__ import annotations

import http

from flask import Flask, request
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from app.blueprints.api import (
    auth, branches, dashboard, docs, problems, questionnaires, responses, tickets, webhooks,
)
from app.blueprints.inputs import IdConverter
from app.core.ids import MAX_ID
from app.extensions import csrf

#: The resource modules, each with its ``bp`` (a flask_smorest.Blueprint under /api/v1).
RESOURCES = (branches, questionnaires, responses, tickets, dashboard)

DESCRIPTION = """Loopdesk's JSON API: branches, questionnaires, responses, tickets and dashboard figures for the
integrations of a chain (a CRM, a call centre, an app).

Authenticate with an API key an admin creates under Administration → API keys: `Authorization: Bearer <key>`.
Each key has scopes and a branch scope; another branch's object is answered 404.

Lists are cursor-paginated: follow `next` until it is null (`limit` 1–500, default 100); `updated_since` returns
what changed at or after a time, oldest change first. Errors are `application/problem+json` (RFC 9457).
Each key has a rate limit per window: see the `RateLimit-*` headers of every answer, and `Retry-After` on a 429.
"""


class LoopdeskApi(Api):
    """flask-smorest's Api with problem documents for errors and no catch-all "default" response."""

    DEFAULT_ERROR_RESPONSE_NAME = None
    ERROR_SCHEMA = problems.ProblemSchema

    def _register_error_handlers(self) -> None:
        """Errors are answered by app/blueprints/errors.py, which hands /api/v1 ones to problems."""

    def _register_responses(self) -> None:
        for status in problems.STATUSES:
            response = {"description": http.HTTPStatus(status).phrase, "schema": self.ERROR_SCHEMA}
            prepare_response(response, self.spec, problems.MEDIA_TYPE)
            self.spec.components.response(http.HTTPStatus(status).name, response, lazy=True)


rest_api = LoopdeskApi()


def init_app(app: Flask) -> None:
    app.config.update(
        API_TITLE="Loopdesk API",
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX=problems.PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={"info": {"description": DESCRIPTION}, "servers": [{"url": "/"}]},
    )
    rest_api.init_app(app)
    # Row ids in paths (<int:…>, app/blueprints/inputs.py): 1 to 2³¹−1, anything else a 404 before the view.
    rest_api.register_converter(IdConverter, lambda _converter: {"type": "integer", "minimum": 1, "maximum": MAX_ID})
    rest_api.spec.components.security_scheme(auth.SECURITY_SCHEME, {
        "type": "http", "scheme": "bearer",
        "description": "An API key from Administration → API keys (shown once when made or rotated).",
    })
    webhooks.document(rest_api.spec)
    resources = frozenset(module.bp.name for module in RESOURCES)

    @app.before_request
    def authenticate_api_requests() -> None:
        if request.blueprint in resources:
            auth.authenticate()

    app.after_request(auth.rate_headers)
    for module in RESOURCES:
        csrf.exempt(module.bp)
        rest_api.register_blueprint(module.bp)
    app.register_blueprint(docs.bp)
