"""A long task's progress (polled by htmx) and its file, for the person who started it."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, send_file
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block

from app import labels
from app.extensions import htmx
from app.services import file_store, job_runs

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


@bp.context_processor
def job_labels() -> dict:
    return {"job_kind_labels": labels.JOB_KIND_LABELS}


def _run_or_404(run_id: int):
    run = job_runs.run_for(current_user, run_id)
    if run is None:
        abort(404)
    return run


@bp.get("/<id:run_id>")
@login_required
def show(run_id: int):
    """The whole page, or (asked by the page's own poll) just its progress block."""
    run = _run_or_404(run_id)
    headers = {"Vary": "HX-Request", "Cache-Control": "no-store"}
    if htmx and not htmx.boosted and not htmx.history_restore_request:
        return render_block("jobs/show.html", "progress", run=run), 200, headers
    return render_template("jobs/show.html", run=run), 200, headers


@bp.get("/<id:run_id>/download")
@login_required
def download(run_id: int):
    """The finished file, from whichever store keeps it, streamed a piece at a time."""
    run = _run_or_404(run_id)
    stored = job_runs.stored_file(run)
    if stored is None:
        abort(404)
    store, key = stored
    path = store.local_path(key)
    try:
        source = path or file_store.open_file(store, key)
    except FileNotFoundError:
        abort(404)
    response = send_file(source, mimetype=run.mimetype, as_attachment=True, download_name=run.file_name)
    if path is None and run.file_size is not None:
        response.content_length = run.file_size
    return response
