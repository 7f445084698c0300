"""The questionnaire builder: drafts, questions, dimensions, skip logic, preview, publish, targeting."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("questionnaires", __name__, url_prefix="/questionnaires")


@bp.get("/")
def index():
    return render_template("admin/home.html")  # placeholder until the area's own page exists
