"""/api/v1/responses: submitted responses in the key's branch scope (scope responses:read); an integration posts
a complete one (scope responses:write, header Idempotency-Key) through the phone survey's pipeline."""
from __future__ import annotations

import uuid

import marshmallow as ma
from flask import Response as FlaskResponse, json, request
from flask_babel import force_locale
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError

from app.blueprints.api import auth, pagination, problems
from app.core.ids import MAX_ID
from app.extensions import db
from app.forms.survey import whole_response_form
from app.jobs import enqueue
from app.jobs.responses import response_submitted
from app.models import Channel, QuestionType, Response
from app.services.integrations import idempotency, posted_responses, responses as api_responses
from app.services.survey.submitting import AlreadySubmitted

bp = Blueprint("api_responses", __name__, url_prefix="/api/v1/responses", description="Responses")

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
    channel = ma.fields.String(required=True, validate=ma.validate.OneOf([c.value for c in Channel]), metadata={
        "description": "how it reached us: qr (a poster's code scanned), kiosk, link (the survey link), api, staff",
    })
    integration = ma.fields.String(required=True, allow_none=True,
                                   metadata={"description": "channel api: the name of the API key that posted it"})
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
        self.integration = response.api_key.name if response.api_key is not None else None

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


# --- Posting a complete response ---------------------------------------------------------------------------


class ContactInSchema(ma.Schema):
    consent = ma.fields.Boolean(required=True, metadata={
        "description": "the customer agreed to be contacted; without it nothing of the contact is stored"})
    name = ma.fields.String(validate=ma.validate.Length(max=80))
    phone = ma.fields.String(validate=ma.validate.Length(max=32))
    email = ma.fields.String(validate=ma.validate.Length(max=255))


class ResponseInSchema(ma.Schema):
    branch_id = ma.fields.Integer(required=True, validate=_ID)
    version_id = ma.fields.Integer(required=True, validate=_ID, metadata={
        "description": "a published questionnaire version (GET /api/v1/questionnaires)"})
    language = ma.fields.String(required=True, validate=ma.validate.Length(max=8),
                                metadata={"description": "one of the version's languages: zh_Hans, en, zh_Hant"})
    started_at = ma.fields.AwareDateTime(required=True, format="iso", default_timezone=None, metadata={
        "description": "when the customer began (RFC 3339 with its offset): the quality rules judge its pace"})
    device_id = ma.fields.String(validate=ma.validate.Length(min=1, max=36), metadata={
        "description": "your anonymous id of the customer's device or account: repeats from one are flagged"})
    answers = ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.Length(max=40)), values=ma.fields.Raw(
        allow_none=True, metadata={"type": ["integer", "string", "array", "null"], "items": {"type": "string"}},
    ), required=True, metadata={
        "description": "by question key: a rating as an integer, a single choice as its option value, a multiple "
                       "choice as a list of option values, an open answer as a string. Answers to questions the "
                       "other answers hide (skip logic) are dropped, as on the phone"})
    contact = ma.fields.Nested(ContactInSchema, metadata={"description": "for the version's contact question"})


class IdempotencyHeaderSchema(ma.Schema):
    idempotency_key = ma.fields.String(
        data_key="Idempotency-Key", validate=ma.validate.Length(min=1, max=idempotency.MAX_KEY_LENGTH),
        metadata={"description": "required: a unique value per response (a UUID). The same key again with the "
                                 "same body answers what the first request got, storing nothing more; with "
                                 "another body it is 422. Without it: 400"})


@bp.route("", methods=["POST"])
@auth.requires("responses:write")
@bp.arguments(IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@bp.arguments(ResponseInSchema, location="json")
@bp.response(201, ResponseSchema)
@problems.documented(400, 409, 415)
def post_response(body, idempotency_key=None):
    """A complete response for a published version, through the phone survey's checks, skip logic, quality flags,
    routing and ticket (channel api, this key its integration). It is stored at once (status pending); its flags
    and ticket follow within seconds (GET it again). A retry with the same Idempotency-Key and body answers the
    first answer again (201, header Idempotent-Replayed: true)."""
    if not idempotency_key:
        problems.abort(400, "Send an Idempotency-Key header: a unique value (a UUID) per response.")
    key = auth.current_key()
    print_ = idempotency.fingerprint("POST /api/v1/responses", request.get_json())
    replayed = _replayed(key, idempotency_key, print_)
    if replayed is not None:
        return replayed
    try:
        plan = posted_responses.plan_to_post(key, body["branch_id"], body["version_id"], body["language"])
    except posted_responses.Refused as refused:
        _refuse([{"in": "json", "field": refused.field, "detail": refused.detail}])
    posted = _checked(plan, body, posted_responses.response_key(key, idempotency_key))
    try:
        response = posted_responses.post(key, plan, idempotency_key, posted)
        shown = ResponseSchema().dump(response)
        idempotency.remember(key, idempotency_key, print_, 201, shown)
        db.session.commit()
    except (AlreadySubmitted, IntegrityError):
        db.session.rollback()  # the same key at the same moment: the first one's answer, once it is kept
        replayed = _replayed(key, idempotency_key, print_)
        if replayed is None:
            problems.abort(409, "A request with this Idempotency-Key is still being answered: try again shortly.")
        return replayed
    enqueue(response_submitted, response.id, None)
    return _answer(shown, 201)


def _replayed(key, idempotency_key: str, print_: str):
    try:
        kept = idempotency.replay(key, idempotency_key, print_)
    except idempotency.KeyReused:
        problems.abort(422, "This Idempotency-Key was sent before with another body: use a new key for a new "
                            "response.", errors=[{"in": "headers", "field": "Idempotency-Key",
                                                  "detail": "sent before with another body"}])
    if kept is None:
        return None
    return _answer(kept.body, kept.status_code, {"Idempotent-Replayed": "true"})


def _answer(body: dict, status: int, headers: dict | None = None) -> FlaskResponse:
    """The body as it was kept, byte for byte the same on a replay (not dumped again)."""
    return FlaskResponse(json.dumps(body), status=status, headers=headers, mimetype="application/json")


def _checked(plan, body: dict, response_key: str) -> posted_responses.Posted:
    """The answers through the survey's own step form over the questions they show; 422 with each field refused."""
    answers = body["answers"]
    errors = [{"in": "json", "field": f"answers.{k}", "detail": "No question with this key in this version."}
              for k in answers if k not in plan.by_key]
    contact_question = plan.contact_question
    if contact_question is not None and contact_question.key in answers:
        errors.append({"in": "json", "field": f"answers.{contact_question.key}",
                       "detail": "Give contact details in contact, not among the answers."})
    if errors:
        _refuse(errors)
    as_stored = {k: [v] if plan.by_key[k].type == QuestionType.SINGLE and isinstance(v, str) else v
                 for k, v in answers.items()}
    shown = [plan.by_key[k] for k in plan.visible_keys(as_stored)]
    with force_locale("en"):
        form = whole_response_form(shown, answers, body.get("contact"), response_key)
        if not form.validate():
            _refuse([
                {"in": "json", "field": _answer_field(plan, name), "detail": str(message)}
                for name, messages in form.errors.items() for message in messages
            ])
    return posted_responses.Posted(
        branch_id=body["branch_id"], language=body["language"], started_at=body["started_at"],
        device_id=body.get("device_id") or str(uuid.uuid4()), values=form.answer_values(),
        contact=form.contact_details(),
    )


def _answer_field(plan, form_field: str) -> str:
    """A step form's field name (q_<key>, q_<key>_<part>) as the body's (answers.<key>, contact.<part>)."""
    name = form_field.removeprefix("q_")
    contact = plan.contact_question
    if contact is not None and name.startswith(contact.key + "_"):
        return "contact." + name.removeprefix(contact.key + "_")
    return f"answers.{name}"


def _refuse(errors: list[dict]):
    problems.abort(422, "The request's fields are not valid: see errors.", errors=errors)
