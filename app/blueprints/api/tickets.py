"""/api/v1/tickets: tickets in the key's branch scope (scope tickets:read); status, assignee, replies to the
customer and internal notes (scope tickets:write) through the ticket services the pages use.

Conflicts follow the ticket page's rule: every ticket answer carries ``ETag: "<version>"`` (the newest event's
id); a write must send it back in ``If-Match`` (428 without it) and is refused with 412, naming what changed,
when the ticket changed since (the SLA's own notes do not count, as on the page).
"""
from __future__ import annotations

import re

import marshmallow as ma
from flask import request
from flask_babel import force_locale
from flask_smorest import Blueprint

from app import labels
from app.blueprints.api import auth, pagination, problems
from app.blueprints.outbox import hand_over_customer_messages
from app.core.clock import utcnow
from app.core.ids import MAX_ID
from app.extensions import db
from app.models import Category, Priority, Ticket, TicketSource, TicketStatus
from app.services.integrations import tickets as api_tickets
from app.services.sla import clocks
from app.services.tickets.errors import ForbiddenTransition, MAX_BODY, OutOfScope, StaleTicket, TicketError

bp = Blueprint("api_tickets", __name__, url_prefix="/api/v1/tickets", description="Tickets")

_ID = ma.validate.Range(min=1, max=MAX_ID)
_STATUSES = [s.value for s in TicketStatus]


class TicketListArgs(pagination.SyncArgs):
    branch_id = ma.fields.Integer(validate=_ID)
    status = ma.fields.String(validate=ma.validate.OneOf(_STATUSES))
    department_id = ma.fields.Integer(validate=_ID)


class PersonSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class DeadlineSchema(ma.Schema):
    state = ma.fields.String(required=True, metadata={"description": "on_track, warning, breached, met, paused"})
    due_at = ma.fields.AwareDateTime(required=True, allow_none=True, metadata={"description": "null while paused"})
    warning_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    stopped_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    target_minutes = ma.fields.Integer(required=True)
    elapsed_minutes = ma.fields.Integer(required=True, metadata={"description": "business time counted so far"})


class SlaSchema(ma.Schema):
    state = ma.fields.String(required=True, metadata={"description": "the ticket's: on_track, warning, breached"})
    next_deadline_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    business_hours = ma.fields.Boolean(required=True, metadata={"description": "counts the branch's hours only"})
    first_response = ma.fields.Nested(DeadlineSchema, required=True)
    resolution = ma.fields.Nested(DeadlineSchema, required=True)


class EventSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    at = ma.fields.AwareDateTime(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "created, status, reopened, assignee, priority, "
                                                                    "department, reply, note, call, sla, escalation…"})
    label = ma.fields.String(required=True, metadata={"description": "the line as the ticket page words it (English)"})
    actor_type = ma.fields.String(required=True, validate=ma.validate.OneOf(("user", "integration", "customer", "system")))
    actor_name = ma.fields.String(required=True, allow_none=True)
    old_value = ma.fields.String(required=True, allow_none=True)
    new_value = ma.fields.String(required=True, allow_none=True)
    body = ma.fields.String(required=True, allow_none=True)
    visible_to_customer = ma.fields.Boolean(required=True)


class TicketSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    reference_code = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True, metadata={"description": "what the ETag carries: send it in If-Match"})
    source = ma.fields.String(required=True, validate=ma.validate.OneOf([s.value for s in TicketSource]))
    response_id = ma.fields.Integer(required=True, allow_none=True)
    branch_id = ma.fields.Integer(required=True)
    branch_code = ma.fields.String(attribute="branch.code", required=True)
    department_id = ma.fields.Integer(required=True)
    department = ma.fields.String(attribute="department.name", required=True)
    category = ma.fields.String(required=True, allow_none=True, validate=ma.validate.OneOf([c.value for c in Category]))
    priority = ma.fields.String(required=True, validate=ma.validate.OneOf([p.value for p in Priority]))
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(_STATUSES))
    assignee = ma.fields.Nested(PersonSchema, required=True, allow_none=True)
    subject = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    language = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)
    first_response_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    resolved_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    closed_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    first_response_due_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    resolution_due_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    sla_state = ma.fields.String(required=True)
    customer_rating = ma.fields.Integer(required=True, allow_none=True)


class TicketDetailSchema(TicketSchema):
    sla = ma.fields.Nested(SlaSchema, required=True)
    events = ma.fields.List(ma.fields.Nested(EventSchema), required=True)


class TicketChangeSchema(ma.Schema):
    status = ma.fields.String(validate=ma.validate.OneOf(_STATUSES), metadata={
        "description": "new → in_progress ⇄ waiting_on_customer → resolved → closed; in_progress reopens"})
    assignee_id = ma.fields.Integer(allow_none=True, validate=_ID, metadata={
        "description": "a user who works on the ticket's department and branch; null: nobody"})

    @ma.validates_schema
    def _something(self, data, **_kwargs):
        if not data:
            raise ma.ValidationError("Give status, assignee_id or both.", "_schema")


class MessageSchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(("reply", "note")), metadata={
        "description": "reply: to the customer (their status page, and e-mail / SMS where they left one); "
                       "note: internal, never shown to the customer"})
    body = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=MAX_BODY))


class IfMatchSchema(ma.Schema):
    if_match = ma.fields.String(data_key="If-Match", validate=ma.validate.Length(max=100), metadata={
        "description": 'required: the ETag of the ticket as you last read it ("<version>"). Without it: 428; '
                       "the ticket changed since: 412"})


@bp.route("")
@auth.requires("tickets:read")
@bp.arguments(TicketListArgs, location="query")
@bp.response(200, pagination.page_schema(TicketSchema))
@problems.documented(400)
def list_tickets(args):
    """Tickets in the key's branch scope, oldest change first (updated_at, id): SLA state and due times as stored
    (GET one for its live clocks and events)."""
    wanted = api_tickets.TicketQuery(**{n: args.get(n) for n in ("branch_id", "status", "department_id")})
    page = pagination.page(api_tickets.filtered(auth.current_key(), wanted), (Ticket.updated_at, Ticket.id), args)
    page["items"] = [_Shown(ticket) for ticket in page["items"]]
    return page


@bp.route("/<int:ticket_id>")
@auth.requires("tickets:read")
@bp.response(200, TicketDetailSchema, headers={"ETag": {"schema": {"type": "string"}}})
@problems.documented(404)
def get_ticket(ticket_id: int):
    """One ticket with its events and its SLA clocks as the ticket page shows them (404 outside the key's scope)."""
    return _answer(_ticket_or_404(ticket_id))


@bp.route("/<int:ticket_id>", methods=["PATCH"])
@auth.requires("tickets:write")
@bp.arguments(IfMatchSchema, location="headers", as_kwargs=True)
@bp.arguments(TicketChangeSchema, location="json")
@bp.response(200, TicketDetailSchema, headers={"ETag": {"schema": {"type": "string"}}})
@problems.documented(404, 409, 412, 415, 428)
def change_ticket(change, ticket_id: int, if_match=None):
    """Change the status and/or the assignee, as the ticket page's buttons do (the same transitions; 409 for one
    the ticket's status does not allow). In the ticket's history and the audit log as this key."""
    ticket = _ticket_or_404(ticket_id)
    seen = _seen_version(if_match)
    return _work(ticket_id, lambda: api_tickets.change(
        auth.current_key(), ticket, seen, status=change.get("status"), assignee_id=change.get("assignee_id"),
        unassign="assignee_id" in change and change["assignee_id"] is None,
    ))


@bp.route("/<int:ticket_id>/messages", methods=["POST"])
@auth.requires("tickets:write")
@bp.arguments(IfMatchSchema, location="headers", as_kwargs=True)
@bp.arguments(MessageSchema, location="json")
@bp.response(201, TicketDetailSchema, headers={"ETag": {"schema": {"type": "string"}}})
@problems.documented(404, 412, 415, 428)
def post_message(message, ticket_id: int, if_match=None):
    """A reply to the customer or an internal note, as on the ticket page (a first reply is the first response)."""
    ticket = _ticket_or_404(ticket_id)
    seen = _seen_version(if_match)
    return _work(ticket_id, lambda: api_tickets.write(auth.current_key(), ticket, seen, message["kind"],
                                                      message["body"]), status=201)


def _ticket_or_404(ticket_id: int, with_events: bool = True) -> Ticket:
    ticket = db.session.scalar(api_tickets.in_scope(auth.current_key(), with_events).where(Ticket.id == ticket_id))
    if ticket is None:
        problems.abort(404, "No ticket with this id in this key's scope.")
    return ticket


_ETAG = re.compile(r'^\s*(?:W/)?"(\d{1,10})"\s*$')


def _seen_version(if_match: str | None) -> int:
    if not if_match:
        problems.abort(428, 'Send If-Match with the ticket\'s ETag ("<version>") as you last read it.')
    found = _ETAG.match(if_match)
    if found is None:
        problems.abort(412, 'If-Match is not an ETag of this ticket ("<version>").')
    return int(found.group(1))


def _work(ticket_id: int, write, status: int = 200):
    with force_locale("en"):
        try:
            write()
            db.session.commit()
        except StaleTicket as stale:
            db.session.rollback()
            problems.abort(412, str(stale))
        except ForbiddenTransition as refused:
            db.session.rollback()
            problems.abort(409, str(refused))
        except OutOfScope as refused:
            db.session.rollback()
            problems.abort(422, str(refused), errors=[{"in": "json", "field": "assignee_id", "detail": str(refused)}])
        except TicketError as refused:
            db.session.rollback()
            problems.abort(422, str(refused), errors=[{"in": "json", "field": "_schema", "detail": str(refused)}])
    hand_over_customer_messages()
    db.session.expire_all()
    return _answer(_ticket_or_404(ticket_id), status)


def _answer(ticket: Ticket, status: int = 200):
    shown = _Shown(ticket, detail=True)
    return shown, status, {"ETag": f'"{shown.version}"'}


class _Shown:
    """A ticket as the schemas read it: its columns, its subject worded, its version and (detail) clocks and events."""

    def __init__(self, ticket: Ticket, detail: bool = False) -> None:
        self._ticket = ticket
        self.version = api_tickets.version(ticket)
        self.assignee = ({"id": ticket.assignee.id, "name": ticket.assignee.display_name or ticket.assignee.username}
                         if ticket.assignee else None)
        with force_locale("en"):
            self.subject = labels.ticket_subject(ticket)
            if detail:
                self.sla = _sla(ticket)
                self.events = [_event(e) for e in ticket.events]

    def __getattr__(self, name: str):
        return getattr(self._ticket, name)


def _sla(ticket: Ticket) -> dict:
    clock = clocks.clock_for(ticket, utcnow())

    def deadline(d) -> dict:
        return {"state": str(d.state), "due_at": d.due_at, "warning_at": d.warning_at, "stopped_at": d.stopped_at,
                "target_minutes": int(d.target.total_seconds() // 60),
                "elapsed_minutes": int(d.elapsed.total_seconds() // 60)}

    return {"state": ticket.sla_state, "next_deadline_at": ticket.next_deadline_at,
            "business_hours": clock.policy.business_hours,
            "first_response": deadline(clock.first_response), "resolution": deadline(clock.resolution)}


def _event(event) -> dict:
    if event.actor is not None:
        actor_type, name = "user", event.actor.display_name or event.actor.username
    elif event.api_key is not None:
        actor_type, name = "integration", event.api_key.name
    elif event.kind in ("customer_reply", "rating"):
        actor_type, name = "customer", None
    else:
        actor_type, name = "system", None
    return {"id": event.id, "at": event.at, "kind": event.kind, "label": str(labels.event_label(event)),
            "actor_type": actor_type, "actor_name": name, "old_value": event.old_value, "new_value": event.new_value,
            "body": event.body, "visible_to_customer": event.visible_to_customer}
