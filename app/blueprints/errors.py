"""Error pages in the user's language; an htmx request gets its message in place (or a redirect it can follow).

An htmx request that is refused gets a small answer (errors/in_place.html) that base.html's htmx
config shows in the page's #request-error without swapping anything else: a note being typed,
a filled form stay as they were. Signing in: a page the person navigates to with htmx is sent to
the sign-in page (HX-Redirect); a change they sent, or a poll of an open page, is answered 401 in
place instead, so an expired session never takes away what they typed.
"""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, render_template, request, url_for
from flask_htmx import make_response as htmx_response
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.extensions import htmx, login_manager

log = logging.getLogger(__name__)

#: Sent by the elements that poll (hx-headers): their requests never navigate away from the page.
POLL_HEADER = "X-Loopdesk-Poll"


def _current_page() -> str | None:
    """The page the htmx request came from (path and query only: never another site)."""
    url = htmx.current_url if htmx else None
    if not url:
        return None
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "") if parts.path.startswith("/") else None


def _in_place(code: int, **context):
    return render_template("errors/in_place.html", code=code, page=_current_page(), **context), code


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        if htmx:
            return _in_place(400, expired=True)
        return render_template("errors/expired.html", back=request.path), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code and error.code >= 500:
            log.error("HTTP %s on %s %s", error.code, request.method, request.path)
        if htmx:
            return _in_place(error.code or 500)
        return render_template("errors/error.html", code=error.code, name=error.name), error.code

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        from app.extensions import db

        db.session.rollback()
        if htmx:
            return _in_place(500)
        return render_template("errors/error.html", code=500, name="Internal Server Error"), 500

    @login_manager.unauthorized_handler
    def sign_in_first():
        if htmx and (request.method != "GET" or request.headers.get(POLL_HEADER)):
            return _in_place(401, signed_out=True)
        target = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
        if htmx:
            return htmx_response("", 200, redirect=target)
        from flask import redirect

        return redirect(target)
