"""Webhook endpoints as admins manage them: add, edit, disable, delete, rotate the secret, test, send again.

Every change is in the audit log (never the secret: a rotation is logged as "rotate" with no value).
Operations flush and leave the commit to the caller; the deliveries they write (a test event, a
"send again") are handed to the jobs after it (``app.jobs.notifications.hand_over_emitted``).

URLs: http or https only, with a host. An address that is a loopback, private, link-local or other
non-public IP written in the URL is refused when saved, unless ``LOOPDESK_OUTGOING_ALLOWED_HOSTS``
names it; a host name is resolved at each delivery instead (``app.services.outgoing_http`` checks
every address it resolves to, then), since what a name resolves to can change after it is saved.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload

from app.core.clock import utcnow
from app.extensions import db
from app.models import Branch, User, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.services import audit, outgoing_http
from app.services.webhooks import events, signing

#: What the audit log keeps of an endpoint (never its secret).
AUDITED = ("name", "url", "events", "all_branches", "active")
MAX_URL = 500


class EndpointError(Exception):
    """A value an admin typed that cannot be saved; ``field`` names the form field."""

    def __init__(self, field: str, message) -> None:
        super().__init__(str(message))
        self.field, self.message = field, message


@dataclass(frozen=True)
class EndpointFields:
    name: str
    url: str
    events: Sequence[str]
    all_branches: bool
    branch_ids: Sequence[int]


def endpoint_list() -> list[WebhookEndpoint]:
    return list(db.session.scalars(
        select(WebhookEndpoint).options(selectinload(WebhookEndpoint.branches)).order_by(WebhookEndpoint.id)
    ))


def failing_counts() -> dict[int, int]:
    """Per endpoint: deliveries not delivered that gave up or wait for a retry after a failed attempt."""
    return dict(db.session.execute(
        select(WebhookDelivery.endpoint_id, func.count())
        .where(WebhookDelivery.delivered_at.is_(None), WebhookDelivery.attempts > 0)
        .group_by(WebhookDelivery.endpoint_id)
    ).all())


def deliveries(endpoint: WebhookEndpoint, limit: int = 50) -> list[WebhookDelivery]:
    """The endpoint's latest deliveries, newest first, each with its attempts."""
    return list(db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
        .options(selectinload(WebhookDelivery.attempt_log))
        .order_by(WebhookDelivery.id.desc()).limit(limit)
    ))


def check_url(url: str) -> str:
    """The URL as it will be called, or ``EndpointError`` (see the module's docstring)."""
    url = (url or "").strip()
    if not url:
        raise EndpointError("url", _l("Enter the receiver's address."))
    if len(url) > MAX_URL:
        raise EndpointError("url", _l("That address is too long."))
    try:
        outgoing_http.check_url(url)
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port that is no number raises here
    except (outgoing_http.RefusedDestination, ValueError):
        raise EndpointError("url", _l("Enter an http:// or https:// address with a host name.")) from None
    host = parts.hostname or ""
    if host.rstrip(".").lower() not in outgoing_http.allowed_hosts():
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if host.rstrip(".").lower() == "localhost" or (address is not None and not outgoing_http.is_public(host)):
            raise EndpointError("url", _l(
                "Webhooks are sent only to public addresses. An internal host must be allowed by the "
                "installation (LOOPDESK_OUTGOING_ALLOWED_HOSTS)."
            ))
    return url


def _apply(endpoint: WebhookEndpoint, fields: EndpointFields) -> None:
    name = (fields.name or "").strip()
    if not name:
        raise EndpointError("name", _l("Give the endpoint a name, e.g. the system it feeds."))
    if len(name) > 120:
        raise EndpointError("name", _l("That name is too long."))
    url = check_url(fields.url)
    chosen = [event for event in events.EVENT_TYPES if event in set(fields.events)]
    if not chosen:
        raise EndpointError("events", _l("Choose at least one event."))
    branches = list(db.session.scalars(select(Branch).where(Branch.id.in_(list(fields.branch_ids)))))
    if not fields.all_branches and not branches:
        raise EndpointError("branch_ids", _l("Choose the branches whose events it receives, or every branch."))
    endpoint.name, endpoint.url = name, url
    endpoint.events = [] if len(chosen) == len(events.EVENT_TYPES) else chosen
    endpoint.all_branches = fields.all_branches
    endpoint.branches = [] if fields.all_branches else branches


def _snapshot(endpoint: WebhookEndpoint) -> dict:
    return audit.values(endpoint, AUDITED) | {
        "events": list(endpoint.events or events.EVENT_TYPES),
        "branches": sorted(branch.code for branch in endpoint.branches),
    }


def create(actor: User, fields: EndpointFields, now: datetime | None = None) -> tuple[WebhookEndpoint, str]:
    """A new active endpoint and its secret (shown once)."""
    endpoint = WebhookEndpoint(secret=signing.new_secret(), active=True, created_at=now or utcnow())
    _apply(endpoint, fields)
    db.session.add(endpoint)
    db.session.flush()
    audit.record(actor, "create", endpoint, after=_snapshot(endpoint), label=endpoint.name)
    return endpoint, endpoint.secret


def update(actor: User, endpoint: WebhookEndpoint, fields: EndpointFields, now: datetime | None = None) -> bool:
    """Save the admin's edit; returns whether anything changed."""
    before = _snapshot(endpoint)
    _apply(endpoint, fields)
    entry = audit.record(actor, "update", endpoint, before=before, after=_snapshot(endpoint), label=endpoint.name)
    if entry is not None:
        endpoint.updated_at = now or utcnow()
    return entry is not None


def set_active(actor: User, endpoint: WebhookEndpoint, active: bool, now: datetime | None = None) -> bool:
    """Enable or disable; a disabled endpoint gets no new events and its waiting retries give up."""
    if endpoint.active == active:
        return False
    endpoint.active, endpoint.updated_at = active, now or utcnow()
    audit.record(actor, "activate" if active else "deactivate", endpoint, label=endpoint.name)
    return True


def remove(actor: User, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint with its delivery log."""
    audit.record(actor, "delete", endpoint, before=_snapshot(endpoint), label=endpoint.name)
    delivery_ids = select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint.id)
    db.session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(delivery_ids)),
                       execution_options={"synchronize_session": False})
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id),
                       execution_options={"synchronize_session": False})
    db.session.delete(endpoint)
    db.session.flush()


def rotate_secret(actor: User | None, endpoint: WebhookEndpoint, now: datetime | None = None) -> str:
    """A new secret (returned to be shown once); the old one keeps signing beside it for 24 hours."""
    now = now or utcnow()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = now + timedelta(hours=signing.PREVIOUS_SECRET_HOURS)
    endpoint.secret, endpoint.updated_at = signing.new_secret(), now
    audit.record(actor, "rotate", endpoint, label=endpoint.name)
    db.session.flush()
    return endpoint.secret


def send_test(endpoint: WebhookEndpoint, message: str, now: datetime | None = None) -> WebhookDelivery:
    """A ``webhook.test`` event to this endpoint only."""
    delivery = events.emit_test(endpoint, message, now)
    db.session.flush()
    return delivery


def delivery_of(endpoint: WebhookEndpoint, delivery_id: int) -> WebhookDelivery | None:
    return db.session.scalar(select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint.id
    ))


def send_again(delivery: WebhookDelivery, now: datetime | None = None) -> WebhookDelivery:
    """One more attempt of the same event (same id and body) now, whether it was delivered or gave up;
    it keeps the retries it had left."""
    delivery.delivered_at, delivery.next_attempt_at = None, now or utcnow()
    events.remember(delivery)
    db.session.flush()
    return delivery
