"""Error pages in the user's language; an htmx request gets a redirect it can follow."""
from __future__ import annotations

import logging

from flask import Flask, render_template, request, url_for
from flask_htmx import make_response as htmx_response
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.extensions import htmx, login_manager

log = logging.getLogger(__name__)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_template("errors/expired.html", back=request.path), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code and error.code >= 500:
            log.error("HTTP %s on %s %s", error.code, request.method, request.path)
        return render_template("errors/error.html", code=error.code, name=error.name), error.code

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        from app.extensions import db

        db.session.rollback()
        return render_template("errors/error.html", code=500, name="Internal Server Error"), 500

    @login_manager.unauthorized_handler
    def sign_in_first():
        target = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
        if htmx:
            return htmx_response("", 200, redirect=target)
        from flask import redirect

        return redirect(target)
