"""Loopdesk: closed-loop customer feedback for businesses with many branches."""
from __future__ import annotations

import logging
import os
import secrets
from typing import Any

from flask import Flask

from app.config import Config, database_url

log = logging.getLogger(__name__)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False, static_folder=None)  # app.static_files serves /static/
    app.url_map.merge_slashes = False  # /s//x is no survey: 404, not a redirect to another token
    configure_settings(app, test_config)
    configure_extensions(app)
    configure_static_files(app)
    configure_security(app)
    configure_i18n(app)
    configure_jobs(app)
    configure_input(app)
    configure_blueprints(app)
    configure_errors(app)
    configure_cli(app)
    return app


def configure_settings(app: Flask, test_config: dict[str, Any] | None) -> None:
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_object(Config())
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = database_url(
            app.config.get("DATABASE_URL"), app.instance_path
        )
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {}
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(app.instance_path)
    from app.services import file_store

    file_store.check_settings(app.config)
    if app.config["LOOPDESK_PROXY_HOPS"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["LOOPDESK_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def _instance_secret_key(instance_path: str) -> str:
    """Without SECRET_KEY, use a random key made once for this installation (never a default)."""
    path = os.path.join(instance_path, "secret_key")
    if not os.path.exists(path):
        log.warning("SECRET_KEY is not set: generating one in %s", path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    with open(path) as f:
        return f.read().strip()


def configure_extensions(app: Flask) -> None:
    from app.extensions import compress, csrf, db, htmx, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(
        app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"), render_as_batch=True, compare_type=True
    )
    csrf.init_app(app)
    limiter.init_app(app)
    compress.init_app(app)
    htmx.init_app(app)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"

    from app.models import User

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        """From "<id>:<session version>" (User.get_id): an older version is a session that was ended."""
        from app.core.ids import id_or_none

        number, _sep, version = user_id.partition(":")
        found = id_or_none(number)
        user = db.session.get(User, found) if found is not None else None
        if user is None or not user.active or version != str(user.session_version or 1):
            return None
        return user

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from sqlalchemy import event

        busy_ms = int(app.config["LOOPDESK_SQLITE_BUSY_SECONDS"] * 1000)

        with app.app_context():
            @event.listens_for(db.engine, "connect")
            def _sqlite_pragmas(dbapi_connection, _record) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute(f"PRAGMA busy_timeout={busy_ms}")  # first: switching to WAL may wait too
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.close()


def configure_static_files(app: Flask) -> None:
    from app import static_files

    static_files.init_app(app)


#: No inline script anywhere (htmx is configured through a <meta> tag), and no inline style but the stylesheets
#: a first visit carries inline, each allowed by its hash (app/static_files.py adds them).
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "object-src": "'none'",
}


def configure_security(app: Flask) -> None:
    from app import static_files
    from app.extensions import talisman

    https = app.config["LOOPDESK_FORCE_HTTPS"]
    policy = dict(CONTENT_SECURITY_POLICY)
    policy["style-src"] = " ".join([policy["style-src"], *static_files.inline_style_hashes()])
    talisman.init_app(
        app,
        force_https=https,
        strict_transport_security=https,
        session_cookie_secure=https,
        content_security_policy=policy,
        frame_options="DENY",
        referrer_policy="same-origin",
    )


def configure_i18n(app: Flask) -> None:
    from app.extensions import babel
    from app.i18n import register_template_helpers, select_locale, select_timezone

    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    register_template_helpers(app)


def configure_jobs(app: Flask) -> None:
    from app.jobs import files, notifications

    files.init_app(app)
    notifications.init_app(app)


def configure_input(app: Flask) -> None:
    from app.blueprints import inputs

    inputs.init_app(app)


def configure_blueprints(app: Flask) -> None:
    from app.blueprints import (
        actions, admin, auth, customer, customers, exports, inbox, insight, jobs, main, qr, quality, staff, supervisor, survey, tickets, words,
    )

    for module in (main, survey, customer, qr, auth, staff, tickets, supervisor, inbox, jobs, insight, words, quality, actions, customers, exports, admin):
        app.register_blueprint(module.bp)
    from app.blueprints import api

    api.init_app(app)


def configure_errors(app: Flask) -> None:
    from app.blueprints.errors import register_error_handlers

    register_error_handlers(app)


def configure_cli(app: Flask) -> None:
    from app.cli import register_cli

    register_cli(app)
