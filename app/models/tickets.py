"""Tickets (工单) opened from negative feedback or by staff, and their append-only event trail."""
from __future__ import annotations

import enum
import secrets
from datetime import datetime

from sqlalchemy import DDL, JSON, Enum, ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.core.clock import utcnow
from app.extensions import db
from app.models.branches import Branch
from app.models.dialect_only import postgresql_only
from app.models.people import Department, User
from app.models.integrations import ApiKey
from app.models.responses import Response
from app.models.types import UtcDateTime


def _enum(cls: type[enum.Enum], length: int = 24) -> Enum:
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class TicketStatus(enum.StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting_on_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"


#: A ticket someone still has to act on; the SLA clocks run (or pause) only for these.
OPEN_STATUSES = (TicketStatus.NEW, TicketStatus.IN_PROGRESS, TicketStatus.WAITING)


class Priority(enum.StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class Category(enum.StrEnum):
    PRODUCT = "product"
    SERVICE = "service"
    COMMUNICATION = "communication"
    ENVIRONMENT = "environment"


class TicketSource(enum.StrEnum):
    SURVEY = "survey"
    PHONE = "phone"
    WALK_IN = "walk_in"


def new_customer_secret() -> str:
    return secrets.token_urlsafe(16)


class Ticket(db.Model):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_queue", "department_id", "status", "next_deadline_at"),
        Index("ix_tickets_branch_status", "branch_id", "status"),
        #: The API's lists and incremental sync (updated_since) walk this key.
        Index("ix_tickets_updated", "updated_at", "id"),
        #: PostgreSQL: LIKE / ILIKE '%…%' on the searchable text through trigrams (pg_trgm). SQLite scans.
        postgresql_only(Index(
            "ix_tickets_search_text_trgm", "search_text",
            postgresql_using="gin", postgresql_ops={"search_text": "gin_trgm_ops"},
        )),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Read out to customers: short, unguessable (the response's code when it had one).
    reference_code: Mapped[str] = mapped_column(String(16), unique=True)
    #: The secret in the link given to the customer for the status page.
    customer_secret: Mapped[str] = mapped_column(String(32), default=new_customer_secret)
    source: Mapped[TicketSource] = mapped_column(_enum(TicketSource), default=TicketSource.SURVEY)
    #: A response never creates two tickets.
    response_id: Mapped[int | None] = mapped_column(ForeignKey("responses.id"), unique=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    category: Mapped[Category | None] = mapped_column(_enum(Category))
    priority: Mapped[Priority] = mapped_column(_enum(Priority), default=Priority.NORMAL)
    status: Mapped[TicketStatus] = mapped_column(_enum(TicketStatus), default=TicketStatus.NEW)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    subject: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    #: Why routing chose this department (the rule and its reasons), for the ticket page.
    routing: Mapped[dict] = mapped_column(JSON, default=dict)
    language: Mapped[str] = mapped_column(String(8), default="zh_Hans")
    contact_consent: Mapped[bool] = mapped_column(default=False)
    contact_name: Mapped[str | None] = mapped_column(String(80))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    contact_email: Mapped[str | None] = mapped_column(String(255))
    #: The known customer the ticket is about (their response's), None for a walk-in.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    #: What staff find the ticket by (app/core/ticket_search.searchable_text): code, phone digits, e-mail,
    #: name, subject, description, replies, notes and calls, folded. Kept by app/services/tickets/search.refresh.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")

    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: SLA deadlines, recomputed on every change that affects them.
    first_response_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolution_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: The earliest moment the SLA sweep must look at this ticket again (indexed, one column).
    next_deadline_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    sla_state: Mapped[str] = mapped_column(String(16), default="on_track")
    #: A call-back task for a low score with contact details.
    #: The customer's rating of the handling (1–5) from their status page, the latest one.
    customer_rating: Mapped[int | None] = mapped_column()
    customer_rated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    callback_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    callback_done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: Optimistic locking: a change made on a stale copy is refused, never silently merged.
    lock_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": lock_version}

    branch: Mapped[Branch] = relationship()
    department: Mapped[Department] = relationship()
    assignee: Mapped[User | None] = relationship()
    response: Mapped[Response | None] = relationship()
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="save-update, merge", passive_deletes="all"
    )

    @property
    def is_open(self) -> bool:
        return self.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED)


#: The trigram index's operator class comes with pg_trgm; a schema made from the models (tests) creates it first.
event.listen(
    Ticket.__table__, "before_create", DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql")
)


class TicketEvent(db.Model):
    """One change or message on a ticket: who, what, when, old and new value. Never updated or deleted."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Or the integration that made the change through the API (actor_id is None then).
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    #: created, status, assignee, priority, department, category, reply, note, call, callback, sla, escalation;
    #: from the customer's status page: customer_reply, rating
    kind: Mapped[str] = mapped_column(String(24))
    old_value: Mapped[str | None] = mapped_column(String(200))
    new_value: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    #: Codes and values the line is worded from when read (an escalation's rung and receivers:
    #: ``app.labels.event_label``); events written before it say it in ``body``, in English.
    details: Mapped[dict | None] = mapped_column(JSON)
    #: Replies to the customer are shown on their status page; internal notes never are.
    visible_to_customer: Mapped[bool] = mapped_column(default=False)

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
    api_key: Mapped[ApiKey | None] = relationship()


class CustomerCode(db.Model):
    """A one-time code e-mailed to a customer who left an e-mail but no phone: it opens their status page."""

    __tablename__ = "customer_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    #: SHA-256 of the code with the ticket's secret: the code itself is never stored.
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class TicketViewer(db.Model):
    """Who has a ticket open now (refreshed by the page while it is open): shown, never a lock."""

    __tablename__ = "ticket_viewers"
    __table_args__ = (UniqueConstraint("ticket_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class AppendOnlyError(Exception):
    """Raised when something tries to change or delete a ticket event."""


@event.listens_for(Session, "before_flush")
def _events_are_append_only(session: Session, flush_context, instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, TicketEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AppendOnlyError(f"ticket events are append-only: {obj.id}")
