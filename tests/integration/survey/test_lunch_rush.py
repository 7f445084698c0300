"""A lunch rush on the embedded default: 50 phones answer at once against a served app on a SQLite file.

Each phone is a thread with its own cookies talking HTTP to a threaded werkzeug server (the
app as it runs, the after-submit job in process); half of them complain (a ticket opens), the
others are happy. No phone may see an error, and every response is stored once, submitted.
"""
from __future__ import annotations

import http.cookiejar
import re
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from app.extensions import db
from app.models import Answer, Response, Ticket
from tests.conftest import PG_URL, csrf_token, hidden

PHONES = 50
COMPLAINT = [{"q_product": 4}, {"q_service": 1}, {"q_service_problem": ["waiting"]}, {"q_environment": 3}, {"q_nps": 2},
             {"q_comment": "排队等了很久", "q_contact_phone": "13800138000", "q_contact_consent": "y"}]
HAPPY = [{"q_product": 5}, {"q_service": 5}, {"q_environment": 4}, {"q_nps": 9}, {"q_comment": "很好"}]

pytestmark = pytest.mark.skipif(bool(PG_URL), reason="the embedded default: SQLite only")


@pytest.fixture
def served(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


class Phone:
    def __init__(self, base: str, token: str) -> None:
        self.url = f"{base}/s/{token}"
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.page = ""
        self.key: str | None = None

    def _open(self, request) -> None:
        with self.opener.open(request, timeout=60) as reply:
            self.page = reply.read().decode()

    def walk(self, steps: list[dict]) -> None:
        self._open(self.url)
        self.key = hidden(self.page, "key")
        for answers in steps:
            form = {"csrf_token": csrf_token(self.page), "key": self.key, "step": hidden(self.page, "step"), **answers}
            self._open(urllib.request.Request(self.url, data=urllib.parse.urlencode(form, doseq=True).encode()))


def test_fifty_phones_answering_at_once_see_no_error_and_each_response_is_stored_once(app, demo, served):
    tokens = [demo["tokens"]["SH-PEOPLE"], demo["tokens"]["HZ-WESTLAKE"], demo["tokens"]["LDN-SOHO"]]
    phones = [Phone(served, tokens[i % len(tokens)]) for i in range(PHONES)]
    barrier = threading.Barrier(PHONES)
    errors: list[str] = []

    def run(index: int, phone: Phone) -> None:
        barrier.wait()
        try:
            phone.walk(COMPLAINT if index % 2 == 0 else HAPPY)
        except urllib.error.HTTPError as error:
            errors.append(f"phone {index}: HTTP {error.code} {error.read()[:300]!r}")
        except Exception as error:  # a dropped connection is an error too
            errors.append(f"phone {index}: {error!r}")

    rush_over = threading.Event()
    swept: list = []

    def sweeps() -> None:
        """What `flask jobs sweep --every 60` does beside the server, here as often as it can."""
        with app.app_context():
            while not rush_over.is_set():
                swept.append(app.test_cli_runner().invoke(args=["jobs", "sweep"]))
                db.session.remove()

    sweeper = threading.Thread(target=sweeps)
    sweeper.start()
    threads = [threading.Thread(target=run, args=(i, phone)) for i, phone in enumerate(phones)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rush_over.set()
    sweeper.join()

    assert errors == []
    assert swept and all(result.exit_code == 0 for result in swept), [r.output for r in swept if r.exit_code]
    assert all('class="thanks"' in phone.page for phone in phones)
    complaints = [phone for i, phone in enumerate(phones) if i % 2 == 0]
    assert all(re.search(r"LD-[0-9A-Z]+", phone.page) for phone in complaints)
    keys = [phone.key for phone in phones]
    assert len(set(keys)) == PHONES
    with app.app_context():
        stored = db.session.execute(
            select(Response.idempotency_key, Response.submitted_at, Response.id).where(Response.idempotency_key.in_(keys))
        ).all()
        assert sorted(row.idempotency_key for row in stored) == sorted(keys)  # each exactly once
        assert all(row.submitted_at is not None for row in stored)
        ids = [row.id for row in stored]
        answers = dict(db.session.execute(
            select(Answer.response_id, func.count(Answer.id)).where(Answer.response_id.in_(ids)).group_by(Answer.response_id)
        ).all())
        assert sorted(answers.values()) == sorted([6] * len(complaints) + [5] * (PHONES - len(complaints)))
        tickets = db.session.scalar(select(func.count(Ticket.id)).where(Ticket.response_id.in_(ids)))
        assert tickets == len(complaints)


@pytest.mark.parametrize("app", [{"LOOPDESK_SQLITE_BUSY_SECONDS": 0.2}], indirect=True)
def test_a_submit_that_waits_longer_than_the_busy_timeout_is_tried_again_not_a_500(app, client, demo, caplog):
    """Another writer (a sweep, a roll-up rebuild) holds SQLite's write lock past the busy timeout."""
    import sqlite3
    import time

    from tests.conftest import SurveyWalker

    walker = SurveyWalker(client, demo["tokens"]["SH-PEOPLE"])
    walker.open()
    for answers in HAPPY[:-1]:
        walker.answer(**answers)
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    key = hidden(walker.page, "key")
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, held for longer than the 0.2 s a write waits
    release = threading.Timer(0.5, lambda: holder.execute("COMMIT"))
    release.start()
    started = time.monotonic()
    try:
        reply = walker.answer(**HAPPY[-1])
    finally:
        release.join()
        holder.close()
    assert reply.status_code == 200 and 'class="thanks"' in walker.page
    assert time.monotonic() - started >= 0.5
    assert "SQLite busy" in caplog.text
    with app.app_context():
        mine = db.session.scalar(select(Response).where(Response.idempotency_key == key))
        assert mine.submitted_at is not None
