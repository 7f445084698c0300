"""A webhook receiver for the tests: a tiny HTTP server on 127.0.0.1, and the verification a receiver does.

``verify`` uses only the documented algorithm (README, Integrations → Webhooks) with the standard
library's hmac and hashlib, not Loopdesk's code: it is the README's receiver example, word for word.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from app.extensions import db
from app.models import WebhookEndpoint

T0 = datetime(2025, 3, 10, 3, 0, tzinfo=UTC)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

# --- the README's receiver example, from here -------------------------------------------------
import base64
import hashlib
import hmac
import json
import time


class Refused(Exception):
    pass


def verify(secret: str, headers: dict[str, str], body: bytes, tolerance: int = 300, now: float | None = None) -> dict:
    """Check a Loopdesk webhook (Standard Webhooks) and return its event; raise Refused otherwise."""
    headers = {name.lower(): value for name, value in headers.items()}
    event_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs((time.time() if now is None else now) - int(timestamp)) > tolerance:
        raise Refused("timestamp too old or too new: a replay?")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{event_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    if not any(hmac.compare_digest(expected, candidate.removeprefix("v1,"))
               for candidate in headers["webhook-signature"].split(" ") if candidate.startswith("v1,")):
        raise Refused("no signature matches: not from Loopdesk, or changed on the way")
    event = json.loads(body)
    # At least once: the same event may come again (a retry, "send again"); keep its id and skip repeats.
    return event
# --- to here ------------------------------------------------------------------------------------


class Receiver:
    """Answers with the given status codes in turn (the last one repeats); keeps every request."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(({name.lower(): value for name, value in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"

    def events(self, secret: str = SECRET) -> list[dict]:
        return [verify(secret, headers, body) for headers, body in self.requests]


@contextmanager
def receiving(*statuses: int) -> Iterator[Receiver]:
    receiver = Receiver(list(statuses))
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


def add_endpoint(url: str, events: list[str] | None = None, active: bool = True, branches=None) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(url=url, secret=SECRET, events=events or [], active=active,
                               all_branches=branches is None, branches=list(branches or []))
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def published(event: str = "webhook.test", now: datetime = T0):
    """One delivery to the one endpoint there is (a test event: any endpoint takes it)."""
    from app.services.webhooks import events

    endpoint = db.session.scalars(db.select(WebhookEndpoint)).one()
    delivery = events.emit_test(endpoint, "客户很生气", now)
    db.session.commit()
    return delivery
