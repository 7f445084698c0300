"""Fixtures for Chromium tests: the app served on a real port with the demo seeded, Debian's Chromium
and the folder the screenshots of a run go to."""
from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app.extensions import db
from tests.conftest import make_app

CHROMIUM = "/usr/bin/chromium"
#: Headless in a container: no sandbox or GPU, and none of the background traffic to Google.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


#: Screenshots of a run, to look at after it: LOOPDESK_TEST_ARTIFACTS or test-artifacts/ (git-ignored).
ARTIFACTS = Path(os.environ.get("LOOPDESK_TEST_ARTIFACTS") or Path(__file__).resolve().parents[2] / "test-artifacts")


@dataclass
class LiveServer:
    url: str
    app: Flask


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def live_server(database_url, tmp_path, _schema_ready):
    """The app on 127.0.0.1 in a thread, demo seeded, its base URL the one QR codes carry."""
    from app.demo import seed_demo

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    app = make_app(database_url, tmp_path, _schema_ready, LOOPDESK_BASE_URL=url)
    with app.app_context():
        seed_demo(responses=10, worked_tickets=False)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield LiveServer(url=url, app=app)
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def playwright():
    from playwright.sync_api import sync_playwright

    driver = sync_playwright().start()
    yield driver
    driver.stop()


@pytest.fixture(scope="session")
def browser(playwright):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where browser tests save their screenshots (kept after the run, unlike tmp_path)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS

