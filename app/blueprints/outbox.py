"""After a commit: the e-mails and text messages written for customers go to their senders."""
from __future__ import annotations

from flask import current_app

from app.jobs import enqueue
from app.jobs.notifications import send_email, send_sms
from app.services.tickets import customer_messages


def hand_over_customer_messages() -> None:
    """The messages for customers written in this request and committed: e-mails (with SMTP) and SMS.
    What is not handed over (Redis away, a crash) the periodic sweep sends."""
    pending = customer_messages.take_pending()
    if current_app.config.get("SMTP_HOST"):
        for outbox_id in pending.emails:
            enqueue(send_email, outbox_id)
    for outbox_id in pending.sms:
        enqueue(send_sms, outbox_id)
