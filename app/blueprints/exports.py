"""Exports of responses and tickets (CSV, XLSX), filtered like the dashboard, built as background jobs."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from app import labels
from app.forms.exports import ExportForm
from app.i18n import current_locale
from app.models import Role
from app.permissions import role_required
from app.services import exports
from app.services.insight.filters import InsightFilter
from app.services.tickets.queries import branches_in_scope

bp = Blueprint("exports", __name__, url_prefix="/exports")


@bp.route("/", methods=["GET", "POST"])
@role_required(Role.SUPERVISOR)
def index():
    """The form; a GET may carry the dashboard's filter (``?date_from=…&branch_ids=…``) to start from."""
    form = ExportForm()
    branches = branches_in_scope(current_user)
    form.fill_choices(
        branches,
        sorted({b.region for b in branches if b.region}),
        exports.version_choices(current_locale()),
    )
    if not form.is_submitted():
        form.language.data = current_locale()
        form.prefill(InsightFilter.from_args(request.args))
    elif form.validate():
        run = exports.start_export(
            current_user, form.subject.data, form.file_format.data, form.language.data, form.insight_filter()
        )
        return redirect(url_for("jobs.show", run_id=run.id), 303)
    return (
        render_template(
            "exports/index.html",
            form=form,
            runs=exports.recent_runs(current_user),
            job_kind_labels=labels.JOB_KIND_LABELS,
        ),
        422 if form.is_submitted() else 200,
    )
