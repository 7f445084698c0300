"""API keys as admins manage them (create, rotate, revoke) and as a request to /api/v1 finds them.

Decisions:

- **The token** is ``ld_<8 hex>_<43 characters>``: a public prefix (4 random bytes) that finds the key and is
  shown in the list, and 32 random bytes (``secrets.token_urlsafe(32)``). It is shown once, when made; only
  the SHA-256 of the whole token is stored. A slow password hash (PBKDF2, scrypt) protects guessable
  passwords; a 256-bit random secret cannot be guessed, so one SHA-256 is enough and costs nothing on every
  request. The stored and computed digests are compared with ``hmac.compare_digest`` (constant time).
- **Rotate** makes a new token (new prefix and secret); the old one stops at once. **Revoke** stops the key
  at once (the next request is 401) and for good; the key stays in the list and in the audit log.
- **Scope**: the scopes it is given (``API_SCOPES``) and a branch scope exactly like a user's: every branch
  or the listed ones (app.permissions). For tickets a key is scoped by branch only: it has no departments.
- **Last use** is written at most once a minute per key (one UPDATE, not one per request).
- Each operation checks, changes, writes the audit entry (the admin as actor) and flushes; the view commits.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.orm import selectinload

from app.core.clock import utcnow
from app.extensions import db
from app.models import API_SCOPES, ApiKey, Branch, User
from app.services import audit

TOKEN_PREFIX = "ld_"
TOKEN_PATTERN = re.compile(r"^ld_([0-9a-f]{8})_[A-Za-z0-9_-]{43}$")
NAME_MAX_LENGTH = 120
KEY_FIELDS = ("name", "prefix", "scopes", "all_branches", "revoked_at")
LAST_USE_EVERY = timedelta(minutes=1)


class ApiKeyError(ValueError):
    """A change that cannot be made; ``errors`` maps each form field to the message to show at it."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(str(message) for message in self.errors.values()))


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    """(prefix, token): a prefix no key has yet."""
    while True:
        prefix = TOKEN_PREFIX + secrets.token_hex(4)
        if db.session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)) is None:
            return prefix, f"{prefix}_{secrets.token_urlsafe(32)}"


def keys() -> list[ApiKey]:
    """Active first, newest first."""
    return list(db.session.scalars(
        select(ApiKey).options(selectinload(ApiKey.branches), selectinload(ApiKey.created_by))
        .order_by(ApiKey.revoked_at.is_not(None), ApiKey.id.desc())
    ))


def _audit_values(key: ApiKey) -> dict:
    return {**audit.values(key, KEY_FIELDS), "branches": sorted(b.code for b in key.branches)}


def create(
    actor: User, name: str, scopes: Sequence[str], all_branches: bool, branch_ids: Sequence[int]
) -> tuple[ApiKey, str]:
    """A new key and its token (shown once; only its digest is kept)."""
    name = name.strip()
    chosen = [scope for scope in API_SCOPES if scope in set(scopes)]
    branches = list(db.session.scalars(select(Branch).where(Branch.id.in_(set(branch_ids))))) if branch_ids else []
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _l("Name the integration that will use this key.")
    elif len(name) > NAME_MAX_LENGTH:
        errors["name"] = _l("At most %(count)d characters.", count=NAME_MAX_LENGTH)
    if not chosen:
        errors["scopes"] = _l("Choose at least one thing the key may do.")
    if not all_branches and not branches:
        errors["branch_ids"] = _l("Choose every branch or at least one branch.")
    if errors:
        raise ApiKeyError(errors)
    prefix, token = _new_token()
    key = ApiKey(
        name=name, prefix=prefix, secret_hash=digest(token), scopes=chosen, all_branches=all_branches,
        branches=[] if all_branches else branches, created_at=utcnow(), created_by_id=actor.id,
    )
    db.session.add(key)
    db.session.flush()
    audit.record(actor, "create", key, after=_audit_values(key))
    return key, token


def rotate(actor: User, key: ApiKey) -> str:
    """A new token for the key; the old one stops working at once."""
    if not key.active:
        raise ApiKeyError({"key": _l("A revoked key cannot be rotated: create a new one.")})
    before = _audit_values(key)
    key.prefix, token = _new_token()
    key.secret_hash = digest(token)
    key.rotated_at = utcnow()
    db.session.flush()
    audit.record(actor, "rotate", key, before=before, after=_audit_values(key))
    return token


def revoke(actor: User, key: ApiKey) -> None:
    if not key.active:
        return
    before = _audit_values(key)
    key.revoked_at = utcnow()
    db.session.flush()
    audit.record(actor, "revoke", key, before=before, after=_audit_values(key))


def authenticate(token: str) -> ApiKey | None:
    """The active key whose token this is, else None (a malformed, unknown, rotated or revoked token)."""
    match = TOKEN_PATTERN.fullmatch(token)
    if match is None:
        return None
    key = db.session.scalar(
        select(ApiKey).where(ApiKey.prefix == token[: len(TOKEN_PREFIX) + 8])
        .options(selectinload(ApiKey.branches))
    )
    if key is None or not hmac.compare_digest(key.secret_hash, digest(token)):
        return None
    return key if key.active else None


def note_use(key: ApiKey) -> bool:
    """Record the key's last use (at most once a minute); True when it wrote (the caller commits)."""
    now = utcnow()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USE_EVERY:
        return False
    written = db.session.execute(
        update(ApiKey).where(ApiKey.id == key.id, or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - LAST_USE_EVERY))
        .values(last_used_at=now).execution_options(synchronize_session=False)
    ).rowcount
    return bool(written)
