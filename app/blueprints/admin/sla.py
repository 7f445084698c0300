"""SLA policies per priority, their escalation ladders, and which statuses pause the clock.

Every change is committed first, then the open tickets' due times are refreshed by a job
(``app.jobs.sla``): in process without Redis, in a worker with it.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user

from app import jobs, labels
from app.extensions import db
from app.forms.admin_sla import PausingForm, PolicyForm, RungForm, rung_sentence
from app.jobs.sla import refresh_branch_tickets, refresh_policy_tickets
from app.models import EscalationRule, SlaPolicy
from app.services.sla import refreshes, settings
from app.services.sla.settings import SettingError

bp = Blueprint("sla", __name__, url_prefix="/sla")


def _index_page(status: int = 200, posted: dict[int, PolicyForm] | None = None, pausing_form: PausingForm | None = None):
    """The page; ``posted`` (policy id → form) and ``pausing_form`` keep what was typed, with its errors."""
    policies = settings.policies()
    db.session.commit()  # the defaults, when this installation had none yet
    forms = {policy.id: PolicyForm.of(policy) for policy in policies} | (posted or {})
    statuses = settings.pausing_settings()
    if pausing_form is None:
        pausing_form = PausingForm(formdata=None, pausing=[row.status for row in statuses if row.pauses_clock])
    pausing_form.fill_statuses([row.status for row in statuses])
    return render_template(
        "admin/sla/index.html",
        policies=policies,
        forms=forms,
        ladders={policy.id: settings.ladder(policy) for policy in policies},
        open_counts=settings.open_tickets_by_priority(),
        pausing_form=pausing_form,
        priority_labels=labels.PRIORITY_LABELS,
        rung_sentence=rung_sentence,
    ), status


@bp.get("/")
def index():
    return _index_page()


def _refresh(count: int, job, *args, retime: dict | None = None) -> None:
    """After the commit: ``count`` open tickets' due times follow the change (a job); the flash says so.

    ``retime``: the scope whose due times move (``refreshes.request``): its tickets say "due time being
    recalculated" until the job has reached them (a ladder edit moves no due time).
    """
    if retime is not None:
        refreshes.request(**retime)
        db.session.commit()
    if not jobs.enqueue(job, *args):
        flash(_("Saved, but the due times of the open tickets could not be updated now; "
                "each ticket follows at its next check."), "error")
    elif count:
        flash(ngettext("The due time of %(num)d open ticket is being updated.",
                       "The due times of %(num)d open tickets are being updated.", count))


def _refresh_policy(policy: SlaPolicy, due_times_move: bool = False) -> None:
    _refresh(settings.open_tickets(policy.priority), refresh_policy_tickets, policy.id,
             retime={"priority": policy.priority} if due_times_move else None)


def _policy(policy_id: int) -> SlaPolicy:
    return db.get_or_404(SlaPolicy, policy_id)


@bp.post("/policies/<id:policy_id>")
def update_policy(policy_id: int):
    policy = _policy(policy_id)
    form = PolicyForm(prefix=f"policy{policy.id}")
    if form.validate_on_submit():
        try:
            changed = settings.update_policy(current_user, policy, **form.policy_values())
        except SettingError as error:
            form.show(error)
        else:
            db.session.commit()
            priority = labels.PRIORITY_LABELS.get(policy.priority, policy.priority)
            if not changed:
                flash(_("Nothing changed in the %(priority)s policy.", priority=priority))
            else:
                flash(_("The %(priority)s policy is saved.", priority=priority))
                _refresh_policy(policy, due_times_move=True)
            return redirect(url_for(".index", _anchor=f"policy-{policy.id}"), 303)
    db.session.rollback()
    return _index_page(422, posted={policy.id: form})


def _rung_page(form: RungForm, policy: SlaPolicy, rule=None, status: int = 200):
    return render_template(
        "admin/sla/rung.html",
        form=form,
        policy=policy,
        rule=rule,
        priority=labels.PRIORITY_LABELS.get(policy.priority, policy.priority),
        sentence=rung_sentence(rule, policy) if rule is not None else None,
    ), status


@bp.route("/policies/<id:policy_id>/rungs/new", methods=["GET", "POST"])
def new_rung(policy_id: int):
    policy = _policy(policy_id)
    form = RungForm()
    form.fill_departments(settings.active_departments())
    if form.validate_on_submit():
        try:
            rule = settings.add_rung(current_user, policy, **form.rung_values())
        except SettingError as error:
            db.session.rollback()
            form.show(error)
        else:
            db.session.commit()
            flash(_("Added: %(rung)s", rung=rung_sentence(rule, policy)))
            _refresh_policy(policy)
            return redirect(url_for(".index", _anchor=f"policy-{policy.id}"), 303)
    return _rung_page(form, policy, status=422 if form.errors else 200)


def _rung(rule_id: int) -> EscalationRule:
    """An active rung (a removed one is gone for the admin pages)."""
    rule = settings.active_rung(rule_id)
    if rule is None:
        abort(404)
    return rule


@bp.route("/rungs/<id:rule_id>", methods=["GET", "POST"])
def edit_rung(rule_id: int):
    rule = _rung(rule_id)
    policy = rule.policy
    form = RungForm() if request.method == "POST" else RungForm.of(rule)
    form.fill_departments(settings.active_departments(), rule.move_to_department)
    if form.validate_on_submit():
        try:
            changed = settings.update_rung(current_user, rule, **form.rung_values())
        except SettingError as error:
            db.session.rollback()
            form.show(error)
        else:
            db.session.commit()
            if changed:
                flash(_("Saved: %(rung)s", rung=rung_sentence(rule, policy)))
                _refresh_policy(policy)
            else:
                flash(_("Nothing changed in this rung."))
            return redirect(url_for(".index", _anchor=f"policy-{policy.id}"), 303)
    return _rung_page(form, policy, rule, status=422 if form.errors else 200)


@bp.post("/rungs/<id:rule_id>/remove")
def remove_rung(rule_id: int):
    rule = _rung(rule_id)
    policy = rule.policy
    sentence = rung_sentence(rule, policy)
    settings.remove_rung(current_user, rule)
    db.session.commit()
    flash(_("Removed: %(rung)s", rung=sentence))
    _refresh_policy(policy)
    return redirect(url_for(".index", _anchor=f"policy-{policy.id}"), 303)


@bp.post("/statuses")
def update_statuses():
    form = PausingForm()
    form.fill_statuses([row.status for row in settings.pausing_settings()])
    if form.validate_on_submit():
        try:
            changed = settings.update_pausing_statuses(current_user, form.pausing.data or [])
        except SettingError as error:
            db.session.rollback()
            form.show(error)
        else:
            db.session.commit()
            if not changed:
                flash(_("Nothing changed in which statuses pause the clock."))
                return redirect(url_for(".index", _anchor="statuses"), 303)
            flash(_("Saved which statuses pause the SLA clock."))
            _refresh(settings.open_tickets(), refresh_branch_tickets, None, retime={})  # None: every branch
            return redirect(url_for(".index", _anchor="statuses"), 303)
    db.session.rollback()
    return _index_page(422, pausing_form=form)
