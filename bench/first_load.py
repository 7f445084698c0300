"""The survey's first load on a phone: bytes over the wire, and the first question's time on slow 3G.

Run by bench/first_load_run against a served Loopdesk (see bench/README.md); usable alone:

    .venv/bin/python bench/first_load.py --url http://127.0.0.1:18120/s/<token> [--runs 7]

Bytes: for a brotli client and a gzip-only client, the survey page and every file it links, each
fetched on a fresh socket (`Connection: close`) and counted as received (status line, headers and
body as sent, chunk framing included), with no cookie: a phone that scans the code for the first time.

Time: Debian's Chromium (Playwright), a fresh browser context per run (empty cache, no cookies), the
network emulated by CDP `Network.emulateNetworkConditions` (400 ms latency, 400 kbit/s each way).
"First question visible" is the Element Timing render time of the first question's prompt: the first
frame that paints it, styled (Chromium paints nothing before the stylesheet in <head> has arrived).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import sys
import time
import zlib
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import brotli

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400_000 / 8, "uploadThroughput": 400_000 / 8}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "locale": "zh-CN"}
CLIENTS = {
    "brotli": "gzip, deflate, br, zstd",  # what Chromium and Safari send over HTTPS
    "gzip-only": "gzip, deflate",  # an older browser, or a proxy that strips br
}
BUDGET_BYTES = 20 * 1024
BUDGET_FIRST_QUESTION_MS = 1000
ASSET_RE = re.compile(r'<(?:script|img|source)[^>]+src="([^"]+)"|<link[^>]+href="([^"]+)"')

#: Marks the first question's prompt for Element Timing as the parser inserts it (before its first paint),
#: so the page under test needs no attribute of its own; and records paints for the run to read.
MARK_FIRST_QUESTION = """
window.__paints = [];
new PerformanceObserver(list => { for (const e of list.getEntries()) window.__paints.push(
  {type: e.entryType, name: e.name, id: e.identifier || '', time: e.renderTime || e.startTime}); })
  .observe({type: 'element', buffered: true});
new PerformanceObserver(list => { for (const e of list.getEntries()) window.__paints.push(
  {type: e.entryType, name: e.name, id: '', time: e.startTime}); })
  .observe({type: 'paint', buffered: true});
new MutationObserver((_records, observer) => {
  const prompt = document.querySelector('fieldset.question legend');
  if (prompt) { prompt.setAttribute('elementtiming', 'first-question'); observer.disconnect(); }
}).observe(document, {childList: true, subtree: true});
"""


def fetch(url: str, accept_encoding: str) -> dict:
    """One GET on a fresh connection; the bytes as they came off the socket."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUser-Agent: Mozilla/5.0 (iPhone) loopdesk-bench\r\n"
        f"Accept: */*\r\nAccept-Language: zh-CN,zh;q=0.9\r\nAccept-Encoding: {accept_encoding}\r\n"
        "Connection: close\r\n\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port or 80), timeout=30) as sock:
        sock.sendall(request.encode())
        received = bytearray()
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = bytes(received).partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), value.strip())
    return {
        "status": int(status_line.split()[1]),
        "headers": headers,
        "wire_bytes": len(received),
        "header_bytes": len(head) + 4,
        "body": _dechunk(body) if headers.get("transfer-encoding") == "chunked" else body,
    }


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    while body:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += body[:size]
        body = body[size + 2:]
    return bytes(out)


def decoded(response: dict) -> bytes:
    encoding = response["headers"].get("content-encoding", "")
    body = response["body"]
    if encoding == "br":
        return brotli.decompress(body)
    if encoding in ("gzip", "deflate"):
        return zlib.decompress(body, 47 if encoding == "gzip" else 15)
    return body


def first_load_bytes(url: str, accept_encoding: str) -> dict:
    page = fetch(url, accept_encoding)
    html = decoded(page).decode()
    links = [a or b for a, b in ASSET_RE.findall(html) if not (a or b).startswith("data:")]
    requests = [("page", page)] + [(link, fetch(urljoin(url, link), accept_encoding)) for link in links]
    rows = [
        {
            "what": name, "status": r["status"], "encoding": r["headers"].get("content-encoding", "identity"),
            "wire_bytes": r["wire_bytes"], "header_bytes": r["header_bytes"],
            "body_bytes": r["wire_bytes"] - r["header_bytes"], "decoded_bytes": len(decoded(r)),
            "cache_control": r["headers"].get("cache-control", ""), "vary": r["headers"].get("vary", ""),
        }
        for name, r in requests
    ]
    return {"accept_encoding": accept_encoding, "requests": rows, "wire_bytes": sum(r["wire_bytes"] for r in rows)}


def browser_runs(url: str, runs: int) -> list[dict]:
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for _ in range(runs):
                results.append(_one_browser_run(browser, url))
        finally:
            browser.close()
    return results


def _one_browser_run(browser, url: str) -> dict:
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", SLOW_3G)
        page.add_init_script(MARK_FIRST_QUESTION)
        network = NetworkLog(cdp)
        page.goto(url, wait_until="load")
        page.wait_for_function("window.__paints.some(p => p.id === 'first-question')", timeout=30_000)
        timing = page.evaluate(
            """() => {
              const nav = performance.getEntriesByType('navigation')[0];
              const paint = (id, type) => (window.__paints.find(p => id ? p.id === id : p.type === 'paint' && p.name === type) || {}).time;
              return {first_question_ms: paint('first-question'), first_contentful_paint_ms: paint('', 'first-contentful-paint'),
                      htmx_ready_ms: nav.domContentLoadedEventEnd, load_ms: nav.loadEventEnd, htmx: typeof window.htmx === 'object'};
            }"""
        )
        first_visit = network.take()
        page.goto(url, wait_until="load")  # the same phone again: what it still asks the network for
        second_visit = network.take()
        return {
            **timing,
            "requests": len(first_visit), "wire_bytes": sum(first_visit.values()),
            "second_visit_requests": len(second_visit), "second_visit_wire_bytes": sum(second_visit.values()),
        }
    finally:
        context.close()


class NetworkLog:
    """What went over the (emulated) network, from CDP: bytes received per URL, headers included; cache hits left out."""

    def __init__(self, cdp) -> None:
        self.urls: dict[str, str] = {}
        self.cached: set[str] = set()
        self.received: dict[str, int] = {}
        cdp.on("Network.requestWillBeSent", lambda event: self.urls.__setitem__(event["requestId"], event["request"]["url"]))
        cdp.on("Network.requestServedFromCache", lambda event: self.cached.add(event["requestId"]))
        cdp.on("Network.loadingFinished", self._finished)

    def _finished(self, event: dict) -> None:
        if event["requestId"] not in self.cached and event["encodedDataLength"] > 0:
            self.received[self.urls.get(event["requestId"], "?")] = event["encodedDataLength"]

    def take(self) -> dict[str, int]:
        received, self.received, self.cached = self.received, {}, set()
        return received


def spread(values: list[float]) -> str:
    return f"{min(values):.0f} / {statistics.median(values):.0f} / {max(values):.0f}"


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="a survey URL, /s/<token>")
    parser.add_argument("--runs", type=int, default=7, help="Chromium runs on slow 3G (at least 5)")
    parser.add_argument("--out", type=Path, help="write the figures here as JSON")
    args = parser.parse_args(argv)
    if args.runs < 5:
        parser.error("--runs: at least 5")

    load_before = load_average()
    print(f"load average before: {load_before} ({os.cpu_count()} CPUs)")
    weights = {}
    for client, accept_encoding in CLIENTS.items():
        weights[client] = weight = first_load_bytes(args.url, accept_encoding)
        print(f"\n== first load, {client} client (Accept-Encoding: {accept_encoding})")
        print(f"{'request':48} {'status':>6} {'encoding':>8} {'headers':>8} {'body':>7} {'wire':>7} {'decoded':>8}  cache-control")
        for row in weight["requests"]:
            print(
                f"{row['what'][:48]:48} {row['status']:>6} {row['encoding']:>8} {row['header_bytes']:>8} "
                f"{row['body_bytes']:>7} {row['wire_bytes']:>7} {row['decoded_bytes']:>8}  {row['cache_control']}"
            )
        verdict = "ok" if weight["wire_bytes"] <= BUDGET_BYTES else "OVER"
        print(f"total: {weight['wire_bytes']} bytes over the wire in {len(weight['requests'])} requests "
              f"(budget {BUDGET_BYTES}: {verdict})")

    print(f"\n== Chromium on slow 3G (latency {SLOW_3G['latency']} ms, {SLOW_3G['downloadThroughput'] * 8 / 1000:.0f} kbit/s), "
          f"{args.runs} runs, fresh context each; flags: {' '.join(CHROMIUM_ARGS)}")
    started = time.monotonic()
    runs = browser_runs(args.url, args.runs)
    load_after = load_average()
    for name, label in [
        ("first_question_ms", "first question visible"), ("first_contentful_paint_ms", "first contentful paint"),
        ("htmx_ready_ms", "htmx ready (DOMContentLoaded)"), ("load_ms", "load event"),
    ]:
        print(f"{label:32} {spread([r[name] for r in runs])} ms (min / median / max)")
    print(f"{'bytes the browser received':32} {spread([r['wire_bytes'] for r in runs])} in {runs[0]['requests']} requests")
    print(f"{'second visit (warm cache)':32} {spread([r['second_visit_wire_bytes'] for r in runs])} bytes in "
          f"{runs[0]['second_visit_requests']} requests")
    median_first_question = statistics.median(r["first_question_ms"] for r in runs)
    verdict = "ok" if max(r["first_question_ms"] for r in runs) <= BUDGET_FIRST_QUESTION_MS else "OVER"
    print(f"target: first question ≤ {BUDGET_FIRST_QUESTION_MS} ms every run: {verdict} (median {median_first_question:.0f} ms)")
    print(f"load average after: {load_after}; {time.monotonic() - started:.0f} s in Chromium")
    if not all(r["htmx"] for r in runs):
        print("warning: htmx did not load in every run", file=sys.stderr)

    if args.out:
        args.out.write_text(json.dumps({
            "url": args.url, "load_average_before": load_before, "load_average_after": load_after,
            "network": SLOW_3G, "chromium_args": CHROMIUM_ARGS, "bytes": weights, "runs": runs,
        }, indent=2))
        print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
