"""Roll-ups the dashboard reads, alert episodes and improvement actions (整改措施, PDCA).

Roll-ups are per branch, questionnaire version and local day of the branch, split by ``counted``
(False: flagged and not cleared, left out of scores by default) and by the responses' ``channel``.
Jobs rebuild a (branch, day) from the raw rows whenever it is marked dirty, so they can always be
checked against them.
"""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Column, Date, Enum, ForeignKey, Index, String, Table, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.extensions import db
from app.models.branches import Branch
from app.models.people import User
from app.models.responses import Channel, channel_enum
from app.models.tickets import Ticket
from app.models.types import UtcDateTime


class RollupDirty(db.Model):
    """A branch's local day whose roll-ups must be rebuilt (a response arrived or was reviewed)."""

    __tablename__ = "rollup_dirty"

    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    marked_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ResponseRollup(db.Model):
    __tablename__ = "rollup_responses"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id"), primary_key=True)
    counted: Mapped[bool] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(channel_enum(), primary_key=True)
    responses: Mapped[int] = mapped_column(default=0)
    #: Responses that opened a ticket (negative feedback).
    negative: Mapped[int] = mapped_column(default=0)
    duration_sum: Mapped[int] = mapped_column(default=0)


class AnswerRollup(db.Model):
    """Ratings of one question: count and sum (means), 4–5 (CSAT), 9–10 and 0–6 (NPS)."""

    __tablename__ = "rollup_answers"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id"), primary_key=True)
    counted: Mapped[bool] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(channel_enum(), primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), primary_key=True)
    n: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    satisfied: Mapped[int] = mapped_column(default=0)
    promoters: Mapped[int] = mapped_column(default=0)
    detractors: Mapped[int] = mapped_column(default=0)


class OptionRollup(db.Model):
    """How many customers chose an option of a single or multiple choice question."""

    __tablename__ = "rollup_options"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id"), primary_key=True)
    counted: Mapped[bool] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(channel_enum(), primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), primary_key=True)
    option: Mapped[str] = mapped_column(String(80), primary_key=True)
    customers: Mapped[int] = mapped_column(default=0)


class MonthlyResponseRollup(db.Model):
    """``rollup_responses`` summed over the branch's calendar month (``month``: its first day).

    Kept in step by ``app.services.insight.rollups``: whenever days are rebuilt, their months are
    summed again from the daily rows, so a month is always exactly the sum of its days.
    """

    __tablename__ = "rollup_responses_monthly"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id"), primary_key=True)
    counted: Mapped[bool] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(channel_enum(), primary_key=True)
    responses: Mapped[int] = mapped_column(default=0)
    negative: Mapped[int] = mapped_column(default=0)
    duration_sum: Mapped[int] = mapped_column(default=0)


class MonthlyAnswerRollup(db.Model):
    """``rollup_answers`` summed over the branch's calendar month."""

    __tablename__ = "rollup_answers_monthly"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id"), primary_key=True)
    counted: Mapped[bool] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(channel_enum(), primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), primary_key=True)
    n: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    satisfied: Mapped[int] = mapped_column(default=0)
    promoters: Mapped[int] = mapped_column(default=0)
    detractors: Mapped[int] = mapped_column(default=0)


class MonthlyOptionRollup(db.Model):
    """``rollup_options`` summed over the branch's calendar month."""

    __tablename__ = "rollup_options_monthly"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id"), primary_key=True)
    counted: Mapped[bool] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(channel_enum(), primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), primary_key=True)
    option: Mapped[str] = mapped_column(String(80), primary_key=True)
    customers: Mapped[int] = mapped_column(default=0)


class AlertEpisode(db.Model):
    """A branch in an alert state (score drop, negative rate): notified once when it opens, closed when it ends."""

    __tablename__ = "alert_episodes"
    __table_args__ = (
        Index(
            "uq_alert_episodes_open", "branch_id", "kind", unique=True,
            postgresql_where=text("closed_at IS NULL"), sqlite_where=text("closed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    #: "csat_drop", "index_drop", "negative_rate", "negative_burst"
    kind: Mapped[str] = mapped_column(String(24))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: The last time its condition held (the burst alert closes once it has not held for a whole window).
    last_held_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: The figures that opened it (recent and baseline value and size, rate...).
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    branch: Mapped[Branch] = relationship()


class ActionStatus(enum.StrEnum):
    PLAN = "plan"
    DO = "do"
    CHECK = "check"
    ACT = "act"


class Fishbone(enum.StrEnum):
    """人机料法环."""

    PEOPLE = "people"
    MACHINE = "machine"
    MATERIAL = "material"
    METHOD = "method"
    ENVIRONMENT = "environment"


action_branches = Table(
    "improvement_action_branches",
    db.metadata,
    Column("action_id", ForeignKey("improvement_actions.id", ondelete="CASCADE"), primary_key=True),
    Column("branch_id", ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True),
)

action_tickets = Table(
    "improvement_action_tickets",
    db.metadata,
    Column("action_id", ForeignKey("improvement_actions.id", ondelete="CASCADE"), primary_key=True),
    Column("ticket_id", ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
)


class ImprovementAction(db.Model):
    __tablename__ = "improvement_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    #: Where it came from: "key_issue" (an option of a question), "category" or "ticket"; and which one.
    source_kind: Mapped[str] = mapped_column(String(16))
    source_ref: Mapped[str] = mapped_column(String(120), default="")
    #: The dimension whose before/after the check compares (a dimension key), and the ticket category.
    dimension_key: Mapped[str | None] = mapped_column(String(40))
    category: Mapped[str | None] = mapped_column(String(24))
    #: 5 Whys: up to five answers, in order.
    whys: Mapped[list[str]] = mapped_column(JSON, default=list)
    root_cause: Mapped[str] = mapped_column(Text, default="")
    fishbone: Mapped[Fishbone | None] = mapped_column(
        Enum(Fishbone, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    deadline: Mapped[date | None] = mapped_column(Date)
    resources: Mapped[str] = mapped_column(Text, default="")
    expected_effect: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ActionStatus] = mapped_column(
        Enum(ActionStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=ActionStatus.PLAN,
    )
    #: When the fix was done (moved to check); the effect is checked from check_due_on (≥ 30 days later).
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    check_due_on: Mapped[date | None] = mapped_column(Date)
    check_notes: Mapped[str] = mapped_column(Text, default="")
    customers_told_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: When the customers told were asked, at the effect check, to rate the handling (once per action).
    customers_asked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    branches: Mapped[list[Branch]] = relationship(secondary=action_branches, order_by=Branch.code)
    tickets: Mapped[list[Ticket]] = relationship(secondary=action_tickets, order_by=Ticket.id)
