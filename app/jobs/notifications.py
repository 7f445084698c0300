"""RQ entry points for notifications: webhook deliveries (with RQ's retries and backoff), e-mails, text messages.

With REDIS_URL a webhook delivery is an RQ job with ``Retry`` on the schedule of
``LOOPDESK_WEBHOOK_RETRY_SECONDS``; each attempt is a row. Without Redis it gets one attempt now,
in process, and the SLA sweep makes the retries when ``next_attempt_at`` comes. Services write the
deliveries in the transaction of their change (``app.services.webhooks.events``); after the commit
``hand_over_emitted`` (after each request, at the end of each job that emits) gives them to RQ.
(``deliver_webhook`` keeps its place here: queued and held jobs name it by its dotted path.)
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from flask import current_app, request
from rq import Retry, get_current_job
from rq.rate_limit import RateLimit

from app.core.clock import utcnow
from app.extensions import db
from app.jobs import BULK, NOTIFY, enqueue, hold, job_context, queue, runs_on
from app.services import notifications
from app.services.webhooks import delivery as webhook_delivery
from app.services.webhooks import events as webhook_events
from app.services.webhooks.delivery import Attempt
from app.services.tickets import customer_messages

log = logging.getLogger(__name__)

#: With Redis, RQ owns the retries; the sweep only takes back deliveries this late (RQ lost them).
STRANDED_AFTER = timedelta(minutes=10)


class WebhookDeliveryFailed(Exception):
    """Raised inside an RQ worker so that RQ schedules the next retry."""


@runs_on(BULK)
def deliver_webhook(delivery_id: int) -> str:
    with job_context():
        outcome = webhook_delivery.attempt_delivery(delivery_id, utcnow())
        db.session.commit()
    if outcome is Attempt.RETRY and get_current_job() is not None:
        raise WebhookDeliveryFailed(f"webhook delivery {delivery_id} failed; RQ retries it")
    return outcome.value


@runs_on(NOTIFY)
def send_email(outbox_id: int) -> bool:
    with job_context():
        sent = notifications.send_email(outbox_id, utcnow())
        db.session.commit()
        return sent


@runs_on(NOTIFY)
def send_sms(outbox_id: int) -> bool:
    with job_context():
        sent = customer_messages.send_sms(outbox_id, utcnow())
        db.session.commit()
        return sent


def hand_over_webhooks(delivery_ids: Sequence[int]) -> None:
    """After the commit: to RQ with the retries a delivery has left, or one attempt now in process.

    On the bulk queue, at most ``LOOPDESK_WEBHOOK_CONCURRENCY`` deliveries per endpoint are queued or
    running at a time (RQ's ``RateLimit``); the rest wait beside the queue, not in it, and go in as
    those finish. A sweep that fires hundreds of rungs thus keeps a few workers busy, not all of them.
    """
    if not delivery_ids:
        return
    if not current_app.config.get("REDIS_URL"):
        for delivery_id in delivery_ids:
            enqueue(deliver_webhook, delivery_id)
        return
    intervals = webhook_delivery.retry_intervals()
    per_endpoint = current_app.config["LOOPDESK_WEBHOOK_CONCURRENCY"]
    known = webhook_delivery.endpoints_and_attempts(delivery_ids)
    deliveries = [(delivery_id, *known[delivery_id]) for delivery_id in delivery_ids if delivery_id in known]
    done = 0
    try:
        jobs = queue(BULK)
        for delivery_id, endpoint_id, made in deliveries:
            left = max(len(intervals) - made, 0)
            jobs.enqueue(
                deliver_webhook, delivery_id, job_timeout=120, result_ttl=3600, failure_ttl=7 * 86400,
                retry=Retry(max=left, interval=intervals[-left:]) if left else None,
                rate_limit=RateLimit(f"{jobs.name}:endpoint:{endpoint_id}", per_endpoint),
            )
            done += 1
    except Exception as error:  # noqa: BLE001 - Redis away: a first attempt once it is back, the sweep retries
        log.warning("could not enqueue %s webhook deliveries (%s); holding them until Redis answers",
                    len(deliveries) - done, error)
        for delivery_id, _endpoint_id, _made in deliveries[done:]:
            hold(deliver_webhook, delivery_id, timeout=120)


def hand_over_emitted() -> None:
    """After a commit: hand over the webhook deliveries this session's committed transactions wrote."""
    hand_over_webhooks(webhook_events.committed_delivery_ids())


def init_app(app) -> None:
    """After every request, the deliveries it committed go to the jobs (the sweep takes them up otherwise)."""

    @app.after_request
    def hand_over_after_request(response):
        try:
            hand_over_emitted()
        except Exception:  # noqa: BLE001 - the request's work is committed; the sweep sends them
            log.exception("could not hand the webhook deliveries of %s over; the sweep will", request.path)
        return response


def deliver_due(now: datetime) -> None:
    """The notification part of the periodic sweep: e-mails that waited for an opening, unsent
    e-mails (with SMTP), unsent text messages (with a gateway), and webhook retries (without Redis) or stranded deliveries (with it)."""
    notifications.write_due_emails(now)
    db.session.commit()
    if current_app.config.get("SMTP_HOST"):
        for outbox_id in notifications.unsent_email_ids(now):
            enqueue(send_email, outbox_id)
    if customer_messages.sms_configured():
        for outbox_id in customer_messages.unsent_sms_ids(now):
            enqueue(send_sms, outbox_id)
    late = STRANDED_AFTER if current_app.config.get("REDIS_URL") else timedelta()
    hand_over_webhooks(webhook_delivery.due_delivery_ids(now - late))
