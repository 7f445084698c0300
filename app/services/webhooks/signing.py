"""Standard Webhooks signatures (https://www.standardwebhooks.com/), through the ``standardwebhooks`` package.

Each attempt carries ``webhook-id`` (the event id), ``webhook-timestamp`` (Unix seconds of the
attempt) and ``webhook-signature``: ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` with the
key ``base64-decode(secret without "whsec_")``. A receiver refuses a timestamp more than 5 minutes
from its clock (a replay) and a signature that does not match (a tampered body).

Rotation: after a new secret is made the old one keeps signing beside it for ``PREVIOUS_SECRET_HOURS``
(24 h): the header then holds two signatures separated by a space, and a receiver accepts either.
Retries of deliveries made before the rotation are signed the same way, so none fails on the switch.
"""
from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"
PREVIOUS_SECRET_HOURS = 24
TOLERANCE = timedelta(minutes=5)


def new_secret() -> str:
    """A fresh secret: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(secrets_in_use: Sequence[str], event_id: str, timestamp: datetime, body: bytes) -> str:
    """The ``webhook-signature`` value: one ``v1,…`` per secret, space-separated."""
    text = body.decode()
    return " ".join(Webhook(secret).sign(event_id, timestamp, text) for secret in secrets_in_use)


def headers(secrets_in_use: Sequence[str], event_id: str, timestamp: datetime, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt."""
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature(secrets_in_use, event_id, timestamp, body),
    }
