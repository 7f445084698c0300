"""Branches, their business hours and holidays, and their QR codes and posters."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("branches", __name__, url_prefix="/branches")


@bp.get("/")
def index():
    return render_template("admin/home.html")  # placeholder until the area's own page exists
