"""Routing rules as admins edit them; app.core.routing applies them."""
from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.people import Department


class RoutingRule(db.Model):
    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(default=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    set_category: Mapped[str | None] = mapped_column(String(24))
    #: [{"question": "service", "operator": "lte", "value": "2"}, …]
    conditions: Mapped[list[dict]] = mapped_column(JSON, default=list)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    branch_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)

    department: Mapped[Department] = relationship()
