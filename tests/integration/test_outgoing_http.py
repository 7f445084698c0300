"""Outgoing HTTP (webhooks) reaches only public addresses unless a host is allowed by name.

The receivers here listen on 127.0.0.1: without LOOPDESK_OUTGOING_ALLOWED_HOSTS naming it they are
refused (nothing arrives), with it they get the delivery. file://, the metadata address and a
redirect to an internal address are refused whatever is allowed.
"""
from __future__ import annotations

import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import pytest

from app.extensions import db
from app.models import WebhookDelivery
from app.services import outgoing_http
from app.services.webhooks import delivery as webhook_delivery
from app.services.webhooks.delivery import Attempt
from tests.integration.webhooks.receiver import T0, add_endpoint, published, receiving

LOOPBACK_ALLOWED = {"LOOPDESK_OUTGOING_ALLOWED_HOSTS": ["127.0.0.1"]}


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.1.2.3", "::1", "10.0.0.5", "172.16.3.4", "192.168.1.20", "169.254.169.254", "fe80::1",
    "fd00:ec2::254", "100.100.100.200", "0.0.0.0", "::", "224.0.0.1", "255.255.255.255", "::ffff:127.0.0.1",
    "::ffff:10.0.0.1", "2002:7f00:1::", "198.18.0.1", "fe80::1%eth0",
])
def test_internal_addresses_are_not_public(address):
    assert not outgoing_http.is_public(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_are_public(address):
    assert outgoing_http.is_public(address)


def _attempt(url: str) -> WebhookDelivery:
    add_endpoint(url)
    delivery_id = published().id
    assert webhook_delivery.attempt_delivery(delivery_id, T0) is Attempt.RETRY
    db.session.commit()
    return db.session.get(WebhookDelivery, delivery_id)


def test_a_loopback_receiver_is_refused_without_the_setting(app):
    with app.app_context(), receiving(200) as receiver:
        delivery = _attempt(receiver.url)
        assert receiver.requests == []
        assert "refused" in delivery.last_error and "127.0.0.1" in delivery.last_error
        assert delivery.delivered_at is None and delivery.status_code is None


def test_localhost_by_name_is_refused_too(app):
    with app.app_context(), receiving(200) as receiver:
        delivery = _attempt(receiver.url.replace("127.0.0.1", "localhost"))
        assert receiver.requests == [] and "refused" in delivery.last_error


def test_an_ipv4_mapped_loopback_address_is_refused(app):
    with app.app_context(), receiving(200) as receiver:
        delivery = _attempt(receiver.url.replace("127.0.0.1", "[::ffff:127.0.0.1]"))
        assert receiver.requests == [] and "refused" in delivery.last_error


@pytest.mark.parametrize("app", [LOOPBACK_ALLOWED], indirect=True)
def test_file_urls_are_never_opened(app):
    with app.app_context():
        delivery = _attempt("file:///etc/passwd")
        assert "refused" in delivery.last_error and "file" in delivery.last_error
    with pytest.raises(OSError):
        outgoing_http.opener(["127.0.0.1"]).open("file:///etc/passwd")  # no file handler at all


@pytest.mark.parametrize("app", [LOOPBACK_ALLOWED], indirect=True)
def test_the_metadata_address_is_refused_before_any_connection(app):
    with app.app_context():
        started = time.monotonic()
        delivery = _attempt("http://169.254.169.254/latest/meta-data/")
        assert time.monotonic() - started < 1  # refused, not a connection left to time out
        assert "refused" in delivery.last_error and "169.254.169.254" in delivery.last_error


@pytest.mark.parametrize("app", [LOOPBACK_ALLOWED], indirect=True)
def test_with_the_setting_the_named_host_gets_the_delivery(app):
    with app.app_context(), receiving(200) as receiver:
        add_endpoint(receiver.url)
        delivery_id = published().id
        assert webhook_delivery.attempt_delivery(delivery_id, T0) is Attempt.DELIVERED
        assert len(receiver.requests) == 1


@pytest.mark.parametrize("app", [LOOPBACK_ALLOWED], indirect=True)
def test_only_the_host_named_is_allowed(app):
    """localhost is another name for the allowed 127.0.0.1: still refused."""
    with app.app_context(), receiving(200) as receiver:
        delivery = _attempt(receiver.url.replace("127.0.0.1", "localhost"))
        assert receiver.requests == [] and "refused" in delivery.last_error


class _Redirector(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_POST(self) -> None:
        _Redirector.hits.append(self.path)
        self.send_response(307)
        self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.mark.parametrize("app", [LOOPBACK_ALLOWED], indirect=True)
def test_a_redirect_is_not_followed(app):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirector)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        with app.app_context():
            delivery = _attempt(f"http://127.0.0.1:{server.server_port}/hooks")
            assert delivery.status_code == 307 and delivery.last_error == "HTTP 307"
            assert _Redirector.hits == ["/hooks"]
    finally:
        server.shutdown()
        server.server_close()


def test_the_opener_checks_the_address_it_connects_to(monkeypatch):
    """A public name that resolves to loopback when the connection is made (DNS rebinding) is refused."""
    real = outgoing_http.socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):
        return real("127.0.0.1", port, *args, **kwargs) if host == "hooks.example.com" else real(host, port, *args, **kwargs)

    monkeypatch.setattr(outgoing_http.socket, "getaddrinfo", rebinding)
    request = urllib.request.Request("http://hooks.example.com:9/x", data=b"{}", method="POST")
    with pytest.raises(OSError, match="refused"):
        outgoing_http.opener().open(request, timeout=2)
