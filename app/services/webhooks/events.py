"""Webhook events: what can happen, and ``emit``, which writes the outbox rows in the caller's transaction.

A service calls ``emit`` where the change happens (a response processed, a ticket opened or changed,
an SLA rung fired, an alert opened), before its caller commits: the rows commit or roll back with
the change. The session remembers the rows it committed; ``committed_delivery_ids`` gives them to
the jobs, which send them (``app.jobs.notifications.hand_over_emitted``: after a request, at the end
of a job). A row nobody handed over is sent by the periodic sweep (``due_delivery_ids``).

An endpoint receives an event when it is active, subscribed to the type (no types: every type) and
its branch scope holds the event's branch (every branch, or the ones chosen, like a user's scope).
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import event as orm_event, inspect, select
from sqlalchemy.orm import Session, selectinload

from app.core.clock import utcnow
from app.extensions import db
from app.models import Ticket, WebhookDelivery, WebhookEndpoint
from app.services.webhooks import payloads

#: The events an endpoint may subscribe to, in the order the admin page lists them.
EVENT_TYPES: tuple[str, ...] = (
    "response.submitted",
    "ticket.created",
    "ticket.updated",
    "ticket.resolved",
    "sla.warning",
    "sla.breached",
    "escalation.fired",
    "alert.raised",
)
#: Sent only by an admin's "send a test event", to that endpoint.
TEST_EVENT = "webhook.test"

_PENDING = "loopdesk.webhooks.pending"
_COMMITTED = "loopdesk.webhooks.committed"


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def active_endpoints() -> list[WebhookEndpoint]:
    """Active endpoints with their branch scope (a sweep reads them once and passes them to ``emit``)."""
    return list(db.session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True))
        .options(selectinload(WebhookEndpoint.branches)).order_by(WebhookEndpoint.id)
    ))


def receives(endpoint: WebhookEndpoint, event_type: str, branch_id: int | None) -> bool:
    """Whether ``endpoint`` gets an event of this type at this branch."""
    if not endpoint.active or (endpoint.events and event_type not in endpoint.events):
        return False
    return endpoint.all_branches or any(branch.id == branch_id for branch in endpoint.branches)


def emit(
    event_type: str,
    values: dict | Callable[[], dict],
    branch_id: int | None,
    now: datetime | None = None,
    endpoints: Sequence[WebhookEndpoint] | None = None,
) -> list[WebhookDelivery]:
    """Write one delivery of a new event per endpoint that receives it, in the caller's transaction.

    ``values`` (or a function making them, called only when some endpoint receives the event) are the
    event type's ``data`` before its schema dumps them.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"no webhook event {event_type!r}")
    receivers = [e for e in (active_endpoints() if endpoints is None else endpoints)
                 if receives(e, event_type, branch_id)]
    return _write(event_type, values, receivers, now or utcnow())


def emit_test(endpoint: WebhookEndpoint, message: str, now: datetime | None = None) -> WebhookDelivery:
    """A test event for one endpoint (even a disabled one: the admin asked), whatever it subscribed to."""
    [delivery] = _write(TEST_EVENT, {"endpoint": endpoint.id, "message": message}, [endpoint], now or utcnow())
    return delivery


def _write(
    event_type: str, values: dict | Callable[[], dict], receivers: Sequence[WebhookEndpoint], now: datetime
) -> list[WebhookDelivery]:
    if not receivers:
        return []
    data = payloads.data(event_type, values() if callable(values) else values)
    event_id = new_event_id()
    deliveries = [
        WebhookDelivery(endpoint=endpoint, event_id=event_id, event=event_type, version=payloads.VERSION,
                        payload=data, created_at=now, next_attempt_at=now)
        for endpoint in receivers
    ]
    db.session.add_all(deliveries)
    remember(*deliveries)
    return deliveries


def remember(*deliveries: WebhookDelivery) -> None:
    """Hand these deliveries to the jobs once the caller's transaction commits (a new event, a "send again")."""
    db.session.info.setdefault(_PENDING, []).extend(deliveries)


def ticket_changed(event_type: str, ticket: Ticket, now: datetime | None = None,
                   endpoints: Sequence[WebhookEndpoint] | None = None, **values) -> list[WebhookDelivery]:
    """Emit a ticket event (created, updated, resolved, or an SLA one with its ``escalation``) of a flushed ticket."""
    return emit(event_type, lambda: {"ticket": payloads.ticket(ticket), **values}, ticket.branch_id, now, endpoints)


def committed_delivery_ids(session: Session | None = None) -> list[int]:
    """The deliveries this session committed since the last call, for the jobs to send (and forgets them)."""
    return (session or db.session).info.pop(_COMMITTED, [])


@orm_event.listens_for(Session, "after_commit")
def _remember_committed(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        ids = [state.identity[0] for state in map(inspect, pending) if state.has_identity]
        session.info.setdefault(_COMMITTED, []).extend(ids)


@orm_event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)
