"""Each user's notifications: the inbox, its badge (polled by htmx), and the dev e-mail outbox."""
from __future__ import annotations

import re

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.core.clock import utcnow
from app.core.ids import parse_id
from app.extensions import db
from app.models import Role
from app.permissions import role_required
from app.services import notifications as notification_service

bp = Blueprint("inbox", __name__, url_prefix="/me")


@bp.app_template_global()
def notification_href(notification) -> str | None:
    """Where a notification leads: its ticket, else the first link into Loopdesk in its text (an alert's dashboard).

    The text carries an absolute link for e-mail; the inbox uses its path, so it works whatever host serves it.
    """
    if notification.ticket_id:
        return url_for("tickets.show", ticket_id=notification.ticket_id)
    base = re.escape(current_app.config["LOOPDESK_BASE_URL"].rstrip("/"))
    match = re.search(base + r"(/[^\s]*)", notification.body or "")
    return match.group(1) if match else None


@bp.get("/notifications")
@login_required
def notifications():
    now = utcnow()
    return render_template("inbox/notifications.html", items=notification_service.inbox(current_user, now))


@bp.get("/notifications/badge")
@login_required
def badge():
    return render_template("inbox/_badge.html", unread=notification_service.unread_count(current_user, utcnow()))


@bp.post("/notifications/read")
@login_required
def mark_read():
    ids = request.form.getlist("notification_id", type=parse_id)
    notification_service.mark_read(current_user, ids or None, utcnow())
    db.session.commit()
    return redirect(url_for("inbox.notifications"), 303)


@bp.get("/outbox")
@role_required(Role.ADMIN)
def outbox():
    """E-mails as sent, or (without SMTP settings, in dev) only written here and to the log."""
    return render_template("inbox/outbox.html", emails=notification_service.recent_emails(limit=100))
