"""Improvement actions (整改措施, PDCA): from a key issue, a category or a ticket, to a checked effect."""
from __future__ import annotations

from collections.abc import Sequence

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user

from app.core.clock import utcnow
from app.core.ids import parse_id
from app.extensions import db
from app.forms.actions import (
    WHY_FIELDS,
    ActionForm,
    AskCustomersForm,
    ConfirmForm,
    LinkTicketForm,
    StatusForm,
    TellCustomersForm,
    show_problems,
)
from app.blueprints.outbox import hand_over_customer_messages
from app.models import ImprovementAction, Role, Ticket
from app.permissions import role_required
from app.services.improvement_actions import queries as action_queries
from app.services.improvement_actions import replies as customer_replies
from app.services import improvement_actions as actions
from app.services.improvement_actions.queries import ActionFilter
from app.services.improvement_actions import Refused

bp = Blueprint("actions", __name__, url_prefix="/actions")

#: Supervisors and admins (role_required lets admins through); staff get 403.
MANAGERS = (Role.SUPERVISOR,)


@bp.app_context_processor
def ticket_page_helpers() -> dict:
    """For the ticket page: the actions a ticket is linked to (only for those who manage actions)."""
    return {"improvement_actions_for": _actions_of_ticket, "action_status_labels": actions.STATUS_LABELS}


def _actions_of_ticket(ticket: Ticket) -> list[ImprovementAction]:
    if not current_user.is_authenticated or current_user.role not in (Role.SUPERVISOR, Role.ADMIN):
        return []
    return action_queries.actions_of_ticket(current_user, ticket)


@bp.context_processor
def action_labels() -> dict:
    return {
        "action_status_actions": actions.STATUS_ACTIONS,
        "fishbone_labels": actions.FISHBONE_LABELS,
        "source_labels": actions.SOURCE_LABELS,
        "is_overdue": action_queries.is_overdue,
        "why_fields": WHY_FIELDS,
    }


# --- The list --------------------------------------------------------------------------------


@bp.get("/")
@role_required(*MANAGERS)
def index():
    f = ActionFilter.from_args(request.args)
    today = action_queries.home_today()
    return render_template(
        "actions/index.html",
        rows=action_queries.list_actions(current_user, f, today),
        filters=f,
        branches=action_queries.branch_choices(current_user),
        completion=action_queries.completion(current_user, None, None, today),
        today=today,
    )


# --- A new action ----------------------------------------------------------------------------


def _branch_ids_arg() -> list[int]:
    return request.args.getlist("branch_ids", type=parse_id)


def _action_form(formdata: bool, keep_owner=None) -> ActionForm:
    form = ActionForm() if formdata else ActionForm(formdata=None)
    form.fill_choices(
        action_queries.branch_choices(current_user),
        action_queries.owner_choices(current_user, keep_owner),
        action_queries.dimension_choices(),
    )
    return form


@bp.route("/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def new():
    kind, ref = request.args.get("source_kind"), request.args.get("source_ref")
    if not kind and not ref:
        return render_template("actions/choose_source.html")
    source = action_queries.resolve_source(current_user, kind, ref, _branch_ids_arg())
    if source is None:
        abort(404)
    form = _action_form(formdata=request.method == "POST")
    general: list[str] = []
    if request.method == "GET":
        form.title.data = source.title
        form.category.data = source.category or ""
        form.dimension_key.data = source.dimension_key or ""
        form.branch_ids.data = list(source.branch_ids)
    elif form.validate():
        try:
            action = actions.create_action(current_user, source, form.values())
        except Refused as refused:
            db.session.rollback()
            general = form.show_problems(refused.problems)
        else:
            db.session.commit()
            flash(_("Improvement action created."))
            return redirect(url_for(".show", action_id=action.id), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("actions/new.html", form=form, source=source, general=general), status


# --- One action ------------------------------------------------------------------------------


def _action_or_404(action_id: int) -> ImprovementAction:
    action = action_queries.action_for(current_user, action_id)
    if action is None:
        abort(404)
    return action


def _page(
    action: ImprovementAction,
    *,
    form: ActionForm | None = None,
    link_form: LinkTicketForm | None = None,
    tell_form: TellCustomersForm | None = None,
    ask_form: AskCustomersForm | None = None,
    general: Sequence[str] = (),
    status: int = 200,
):
    now = utcnow()
    today = action_queries.home_today(now)
    if form is None:
        form = _action_form(formdata=False, keep_owner=action.owner)
        form.fill_from(action)
    if tell_form is None:
        tell_form = TellCustomersForm(formdata=None, data={
            f"message_{language}": message for language, message in customer_replies.default_messages(action).items()
        })
    if ask_form is None:
        ask_form = AskCustomersForm(formdata=None, data={
            f"message_{language}": message for language, message in customer_replies.rating_requests(action).items()
        })
    upcoming = actions.next_status(action)
    to_ask = customer_replies.customers_to_ask(action)
    return render_template(
        "actions/show.html",
        action=action,
        form=form,
        status_form=StatusForm(formdata=None),
        link_form=link_form or LinkTicketForm(formdata=None),
        tell_form=tell_form,
        ask_form=ask_form,
        to_ask=to_ask,
        ask_languages=customer_replies.languages_of(to_ask),
        can_ask=customer_replies.can_ask(action, now),
        confirm_form=ConfirmForm(formdata=None),
        general=general,
        upcoming=upcoming,
        act_waits=upcoming == "act" and action.check_due_on is not None and today < action.check_due_on,
        effect=action_queries.before_after(action, now),
        dimension_names=dict(action_queries.dimension_choices()),
        source_summary=action_queries.source_summary(action),
        min_responses=action_queries.MIN_RESPONSES,
        reachable=[t for t in action.tickets if customer_replies.customer_can_follow(t)],
        languages=customer_replies.languages_needed(action),
        can_tell=action.status in action_queries.DONE_STATUSES and action.customers_told_at is None,
        earliest_check=actions.earliest_check(action) if action.completed_at else None,
        home_zone=action_queries.home_zone(),
        today=today,
    ), status


def _refused_page(action_id: int, refused: Refused, **forms):
    """After a refusal: the session is rolled back and the page shows the action as saved."""
    db.session.rollback()
    action = _action_or_404(action_id)
    general = [str(m) for key, m in refused.problems.items() if not any(key in f for f in forms.values())]
    for form in forms.values():
        show_problems(form, {k: m for k, m in refused.problems.items() if k in form})
    return _page(action, general=general, status=422, **forms)


@bp.route("/<id:action_id>", methods=["GET", "POST"])
@role_required(*MANAGERS)
def show(action_id: int):
    action = _action_or_404(action_id)
    if request.method == "GET":
        return _page(action)
    form = _action_form(formdata=True, keep_owner=action.owner)
    if form.validate():
        try:
            changed = actions.update_action(current_user, action, form.values())
        except Refused as refused:
            db.session.rollback()
            general = form.show_problems(refused.problems)
            return _page(_action_or_404(action_id), form=form, general=general, status=422)
        db.session.commit()
        flash(_("Saved.") if changed else _("Nothing changed."))
        return redirect(url_for(".show", action_id=action_id), 303)
    return _page(action, form=form, status=422)


@bp.post("/<id:action_id>/status")
@role_required(*MANAGERS)
def change_status(action_id: int):
    action = _action_or_404(action_id)
    form = StatusForm()
    if not form.validate():
        abort(400)
    try:
        actions.advance(current_user, action, form.status.data or "")
    except Refused as refused:
        return _refused_page(action_id, refused)
    db.session.commit()
    flash(_("The action is now at “%(status)s”.", status=actions.STATUS_LABELS[action.status]))
    return redirect(url_for(".show", action_id=action_id), 303)


@bp.post("/<id:action_id>/tickets")
@role_required(*MANAGERS)
def link_ticket(action_id: int):
    action = _action_or_404(action_id)
    form = LinkTicketForm()
    if not form.validate():
        return _page(action, link_form=form, status=422)
    try:
        ticket = actions.link_ticket(current_user, action, form.reference_code.data)
    except Refused as refused:
        return _refused_page(action_id, refused, link_form=form)
    db.session.commit()
    flash(_("Ticket %(code)s linked.", code=ticket.reference_code))
    return redirect(url_for(".show", action_id=action_id), 303)


@bp.post("/<id:action_id>/tickets/<id:ticket_id>/remove")
@role_required(*MANAGERS)
def unlink_ticket(action_id: int, ticket_id: int):
    action = _action_or_404(action_id)
    if not ConfirmForm().validate():
        abort(400)
    if actions.unlink_ticket(current_user, action, ticket_id):
        db.session.commit()
        flash(_("Ticket unlinked."))
    return redirect(url_for(".show", action_id=action_id), 303)


@bp.post("/<id:action_id>/tell")
@role_required(*MANAGERS)
def tell_customers(action_id: int):
    action = _action_or_404(action_id)
    form = TellCustomersForm()
    if not form.validate():
        return _page(action, tell_form=form, status=422)
    try:
        told = customer_replies.tell_customers(current_user, action, form.messages())
    except Refused as refused:
        return _refused_page(action_id, refused, tell_form=form)
    db.session.commit()
    hand_over_customer_messages()
    flash(ngettext("Told %(num)d customer: the reply is on their ticket's status page.",
                   "Told %(num)d customers: the reply is on their tickets' status pages.", len(told.tickets)))
    return redirect(url_for(".show", action_id=action_id), 303)


@bp.post("/<id:action_id>/ask")
@role_required(*MANAGERS)
def ask_customers(action_id: int):
    """At the effect check: ask the customers told of the fix to rate the handling on their status page."""
    action = _action_or_404(action_id)
    form = AskCustomersForm()
    if not form.validate():
        return _page(action, ask_form=form, status=422)
    try:
        asked = customer_replies.ask_customers_to_rate(current_user, action, form.messages())
    except Refused as refused:
        return _refused_page(action_id, refused, ask_form=form)
    db.session.commit()
    hand_over_customer_messages()
    flash(_("Customers asked to rate the handling: %(num)d.", num=len(asked.tickets)))
    return redirect(url_for(".show", action_id=action_id), 303)
