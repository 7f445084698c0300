"""The OpenAPI document's webhooks: every event type is documented, and every payload the app emits validates
against the JSON Schema the document serves (checked with jsonschema-rs, not with our marshmallow schemas)."""
from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

import jsonschema_rs
from sqlalchemy import select

from app.core.clock import utcnow
from app.extensions import db
from app.models import Ticket, TicketStatus, User, WebhookDelivery, WebhookEndpoint
from app.services import tickets
from app.services.sla import escalations
from app.services.webhooks import delivery as webhook_delivery, endpoints as webhook_endpoints
from app.services.webhooks.events import EVENT_TYPES, TEST_EVENT
from tests.integration.webhooks.receiver import add_endpoint
from tests.integration.webhooks.test_events import complain

# The alert tests' shop and helpers (they import their neighbours by bare name, as pytest's rootdir mode lets them).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "insight"))
from test_alerts import evaluate, rate, shop  # noqa: E402, F401  (shop is a fixture)


def documented(client) -> tuple[dict, dict]:
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    return document, document["webhooks"]


def validator(document: dict, webhook: dict):
    body = webhook["post"]["requestBody"]["content"]["application/json"]["schema"]
    return jsonschema_rs.Draft202012Validator({**body, "components": document["components"]})


def test_every_event_type_is_in_the_documents_webhooks_with_its_signature_headers(client):
    document, webhooks = documented(client)
    assert set(webhooks) == {*EVENT_TYPES, TEST_EVENT}
    for webhook in webhooks.values():
        headers = {p["name"] for p in webhook["post"]["parameters"] if p["in"] == "header"}
        assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}


def test_every_emitted_payload_validates_against_the_documented_schema(app, client, demo, shop):
    with app.app_context():
        add_endpoint("http://127.0.0.1:9/hooks")
        db.session.commit()
    complain(app.test_client(), demo["tokens"]["SH-PEOPLE"])
    with app.app_context():
        rate(shop["a"], 5, 40, recent=False)  # a CSAT drop at a shop of its own: alert.raised
        rate(shop["a"], 3, 25, recent=True)
        evaluate()
        ticket = db.session.scalar(select(Ticket).order_by(Ticket.id.desc()))
        staff = db.session.scalar(select(User).where(User.username == "staff"))
        for hours in (1, 3, 8, 30, 80, 200):
            escalations.sweep(utcnow() + timedelta(hours=hours))
        tickets.claim(ticket, staff, tickets.page_version(ticket))
        tickets.change_status(ticket, staff, TicketStatus.RESOLVED, tickets.page_version(ticket))
        webhook_endpoints.send_test(db.session.scalar(select(WebhookEndpoint)), "测试")
        db.session.commit()
        bodies = [(d.event, json.loads(webhook_delivery.body(d))) for d in db.session.scalars(select(WebhookDelivery))]

    document, webhooks = documented(client)
    emitted = {event for event, _body in bodies}
    assert emitted >= {"response.submitted", "ticket.created", "ticket.updated", "ticket.resolved", "sla.warning",
                       "sla.breached", "alert.raised", TEST_EVENT}, emitted
    validators = {event: validator(document, webhooks[event]) for event in emitted}
    for event, body in bodies:
        errors = [error.message for error in validators[event].iter_errors(body)]
        assert errors == [], (event, errors, body)
    # and the document is strict enough to notice a payload that is not as documented
    event, body = bodies[0]
    assert not validators[event].is_valid({**body, "data": {**body["data"], "contact_phone": "13800138000"}})
    assert not validators[event].is_valid({**body, "version": 2})
