"""The customer's side of the loop: their ticket's status and the replies meant for them."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, session
from flask_babel import force_locale

from app.extensions import limiter
from app.services.tickets import customer_status

bp = Blueprint("customer", __name__)


@bp.route("/t/<reference_code>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOOPDESK_STATUS_LOOKUP_LIMIT"], methods=["POST"])
def status(reference_code: str):
    """With the secret from their link the page opens at once; otherwise the last 4 digits of the phone."""
    secret = request.args.get("s", "")
    last_digits = request.form.get("last4", "") if request.method == "POST" else ""
    view = customer_status.look_up(reference_code, secret=secret, last_digits=last_digits)
    if view is None:
        failed = request.method == "POST" or bool(secret)
        return render_template("customer/lookup.html", reference_code=reference_code, failed=failed), (
            404 if failed else 200
        )
    if "lang" in request.args or "lang" in session:
        page = render_template("customer/status.html", view=view)
    else:
        with force_locale(view.language):  # the language they answered the survey in
            page = render_template("customer/status.html", view=view)
    return page, 200, {"Cache-Control": "no-store"}
