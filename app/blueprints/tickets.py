"""Tickets for staff on tablets: the queue, a ticket's page and its actions, new phone/walk-in tickets."""
from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from jinja2_fragments.flask import render_block

from app import labels
from app.core.clock import utcnow
from app.core.ids import id_or_zero, parse_id
from app.extensions import db, htmx
from app.i18n import answer_label, text
from app.forms.tickets import NewTicketForm
from app.blueprints.outbox import hand_over_customer_messages
from app.models import Role
from app.permissions import role_required
from app.services.sla import clocks, refreshes
from app.services.tickets import queries
from app.services import tickets as ticket_service
from app.services.tickets import opening, search
from app.services.tickets.errors import StaleTicket, TicketError

bp = Blueprint("tickets", __name__, url_prefix="/staff")

STAFF = (Role.STAFF, Role.SUPERVISOR)


@bp.app_context_processor
def ticket_labels() -> dict:
    return {
        "status_labels": labels.STATUS_LABELS,
        "customer_status_labels": labels.CUSTOMER_STATUS_LABELS,
        "status_actions": labels.STATUS_ACTIONS,
        "priority_labels": labels.PRIORITY_LABELS,
        "category_labels": labels.CATEGORY_LABELS,
        "channel_labels": labels.CHANNEL_LABELS,
        "sla_state_labels": labels.SLA_STATE_LABELS,
        "event_label": labels.event_label,
        "ticket_subject": labels.ticket_subject,
        "rule_name": labels.rule_name,
        "timeline_label": labels.timeline_label,
        "next_due": queries.next_due,
        "due_recalculating": _due_recalculating,
    }


def _due_recalculating(ticket) -> bool:
    """Whether an edit's refresh has not reached the ticket yet (its stored due times are the old ones)."""
    if "sla_refreshes" not in g:
        g.sla_refreshes = refreshes.pending()
    return refreshes.is_recalculating(ticket, g.sla_refreshes)


def _queue_order() -> str:
    """The order asked for, when the user may choose one (supervisors, admins); else the default."""
    order = request.args.get("order")
    if order in queries.QUEUE_ORDERS and queries.may_choose_order(current_user):
        return order
    return queries.DEFAULT_ORDER


@bp.get("/queue")
@role_required(*STAFF)
def queue():
    filters = {
        "view": request.args.get("view", "mine") if request.args.get("view") in ("mine", "all") else "mine",
        "status": request.args.get("status")
        if request.args.get("status") in labels.STATUS_LABELS or request.args.get("status") == queries.ANY_STATUS
        else None,
        "priority": request.args.get("priority") if request.args.get("priority") in labels.PRIORITY_LABELS else None,
        "branch": request.args.get("branch", type=parse_id),
        "risk": request.args.get("risk") if request.args.get("risk") in ("at_risk", "breached") else None,
        "order": _queue_order(),
    }
    query = request.args.get("q", "").strip()[:search.MAX_QUERY]
    found = search.search(current_user, query) if query else None
    rows = [] if found is not None else queries.queue(
        current_user,
        mine=filters["view"] == "mine",
        status=filters["status"],
        priority=filters["priority"],
        branch_id=filters["branch"],
        at_risk=filters["risk"] == "at_risk",
        breached=filters["risk"] == "breached",
        narrowed=queries.TicketFilter.from_args(request.args),
        order=filters["order"],
    )
    context = {
        "tickets": rows,
        "query": query,
        "found": found,
        "filters": filters,
        "orders": labels.QUEUE_ORDER_LABELS if queries.may_choose_order(current_user) else None,
        "branches": queries.branches_in_scope(current_user),
        "now": utcnow(),
    }
    headers = {"Vary": "HX-Request"}
    if htmx and not htmx.boosted and not htmx.history_restore_request:
        return render_block("tickets/queue.html", "rows", **context), 200, headers
    return render_template("tickets/queue.html", **context), 200, headers


def _ticket_or_404(ticket_id: int):
    ticket = queries.ticket_for(current_user, ticket_id)
    if ticket is None:
        abort(404)
    return ticket


def _ticket_page(ticket, status: int = 200, **extra):
    now = utcnow()
    clock = clocks.clock_for(ticket, now)
    answers = queries.survey_answers(ticket)
    question_names = {key: text(question.prompt) for key, question in answers.questions.items()} if answers else {}
    context = {
        "ticket": ticket,
        "seen_version": ticket_service.page_version(ticket),
        "now": now,
        "next_statuses": ticket_service.next_statuses(ticket.status),
        "assignable": queries.assignable_users(ticket),
        "explanations": [(_("First response"), clock.first_response), (_("Resolution"), clock.resolution)],
        "others": queries.other_viewers(ticket, current_user, now),
        "routing_reasons": labels.routing_reasons(
            ticket.routing.get("reasons"), queries.department_names(), question_names
        ),
        "chosen": [(text(question.prompt), answer_label(question, value)) for question, value in answers.choices]
        if answers else [],
        **extra,
    }
    return render_template("tickets/show.html", **context), status


@bp.get("/tickets/<id:ticket_id>")
@role_required(*STAFF)
def show(ticket_id: int):
    ticket = _ticket_or_404(ticket_id)
    queries.touch_viewer(ticket, current_user, utcnow())
    db.session.commit()
    return _ticket_page(ticket)


@bp.get("/tickets/<id:ticket_id>/viewers")
@role_required(*STAFF)
def viewers(ticket_id: int):
    ticket = _ticket_or_404(ticket_id)
    now = utcnow()
    queries.touch_viewer(ticket, current_user, now)
    db.session.commit()
    return render_template("tickets/_viewers.html", others=queries.other_viewers(ticket, current_user, now))


ACTIONS = ("claim", "assign", "status", "priority", "message")


@bp.post("/tickets/<id:ticket_id>/<action>")
@role_required(*STAFF)
def act(ticket_id: int, action: str):
    if action not in ACTIONS:
        abort(404)
    ticket = _ticket_or_404(ticket_id)
    seen = request.form.get("seen_version", type=id_or_zero)
    if seen is None:
        abort(400)
    body = (request.form.get("body") or "").strip()
    try:
        _perform(ticket, action, seen, body)
        db.session.commit()
        hand_over_customer_messages()
    except StaleTicket as stale:
        db.session.rollback()
        fresh = _ticket_or_404(ticket_id)
        return _ticket_page(fresh, 409, changes=stale.changes, draft_body=body)
    except TicketError as error:
        db.session.rollback()
        fresh = _ticket_or_404(ticket_id)
        return _ticket_page(fresh, 422, message=str(error), error=True, draft_body=body)
    if htmx:
        return _ticket_page(_ticket_or_404(ticket_id), message=_("Saved."))
    return redirect(url_for("tickets.show", ticket_id=ticket_id), 303)


def _perform(ticket, action: str, seen: int, body: str) -> None:
    form = request.form
    if action == "claim":
        ticket_service.claim(ticket, current_user, seen_version=seen)
    elif action == "assign":
        assignee = queries.assignable_user(ticket, form.get("assignee_id", type=parse_id))
        if assignee is None:
            raise TicketError(_("Choose someone who works on this ticket's department and branch."))
        ticket_service.assign(ticket, current_user, assignee, seen_version=seen)
    elif action == "status":
        ticket_service.change_status(ticket, current_user, form.get("status", ""), seen_version=seen)
    elif action == "priority":
        ticket_service.change_priority(ticket, current_user, form.get("priority", ""), seen_version=seen)
    else:
        kind = form.get("kind")
        operation = {"reply": ticket_service.reply, "note": ticket_service.add_note, "call": ticket_service.log_call}.get(kind)
        if operation is None:
            abort(400)
        operation(ticket, current_user, body, seen_version=seen)


@bp.route("/tickets/new", methods=["GET", "POST"])
@role_required(*STAFF)
def new():
    form = NewTicketForm()
    form.fill_choices(queries.branches_in_scope(current_user), queries.departments_in_scope(current_user))
    if form.validate_on_submit():
        ticket = opening.create_ticket(current_user, **form.ticket_fields())
        db.session.commit()
        return redirect(url_for("tickets.show", ticket_id=ticket.id), 303)
    status = 422 if form.errors else 200
    return render_template("tickets/new.html", form=form), status
