"""Branches, their business hours and holidays, and their QR codes and posters."""
from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user

from app.core.clock import utcnow
from app.core.ids import parse_id
from app.extensions import db
from app.forms.admin_branches import (
    DEFAULT_HOURS,
    AnyBranchHolidayForm,
    BranchForm,
    BurstAlertForm,
    ConfirmForm,
    HolidayForm,
    NewBranchForm,
    PostersForm,
    QrCodeForm,
    hours_data,
    region_label,
)
from app.jobs import enqueue
from app.jobs.insight import rebuild_branch_rollups
from app.jobs.sla import refresh_branch_tickets
from app.models import Branch, Holiday, QrCode
from app.services import job_runs
from app.services.sla import refreshes
from app.services.branches import admin as branch_admin
from app.services.branches.admin import Refused
from app.services.branches.qr_codes import poster_checks, survey_link
from app.services.insight.alerts import burst_rule
from app.services.survey.entries import forget_cached_codes

bp = Blueprint("branches", __name__, url_prefix="/branches")

STATUS_FILTERS = {"active": True, "inactive": False}
#: How far ahead the pages list the holidays the SLA clocks will skip.
HOLIDAYS_AHEAD = timedelta(days=365)


@bp.context_processor
def branch_helpers() -> dict:
    return {
        "country_name": _country_name,
        "region_name": _region_name,
        "burst_rule": burst_rule,
        "poster_checks": poster_checks,
    }


def _region_name(country: str, subdivision: str | None = None) -> str:
    return region_label(f"{country}-{subdivision}" if subdivision else country)


def _country_name(code: str) -> str:
    locale = get_locale()
    return locale.territories.get(code, code) if locale is not None else code


def _today(zone: str | None = None) -> date:
    return utcnow().astimezone(ZoneInfo(zone or current_app.config["LOOPDESK_HOME_TIMEZONE"])).date()


def _calendar_changed(branch_id: int | None) -> None:
    """After the commit: open tickets of the branch (None: of every branch) get their new due times; until
    the job reaches them they say "due time being recalculated"."""
    refreshes.request(branch_id=branch_id)
    db.session.commit()
    enqueue(refresh_branch_tickets, branch_id)


# --- Branches ------------------------------------------------------------------------


@bp.get("/")
def index():
    status = request.args.get("status", "")
    text = (request.args.get("q") or "").strip()
    rows = branch_admin.branch_rows(STATUS_FILTERS.get(status), text or None)
    return render_template("admin/branches/index.html", rows=rows, status=status, q=text)


@bp.route("/new", methods=["GET", "POST"])
def new():
    if request.method == "POST":
        form = NewBranchForm()
    else:
        form = NewBranchForm(data=hours_data(DEFAULT_HOURS))
    if _checked(form):
        try:
            branch = branch_admin.create_branch(current_user, form.branch_values(), form.first_code_label.data.strip())
        except Refused as refused:
            db.session.rollback()
            form.show_problems(refused.problems)
        else:
            db.session.commit()
            flash(_("Branch %(name)s created with its first QR code.", name=branch.name))
            return redirect(url_for(".show", branch_id=branch.id), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/branches/new.html", form=form, regions=branch_admin.regions()), status


def _checked(form: BranchForm, branch: Branch | None = None) -> bool:
    """A posted branch form that both the form and the branch rules accept; else every problem is at its field."""
    if not form.is_submitted():
        return False
    valid = form.validate()
    problems = branch_admin.branch_problems(form.branch_values(), branch)
    form.show_rule_problems(problems)
    return valid and not problems


def _branch_or_404(branch_id: int) -> Branch:
    branch = branch_admin.branch_with_codes(branch_id)
    if branch is None:
        abort(404)
    return branch


@bp.route("/<id:branch_id>", methods=["GET", "POST"])
def show(branch_id: int):
    branch = _branch_or_404(branch_id)
    if request.method == "GET":
        return _branch_page(branch)
    form = BranchForm(obj=branch)
    if _checked(form, branch):
        old_timezone = branch.timezone
        try:
            calendar_changed = branch_admin.update_branch(current_user, branch, form.branch_values())
        except Refused as refused:
            db.session.rollback()
            form.show_problems(refused.problems)
        else:
            db.session.commit()
            forget_cached_codes()
            if calendar_changed:
                _calendar_changed(branch.id)
            if branch.timezone != old_timezone:  # its responses now fall on other local days
                enqueue(rebuild_branch_rollups, branch.id, timeout=current_app.config["LOOPDESK_FILE_JOB_TIMEOUT"])
            flash(_("Branch saved."))
            return redirect(url_for(".show", branch_id=branch.id), 303)
    return _branch_page(branch, form=form, status=422)


def _branch_page(
    branch: Branch,
    form: BranchForm | None = None,
    code_form: QrCodeForm | None = None,
    holiday_form: HolidayForm | None = None,
    status: int = 200,
):
    if form is None:
        form = BranchForm(formdata=None, obj=branch, data=hours_data(branch.opening_hours))
    if code_form is None:
        code_form = QrCodeForm(formdata=None, prefix="code")
        code_form.fill_choices(branch_admin.pinnable_questionnaires())
    today = _today(branch.timezone)
    codes = branch.qr_codes
    return render_template(
        "admin/branches/show.html",
        branch=branch,
        form=form,
        code_form=code_form,
        holiday_form=holiday_form or HolidayForm(formdata=None, prefix="holiday"),
        regions=branch_admin.regions(),
        codes=codes,
        survey_link=survey_link,
        scans=sum(qr.scan_count for qr in codes),
        responses=sum(qr.response_count for qr in codes),
        holidays=branch_admin.holidays_from(today, branch),
        public=next(iter(branch_admin.public_days_by_country([branch], today, today + HOLIDAYS_AHEAD, get_locale())), None),
    ), status


@bp.route("/<id:branch_id>/deactivate", methods=["GET", "POST"])
def deactivate(branch_id: int):
    branch = _branch_or_404(branch_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        branch_admin.set_active(current_user, branch, False)
        db.session.commit()
        forget_cached_codes()
        flash(_("Branch %(name)s deactivated: its QR codes now say the survey is closed.", name=branch.name))
        return redirect(url_for(".show", branch_id=branch.id), 303)
    return _confirmation(
        form,
        branch,
        title=_("Deactivate %(name)s?", name=branch.name),
        explanation=_(
            "Customers who scan its QR codes will read that the survey is closed, and its posters are left out "
            "of the all-posters download. Its responses, tickets and codes are kept; you can reactivate it any time."
        ),
        button=_("Deactivate branch"),
    )


def _confirmation(form: ConfirmForm, branch: Branch, title: str, explanation: str, button: str):
    """The page that asks before a change customers will notice: works without JavaScript."""
    return render_template(
        "admin/branches/confirm.html", form=form, branch=branch, title=title, explanation=explanation, button=button
    )


@bp.post("/<id:branch_id>/activate")
def activate(branch_id: int):
    branch = _branch_or_404(branch_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    branch_admin.set_active(current_user, branch, True)
    db.session.commit()
    forget_cached_codes()
    flash(_("Branch %(name)s reactivated: its QR codes work again.", name=branch.name))
    return redirect(url_for(".show", branch_id=branch.id), 303)


@bp.post("/posters")
def posters():
    """All branches' posters at once, built by a job; its page shows the progress and the download."""
    form = PostersForm()
    if not form.validate_on_submit():
        abort(400)
    run = job_runs.start(f"posters_{form.format.data}", current_user)
    return redirect(url_for("jobs.show", run_id=run.id), 303)


# --- QR codes ----------------------------------------------------------------------


@bp.post("/<id:branch_id>/codes")
def new_code(branch_id: int):
    branch = _branch_or_404(branch_id)
    form = QrCodeForm(prefix="code")
    form.fill_choices(branch_admin.pinnable_questionnaires())
    if form.validate_on_submit():
        try:
            qr = branch_admin.add_code(current_user, branch, form.code_values())
        except Refused as refused:
            db.session.rollback()
            for message in form.show_problems(refused.problems):
                flash(message, "error")
        else:
            db.session.commit()
            flash(_("QR code %(label)s added: download its poster below.", label=qr.label))
            return redirect(url_for(".show", branch_id=branch.id, _anchor=f"code-{qr.id}"), 303)
    return _branch_page(_branch_or_404(branch_id), code_form=form, status=422)


def _code_in_use_or_redirect(qr_id: int) -> QrCode:
    qr = db.get_or_404(QrCode, qr_id)
    if qr.revoked:
        flash(_("This QR code is no longer in use and cannot be changed."), "error")
        abort(redirect(url_for(".show", branch_id=qr.branch_id), 303))
    return qr


@bp.route("/codes/<id:qr_id>", methods=["GET", "POST"])
def edit_code(qr_id: int):
    qr = _code_in_use_or_redirect(qr_id)
    form = QrCodeForm(obj=qr)
    form.fill_choices(branch_admin.pinnable_questionnaires(qr.questionnaire_id))
    if request.method == "GET":
        form.questionnaire_id.data = qr.questionnaire_id or 0
    elif form.validate_on_submit():
        try:
            branch_admin.update_code(current_user, qr, form.code_values())
        except Refused as refused:
            db.session.rollback()
            for message in form.show_problems(refused.problems):
                flash(message, "error")
        else:
            db.session.commit()
            forget_cached_codes()
            flash(_("QR code saved."))
            return redirect(url_for(".show", branch_id=qr.branch_id, _anchor=f"code-{qr.id}"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/branches/code.html", form=form, qr=qr, branch=qr.branch), status


@bp.route("/codes/<id:qr_id>/rotate", methods=["GET", "POST"])
def rotate_code(qr_id: int):
    qr = _code_in_use_or_redirect(qr_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        replacement = branch_admin.rotate_code(current_user, qr)
        db.session.commit()
        forget_cached_codes()
        flash(_("QR code %(label)s replaced. Print its new poster: the old one now says it is no longer in use.",
                label=replacement.label))
        return redirect(url_for(".show", branch_id=qr.branch_id, _anchor=f"code-{replacement.id}"), 303)
    return _confirmation(
        form,
        qr.branch,
        title=_("Replace QR code %(label)s with a new one?", label=qr.label),
        explanation=_(
            "The new code keeps the label, kiosk setting and questionnaire. Printed posters of the old code stop "
            "working: customers who scan them read that the code is no longer in use. Use this when a code was "
            "copied or misused."
        ),
        button=_("Replace with a new code"),
    )


@bp.route("/codes/<id:qr_id>/revoke", methods=["GET", "POST"])
def revoke_code(qr_id: int):
    qr = _code_in_use_or_redirect(qr_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        branch_admin.revoke_code(current_user, qr)
        db.session.commit()
        forget_cached_codes()
        flash(_("QR code %(label)s revoked: it now says it is no longer in use.", label=qr.label))
        return redirect(url_for(".show", branch_id=qr.branch_id, _anchor="codes"), 303)
    return _confirmation(
        form,
        qr.branch,
        title=_("Revoke QR code %(label)s?", label=qr.label),
        explanation=_(
            "Customers who scan it will read that it is no longer in use. Its scans and responses are kept. "
            "This cannot be undone: add a new code if you need one again."
        ),
        button=_("Revoke code"),
    )


# --- Holidays ----------------------------------------------------------------------


@bp.route("/holidays", methods=["GET", "POST"])
def holidays():
    form = AnyBranchHolidayForm()
    branches = branch_admin.all_branches()
    form.fill_choices(branches)
    if form.validate_on_submit():
        branch = db.session.get(Branch, form.branch_id.data) if form.branch_id.data else None
        if _holiday_added(form, branch):
            return redirect(url_for(".holidays"), 303)
    today = _today()
    past = request.args.get("past") == "1"
    return render_template(
        "admin/branches/holidays.html",
        form=form,
        branches_by_id={b.id: b for b in branches},
        holidays=branch_admin.holidays_from(None if past else today),
        past=past,
        countries=branch_admin.public_days_by_country(
            [b for b in branches if b.active], today, today + HOLIDAYS_AHEAD, get_locale()
        ),
    ), 422 if request.method == "POST" else 200


def _holiday_added(form: HolidayForm, branch: Branch | None) -> bool:
    """Add the form's holiday and commit (True), or put the refusal at its field (False)."""
    try:
        branch_admin.add_holiday(current_user, branch, form.day.data, form.name.data.strip())
    except Refused as refused:
        db.session.rollback()
        form.show_problems(refused.problems)
        return False
    db.session.commit()
    _calendar_changed(branch.id if branch is not None else None)
    flash(_("Holiday added."))
    return True


@bp.post("/<id:branch_id>/holidays")
def branch_holidays(branch_id: int):
    branch = _branch_or_404(branch_id)
    form = HolidayForm(prefix="holiday")
    if form.validate_on_submit() and _holiday_added(form, branch):
        return redirect(url_for(".show", branch_id=branch.id, _anchor="holidays"), 303)
    return _branch_page(_branch_or_404(branch_id), holiday_form=form, status=422)


@bp.post("/holidays/<id:holiday_id>/delete")
def delete_holiday(holiday_id: int):
    holiday = db.get_or_404(Holiday, holiday_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    branch_id = holiday.branch_id
    branch_admin.remove_holiday(current_user, holiday)
    db.session.commit()
    _calendar_changed(branch_id)
    flash(_("Holiday removed."))
    back_to = request.form.get("from_branch", type=parse_id)
    if back_to and db.session.get(Branch, back_to) is not None:
        return redirect(url_for(".show", branch_id=back_to, _anchor="holidays"), 303)
    return redirect(url_for(".holidays"), 303)


@bp.route("/<id:branch_id>/alert", methods=["GET", "POST"])
def burst_alert(branch_id: int):
    """The branch's real-time alert (a burst of unhappy customers), or the chain's when left empty."""
    branch = _branch_or_404(branch_id)
    if request.method == "GET":
        form = BurstAlertForm(formdata=None, data={
            "min_negative": branch.burst_min_negative, "min_share_percent": branch.burst_min_share_percent,
            "window_minutes": branch.burst_window_minutes,
        })
        return _burst_page(branch, form)
    form = BurstAlertForm()
    if not form.validate():
        return _burst_page(branch, form, 422)
    branch_admin.set_burst_rule(current_user, branch, *form.rule_values())
    db.session.commit()
    flash(_("Real-time alert saved."))
    return redirect(url_for(".show", branch_id=branch.id) + "#alert", 303)


def _burst_page(branch: Branch, form: BurstAlertForm, status: int = 200):
    config = current_app.config
    chain = {
        "min_negative": config["LOOPDESK_BURST_MIN_NEGATIVE"],
        "min_share_percent": config["LOOPDESK_BURST_MIN_SHARE_PERCENT"],
        "window_minutes": config["LOOPDESK_BURST_WINDOW_MINUTES"],
    }
    return render_template("admin/branches/alert.html", branch=branch, form=form, chain=chain), status
