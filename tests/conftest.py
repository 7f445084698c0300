"""Fixtures: an app on SQLite (default) or on PostgreSQL (LOOPDESK_TEST_DATABASE_URL), a client, demo data."""
from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from app import create_app
from app.extensions import db

PG_URL = os.environ.get("LOOPDESK_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("LOOPDESK_TEST_REDIS_URL")


def checkout_tag() -> str:
    """A short tag of this checkout's folder: two checkouts' suites on one PostgreSQL never share a database."""
    import hashlib

    folder = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.environ.get("LOOPDESK_TEST_DATABASE_TAG") or hashlib.sha1(folder.encode()).hexdigest()[:8]


def _postgres_database(worker: str) -> str:
    """A database of this xdist worker's own, made fresh for the session."""
    import psycopg

    parts = urlsplit(PG_URL)
    name = f"loopdesk_test_{checkout_tag()}_{worker}"
    admin_url = parts._replace(scheme="postgresql", path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return parts._replace(scheme="postgresql+psycopg", path=f"/{name}").geturl()


@pytest.fixture(scope="session")
def database_url(worker_id: str) -> str | None:
    return _postgres_database(worker_id) if PG_URL else None


@pytest.fixture(scope="session")
def _schema_ready() -> dict:
    return {}


def make_app(database_url: str | None, tmp_path, schema_ready: dict, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{tmp_path}/test.db",
        "REDIS_URL": None,
        "RATELIMIT_ENABLED": False,
        "LOOPDESK_BASE_URL": "http://localhost",
        "LOOPDESK_DEFAULT_LOCALE": "en",
        "LOOPDESK_SURVEY_CACHE_SECONDS": 0,
        "SMTP_HOST": None,  # tests never send real e-mail
        "LOOPDESK_JOB_FILES": str(tmp_path / "job_files"),  # parallel tests never share a run's file
    }
    config.update(overrides)
    app = create_app(config)
    with app.app_context():
        if database_url is None:
            db.create_all()
        elif not schema_ready.get(database_url):
            db.drop_all()
            db.create_all()
            schema_ready[database_url] = True
        else:
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            db.session.commit()
    return app


@pytest.fixture
def app(database_url, tmp_path, _schema_ready, request):
    overrides = getattr(request, "param", None) or {}
    app = make_app(database_url, tmp_path, _schema_ready, **overrides)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def demo(app):
    """The scripts/dev demo with a few past responses; returns tokens and logins."""
    from app.demo import USERS, seed_demo
    from app.models import QrCode

    with app.app_context():
        seed_demo(responses=30, worked_tickets=False)  # tickets as opened: tests work them themselves
        tokens = {
            qr.branch.code + ("/kiosk" if qr.is_kiosk else ""): qr.token
            for qr in db.session.scalars(db.select(QrCode))
        }
    return {"tokens": tokens, "passwords": {u[0]: u[2] for u in USERS}}


CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"|value="([^"]+)" name="csrf_token"')
INPUT_RE = r'name="{}" value="([^"]*)"'


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'"X-CSRFToken": "([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def hidden(html: str, name: str) -> str | None:
    match = re.search(INPUT_RE.format(re.escape(name)), html)
    return match.group(1) if match else None


class SurveyWalker:
    """Walks a survey as a phone without JavaScript would: GET a step, POST its form."""

    def __init__(self, client, token: str) -> None:
        self.client = client
        self.token = token
        self.url = f"/s/{token}"
        self.page = ""

    def open(self, **params):
        response = self.client.get(self.url, query_string=params)
        self.page = response.get_data(as_text=True)
        return response

    @property
    def step(self) -> int:
        return int(hidden(self.page, "step"))

    def answer(self, follow: bool = True, **answers):
        data = {"csrf_token": csrf_token(self.page), "key": hidden(self.page, "key"), "step": self.step}
        data.update({f"q_{k}" if not k.startswith("q_") else k: v for k, v in answers.items()})
        response = self.client.post(self.url, data=data, follow_redirects=follow)
        self.page = response.get_data(as_text=True)
        return response


@pytest.fixture
def walker(client, demo):
    return SurveyWalker(client, demo["tokens"]["SH-PEOPLE"])


def login(client, username: str, password: str):
    page = client.get("/login").get_data(as_text=True)
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf_token(page)}
    )


@pytest.fixture(autouse=True)
def _needs_real_redis(request):
    if request.node.get_closest_marker("redis") and not REDIS_URL:
        pytest.fail("this test needs the real Redis: set LOOPDESK_TEST_REDIS_URL (scripts/test leaves it out otherwise)")


def worker_env(app) -> dict:
    """The environment a real `flask jobs worker` process needs to share this test's database and queue."""
    env = dict(
        os.environ,
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL=REDIS_URL,
        LOOPDESK_QUEUE=app.config["LOOPDESK_QUEUE"],
        LOOPDESK_JOB_FILES=app.config["LOOPDESK_JOB_FILES"],
        LOOPDESK_OUTGOING_ALLOWED_HOSTS=",".join(app.config["LOOPDESK_OUTGOING_ALLOWED_HOSTS"]),
        SECRET_KEY="test-secret",
        FLASK_APP="wsgi",
    )
    env.pop("SMTP_HOST", None)  # a worker never sends real e-mail from a test
    return env


def run_burst_worker(app) -> None:
    """Run `flask jobs worker --burst` as its own process until the queue is empty."""
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-m", "flask", "jobs", "worker", "--burst"],
        env=worker_env(app), capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
