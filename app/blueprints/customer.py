"""The customer's side of the loop: their feedback's status, the replies meant for them, their answer and rating."""
from __future__ import annotations

from contextlib import nullcontext

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import force_locale

from app.core.clock import utcnow
from app.extensions import db, limiter
from app.blueprints.outbox import hand_over_customer_messages
from app.services.tickets import customer_status
from app.services.tickets.customer_status import CustomerRefused

bp = Blueprint("customer", __name__)


def _lookup_limit() -> str:
    return current_app.config["LOOPDESK_STATUS_LOOKUP_LIMIT"]


def _in_their_language(language: str):
    """The language they answered the survey in, unless they chose one on the page."""
    return nullcontext() if "lang" in request.args or "lang" in session else force_locale(language)


def _to_status(view_or_code, secret: str, **args):
    code = getattr(view_or_code, "reference_code", view_or_code)
    return redirect(url_for("customer.status", reference_code=code, s=secret, **args), 303)


@bp.route("/t/<reference_code>", methods=["GET", "POST"])
@limiter.limit(_lookup_limit, methods=["POST"])
def status(reference_code: str):
    """With the secret from their link the page opens at once; otherwise the last 4 digits of the phone they
    left, or a one-time code e-mailed to the address they left. A passed check leads to the link itself."""
    secret = request.args.get("s", "")
    form = request.form if request.method == "POST" else {}
    if "send_code" in form:
        customer_status.send_code(reference_code, utcnow())
        db.session.commit()
        hand_over_customer_messages()
        return _lookup(reference_code, code_sent=True)
    if "code" in form:
        view = customer_status.check_code(reference_code, form.get("code", ""), utcnow())
        db.session.commit()  # the try counts, right or wrong
        if view is None:
            return _lookup(reference_code, failed=True, code_sent=True)
        return _to_status(view, view.secret)
    view = customer_status.look_up(reference_code, secret=secret, last_digits=form.get("last4", ""))
    if view is None:
        return _lookup(reference_code, failed=request.method == "POST" or bool(secret))
    if request.method == "POST":
        return _to_status(view, view.secret)
    return _page(view)


def _lookup(reference_code: str, failed: bool = False, code_sent: bool = False):
    page = render_template("customer/lookup.html", reference_code=reference_code, failed=failed, code_sent=code_sent)
    return page, 404 if failed else 200, {"Cache-Control": "no-store"}


def _page(view, status: int = 200, error: str | None = None, draft: str = "", saved: str | None = None):
    with _in_their_language(view.language):
        page = render_template(
            "customer/status.html", view=view, error=error, draft=draft, saved=saved or request.args.get("saved"),
        )
    return page, status, {"Cache-Control": "no-store"}


@bp.post("/t/<reference_code>/answer")
@limiter.limit(_lookup_limit)
def answer(reference_code: str):
    return _act(reference_code, "answered", lambda secret, now: customer_status.answer(
        reference_code, secret, request.form.get("body", ""), now,
    ), draft=request.form.get("body", ""))


@bp.post("/t/<reference_code>/rate")
@limiter.limit(_lookup_limit)
def rate(reference_code: str):
    return _act(reference_code, "rated", lambda secret, now: customer_status.rate(
        reference_code, secret, request.form.get("rating", ""), request.form.get("comment", ""), now,
    ), draft=request.form.get("comment", ""))


def _act(reference_code: str, saved: str, change, draft: str):
    secret = request.form.get("s", "")
    try:
        change(secret, utcnow())
        db.session.commit()
    except CustomerRefused as refused:
        db.session.rollback()
        view = customer_status.look_up(reference_code, secret=secret)
        if view is None:
            return _lookup(reference_code, failed=True)
        return _page(view, 422, error=str(refused), draft=draft)
    return _to_status(reference_code, secret, saved=saved)
