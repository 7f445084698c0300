"""Known customers (contacts): who they are, where they belong, what the admin records about them, and
whether they may be contacted on each channel.

Attribute values live in one JSON column per customer (``Customer.attributes``: key → value), not in
rows of their own (EAV): an import or an API upsert writes one row a customer, a page reads a customer in
one query, and a segment's rule is a condition on the same row (``attributes['tier'].as_string() ==
'high'``; on PostgreSQL ``attributes->>'tier'``, JSONB so a GIN or expression index can serve it; on
SQLite ``json_extract``). Dates are stored as ISO text, so comparing the text orders them on both.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Enum, ForeignKey, Integer, String, Table, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.core.contacts import AttributeType, Channel
from app.extensions import db
from app.models.branches import Branch
from app.models.people import User
from app.models.types import Texts, UtcDateTime

#: JSON everywhere, JSONB on PostgreSQL (containment, GIN indexes for the segments' filters).
JsonDocument = JSON().with_variant(JSONB(), "postgresql")

customer_branches = Table(
    "customer_branches",
    db.metadata,
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
    Column("branch_id", ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class CustomerAttribute(db.Model):
    """An attribute the admin defines for every customer: value tier, size, start date, tags…"""

    __tablename__ = "customer_attributes"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The key in ``Customer.attributes`` (and in the API): lower case, e.g. "tier".
    key: Mapped[str] = mapped_column(String(40), unique=True)
    labels: Mapped[Texts] = mapped_column(JSON, default=dict)
    type: Mapped[AttributeType] = mapped_column(
        Enum(AttributeType, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    #: For a choice: [{"value": "high", "labels": {"zh_Hans": "高价值", "en": "High"}}, …]
    choices: Mapped[list[dict]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Customer(db.Model):
    """A customer the business knows. Erased customers keep their row (and their answers stay in the
    figures) with every personal field empty and ``erased_at`` set."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The CRM's id for them: the first thing an import or the API matches by.
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(120))
    company: Mapped[str | None] = mapped_column(String(200))
    #: E.164 (+8613812345678): app.core.contacts.normalised_phone.
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(255))
    #: The e-mail lower-cased: what an import matches by.
    email_key: Mapped[str | None] = mapped_column(String(255), index=True)
    language: Mapped[str | None] = mapped_column(String(8))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    attributes: Mapped[dict] = mapped_column(JsonDocument, default=dict)
    #: Last time something happened with them (created, imported, edited; later: answered, a ticket):
    #: the retention sweep erases the contact details of customers inactive longer than its days.
    last_activity_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: Indexed: the API's incremental sync asks for what changed since a time.
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow, index=True)

    branches: Mapped[list[Branch]] = relationship(secondary=customer_branches, order_by=Branch.name)
    owner: Mapped[User | None] = relationship()
    consents: Mapped[list[CustomerConsent]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="CustomerConsent.channel"
    )

    def consent(self, channel: Channel | str) -> CustomerConsent | None:
        return next((c for c in self.consents if c.channel == channel), None)

    def may_contact(self, channel: Channel | str) -> bool:
        """Consented on this channel and not opted out since."""
        found = self.consent(channel)
        return self.erased_at is None and found is not None and found.allows

    def __repr__(self) -> str:
        return f"<Customer {self.id} {self.external_id or ''}>"


class CustomerConsent(db.Model):
    """A customer's consent to be contacted on one channel: when and from where it was given, and when
    and from where they opted out. The latest of the two wins."""

    __tablename__ = "customer_consents"
    __table_args__ = (UniqueConstraint("customer_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = mapped_column(
        Enum(Channel, native_enum=False, length=8, values_callable=lambda e: [m.value for m in e])
    )
    #: Where it came from: "import", "admin", "api", "survey"…
    consented_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    consent_source: Mapped[str | None] = mapped_column(String(40))
    opted_out_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    opt_out_source: Mapped[str | None] = mapped_column(String(40))

    customer: Mapped[Customer] = relationship(back_populates="consents")

    @property
    def allows(self) -> bool:
        if self.consented_at is None:
            return False
        return self.opted_out_at is None or self.opted_out_at < self.consented_at


class CustomerImportProblem(db.Model):
    """One refused cell of an import (a job run of kind customers_import): its row, column and code,
    worded when read. The value itself is not kept (it is personal data, and the admin has the file)."""

    __tablename__ = "customer_import_problems"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("job_runs.id", ondelete="CASCADE"), index=True)
    #: The row's number as a spreadsheet shows it (the header is row 1).
    row: Mapped[int] = mapped_column(Integer)
    column: Mapped[str] = mapped_column(String(120), default="")
    code: Mapped[str] = mapped_column(String(40))
