"""Integrations: the API keys another system (a CRM, a call centre, an app) uses to reach /api/v1."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.extensions import db
from app.models.branches import Branch
from app.models.people import User
from app.models.types import UtcDateTime

#: What a key may do. customers:* are reserved for the customer records to come (no resource uses them yet).
API_SCOPES = (
    "responses:read", "responses:write", "tickets:read", "tickets:write", "customers:read", "customers:write",
)

api_key_branches = Table(
    "api_key_branches",
    db.metadata,
    Column("api_key_id", ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True),
    Column("branch_id", ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True),
)


class ApiKey(db.Model):
    """One integration's key. The secret is never stored: only its SHA-256 (app/services/integrations/keys.py).

    Branch scope as a user's: every branch (``all_branches``) or the listed ones, nothing with neither.
    A key is never deleted (the audit log names it): revoked instead.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    #: The public start of the token ("ld_" + 8 characters): how a request's key is found, and shown in the list.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    #: SHA-256 (hex) of the whole token.
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    all_branches: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rotated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    branches: Mapped[list[Branch]] = relationship(secondary=api_key_branches, order_by=Branch.name)
    created_by: Mapped[User | None] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def allows(self, scope: str) -> bool:
        return scope in (self.scopes or ())

    def __repr__(self) -> str:
        return f"<ApiKey {self.prefix} {self.name}>"


class IdempotentRequest(db.Model):
    """A write an integration sent with an ``Idempotency-Key`` header, and the answer it got: a retry with the
    same key and body gets that answer again, the same key with another body is refused
    (app/services/integrations/idempotency.py)."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("api_key_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    #: SHA-256 (hex) of the operation and its body as JSON with sorted keys.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column()
    body: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
