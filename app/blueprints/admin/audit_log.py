"""The audit log of every admin change, filterable by what, who, when and action."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template, request

from app.core.ids import parse_id
from app.extensions import db
from app.models import Role, User
from app.services import audit

bp = Blueprint("audit", __name__, url_prefix="/audit")


def _day_start(text: str | None) -> datetime | None:
    """The start of a YYYY-MM-DD day in head office's time zone; None when empty or not a date."""
    try:
        day = datetime.strptime(text or "", "%Y-%m-%d").date()
    except ValueError:
        return None
    return datetime.combine(day, time(), tzinfo=ZoneInfo(current_app.config["LOOPDESK_HOME_TIMEZONE"]))


@bp.get("/")
def index():
    args = request.args
    until = _day_start(args.get("until"))
    filters = audit.AuditFilter(
        entity_type=args.get("entity_type") or None,
        entity_id=args.get("entity_id", type=parse_id),
        user_id=args.get("user_id", type=parse_id),
        api_key_id=args.get("api_key_id", type=parse_id),
        action=args.get("action") or None,
        since=_day_start(args.get("since")),
        until=until + timedelta(days=1) if until else None,
        text=(args.get("q") or "").strip() or None,
    )
    rows = audit.entries(filters, limit=100, before_id=args.get("before", type=parse_id))
    return render_template(
        "admin/audit.html",
        rows=rows,
        args=args,
        entity_types=audit.entity_types_in_log(),
        actions=audit.actions_in_log(),
        admins=db.session.scalars(db.select(User).where(User.role == Role.ADMIN).order_by(User.username)).all(),
        more=len(rows) == 100,
        pager_args={k: v for k, v in args.items() if k != "before" and v},
    )
