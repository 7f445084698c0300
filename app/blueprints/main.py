"""The front door and a health check."""
from flask import Blueprint, redirect, url_for
from flask_login import current_user
from sqlalchemy import text

from app.extensions import db, limiter

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("auth.landing"))
    return redirect(url_for("auth.login"))


@bp.get("/healthz")
@limiter.exempt
def health():
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}
