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

from tests.conftest import PG_URL, SurveyWalker, csrf_token, hidden, login, make_app, worker_env
from tests.integration.survey.test_survey_limits import repeat_the_first_answer
from tests.integration.tickets.test_ticket_pages import complain

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


class OwnRedis:
    """A redis-server of the test's own (append-only file in tmp, as a production Redis keeps its jobs)."""

    def __init__(self, folder: Path) -> None:
        assert Path(REDIS_SERVER).exists(), f"this test starts its own Redis: no {REDIS_SERVER}"
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--appendonly", "yes", "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, up=True)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        wait_for_port(self.port, up=False)

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_connect_timeout=1)


@pytest.fixture
def own_redis(tmp_path):
    if PG_URL:
        pytest.skip("runs in the SQLite pass: a Redis outage does not depend on the database")
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


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


@pytest.mark.redis
def test_rate_limits_count_in_process_while_redis_is_away_and_in_redis_again_once_it_is_back(
    own_redis, tmp_path, caplog
):
    from app.demo import seed_demo
    from app.extensions import db
    from app.models import QrCode

    prefix = f"outage-{os.getpid()}"
    app = make_app(None, tmp_path, {}, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=own_redis.url,
                   RATELIMIT_KEY_PREFIX=prefix, LOOPDESK_SURVEY_LIMIT_PER_DEVICE="3/minute",
                   LOOPDESK_SURVEY_LIMIT_PER_ADDRESS="1000/minute", LOOPDESK_LOGIN_ACCOUNT_LIMIT="100/minute")
    with app.app_context():
        seed_demo(responses=0, worked_tickets=False)
        token = db.session.scalar(db.select(QrCode.token).where(QrCode.is_kiosk.is_(False)).limit(1))
    counters = own_redis.client()

    def counted_in_redis() -> int:
        return sum(int(counters.get(key)) for key in counters.scan_iter(f"LIMITS:LIMITER/{prefix}/*"))

    phone = SurveyWalker(app.test_client(), token)
    assert phone.open().status_code == 200
    deadline = time.monotonic() + 70  # an earlier test's outage may hold this process's limiter in its backoff
    while counted_in_redis() == 0 and time.monotonic() < deadline:
        time.sleep(0.5)
        assert phone.open().status_code == 200
    assert counted_in_redis() > 0

    own_redis.stop()
    staff = app.test_client()
    with caplog.at_level("WARNING"):
        # The phone's limit counted in this process: three answers a minute, the fourth refused.
        assert repeat_the_first_answer(phone, 4) == [303, 303, 303, 429]
        # Flask-Limiter's sign-in limits fall back to memory the same way: a wrong password, not a 500.
        assert login(staff, "staff", "wrong").status_code == 422
    assert "counting in this process" in caplog.text

    own_redis.start()
    before = counted_in_redis()
    deadline = time.monotonic() + 70
    while counted_in_redis() == before and time.monotonic() < deadline:
        time.sleep(0.5)
        assert phone.open().status_code == 200  # pages pass; they count in Redis again after the backoff
    assert counted_in_redis() > before
    assert login(staff, "staff", "wrong").status_code == 422
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


#: The outage of the issue's check: stop Redis, 30 s, start it.
OUTAGE_SECONDS = 30

def _complain(client, token: str, number: int) -> bool:
    """A customer finishes a complaint on their phone (it opens a ticket) and is given its reference code."""
    return complain(client, token, phone=f"1380013{number:04d}").startswith("LD-")


def _job_process(app, tmp_path, name: str, redis_url: str) -> subprocess.Popen:
    import sys

    env = worker_env(app) | {"REDIS_URL": redis_url}
    log = open(tmp_path / f"{name}.log", "w")
    return subprocess.Popen([sys.executable, "-m", "flask", "jobs", name], env=env, stdout=log,
                            stderr=subprocess.STDOUT)


def _wait_until(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return check()


@pytest.mark.redis
def test_the_worker_and_the_cron_outlive_a_30_second_redis_outage_and_the_jobs_of_the_outage_run(
    own_redis, tmp_path
):
    from app.demo import seed_demo
    from app.extensions import db
    from app.models import HeldJob, QrCode, Response, Ticket

    app = make_app(None, tmp_path, {}, REDIS_URL=own_redis.url, LOOPDESK_QUEUE="loopdesk")
    with app.app_context():
        seed_demo(responses=0, worked_tickets=False)
        token = db.session.scalar(db.select(QrCode.token).where(QrCode.is_kiosk.is_(False)).limit(1))

    def processed() -> tuple[int, int, int]:
        """(submitted, processed, tickets opened from a response)"""
        with app.app_context():
            submitted = db.session.scalar(db.select(db.func.count(Response.id)).where(Response.submitted_at.is_not(None)))
            done = db.session.scalar(db.select(db.func.count(Response.id)).where(Response.processed_at.is_not(None)))
            tickets = db.session.scalar(db.select(db.func.count(Ticket.id)).where(Ticket.response_id.is_not(None)))
            db.session.remove()
            return submitted, done, tickets

    worker = _job_process(app, tmp_path, "worker", own_redis.url)
    cron = _job_process(app, tmp_path, "cron", own_redis.url)
    try:
        assert _complain(app.test_client(), token, 1)
        assert _wait_until(lambda: processed() == (1, 1, 1), 30), processed()

        own_redis.stop()
        outage_began = time.monotonic()
        # Customers go on: their answers are saved, the after-submit jobs held in the database.
        assert all(_complain(app.test_client(), token, number) for number in (2, 3, 4))
        with app.app_context():
            assert db.session.scalar(db.select(db.func.count(HeldJob.id))) == 3
            db.session.remove()
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - outage_began)))
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
        assert cron.poll() is None, (tmp_path / "cron.log").read_text()[-3000:]
        assert processed() == (4, 1, 1)

        own_redis.start()
        # The jobs of the outage run, each ticket opened once; the worker and the cron are the same processes.
        assert _wait_until(lambda: processed() == (4, 4, 4), 60), (processed(), (tmp_path / "worker.log").read_text()[-3000:])
        with app.app_context():
            assert db.session.scalar(db.select(db.func.count(HeldJob.id))) == 0
            db.session.remove()
        assert _complain(app.test_client(), token, 5)  # and the next one goes straight to Redis
        assert _wait_until(lambda: processed() == (5, 5, 5), 30), processed()
        assert worker.poll() is None and cron.poll() is None
    finally:
        for process in (worker, cron):
            process.terminate()
        codes = [process.wait(timeout=30) for process in (worker, cron)]
    assert codes == [0, 0], [(tmp_path / f"{name}.log").read_text()[-2000:] for name in ("worker", "cron")]
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_worker_started_while_redis_is_away_waits_for_it_and_sigterm_still_stops_it(tmp_path):
    import signal

    if PG_URL:
        pytest.skip("runs in the SQLite pass: it needs no database")
    app = make_app(None, tmp_path, {})
    worker = _job_process(app, tmp_path, "worker", f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    try:
        assert _wait_until(lambda: "Redis is away" in (tmp_path / "worker.log").read_text(), 30)
        time.sleep(1.5)
        assert worker.poll() is None  # still waiting, not gone
    finally:
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=15)
    assert code == 0, (tmp_path / "worker.log").read_text()[-2000:]
