"""/api/v1/responses: submitted responses in the key's branch scope (scope responses:read)."""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint

from app.blueprints.api import auth, pagination, problems
from app.core.ids import MAX_ID
from app.extensions import db
from app.models import Response
from app.services.integrations import responses as api_responses

bp = Blueprint("api_responses", __name__, url_prefix="/api/v1/responses", description="Responses (read)")

_ID = ma.validate.Range(min=1, max=MAX_ID)


class ResponseListArgs(pagination.SyncArgs):
    branch_id = ma.fields.Integer(validate=_ID)
    questionnaire_id = ma.fields.Integer(validate=_ID)
    version_id = ma.fields.Integer(validate=_ID)
    date_from = ma.fields.Date(metadata={"description": "submitted on or after this day (head office's time zone)"})
    date_to = ma.fields.Date(metadata={"description": "submitted on or before this day (head office's time zone)"})
    status = ma.fields.String(validate=ma.validate.OneOf(api_responses.STATUSES),
                              metadata={"description": "pending: flags and ticket not decided yet"})
    quality = ma.fields.String(validate=ma.validate.OneOf(api_responses.QUALITIES))

    @ma.validates_schema
    def _dates_in_order(self, data, **_kwargs):
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ma.ValidationError("date_from is after date_to.", "date_from")


class AnswerSchema(ma.Schema):
    question_id = ma.fields.Integer(required=True)
    question_key = ma.fields.String(attribute="question.key", required=True)
    type = ma.fields.String(attribute="question.type", required=True)
    value = ma.fields.Raw(required=True, allow_none=True, metadata={
        "description": "a rating (integer), the chosen option values (array of strings) or a text",
        "type": ["integer", "string", "array", "null"], "items": {"type": "string"},
    })


class ScoresSchema(ma.Schema):
    csat = ma.fields.Float(required=True, allow_none=True, metadata={"description": "mean CSAT rating, 1–5"})
    nps = ma.fields.Integer(required=True, allow_none=True, metadata={"description": "0–10"})
    index = ma.fields.Float(required=True, allow_none=True, metadata={"description": "weighted index, 1–5"})


class TicketReferenceSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    reference_code = ma.fields.String(required=True)
    status = ma.fields.String(required=True)


class ResponseSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    branch_id = ma.fields.Integer(required=True)
    branch_code = ma.fields.String(attribute="branch.code", required=True)
    questionnaire_id = ma.fields.Integer(attribute="version.questionnaire_id", required=True)
    questionnaire_code = ma.fields.String(attribute="version.questionnaire.code", required=True)
    version_id = ma.fields.Integer(required=True)
    version_number = ma.fields.Integer(attribute="version.number", required=True)
    qr_code_id = ma.fields.Integer(required=True, allow_none=True)
    language = ma.fields.String(required=True)
    reference_code = ma.fields.String(required=True, allow_none=True,
                                      metadata={"description": "what the customer follows their feedback with"})
    started_at = ma.fields.AwareDateTime(required=True)
    submitted_at = ma.fields.AwareDateTime(required=True)
    duration_seconds = ma.fields.Integer(required=True, allow_none=True)
    updated_at = ma.fields.AwareDateTime(required=True, metadata={"description": "moves with every change"})
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(api_responses.STATUSES))
    quality_flags = ma.fields.List(ma.fields.String(), required=True)
    quality_review = ma.fields.String(required=True, allow_none=True,
                                      validate=ma.validate.OneOf(("confirmed", "cleared")))
    counts_in_scores = ma.fields.Boolean(required=True)
    scores = ma.fields.Nested(ScoresSchema, required=True)
    answers = ma.fields.List(ma.fields.Nested(AnswerSchema), required=True)
    ticket = ma.fields.Nested(TicketReferenceSchema, required=True, allow_none=True,
                              metadata={"description": "the ticket it opened, null when none"})

    @ma.pre_dump
    def _with_scores(self, response: Response, **_kwargs):
        return _Dumped(response)


class _Dumped:
    """A response as the schema reads it: its own attributes, its status and its scores."""

    def __init__(self, response: Response) -> None:
        self._response = response
        self.scores = api_responses.scores_of(response)
        self.status = "processed" if response.processed_at is not None else "pending"

    def __getattr__(self, name: str):
        return getattr(self._response, name)


def _wanted(args: dict) -> api_responses.ResponseQuery:
    return api_responses.ResponseQuery(**{
        name: args.get(name) for name in
        ("branch_id", "questionnaire_id", "version_id", "date_from", "date_to", "status", "quality")
    })


@bp.route("")
@auth.requires("responses:read")
@bp.arguments(ResponseListArgs, location="query")
@bp.response(200, pagination.page_schema(ResponseSchema))
@problems.documented(400)
def list_responses(args):
    """Submitted responses in the key's branch scope, oldest change first (updated_at, id).

    A filter on a branch outside the scope finds nothing (never an error that tells it exists).
    """
    query = api_responses.filtered(auth.current_key(), _wanted(args))
    return pagination.page(query, (Response.updated_at, Response.id), args)


@bp.route("/<int:response_id>")
@auth.requires("responses:read")
@bp.response(200, ResponseSchema)
@problems.documented(404)
def get_response(response_id: int):
    """One response (404 when it is outside the key's branch scope, as when it does not exist)."""
    response = db.session.scalar(api_responses.in_scope(auth.current_key()).where(Response.id == response_id))
    if response is None:
        problems.abort(404, "No response with this id in this key's scope.")
    return response
