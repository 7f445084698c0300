"""Dashboards for supervisors and admins: scores, trends, league tables, key issues, SLA against the targets."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("insight", __name__, url_prefix="/insight")
