"""The payloads of webhook events, as marshmallow schemas: they build each event's ``data`` and document it.

Every body is the envelope ``{"id", "type", "version", "created_at", "data"}``; ``data`` has one schema per
event type (``DATA_SCHEMAS``). The same schemas make the OpenAPI document's ``webhooks`` section, so
what is sent and what is documented cannot drift (a test validates every emitted payload against them).

Version 1. A new optional field keeps the version; removing or changing a field makes version 2.
No customer contact details (name, phone, e-mail) and no free text a customer typed leave in a payload:
a receiver that needs them follows the ticket's ``url`` with a person's rights, or the API.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.models import Channel, Response, Ticket
from app.services.notifications import ticket_url

VERSION = 1


class TicketData(Schema):
    """A ticket without its customer's contact details."""

    id = fields.Integer(required=True)
    reference_code = fields.String(required=True, metadata={"description": "The code the customer was given"})
    url = fields.String(allow_none=True, required=True, metadata={"description": "The ticket page (sign-in needed)"})
    source = fields.String(required=True, metadata={"description": "survey, phone or walk_in"})
    branch = fields.String(required=True, metadata={"description": "The branch's code"})
    department = fields.String(required=True, metadata={"description": "The department's code"})
    category = fields.String(allow_none=True, required=True)
    priority = fields.String(required=True, validate=validate.OneOf(["low", "normal", "high", "urgent"]))
    status = fields.String(required=True)
    sla_state = fields.String(required=True)
    assigned = fields.Boolean(required=True, metadata={"description": "Whether someone is working on it"})
    response_id = fields.Integer(allow_none=True, required=True)
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)
    first_response_due_at = fields.AwareDateTime(allow_none=True, required=True)
    resolution_due_at = fields.AwareDateTime(allow_none=True, required=True)
    resolved_at = fields.AwareDateTime(allow_none=True, required=True)


class TicketEventData(Schema):
    ticket = fields.Nested(TicketData, required=True)


class TicketUpdatedData(Schema):
    ticket = fields.Nested(TicketData, required=True)
    changes = fields.List(fields.String(), required=True, metadata={
        "description": "What changed, as ticket event kinds: status, reopened, assignee, priority, department, "
                       "reply, note, call, rating, customer_reply…"
    })


class EscalationData(Schema):
    level = fields.Integer(required=True)
    clock = fields.String(required=True, validate=validate.OneOf(["first_response", "resolution"]))
    trigger = fields.String(required=True, validate=validate.OneOf(["warning", "due"]))
    action = fields.String(required=True, validate=validate.OneOf(["notify", "raise_priority", "move_queue"]))
    receivers = fields.List(fields.Integer(), required=True, metadata={"description": "Ids of the users notified"})


class SlaEventData(Schema):
    ticket = fields.Nested(TicketData, required=True)
    escalation = fields.Nested(EscalationData, required=True)


class ResponseData(Schema):
    """A submitted response after its processing: scores, flags, ticket. No contact details, no typed text."""

    id = fields.Integer(required=True)
    reference_code = fields.String(allow_none=True, required=True)
    branch = fields.String(required=True)
    qr_code = fields.String(allow_none=True, required=True, metadata={"description": "The QR code's label"})
    channel = fields.String(required=True, validate=validate.OneOf([c.value for c in Channel]),
                            metadata={"description": "How it came in: qr, kiosk, link, api (an integration), staff"})
    questionnaire = fields.String(required=True, metadata={"description": "The questionnaire's code"})
    version = fields.Integer(required=True)
    language = fields.String(required=True)
    submitted_at = fields.AwareDateTime(required=True)
    duration_seconds = fields.Integer(allow_none=True, required=True)
    ratings = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                          metadata={"description": "Each rating, NPS or scale answer by question key"})
    choices = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True,
                          metadata={"description": "Each choice answer's option values by question key"})
    quality_flags = fields.List(fields.String(), required=True)
    contact_left = fields.Boolean(required=True, metadata={"description": "Whether the customer left contact details"})
    ticket_reference_code = fields.String(allow_none=True, required=True)


class ResponseEventData(Schema):
    response = fields.Nested(ResponseData, required=True)


class AlertData(Schema):
    episode_id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["csat_drop", "index_drop", "negative_rate",
                                                                "negative_burst"]))
    branch = fields.String(required=True)
    branch_name = fields.String(required=True)
    opened_at = fields.AwareDateTime(required=True)
    url = fields.String(allow_none=True, required=True)
    figures = fields.Dict(required=True, metadata={"description": "The figures that raised it"})
    receivers = fields.List(fields.Integer(), required=True)


class AlertEventData(Schema):
    alert = fields.Nested(AlertData, required=True)


class TestEventData(Schema):
    endpoint = fields.Integer(required=True, metadata={"description": "The endpoint's id"})
    message = fields.String(required=True)


#: Each event type's ``data``.
DATA_SCHEMAS: dict[str, type[Schema]] = {
    "response.submitted": ResponseEventData,
    "ticket.created": TicketEventData,
    "ticket.updated": TicketUpdatedData,
    "ticket.resolved": TicketEventData,
    "sla.warning": SlaEventData,
    "sla.breached": SlaEventData,
    "escalation.fired": SlaEventData,
    "alert.raised": AlertEventData,
    "webhook.test": TestEventData,
}


class Envelope(Schema):
    """The body of every delivery."""

    id = fields.String(required=True, metadata={"description": "The event's id: the same on every retry; "
                                                               "de-duplicate by it"})
    type = fields.String(required=True, validate=validate.OneOf(list(DATA_SCHEMAS)))
    version = fields.Integer(required=True, validate=validate.Equal(VERSION))
    created_at = fields.AwareDateTime(required=True)
    data = fields.Dict(required=True)


def envelope_schema(event_type: str) -> type[Schema]:
    """The envelope whose ``data`` is this event type's (for the documentation and the tests)."""
    return Schema.from_dict(
        {**Envelope._declared_fields, "data": fields.Nested(DATA_SCHEMAS[event_type], required=True)},
        name=_schema_name(event_type),
    )


def _schema_name(event_type: str) -> str:
    return "".join(part.capitalize() for part in event_type.replace("_", ".").split(".")) + "Event"


def data(event_type: str, values: dict) -> dict:
    """``values`` dumped through the event type's schema (the JSON-safe ``data`` stored and sent)."""
    return DATA_SCHEMAS[event_type]().dump(values)


def ticket(ticket: Ticket) -> dict:
    """The values of ``TicketData`` for a ticket."""
    return {
        "id": ticket.id,
        "reference_code": ticket.reference_code,
        "url": ticket_url(ticket.id),
        "source": str(ticket.source),
        "branch": ticket.branch.code,
        "department": ticket.department.code,
        "category": str(ticket.category) if ticket.category else None,
        "priority": str(ticket.priority),
        "status": str(ticket.status),
        "sla_state": ticket.sla_state,
        "assigned": ticket.assignee_id is not None,
        "response_id": ticket.response_id,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "first_response_due_at": ticket.first_response_due_at,
        "resolution_due_at": ticket.resolution_due_at,
        "resolved_at": ticket.resolved_at,
    }


def response(response: Response, ticket_reference_code: str | None) -> dict:
    """The values of ``ResponseData`` for a processed response (answers loaded with their questions)."""
    ratings: dict[str, int] = {}
    choices: dict[str, list[str]] = {}
    for answer in response.answers:
        if answer.value_int is not None:
            ratings[answer.question.key] = answer.value_int
        if answer.value_choices:
            choices[answer.question.key] = [str(choice) for choice in answer.value_choices]
    version = response.version
    return {
        "id": response.id,
        "reference_code": response.reference_code,
        "branch": response.branch.code,
        "qr_code": response.qr_code.label if response.qr_code is not None else None,
        "channel": str(response.channel),
        "questionnaire": version.questionnaire.code,
        "version": version.number,
        "language": response.language,
        "submitted_at": response.submitted_at,
        "duration_seconds": response.duration_seconds,
        "ratings": ratings,
        "choices": choices,
        "quality_flags": list(response.quality_flags or []),
        "contact_left": bool(response.contact_consent and (response.contact_phone or response.contact_email)),
        "ticket_reference_code": ticket_reference_code,
    }
