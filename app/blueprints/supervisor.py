"""The supervisor board: what is breached or at risk, escalations waiting, bulk reassign, attainment."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.clock import utcnow
from app.core.ids import parse_id
from app.extensions import db
from app.i18n import join_list
from app.models import Role
from app.permissions import role_required
from app.services.sla import attainment as sla_attainment, board
from app.services import notifications as notification_service
from app.services.tickets import queries
from app.services import tickets as ticket_service
from app.services.tickets.errors import StaleTicket, TicketError

bp = Blueprint("supervisor", __name__, url_prefix="/supervisor")


@bp.get("/board")
@role_required(Role.SUPERVISOR)
def board_page():
    now = utcnow()
    labels = {1: _("Today"), 7: _("Last 7 days"), 30: _("Last 30 days")}
    return render_template(
        "supervisor/board.html",
        by_department=board.risk_by(current_user, "department"),
        by_branch=board.risk_by(current_user, "branch"),
        attainment=[(labels[days], board.attainment(current_user, now, days)) for days in sla_attainment.PERIOD_DAYS],
        zones=board.zones_of(current_user),
        targets={
            "first_response": sla_attainment.TARGET_FIRST_RESPONSE,
            "resolution": sla_attainment.TARGET_RESOLUTION,
        },
        escalations=notification_service.inbox(current_user, now, kinds=("escalation",), unread_only=True),
        at_risk=queries.queue(current_user, mine=False, at_risk=True, limit=50)
        + queries.queue(current_user, mine=False, breached=True, limit=50),
        assignable=queries.users_in_scope(current_user),
        reopened_by_customers=board.reopened_by_customers(current_user),
        now=now,
    )


@bp.post("/reassign")
@role_required(Role.SUPERVISOR)
def reassign():
    """Give several tickets to one person at once; tickets changed meanwhile are left out and named."""
    ids = request.form.getlist("ticket_id", type=parse_id)
    assignee_id = request.form.get("assignee_id", type=parse_id)
    moved, skipped = [], []
    for ticket_id in ids:
        ticket = queries.ticket_for(current_user, ticket_id)
        if ticket is None:
            continue
        assignee = queries.assignable_user(ticket, assignee_id)
        try:
            if assignee is None:
                raise TicketError(_("not in this ticket's department and branch"))
            ticket_service.assign(ticket, current_user, assignee, seen_version=ticket_service.page_version(ticket))
            db.session.commit()
            moved.append(ticket.reference_code)
        except (StaleTicket, TicketError):
            db.session.rollback()
            skipped.append(ticket.reference_code)
    if moved:
        flash(_("Reassigned: %(codes)s", codes=join_list(moved)))
    if skipped:
        flash(_("Not reassigned (changed meanwhile, or the person does not work there): %(codes)s", codes=join_list(skipped)))
    return redirect(url_for("supervisor.board_page"), 303)
