"""Data quality review: flagged responses, confirmed or cleared by a person, never deleted."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("quality", __name__, url_prefix="/quality")
