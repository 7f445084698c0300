"""Improvement actions (整改措施, PDCA): from a key issue, a category or a ticket, to a checked effect."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("actions", __name__, url_prefix="/actions")
