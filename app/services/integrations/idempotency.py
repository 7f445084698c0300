"""Writes an integration may send again: the ``Idempotency-Key`` header (draft-ietf-httpapi-idempotency-key-header).

The first request with a key does its work and its answer is kept with the key (``remember``, in the same
transaction as the work); a retry with the same key and the same body gets that answer again, status and body
(``replay``: with ``Idempotent-Replayed: true``, as Stripe answers), and changes nothing; the same key with
another body is refused (``KeyReused``: 422). Keys belong to one API key: two integrations never meet. The
body is compared as JSON with sorted keys, so spacing and the order of fields do not matter. Keys are kept
(as the responses they made are).
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import ApiKey, IdempotentRequest

MAX_KEY_LENGTH = 255


class KeyReused(Exception):
    """This Idempotency-Key came with another body before."""


def fingerprint(operation: str, body: Any) -> str:
    """SHA-256 of the operation ("POST /api/v1/responses") and its JSON body, keys sorted."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{operation}\n{text}".encode()).hexdigest()


def replay(api_key: ApiKey, key: str, print_: str) -> IdempotentRequest | None:
    """The answer kept for this key, or None when it is new; KeyReused when it came with another body."""
    kept = db.session.scalar(
        select(IdempotentRequest).where(IdempotentRequest.api_key_id == api_key.id, IdempotentRequest.key == key)
    )
    if kept is not None and kept.fingerprint != print_:
        raise KeyReused()
    return kept


def remember(api_key: ApiKey, key: str, print_: str, status_code: int, body: dict) -> None:
    """Keep the answer of the work this key did (flushed with the work; the caller commits)."""
    db.session.add(IdempotentRequest(
        api_key_id=api_key.id, key=key, fingerprint=print_, status_code=status_code, body=body,
    ))
    db.session.flush()
