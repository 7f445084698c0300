"""SLA policies, the escalation ladder, holidays and which statuses pause the clock."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("sla", __name__, url_prefix="/sla")


@bp.get("/")
def index():
    return render_template("admin/home.html")  # placeholder until the area's own page exists
