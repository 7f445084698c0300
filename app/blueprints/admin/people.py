"""Departments and users: invite, role and scope, deactivate, reset a password."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("people", __name__, url_prefix="/people")


@bp.get("/")
def index():
    return render_template("admin/home.html")  # placeholder until the area's own page exists
