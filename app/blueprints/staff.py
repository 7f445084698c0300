"""Staff pages: the latest responses inside the user's scope."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user
from jinja2_fragments.flask import render_block

from app.core.ids import parse_id
from app.extensions import htmx
from app.models import Role
from app.permissions import role_required
from app.services.survey import responses as response_service
from app.services.survey.plans import plan_for

bp = Blueprint("staff", __name__, url_prefix="/staff")

PAGE_SIZE = 50


@bp.get("/responses")
@role_required(Role.STAFF, Role.SUPERVISOR)
def responses():
    before = request.args.get("before", type=parse_id)
    narrowed = response_service.ResponseFilter.from_args(request.args)
    rows = response_service.latest_responses(current_user, limit=PAGE_SIZE, before_id=before, narrowed=narrowed)
    context = {
        "rows": rows,
        "more": len(rows) == PAGE_SIZE,
        "narrowed_args": narrowed.to_args() if narrowed else {},
        "matching": response_service.count_responses(current_user, narrowed) if narrowed and not before else None,
    }
    if htmx and before:
        return render_block("staff/responses.html", "rows", **context), 200, {"Vary": "HX-Request"}
    return render_template("staff/responses.html", **context), 200, {"Vary": "HX-Request"}


@bp.get("/responses/<id:response_id>")
@role_required(Role.STAFF, Role.SUPERVISOR)
def response_detail(response_id: int):
    response = response_service.response_for(current_user, response_id)
    if response is None:
        abort(404)
    plan = plan_for(response.version_id)
    answers = {a.question_id: a for a in response.answers}
    return render_template("staff/response_detail.html", response=response, plan=plan, answers=answers)
