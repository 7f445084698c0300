"""Sending a webhook delivery: one signed POST per attempt, each attempt a row, retries on a schedule.

The body is the same bytes on every attempt of a delivery (the envelope of ``payloads``); the
signature headers are made per attempt (``webhook-timestamp`` is the attempt's moment). A 2xx
answer delivers it; anything else (another status, a redirect, a timeout, a refused address) is
a failed attempt that waits ``LOOPDESK_WEBHOOK_RETRY_SECONDS`` (10 s, 1 min, 5 min, 15 min, 1 h),
then it gives up. Only http(s) to public addresses, no redirects (``app.services.outgoing_http``).
"""
from __future__ import annotations

import enum
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.core.clock import utcnow
from app.extensions import db
from app.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.services import outgoing_http
from app.services.webhooks import signing

log = logging.getLogger(__name__)


class Attempt(enum.StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"          # failed; next_attempt_at says when to try again
    GAVE_UP = "gave_up"      # failed for the last time, or the endpoint is gone
    SKIPPED = "skipped"      # delivered already, not due, or being attempted by someone else


def retry_intervals() -> list[int]:
    return list(current_app.config["LOOPDESK_WEBHOOK_RETRY_SECONDS"])


def body(delivery: WebhookDelivery) -> bytes:
    """The envelope, the same bytes on every attempt of one delivery."""
    envelope = {
        "id": delivery.event_id,
        "type": delivery.event,
        "version": delivery.version,
        "created_at": delivery.created_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def secrets_in_use(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, and the previous one while its 24 hours after a rotation last."""
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        return [endpoint.secret, endpoint.previous_secret]
    return [endpoint.secret]


def _locked(query):
    """On PostgreSQL, lock the row for the attempt; None when another worker is attempting it."""
    query = query.execution_options(populate_existing=True)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=WebhookDelivery)
    return query


def attempt_delivery(delivery_id: int, now: datetime | None = None) -> Attempt:
    """POST one webhook delivery if it is due, and record the attempt (on its row and as a ``WebhookAttempt``).

    The row is locked while the request runs (skipped when locked: someone else is trying),
    so a job and a sweep never send one attempt twice. The caller commits.
    """
    now = now or utcnow()
    query = select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).options(
        selectinload(WebhookDelivery.endpoint)
    )
    delivery = db.session.scalar(_locked(query))
    # Allow a second early: RQ schedules the retry from a moment a little before our clock read.
    if (
        delivery is None
        or delivery.delivered_at is not None
        or delivery.next_attempt_at is None
        or delivery.next_attempt_at > now + timedelta(seconds=1)
    ):
        return Attempt.SKIPPED
    endpoint = delivery.endpoint
    if not endpoint.active and delivery.event != "webhook.test":
        delivery.next_attempt_at = None
        delivery.last_error = "endpoint disabled"
        return Attempt.GAVE_UP
    content = body(delivery)
    request = urllib.request.Request(endpoint.url, data=content, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Loopdesk-Webhooks/1",
        **signing.headers(secrets_in_use(endpoint, now), delivery.event_id, now, content),
    })
    delivery.attempts += 1
    status, error = None, None
    started = time.perf_counter()
    try:
        with outgoing_http.open_url(request, timeout=current_app.config["LOOPDESK_WEBHOOK_TIMEOUT_SECONDS"]) as reply:
            status = reply.status
            reply.read(1024)
    except urllib.error.HTTPError as failure:
        status, error = failure.code, f"HTTP {failure.code}"
        failure.close()
    except (urllib.error.URLError, OSError, ValueError) as failure:
        error = f"{type(failure).__name__}: {getattr(failure, 'reason', failure)}"
    delivered = error is None and status is not None and 200 <= status < 300
    if not delivered:
        error = (error or f"HTTP {status}")[:2000]
    db.session.add(WebhookAttempt(delivery_id=delivery.id, at=now, status_code=status, error=error,
                                  duration_ms=round((time.perf_counter() - started) * 1000)))
    delivery.status_code = status
    if delivered:
        delivery.delivered_at, delivery.next_attempt_at, delivery.last_error = now, None, None
        return Attempt.DELIVERED
    delivery.last_error = error
    intervals = retry_intervals()
    if delivery.attempts <= len(intervals):
        delivery.next_attempt_at = now + timedelta(seconds=intervals[delivery.attempts - 1])
        log.info("webhook %s to %s failed (attempt %s: %s), next at %s", delivery.id, endpoint.url,
                 delivery.attempts, delivery.last_error, delivery.next_attempt_at.isoformat())
        return Attempt.RETRY
    delivery.next_attempt_at = None
    log.warning("webhook %s to %s gave up after %s attempts: %s", delivery.id, endpoint.url,
                delivery.attempts, delivery.last_error)
    return Attempt.GAVE_UP


def due_delivery_ids(before: datetime, limit: int = 1000) -> list[int]:
    """Undelivered webhook deliveries whose next attempt is at or before ``before``."""
    return list(db.session.scalars(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.delivered_at.is_(None), WebhookDelivery.next_attempt_at <= before)
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit)
    ))


def endpoints_and_attempts(delivery_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Each delivery's endpoint and attempts so far (a delivery handed over again gets only the retries it has left)."""
    return {delivery_id: (endpoint_id, attempts) for delivery_id, endpoint_id, attempts in db.session.execute(
        select(WebhookDelivery.id, WebhookDelivery.endpoint_id, WebhookDelivery.attempts)
        .where(WebhookDelivery.id.in_(list(delivery_ids)))
    )}
