"""Departments and users: invite, role and scope, deactivate, reset a password."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.ids import parse_id
from app.extensions import db
from app.forms.admin_people import ROLE_LABELS, ROLE_NAMES, DepartmentForm, UserForm
from app.jobs import enqueue
from app.jobs.notifications import send_email
from app.models import Branch, Department, OutboxEmail, User
from app.services.people import admin as people_admin
from app.services.people.admin import PeopleError

bp = Blueprint("people", __name__, url_prefix="/people")


def _or_404(model, object_id: int):
    found = db.session.get(model, object_id)
    if found is None:
        abort(404)
    return found


def _show_errors(form, error: PeopleError) -> None:
    """Each message at its field; one the form has no field for goes to the top of the page."""
    for name, message in error.errors.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, message]
        else:
            flash(message, "error")


def _refused(error: PeopleError, back_to: str):
    """A refused button (no form to show it at): the message on the page it came from."""
    for message in error.errors.values():
        flash(message, "error")
    return redirect(back_to, 303)


def _hand_over(email: OutboxEmail | None) -> None:
    """After the commit: send now when SMTP is configured (else the e-mail waits in the log and the outbox)."""
    if email is not None and current_app.config.get("SMTP_HOST"):
        enqueue(send_email, email.id)


@bp.get("/")
def index():
    args = request.args
    role = args.get("role") if args.get("role") in ROLE_LABELS else None
    active = {"active": True, "inactive": False}.get(args.get("status", "active"))
    branch_id = args.get("branch", type=parse_id)
    return render_template(
        "admin/people/index.html",
        departments=people_admin.departments(),
        loads=people_admin.department_loads(),
        users=people_admin.users(role=role, active=active, branch_id=branch_id),
        branches=_branches(),
        filters={"role": role or "", "status": args.get("status", "active"), "branch": branch_id},
        role_names=ROLE_NAMES,
        password_pending=people_admin.password_pending,
    )


def _branches() -> list[Branch]:
    return list(db.session.scalars(db.select(Branch).order_by(Branch.name)))


# --- Departments ---------------------------------------------------------------------------


@bp.route("/departments/new", methods=["GET", "POST"])
def new_department():
    return _department_page(None)


@bp.route("/departments/<id:department_id>", methods=["GET", "POST"])
def edit_department(department_id: int):
    return _department_page(_or_404(Department, department_id))


def _department_page(department: Department | None):
    form = DepartmentForm(obj=department)
    if form.validate_on_submit():
        try:
            saved = people_admin.save_department(
                current_user, department, form.code.data, form.name.data, bool(form.is_triage.data)
            )
        except PeopleError as error:
            _show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Department %(name)s saved.", name=saved.name))
            return redirect(url_for(".index"), 303)
    load = people_admin.department_load(department) if department is not None else None
    return render_template(
        "admin/people/department.html", form=form, department=department, load=load
    ), 422 if form.errors else 200


@bp.post("/departments/<id:department_id>/deactivate")
def deactivate_department(department_id: int):
    department = _or_404(Department, department_id)
    try:
        load = people_admin.set_department_active(current_user, department, False)
    except PeopleError as error:
        return _refused(error, url_for(".edit_department", department_id=department.id))
    db.session.commit()
    flash(_("Department %(name)s deactivated.", name=department.name))
    if load.open_tickets or load.rules:
        flash(_(
            "%(tickets)d open tickets still wait in it (its people still see them); %(rules)d routing rules "
            "sending to it are skipped until you reactivate it or change them.",
            tickets=load.open_tickets, rules=load.rules,
        ), "error")
    return redirect(url_for(".index"), 303)


@bp.post("/departments/<id:department_id>/activate")
def activate_department(department_id: int):
    department = _or_404(Department, department_id)
    people_admin.set_department_active(current_user, department, True)
    db.session.commit()
    flash(_("Department %(name)s is active again.", name=department.name))
    return redirect(url_for(".index"), 303)


# --- Users ---------------------------------------------------------------------------------


def _user_form(user: User | None, submitted: bool = True) -> UserForm:
    """The form filled from the request when it was submitted, else from ``user``."""
    submitted = submitted and request.method == "POST"
    form = UserForm(obj=user) if submitted else UserForm(formdata=None, obj=user)
    form.fill_choices(_branches(), people_admin.departments())
    if user is not None and not submitted:
        form.role.data = user.role.value
        form.locale.data = user.locale or ""
        form.branch_ids.data = [b.id for b in user.branches]
        form.department_ids.data = [d.id for d in user.departments]
    return form


@bp.route("/users/new", methods=["GET", "POST"])
def invite_user():
    form = _user_form(None)
    if form.validate_on_submit():
        try:
            user, email = people_admin.invite_user(current_user, form.user_fields())
        except PeopleError as error:
            _show_errors(form, error)
        else:
            db.session.commit()
            _hand_over(email)
            if email is not None:
                flash(_("%(name)s is invited: the link to choose a password went to %(email)s.",
                        name=user.display_name, email=user.email))
            else:
                flash(_("%(name)s is invited. No e-mail address: show the link below and hand it over.",
                        name=user.display_name))
            return redirect(url_for(".edit_user", user_id=user.id), 303)
    return render_template("admin/people/user.html", form=form, user=None), 422 if form.errors else 200


@bp.route("/users/<id:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int):
    user = _or_404(User, user_id)
    form = _user_form(user)
    if form.validate_on_submit():
        try:
            people_admin.update_user(current_user, user, form.user_fields())
        except PeopleError as error:
            _show_errors(form, error)
        else:
            db.session.commit()
            flash(_("%(name)s saved.", name=user.display_name or user.username))
            return redirect(url_for(".index"), 303)
    return _user_page(user, form, 422 if form.errors else 200)


def _user_page(user: User, form: UserForm, status: int = 200, link: str | None = None):
    headers = {"Cache-Control": "no-store"} if link else {}
    return render_template(
        "admin/people/user.html",
        form=form,
        user=user,
        link=link,
        pending=people_admin.password_pending(user),
        assigned=people_admin.open_tickets_assigned(user),
        is_self=user.id == current_user.id,
        role_names=ROLE_NAMES,
    ), status, headers


@bp.post("/users/<id:user_id>/deactivate")
def deactivate_user(user_id: int):
    user = _or_404(User, user_id)
    try:
        people_admin.set_user_active(current_user, user, False)
    except PeopleError as error:
        return _refused(error, url_for(".edit_user", user_id=user.id))
    assigned = people_admin.open_tickets_assigned(user)
    db.session.commit()
    flash(_("%(name)s is deactivated: they cannot sign in; their name stays on what they did.",
            name=user.display_name or user.username))
    if assigned:
        flash(_("%(n)d open tickets are still assigned to them: reassign them from the board.", n=assigned), "error")
    return redirect(url_for(".index"), 303)


@bp.post("/users/<id:user_id>/activate")
def activate_user(user_id: int):
    user = _or_404(User, user_id)
    people_admin.set_user_active(current_user, user, True)
    db.session.commit()
    flash(_("%(name)s can sign in again.", name=user.display_name or user.username))
    return redirect(url_for(".edit_user", user_id=user.id), 303)


@bp.post("/users/<id:user_id>/sign-out")
def sign_out_everywhere(user_id: int):
    """End every session and remember-me cookie of the user (yours too, if it is you)."""
    user = _or_404(User, user_id)
    people_admin.sign_out_everywhere(current_user, user)
    db.session.commit()
    flash(_("%(name)s is signed out on every device.", name=user.display_name or user.username))
    return redirect(url_for(".edit_user", user_id=user.id), 303)


@bp.post("/users/<id:user_id>/password-link")
def password_link(user_id: int):
    """Reset (or invite again): e-mail a new set-password link, or show it once to hand over.

    Shown, the link is in this response only (never in a URL, a flash cookie or a redirect).
    """
    user = _or_404(User, user_id)
    how = "shown" if request.form.get("how") == "show" else "email"
    try:
        if how == "email":
            email = people_admin.send_password_link(current_user, user)
        else:
            link = people_admin.issue_password_link(current_user, user, how)
    except PeopleError as error:
        return _refused(error, url_for(".edit_user", user_id=user.id))
    db.session.commit()
    if how == "email":
        _hand_over(email)
        flash(_("A link to choose a new password went to %(email)s. It works once, for 7 days.", email=user.email))
        return redirect(url_for(".edit_user", user_id=user.id), 303)
    return _user_page(user, _user_form(user, submitted=False), link=link.url)
