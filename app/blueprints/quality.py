"""Data quality review: flagged responses, confirmed or cleared by a person, never deleted."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user

from app.core.quality import FLAGS
from app.extensions import db, htmx
from app.models import Role
from app.models.responses import QUALITY_CLEARED, QUALITY_CONFIRMED
from app.permissions import role_required
from app.services.insight import quality_review
from app.services.insight.quality_review import ReviewFilter
from app.services.tickets.queries import branches_in_scope

bp = Blueprint("quality", __name__, url_prefix="/quality")

PAGE_SIZE = 50


def _verdict_done(verdict: str, count: int) -> str:
    if verdict == QUALITY_CONFIRMED:
        return ngettext("Confirmed %(num)d response: it stays out of the scores.",
                        "Confirmed %(num)d responses: they stay out of the scores.", count)
    return ngettext("Cleared %(num)d response: it counts in the scores again.",
                    "Cleared %(num)d responses: they count in the scores again.", count)


def _row_context(rows) -> dict:
    return {
        "medians": quality_review.median_durations(r.version_id for r in rows),
        "history": quality_review.verdict_history(rows),
    }


@bp.get("/")
@role_required(Role.SUPERVISOR)
def index():
    f = ReviewFilter.from_args(request.args)
    before = quality_review.valid_id(request.args.get("before"))
    rows = quality_review.flagged_responses(current_user, f, limit=PAGE_SIZE, before_id=before)
    context = {
        "rows": rows,
        "more": len(rows) == PAGE_SIZE,
        "filters": f,
        "filter_args": f.to_args(),
        "flags": FLAGS,
        "states": quality_review.REVIEW_STATES,
        "branches": branches_in_scope(current_user),
        **_row_context(rows),
    }
    return render_template("quality/index.html", **context), 200, {"Vary": "HX-Request"}


@bp.post("/review")
@role_required(Role.SUPERVISOR)
def review_many():
    """Bulk verdict on the ticked rows; ids outside the reviewer's scope or without flags are ignored."""
    f = ReviewFilter.from_args(request.form)
    verdict = request.form.get("verdict")
    back = redirect(url_for("quality.index", **f.to_args()), 303)
    if verdict not in quality_review.VERDICTS:
        flash(_("Choose Confirm or Clear."), "error")
        return back
    responses = quality_review.reviewable_many(current_user, request.form.getlist("response_id"))
    if not responses:
        flash(_("Tick at least one flagged response first."), "error")
        return back
    changed = quality_review.give_verdict(current_user, responses, verdict)
    db.session.commit()
    flash(_verdict_done(verdict, len(changed)) if changed else _("Nothing changed: the ticked responses already had that verdict."))
    return back


@bp.post("/<id:response_id>/<verdict>")
@role_required(Role.SUPERVISOR)
def review_one(response_id: int, verdict: str):
    """One row's Confirm / Clear: htmx swaps the row, without JavaScript the list (or the response) comes back."""
    if verdict not in (QUALITY_CONFIRMED, QUALITY_CLEARED):
        abort(404)
    response = quality_review.reviewable(current_user, response_id)
    if response is None:
        abort(404)
    changed = quality_review.give_verdict(current_user, [response], verdict)
    db.session.commit()
    if htmx:
        return render_template("quality/_row.html", r=response, **_row_context([response]))
    if request.form.get("return_to") == "response":  # the response's page shows its new state
        return redirect(url_for("staff.response_detail", response_id=response.id), 303)
    flash(_verdict_done(verdict, 1) if changed else _("Nothing changed: the response already had that verdict."))
    return redirect(url_for("quality.index", **ReviewFilter.from_args(request.form).to_args()), 303)
