"""Responses (答卷) and their answers. A response without ``submitted_at`` is partial."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.extensions import db
from app.models.branches import Branch, QrCode
from app.models.integrations import ApiKey
from app.models.surveys import Question, QuestionnaireVersion
from app.models.types import UtcDateTime


QUALITY_CONFIRMED, QUALITY_CLEARED = "confirmed", "cleared"


class Channel(enum.StrEnum):
    """How a response reached us, decided when it starts (never changed after)."""

    QR = "qr"          # a poster's QR code scanned with the customer's phone
    KIOSK = "kiosk"    # the tablet on a counter (a kiosk QR code)
    LINK = "link"      # the survey link sent by e-mail, SMS or put on a website (no scan)
    API = "api"        # posted by an integration through /api/v1 (its API key says which)
    STAFF = "staff"    # entered by staff for a customer (nothing enters one yet)


def channel_enum() -> Enum:
    """The column type of a channel (responses and the roll-ups): its code as text."""
    return Enum(Channel, native_enum=False, length=16,
                values_callable=lambda e: [m.value for m in e])


class Response(db.Model):
    __tablename__ = "responses"
    __table_args__ = (
        Index("ix_responses_branch_submitted", "branch_id", "submitted_at"),
        Index("ix_responses_device_submitted", "device_id", "submitted_at"),
        Index("ix_responses_unprocessed", "processed_at", "submitted_at"),
        Index("ix_responses_source_submitted", "source_key", "submitted_at"),
        #: The API's lists and incremental sync (updated_since) walk this key.
        Index("ix_responses_updated", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    qr_code_id: Mapped[int | None] = mapped_column(ForeignKey("qr_codes.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id"), index=True)
    channel: Mapped[Channel] = mapped_column(channel_enum(), server_default=Channel.QR.value)
    #: The integration that posted it (channel api): its key, which the pages name.
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    language: Mapped[str] = mapped_column(String(8))
    #: Anonymous per-device cookie id: tells repeated submissions apart, identifies nobody.
    device_id: Mapped[str] = mapped_column(String(36))
    #: The network address it was submitted from, keyed and truncated (app/core/quality.source_key): tells a burst
    #: of fresh-cookie submissions from one place apart, identifies nobody.
    source_key: Mapped[str | None] = mapped_column(String(16))
    #: Made when the survey is first shown; every step and the final submit carry it,
    #: so a double tap or a retry finds this row instead of making another.
    idempotency_key: Mapped[str] = mapped_column(String(43), unique=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: The highest step number the customer has completed; a reload resumes after it.
    furthest_step: Mapped[int] = mapped_column(default=0)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    duration_seconds: Mapped[int | None] = mapped_column()
    #: What its path asked of the customer, in taps (app/core/quality.effort): duration / effort is its pace.
    effort: Mapped[float | None] = mapped_column(Float)
    #: Data-quality flags ("too_fast", "straight_lining", "repeat_device", "gibberish", "burst"): flagged, never deleted.
    quality_flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: A person's verdict on the flags: "confirmed" (stays out of the scores) or "cleared" (counts again).
    quality_review: Mapped[str | None] = mapped_column(String(16))
    quality_reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    quality_reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Given when the customer asked for a call back, left a low score or wrote something: they follow
    #: their feedback with it (and the status link's secret).
    reference_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    #: The secret of the status link shown with the code (the ticket, once opened, carries the same one).
    customer_secret: Mapped[str | None] = mapped_column(String(32))
    contact_consent: Mapped[bool] = mapped_column(default=False)
    contact_name: Mapped[str | None] = mapped_column(String(80))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    contact_email: Mapped[str | None] = mapped_column(String(255))
    #: The known customer who answered (a personal link, an interview), None for a walk-in.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    #: Set by the after-submit job; a sweep re-runs the job for rows still without it.
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: Any change to the row (submit, flags and processing, a quality review) moves it: the API's incremental sync.
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    branch: Mapped[Branch] = relationship()
    qr_code: Mapped[QrCode | None] = relationship()
    api_key: Mapped[ApiKey | None] = relationship()
    version: Mapped[QuestionnaireVersion] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan", order_by="Answer.id"
    )
    #: The ticket it opened, if any (read only: the ticket's response_id owns the link).
    ticket: Mapped["Ticket | None"] = relationship(  # noqa: F821 - named by string, as branches ↔ surveys
        "Ticket", primaryjoin="Ticket.response_id == Response.id", viewonly=True, uselist=False,
    )

    @property
    def is_partial(self) -> bool:
        return self.submitted_at is None

    @property
    def is_flagged(self) -> bool:
        return bool(self.quality_flags)

    @property
    def counts_in_scores(self) -> bool:
        """Scores leave flagged responses out by default, unless a reviewer cleared them."""
        return not self.quality_flags or self.quality_review == QUALITY_CLEARED


class Answer(db.Model):
    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)
    #: CSAT 1–5 or NPS 0–10.
    value_int: Mapped[int | None] = mapped_column()
    value_text: Mapped[str | None] = mapped_column(Text)
    #: Option values of a single or multiple choice.
    value_choices: Mapped[list[str] | None] = mapped_column(JSON)

    response: Mapped[Response] = relationship(back_populates="answers")
    question: Mapped[Question] = relationship()

    @property
    def value(self) -> int | str | list[str] | None:
        return answer_value(self.value_int, self.value_choices, self.value_text)


def answer_value(value_int: int | None, value_choices: list[str] | None, value_text: str | None):
    """The one stored column that holds an answer: a score, chosen options or a text."""
    if value_int is not None:
        return value_int
    if value_choices is not None:
        return value_choices
    return value_text
