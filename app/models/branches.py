"""Branches (门店/网点) and the QR codes customers scan there."""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, ForeignKey, String, false, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.extensions import db
from app.models.types import UtcDateTime

if TYPE_CHECKING:
    from app.models.surveys import Questionnaire


class Branch(db.Model):
    __tablename__ = "branches"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    region: Mapped[str] = mapped_column(String(80), default="", index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    #: Weekly business hours: {"mon": [["09:00", "21:00"]], ...}; a missing day is closed.
    opening_hours: Mapped[dict] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(default=True)
    #: Whose public holidays close it: "CN", "GB-ENG" (country, or country-subdivision of the
    #: ``holidays`` package); None follows its time zone (app/services/branches/calendars.py).
    holiday_region: Mapped[str | None] = mapped_column(String(40))
    #: Stays open on public holidays (many restaurants do): its clocks follow its weekly hours then.
    open_on_public_holidays: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: The real-time alert of this branch (app/core/insight.BurstRule); None takes the chain's setting.
    #: The language its survey and pages speak when the phone asks for none Loopdesk has (a French
    #: phone at London Soho): "en", "zh_Hans", "zh_Hant"; None: the chain's LOOPDESK_DEFAULT_LOCALE.
    default_language: Mapped[str | None] = mapped_column(String(8))
    #: How long the kiosk's thank-you page stays before the survey starts over; None: the chain's default.
    kiosk_restart_seconds: Mapped[int | None] = mapped_column()
    burst_min_negative: Mapped[int | None] = mapped_column()
    burst_min_share_percent: Mapped[int | None] = mapped_column()
    burst_window_minutes: Mapped[int | None] = mapped_column()

    qr_codes: Mapped[list[QrCode]] = relationship(
        back_populates="branch", order_by="QrCode.id", cascade="all, delete-orphan"
    )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def __repr__(self) -> str:
        return f"<Branch {self.code}>"


def new_qr_token() -> str:
    """96 random bits, URL-safe: the only thing a printed code reveals."""
    return secrets.token_urlsafe(12)


class QrCode(db.Model):
    __tablename__ = "qr_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    token: Mapped[str] = mapped_column(String(43), unique=True, default=new_qr_token)
    label: Mapped[str] = mapped_column(String(80), default="")
    #: A tablet on the counter: the survey starts over by itself after each customer.
    is_kiosk: Mapped[bool] = mapped_column(default=False)
    #: Optional: always open this questionnaire instead of the branch's current one.
    questionnaire_id: Mapped[int | None] = mapped_column(ForeignKey("questionnaires.id"))
    scan_count: Mapped[int] = mapped_column(default=0)
    response_count: Mapped[int] = mapped_column(default=0)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    branch: Mapped[Branch] = relationship(back_populates="qr_codes")
    questionnaire: Mapped[Questionnaire | None] = relationship()

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @classmethod
    def by_token(cls, token: str) -> QrCode | None:
        return db.session.scalar(select(cls).where(cls.token == token))

    def __repr__(self) -> str:
        return f"<QrCode {self.id} {self.label!r}>"
