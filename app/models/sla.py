"""SLA policies per priority, the escalation ladder as data, custom holidays and pausing statuses."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.extensions import db
from app.models.people import Department
from app.models.types import UtcDateTime


class SlaPolicy(db.Model):
    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    priority: Mapped[str] = mapped_column(String(16), unique=True)
    first_response_minutes: Mapped[int] = mapped_column()
    resolution_minutes: Mapped[int] = mapped_column()
    #: Count only the branch's business hours (else 24x7).
    business_hours: Mapped[bool] = mapped_column(default=True)
    #: Warn when this share of the time is used (percent).
    warning_percent: Mapped[int] = mapped_column(default=80)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    escalations: Mapped[list[EscalationRule]] = relationship(
        back_populates="policy", order_by="EscalationRule.level", cascade="all, delete-orphan"
    )


class EscalationRule(db.Model):
    """A rung of the ladder: at <offset> from a deadline, notify <target> and maybe act."""

    __tablename__ = "escalation_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("sla_policies.id"), index=True)
    level: Mapped[int] = mapped_column(default=0)
    #: "first_response" or "resolution"
    clock: Mapped[str] = mapped_column(String(16), default="resolution")
    #: "warning" fires at the warning time; "due" at the deadline plus offset_minutes.
    trigger: Mapped[str] = mapped_column(String(16), default="due")
    offset_minutes: Mapped[int] = mapped_column(default=0)
    #: "assignee", "supervisors" (of the ticket's scope), "admins"
    target: Mapped[str] = mapped_column(String(16), default="supervisors")
    #: "notify", "raise_priority", "move_queue"
    action: Mapped[str] = mapped_column(String(16), default="notify")
    move_to_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    #: A removed rung stays (its firings point at it) but no longer fires; see app.services.sla.settings.
    active: Mapped[bool] = mapped_column(default=True)

    policy: Mapped[SlaPolicy] = relationship(back_populates="escalations")
    move_to_department: Mapped[Department | None] = relationship()


class EscalationFiring(db.Model):
    """That a rung fired for a ticket and a receiver: the unique row makes it happen exactly once."""

    __tablename__ = "escalation_firings"
    __table_args__ = (UniqueConstraint("ticket_id", "rule_id", "user_id", "cycle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("escalation_rules.id"))
    #: 0 for an action without a receiver (raise priority, move queue).
    user_id: Mapped[int] = mapped_column(default=0)
    level: Mapped[int] = mapped_column(default=0)
    #: Which resolution cycle (a reopen starts a new one, and the ladder again).
    cycle: Mapped[int] = mapped_column(default=0)
    fired_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Holiday(db.Model):
    """A custom closed day, for every branch or one branch, on top of the public holidays."""

    __tablename__ = "holidays"
    __table_args__ = (UniqueConstraint("branch_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    day: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(80), default="")


class StatusSetting(db.Model):
    """Per ticket status: does it pause the SLA clock (waiting on customer does, by default)."""

    __tablename__ = "status_settings"

    status: Mapped[str] = mapped_column(String(24), primary_key=True)
    pauses_clock: Mapped[bool] = mapped_column(default=False)


class SlaRefresh(db.Model):
    """An edit's refresh of open tickets' due times (app.services.sla.refreshes): until it reaches a ticket
    of its scope, the ticket's pages say "due time being recalculated".

    Scope: ``priority`` (a policy edit), ``branch_id`` (a branch's hours or holidays), neither (every open
    ticket: a holiday of every branch, the pausing statuses). Tickets ``done_through_id < id <=
    up_to_ticket_id`` have not been re-timed yet.
    """

    __tablename__ = "sla_refreshes"

    id: Mapped[int] = mapped_column(primary_key=True)
    priority: Mapped[str | None] = mapped_column(String(16))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    #: The highest ticket id when the edit was saved (later tickets were timed with the new settings).
    up_to_ticket_id: Mapped[int] = mapped_column(default=0)
    #: The refresh goes by ticket id; it has committed every ticket up to this one.
    done_through_id: Mapped[int] = mapped_column(default=0)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
