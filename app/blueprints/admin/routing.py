"""Routing rules and their "try it" box."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("routing", __name__, url_prefix="/routing")


@bp.get("/")
def index():
    return render_template("admin/home.html")  # placeholder until the area's own page exists
