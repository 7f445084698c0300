"""Exports of responses and tickets (CSV, XLSX), filtered like the dashboard, built as background jobs."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("exports", __name__, url_prefix="/exports")
