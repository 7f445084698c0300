"""The OpenAPI document's ``webhooks`` (OpenAPI 3.1): every event Loopdesk sends, from the payload schemas it sends with.

Each event type's envelope (``app.services.webhooks.payloads.envelope_schema``) is a component schema, so the
document and the bodies come from the same marshmallow schemas. apispec has no ``webhooks`` of its own; the
section goes in through the spec's options, which ``to_dict`` merges at the top level.
"""
from __future__ import annotations

from apispec import APISpec

from app.services.webhooks import payloads
from app.services.webhooks.events import EVENT_TYPES, TEST_EVENT

HEADERS = (
    ("webhook-id", "The event's id (as `id` in the body): the same on every retry; de-duplicate by it."),
    ("webhook-timestamp", "Unix seconds of this attempt; refuse one more than 5 minutes from your clock."),
    ("webhook-signature", "`v1,<base64 HMAC-SHA256 of \"{webhook-id}.{webhook-timestamp}.{body}\">` with the key "
                          "base64-decode(secret without `whsec_`); for 24 h after a rotation two, space-separated."),
)

SUMMARIES = {
    "response.submitted": "A response was processed: its scores, quality flags and ticket",
    "ticket.created": "A ticket was opened (from a response or by staff)",
    "ticket.updated": "A ticket changed: status, assignee, priority, department, reply, note, call, customer",
    "ticket.resolved": "A ticket was resolved",
    "sla.warning": "A ticket's SLA deadline is near",
    "sla.breached": "A ticket's SLA deadline passed",
    "escalation.fired": "A rung of the escalation ladder after the breach fired",
    "alert.raised": "A branch alert opened (a drop in satisfaction, too much negative feedback, a burst)",
    TEST_EVENT: "A test event an admin sent from Administration → Webhooks",
}

DESCRIPTION = (
    "Sent as a POST with a JSON body to each enabled endpoint that chose the event and whose branch scope holds "
    "the event's branch (Administration → Webhooks). Signed as Standard Webhooks sign (see the headers). "
    "Delivery is at least once: answer 2xx within 5 s; any other answer, a redirect or a timeout is tried again "
    "after 10 s, 1 min, 5 min, 15 min and 1 h with the same id and body. No customer contact details are sent."
)


def document(spec: APISpec) -> None:
    """Register each event's envelope schema and add the ``webhooks`` section."""
    webhooks = {}
    for event_type in (*EVENT_TYPES, TEST_EVENT):
        schema = payloads.envelope_schema(event_type)
        name = schema.__name__
        spec.components.schema(name, schema=schema)
        webhooks[event_type] = {"post": {
            "summary": SUMMARIES[event_type],
            "description": DESCRIPTION,
            "operationId": f"webhook_{event_type.replace('.', '_')}",
            "parameters": [{"name": header, "in": "header", "required": True, "description": text,
                            "schema": {"type": "string"}} for header, text in HEADERS],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{name}"}}}},
            "responses": {"2XX": {"description": "Received. Anything else is tried again later."}},
        }}
    spec.options["webhooks"] = webhooks
