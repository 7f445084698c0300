"""Faults for real: a PostgreSQL restart and a Redis outage, each on a server of the test's own.

The test starts its own postgres (initdb + pg_ctl in tmp) or redis-server on a free port and stops
that one; the machine's shared servers are never touched. Each fault runs once per `scripts/test`:
the PostgreSQL restart in the PostgreSQL pass (where PostgreSQL is installed), the Redis outages in
the SQLite pass with the real Redis (the `redis` marker; the database does not matter to them).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import PG_URL, SurveyWalker, csrf_token, hidden, make_app

POSTGRES_BIN = Path(os.environ.get("LOOPDESK_TEST_POSTGRES_BIN", "/usr/local/bin"))
REDIS_SERVER = os.environ.get("LOOPDESK_TEST_REDIS_SERVER", "/usr/bin/redis-server")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, up: bool, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            if up:
                return
        except OSError:
            if not up:
                return
        time.sleep(0.05)
    raise AssertionError(f"port {port} did not go {'up' if up else 'down'} within {seconds} s")


class OwnPostgres:
    """A throwaway PostgreSQL cluster in a temporary folder (as the postgres user when run as root)."""

    def __init__(self) -> None:
        for tool in ("initdb", "pg_ctl"):
            assert (POSTGRES_BIN / tool).exists(), f"this test starts its own PostgreSQL: no {POSTGRES_BIN / tool}"
        self.folder = Path(tempfile.mkdtemp(prefix="loopdesk-pg-"))
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.folder, "postgres")
        self._run("initdb", "-D", str(self.folder / "data"), "-U", "loopdesk", "--auth=trust", "-E", "UTF8",
                  "--no-sync")
        self.url = f"postgresql+psycopg://loopdesk@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(POSTGRES_BIN / tool), *args], check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-o", options, "-l", str(self.folder / "log"), "-w",
                  "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # not running
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def own_postgres():
    if not PG_URL:
        pytest.skip("runs in the PostgreSQL pass (LOOPDESK_TEST_DATABASE_URL), where PostgreSQL is installed")
    server = OwnPostgres()
    server.start()
    yield server
    server.remove()


def test_a_postgresql_restart_answers_503_with_retry_after_and_the_pool_recovers_by_itself(own_postgres, tmp_path):
    from app.demo import seed_demo
    from app.extensions import db
    from app.models import QrCode

    app = make_app(own_postgres.url, tmp_path, {})
    with app.app_context():
        seed_demo(responses=5, worked_tickets=False)
        token = db.session.scalar(db.select(QrCode.token).where(QrCode.is_kiosk.is_(False)).limit(1))
    phone = SurveyWalker(app.test_client(), token)
    assert phone.open().status_code == 200  # the pool holds a connection now
    form = {"csrf_token": csrf_token(phone.page), "key": hidden(phone.page, "key"), "step": phone.step,
            "q_product": "2"}

    own_postgres.stop()
    statuses = []
    page = phone.client.get(phone.url)
    statuses.append(page.status_code)
    assert page.headers["Retry-After"] == "30"
    assert "Back in a moment" in page.get_data(as_text=True)
    answer = phone.client.post(phone.url, data=form)
    statuses.append(answer.status_code)
    assert "Your answer was not saved yet" in answer.get_data(as_text=True)
    statuses.append(app.test_client().get("/login").status_code)  # a page that reads nothing is still served
    assert statuses == [503, 503, 200]

    own_postgres.start()
    assert phone.client.post(phone.url, data=form).status_code == 303  # the same answer, sent again
    assert phone.client.get(phone.url).status_code == 200
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
