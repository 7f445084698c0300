"""The audit log: every change an admin makes, who made it, when, and the values before and after."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.extensions import db
from app.models.integrations import ApiKey
from app.models.people import User
from app.models.types import UtcDateTime


class AuditEntry(db.Model):
    """Append-only: written in the same transaction as the change it describes."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    #: None for a change made from the command line.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: Set when an integration made the change through /api/v1 with this key (user_id is then None).
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), index=True)
    #: What happened, in the product's words: "create", "update", "publish", "rotate", "deactivate"...
    action: Mapped[str] = mapped_column(String(32))
    #: What it happened to: "branch", "qr_code", "questionnaire", "user", "routing_rule", "sla_policy"...
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column()
    #: A readable name of the entity at the time (a branch code, a username), so the log reads alone.
    label: Mapped[str] = mapped_column(String(200), default="")
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)

    user: Mapped[User | None] = relationship()
    api_key: Mapped[ApiKey | None] = relationship()
