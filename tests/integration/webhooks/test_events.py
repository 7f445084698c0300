"""Webhook events: emitted where the change happens, in its transaction, to the endpoints whose events and branch
scope take them; every payload verifies with the documented algorithm and validates against its documented schema."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.clock import utcnow
from app.extensions import db
from app.models import Branch, Ticket, TicketStatus, User, WebhookDelivery
from app.services import tickets
from app.services.sla import escalations
from app.services.webhooks import delivery as webhook_delivery, payloads
from tests.conftest import SurveyWalker
from tests.integration.webhooks.receiver import add_endpoint, receiving

COMPLAINT = [("product", 4), ("service", 1), ("service_problem", ["waiting"]), ("environment", 3), ("nps", 2)]
PHONE = "13800138000"
COMMENT = "排队等了很久，服务员态度很差"


@pytest.fixture(autouse=True)
def _loopback_receivers_allowed(app):
    app.config["LOOPDESK_OUTGOING_ALLOWED_HOSTS"] = ["127.0.0.1"]


def complain(client, token: str) -> str:
    walker = SurveyWalker(client, token)
    walker.open()
    for key, value in COMPLAINT:
        walker.answer(**{key: value})
    walker.answer(comment=COMMENT, q_contact_phone=PHONE, q_contact_consent="y")
    return re.search(r"LD-[0-9A-Z]+", walker.page).group(0)


def assert_documented(event: dict) -> None:
    """The envelope and its data as the OpenAPI document's webhooks describe them."""
    assert payloads.envelope_schema(event["type"])().validate(event) == {}, event


def test_a_complaint_sends_response_submitted_and_ticket_created_without_contact_details(app, demo):
    with receiving(200) as receiver:
        with app.app_context():
            add_endpoint(receiver.url)
            db.session.commit()
        code = complain(app.test_client(), demo["tokens"]["SH-PEOPLE"])

        events = receiver.events()  # each one verified as the README's receiver does
        assert sorted(event["type"] for event in events) == ["response.submitted", "ticket.created"]
        for event in events:
            assert_documented(event)
        by_type = {event["type"]: event["data"] for event in events}
        response, ticket = by_type["response.submitted"]["response"], by_type["ticket.created"]["ticket"]
        assert response["ticket_reference_code"] == ticket["reference_code"] == code
        assert response["branch"] == ticket["branch"] == "SH-PEOPLE"
        assert response["ratings"]["service"] == 1 and response["contact_left"] is True
        assert ticket["url"].endswith(f"/staff/tickets/{ticket['id']}")
        for _headers, body in receiver.requests:
            text = body.decode()
            assert PHONE not in text and COMMENT not in text
            assert not any(name in text for name in ("contact_phone", "contact_email", "contact_name"))
        assert len({event["id"] for event in events}) == 2


def test_an_endpoint_scoped_to_a_branch_never_receives_another_branchs_events(app, demo):
    with receiving(200) as scoped, receiving(200) as everything:
        with app.app_context():
            hangzhou = db.session.scalar(select(Branch).where(Branch.code == "HZ-WESTLAKE"))
            add_endpoint(scoped.url, branches=[hangzhou])
            add_endpoint(everything.url)
            db.session.commit()
        complain(app.test_client(), demo["tokens"]["SH-PEOPLE"])
        assert len(everything.requests) == 2 and scoped.requests == []

        with app.app_context():  # its escalations too (a month later: written, not yet due to be sent)
            escalations.sweep(utcnow() + timedelta(days=30))
            sla_events = db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.event.like("sla.%"))).all()
            to_scoped = {d.payload["ticket"]["branch"] for d in sla_events if d.endpoint.url == scoped.url}
            to_everything = {d.payload["ticket"]["branch"] for d in sla_events if d.endpoint.url == everything.url}
            assert to_scoped == {"HZ-WESTLAKE"} and "SH-PEOPLE" in to_everything  # the demo's tickets

        complain(app.test_client(), demo["tokens"]["HZ-WESTLAKE"])
        assert {event["data"]["response" if event["type"] == "response.submitted" else "ticket"]["branch"]
                for event in scoped.events()} == {"HZ-WESTLAKE"}
        assert len(scoped.requests) == 2


def test_working_a_ticket_sends_ticket_updated_and_resolved_in_the_transaction(app, demo):
    complain(app.test_client(), demo["tokens"]["SH-PEOPLE"])
    with app.app_context():
        endpoint = add_endpoint("http://127.0.0.1:9/hooks", events=["ticket.updated", "ticket.resolved"])
        db.session.commit()
        ticket = db.session.scalar(select(Ticket).order_by(Ticket.id.desc()))
        staff = db.session.scalar(select(User).where(User.username == "staff"))
        tickets.claim(ticket, staff, tickets.page_version(ticket))
        db.session.rollback()  # not committed: no event either
        assert db.session.scalars(select(WebhookDelivery)).all() == []

        tickets.claim(ticket, staff, tickets.page_version(ticket))
        db.session.commit()
        tickets.change_status(ticket, staff, TicketStatus.RESOLVED, tickets.page_version(ticket))
        db.session.commit()
        deliveries = db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        assert [(d.endpoint_id, d.event) for d in deliveries] == [
            (endpoint.id, "ticket.updated"), (endpoint.id, "ticket.updated"), (endpoint.id, "ticket.resolved")
        ]
        assert deliveries[0].payload["changes"] == ["assignee", "status"]
        assert deliveries[0].payload["ticket"]["assigned"] is True
        assert deliveries[1].payload["changes"] == ["status"]
        assert deliveries[2].payload["ticket"]["status"] == "resolved"
        for delivery in deliveries:
            assert_documented(json.loads(webhook_delivery.body(delivery)))
