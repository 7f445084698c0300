"""The baseline of bench/run: a minimal Flask app whose one endpoint inserts one row.

Same stack under the row as Loopdesk (Flask-SQLAlchemy, psycopg 3, the app's engine
options) and nothing above it: no CSRF, sessions, limiter, i18n, templates or
compression. Its own table in its own database (BENCH_MIN_DATABASE_URL).

    gunicorn --workers 2 bench.minimal_app:app
"""
from __future__ import annotations

import os
from datetime import datetime, timezone

from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.config import Config, database_url


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Ping(Base):
    __tablename__ = "bench_ping"

    id: Mapped[int] = mapped_column(primary_key=True)
    note: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def create_app() -> Flask:
    app = Flask(__name__)
    raw = os.environ.get("BENCH_MIN_DATABASE_URL")
    if not raw:
        raise RuntimeError("set BENCH_MIN_DATABASE_URL, e.g. postgresql://root@127.0.0.1:5432/loopdesk_bench_min")
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url(raw, app.instance_path)
    # The pool settings Loopdesk runs with, read from its Config so the two never drift apart.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = dict(Config().SQLALCHEMY_ENGINE_OPTIONS)
    db.init_app(app)

    @app.post("/ping")
    def ping():
        db.session.add(Ping(note=request.form.get("note", "")[:64], created_at=datetime.now(timezone.utc)))
        db.session.commit()
        return "ok\n", 201, {"Content-Type": "text/plain"}

    @app.cli.command("init-db")
    def init_db() -> None:
        """Create the one table (bench/run calls this on a fresh database)."""
        db.create_all()

    return app


app = create_app()
