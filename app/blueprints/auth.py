"""Signing in and out."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.core.clock import utcnow
from app.extensions import db, limiter
from app.forms.auth import LoginForm, SetPasswordForm
from app.models import Role
from app.services.people import admin

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _account_key() -> str:
    """The per-account sign-in limit's key: the username tried, whatever address it comes from."""
    return "login-account:" + (request.form.get("username") or "").strip().lower()[:80]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOOPDESK_LOGIN_LIMIT"], methods=["POST"])
@limiter.limit(lambda: current_app.config["LOOPDESK_LOGIN_ACCOUNT_LIMIT"], methods=["POST"], key_func=_account_key)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("auth.landing"))
    form = LoginForm()
    if form.validate_on_submit():
        user = admin.authenticate(form.username.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            user.last_login_at = utcnow()
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")) or url_for("auth.landing"))
        form.password.errors.append(_("Wrong username or password."))
        return render_template("auth/login.html", form=form), 422
    return render_template("auth/login.html", form=form)


@bp.route("/password/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOOPDESK_LOGIN_LIMIT"], methods=["POST"])
def set_password(token: str):
    """Where an invitation or a password reset link lands: choose a password, then signed in."""
    try:
        user = admin.user_for_link(token)
    except admin.LinkProblem as problem:
        return render_template("auth/set_password.html", problem=str(problem)), 410
    form = SetPasswordForm()
    if form.validate_on_submit():
        problem = admin.password_problem(form.password.data, user.username)
        if problem:
            form.password.errors.append(problem)
        elif form.confirm.data != form.password.data:
            form.confirm.errors.append(_("The two passwords differ."))
        else:
            admin.set_password_from_link(user, form.password.data)
            logout_user()
            login_user(user)
            user.last_login_at = utcnow()
            db.session.commit()
            flash(_("Your password is set. Welcome to Loopdesk!"))
            return redirect(url_for("auth.landing"), 303)
    status = 422 if form.errors else 200
    return render_template("auth/set_password.html", form=form, user=user), status, {
        "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
    }


@bp.get("/home")
@login_required
def landing():
    """Each role's own first page: staff their queue, supervisors and admins the board."""
    if current_user.role == Role.STAFF:
        return redirect(url_for("tickets.queue"))
    return redirect(url_for("supervisor.board_page"))


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash(_("You are signed out."))
    return redirect(url_for("auth.login"))
