"""/api/v1/docs: the OpenAPI document read with Redoc (2.5.4, MIT, vendored in app/static/: no CDN)."""
from __future__ import annotations

from flask import Blueprint, render_template

from app.extensions import talisman

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")

#: Redoc styles its page with inline <style> elements (styled-components) and searches in a blob: worker.
REFERENCE_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "worker-src": "'self' blob:",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "object-src": "'none'",
}


@bp.get("/docs")
@talisman(content_security_policy=REFERENCE_POLICY)
def reference():
    return render_template("api/docs.html")
