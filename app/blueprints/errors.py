"""Error pages in the user's language; an htmx request gets its message in place (or a redirect it can follow).

An htmx request that is refused gets a small answer (errors/in_place.html) that base.html's htmx
config shows in the page's #request-error without swapping anything else: a note being typed,
a filled form stay as they were. Signing in: a page the person navigates to with htmx is sent to
the sign-in page (HX-Redirect); a change they sent, or a poll of an open page, is answered 401 in
place instead, so an expired session never takes away what they typed.

The database away for a moment (a restart, a fail-over, a full pool) is 503 with Retry-After and a
page that says whether what the person sent was saved (a commit in this request) and, when it was
not, sends it again with one tap (the no-JS path; htmx keeps it in the page). The survey adds its own
words (app/blueprints/survey.py).
"""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, g, has_request_context, render_template, request, url_for
from flask_htmx import make_response as htmx_response
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from app.blueprints.api import problems
from app.extensions import db, htmx, login_manager
from app.models.availability import database_unavailable

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


#: What a 503 asks the browser to wait: a PostgreSQL restart is back within about this.
RETRY_AFTER_SECONDS = 30


@event.listens_for(db.session, "after_commit")
def _remember_commit(_session) -> None:
    """A 503 after this request committed says what was sent was saved (and offers no second send)."""
    if has_request_context():
        g.database_committed = True


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
        if problems.is_api_request():
            return problems.from_http_exception(error)
        if htmx:
            return _in_place(error.code or 500)
        return render_template("errors/error.html", code=error.code, name=error.name), error.code

    @app.errorhandler(SQLAlchemyError)
    def database_error(error: SQLAlchemyError):
        return answer_database_error(error)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        return _unexpected(error)

    @login_manager.unauthorized_handler
    def sign_in_first():
        if htmx and (request.method != "GET" or request.headers.get(POLL_HEADER)):
            return _in_place(401, signed_out=True)
        target = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
        if htmx:
            return htmx_response("", 200, redirect=target)
        from flask import redirect

        return redirect(target)


def _unexpected(error: BaseException):
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=error)
    _roll_back()
    if problems.is_api_request():
        return problems.problem(500, "Something went wrong on our side; it is logged.")
    if htmx:
        return _in_place(500)
    return render_template("errors/error.html", code=500, name="Internal Server Error"), 500


def _roll_back() -> None:
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection may be gone with the database
        log.warning("rollback after a database error failed too", exc_info=True)


def answer_database_error(error: SQLAlchemyError, survey: str | None = None):
    """503 when the database is away for a moment (else the 500 of a bug).

    ``survey``: what the survey knows of the customer's answers ("submitted", "saved", "draft",
    "not_saved"); the page says it in the customer's words.
    """
    if not database_unavailable(error):
        return _unexpected(error)
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()
    # One line each: an outage fails every request for a while, its tracebacks would say nothing more.
    log.warning("database unavailable on %s %s: %s: %s", request.method, request.path, error.__class__.__name__,
                reason[0] if reason else "")
    _roll_back()
    if problems.is_api_request():
        return problems.problem(503, "The database is not available for a moment: try again after Retry-After seconds.",
                                headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    if "_login_user" not in g:  # the page must not ask the database for the user (templates, the language)
        g._login_user = login_manager.anonymous_user()
    posted = request.method == "POST"
    saved = posted and bool(g.get("database_committed"))
    resend = None
    # A password is never written back into a page; a file cannot be.
    if posted and not saved and not htmx and not request.files and not any("password" in k for k in request.form):
        resend = list(request.form.items(multi=True))
    context = {"saved": saved, "posted": posted, "resend": resend, "survey": survey, "in_place": bool(htmx)}
    if htmx:
        html, code = _in_place(503, **context)
    else:
        html, code = render_template(
            "survey/unavailable_now.html" if survey else "errors/unavailable.html", code=503, **context
        ), 503
    # The page may carry what was typed: never kept by a cache.
    return html, code, {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
