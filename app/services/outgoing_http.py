"""Outgoing HTTP (webhooks): only http(s), only to public addresses unless the host is allowed by name.

A webhook URL is typed by an administrator or an integrator; without this check it can make the
server read its own files (``file:///etc/passwd``), reach services bound to loopback, the office
network or the cloud's metadata service (``169.254.169.254``). So:

- only ``http`` and ``https`` URLs are opened (the opener has no file, ftp or data handler either);
- the host is resolved when the connection is made, and every address it resolves to must be public
  (not loopback, private, link-local, carrier-grade NAT, multicast, reserved or unspecified; an IPv4
  address inside IPv6 is judged as IPv4). The connection goes to the address that was checked, so a
  name that resolves elsewhere a moment later (DNS rebinding) gains nothing;
- redirects are not followed (a webhook's POST must reach the URL it was given), and proxies from
  the environment are not used (the check is on the address we connect to);
- ``LOOPDESK_OUTGOING_ALLOWED_HOSTS`` names hosts (as written in the URL: ``crm.intranet``,
  ``10.0.0.5``) that may be internal, for on-premise installs. Nothing is allowed by default.
"""
from __future__ import annotations

import functools
import http.client
import ipaddress
import socket
import urllib.request
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import current_app

SCHEMES = ("http", "https")


class RefusedDestination(OSError):
    """The URL may not be opened: its scheme, or an address its host resolves to."""


def allowed_hosts() -> frozenset[str]:
    return frozenset(_host_key(h) for h in current_app.config.get("LOOPDESK_OUTGOING_ALLOWED_HOSTS") or () if h.strip())


def _host_key(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def is_public(address: str) -> bool:
    """Whether an IP address is on the public Internet (what a webhook may reach without being allowed)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone (fe80::1%eth0) is link-local anyway
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip.sixtofour is not None:
            ip = ip.sixtofour
    return ip.is_global and not (
        ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified
    )


def check_url(url: str) -> None:
    """Refuse a URL whose scheme is not http(s) or that names no host (before anything is resolved)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in SCHEMES:
        raise RefusedDestination(f"refused: only http and https URLs are opened, not {parts.scheme or 'none'!r}")
    if not parts.hostname:
        raise RefusedDestination("refused: the URL names no host")


def _connect(address: tuple[str, int], timeout, source_address=None, *, allowed: frozenset[str]) -> socket.socket:
    """socket.create_connection, to an address of the host that was checked first."""
    host, port = address
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    if _host_key(host) not in allowed:
        internal = sorted({info[4][0] for info in infos if not is_public(info[4][0])})
        if internal:
            raise RefusedDestination(
                f"refused: {host} resolves to {', '.join(internal)}, not a public address "
                "(allow the host in LOOPDESK_OUTGOING_ALLOWED_HOSTS if it is yours)"
            )
    error: OSError | None = None
    for family, kind, proto, _name, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:  # type: ignore[attr-defined]
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as failure:
            error = failure
            sock.close()
    raise error or OSError(f"no address for {host}")


class _GuardedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, allowed: frozenset[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = functools.partial(_connect, allowed=allowed)


class _GuardedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args, allowed: frozenset[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = functools.partial(_connect, allowed=allowed)


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, allowed: frozenset[str]) -> None:
        super().__init__()
        self.allowed = allowed

    def http_open(self, req):
        return self.do_open(functools.partial(_GuardedHTTPConnection, allowed=self.allowed), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, allowed: frozenset[str]) -> None:
        super().__init__()
        self.allowed = allowed

    def https_open(self, req):
        return self.do_open(functools.partial(_GuardedHTTPSConnection, allowed=self.allowed), req, context=self._context)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a hop: a webhook's POST would turn into a GET to another address."""

    def redirect_request(self, *args, **kwargs):
        return None


def opener(allowed: Iterable[str] = ()) -> urllib.request.OpenerDirector:
    """An opener for http(s) only, to checked addresses, without redirects or environment proxies."""
    hosts = frozenset(_host_key(h) for h in allowed)
    director = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler({}), urllib.request.UnknownHandler(), _HTTPHandler(hosts), _HTTPSHandler(hosts),
        urllib.request.HTTPDefaultErrorHandler(), _NoRedirects(), urllib.request.HTTPErrorProcessor(),
    ):
        director.add_handler(handler)
    return director


def open_url(request: urllib.request.Request, timeout: float):
    """Open a request under the rules above (RefusedDestination, an OSError, when they refuse it)."""
    check_url(request.full_url)
    return opener(allowed_hosts()).open(request, timeout=timeout)
