"""A lunch rush with a webhook burst (issue 12 §1): how long a complaint waits for its ticket.

Production shape: gunicorn (2 workers × 4 threads, as `scripts/dev`), PostgreSQL, Redis, the workers
`scripts/dev` starts (one `flask jobs worker --queues urgent`, BENCH_WORKERS = 2 taking urgent, notify,
bulk) and `flask jobs cron`. 50 phones without JavaScript (threads with their own cookies and network
address: X-Forwarded-For behind LOOPDESK_PROXY_HOPS=1) walk surveys for BENCH_SECONDS, pausing
BENCH_THINK_SECONDS between pages, each walk a new customer (cookies, address); about a third score
service ≤ 2 (a ticket). BENCH_BURST_AT seconds
in, BENCH_BURST_EVENTS events are published to two webhook endpoints at once and handed over as a
sweep hands them (`hand_over_webhooks`): 2 × events deliveries to a local receiver that takes
BENCH_RECEIVER_SECONDS per request.

Measured from the database: each ticket's `created_at` minus its response's `submitted_at`, for the
responses submitted during the run: p50 / p95 / max (goal p95 ≤ 2 s), also only those submitted while
the burst was being delivered. Low-score responses left without a ticket after the drain are counted.

    flock /work/tools/bench.lock .venv/bin/python bench/queues_bench.py [--runs 3] [--keep]

Needs PostgreSQL at 127.0.0.1:5432 (user root; database loopdesk_bench_queues, BENCH_QUEUES_DB, dropped and
recreated; dropped at the end unless --keep) and Redis (BENCH_REDIS_URL, default db 14, flushed).
Output: bench/results/queues-<time>.json and the processes' logs beside it.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
POSTGRES = os.environ.get("BENCH_POSTGRES", "postgresql://root@127.0.0.1:5432")
DB = os.environ.get("BENCH_QUEUES_DB", "loopdesk_bench_queues")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
PORT = int(os.environ.get("BENCH_QUEUES_PORT", "18130"))
RECEIVER_PORT = PORT + 1
PHONES = int(os.environ.get("BENCH_PHONES", "50"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "180"))
THINK = [float(part) for part in os.environ.get("BENCH_THINK_SECONDS", "0.5,3").split(",")]
BURST_AT = float(os.environ.get("BENCH_BURST_AT", "30"))
BURST_EVENTS = int(os.environ.get("BENCH_BURST_EVENTS", "300"))
RECEIVER_SECONDS = float(os.environ.get("BENCH_RECEIVER_SECONDS", "0.3"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
LOW_SHARE = float(os.environ.get("BENCH_LOW_SHARE", "0.33"))
RESULTS = ROOT / "bench" / "results"

HIDDEN = re.compile(r'name="(csrf_token|key|step)"[^>]*value="([^"]*)"')


def env() -> dict[str, str]:
    return dict(
        os.environ, DATABASE_URL=f"{POSTGRES}/{DB}", REDIS_URL=REDIS_URL, SECRET_KEY="bench-queues", FLASK_APP="wsgi",
        LOOPDESK_BASE_URL=f"http://127.0.0.1:{PORT}", LOOPDESK_PROXY_HOPS="1",
        LOOPDESK_OUTGOING_ALLOWED_HOSTS="127.0.0.1",
        # One network address per phone, but every phone scans one of a few codes: no ballot stuffing here.
        LOOPDESK_SUBMISSION_BURST_CODE="1000000", LOOPDESK_SURVEY_LIMIT_PER_ADDRESS="1000000/minute",
    )


def reset() -> list[str]:
    import psycopg
    import redis

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')
    redis.Redis.from_url(REDIS_URL).flushdb()
    subprocess.run([PY, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env(), check=True, capture_output=True)
    demo = subprocess.run([PY, "-m", "flask", "demo", "--responses", "0"], cwd=ROOT, env=env(), check=True,
                          capture_output=True, text=True).stdout
    tokens = re.findall(r"^survey: .*/s/(\S+)", demo, re.M)
    assert tokens, "no survey URL in the demo's output"
    return tokens


def drop() -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')


class Receiver:
    """A slow webhook receiver: each request takes RECEIVER_SECONDS, then 200."""

    def __init__(self) -> None:
        self.count = 0
        self.in_flight = 0
        self.most_in_flight = 0
        lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                with lock:
                    receiver.in_flight += 1
                    receiver.most_in_flight = max(receiver.most_in_flight, receiver.in_flight)
                self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(RECEIVER_SECONDS)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                with lock:
                    receiver.in_flight -= 1
                    receiver.count += 1

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", RECEIVER_PORT), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def start(stamp: str) -> list[subprocess.Popen]:
    commands = [
        ["gunicorn", "--workers", "2", "--threads", "4", "--no-control-socket", "--bind", f"127.0.0.1:{PORT}", "wsgi:app"],
        [PY, "-m", "flask", "jobs", "worker", "--queues", "urgent"],
        *[[PY, "-m", "flask", "jobs", "worker"] for _ in range(WORKERS)],
        [PY, "-m", "flask", "jobs", "cron"],
    ]
    processes = []
    for number, command in enumerate(commands):
        log = open(RESULTS / f"queues-{stamp}-{number}-{Path(command[0]).name}-{command[-1]}.log", "w")
        if command[0] == "gunicorn":
            command[0] = str(Path(PY).with_name("gunicorn"))
        processes.append(subprocess.Popen(command, cwd=ROOT, env=env(), stdout=log, stderr=subprocess.STDOUT,
                                          start_new_session=True))
    return processes


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def wait_until_up(tokens: list[str]) -> None:
    from redis import Redis
    from rq import Worker

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            up = requests.get(f"http://127.0.0.1:{PORT}/s/{tokens[0]}", timeout=5).status_code == 200
        except requests.RequestException:
            up = False
        if up and len(Worker.all(connection=Redis.from_url(REDIS_URL))) >= WORKERS + 1:
            return
        time.sleep(0.5)
    raise SystemExit("the server or the workers did not come up in 120 s (see the logs in bench/results/)")


class Phones:
    def __init__(self, tokens: list[str], until: float) -> None:
        self.tokens, self.until = tokens, until
        self.walks = self.low = self.failures = 0
        self.first_failure = ""
        self.lock = threading.Lock()

    def run(self, number: int) -> None:
        while time.monotonic() < self.until:
            try:
                # Each walk is another customer: another phone and address (3 walks from one address would
                # be a burst of ballot stuffing, one ticket between them).
                low = self.walk(f"10.{number}.{random.randint(0, 255)}.{random.randint(1, 254)}")
                with self.lock:
                    self.walks += 1
                    self.low += low
            except Exception as error:  # noqa: BLE001 - counted and shown; the phone starts a new walk
                with self.lock:
                    self.failures += 1
                    self.first_failure = self.first_failure or repr(error)
                time.sleep(1)

    def walk(self, address: str) -> bool:
        session = requests.Session()
        # A phone that thinks for seconds finds its idle connection closed (gunicorn keeps it 2 s): a new one each request.
        session.headers.update({"X-Forwarded-For": address, "Accept-Language": "zh-CN,zh;q=0.9", "Connection": "close",
                                "User-Agent": "Mozilla/5.0 (iPhone) bench/queues_bench.py"})
        url = f"http://127.0.0.1:{PORT}/s/{random.choice(self.tokens)}"
        low = random.random() < LOW_SHARE
        page = session.get(url, timeout=30)
        for _ in range(12):
            page.raise_for_status()
            if 'class="thanks"' in page.text:
                return low
            fields = dict(HIDDEN.findall(page.text))
            if {"csrf_token", "key", "step"} - fields.keys():
                raise RuntimeError(f"no step form at {page.url}")
            time.sleep(random.uniform(*THINK))
            data = list(fields.items())
            text = page.text
            if 'name="q_product"' in text:
                data.append(("q_product", random.randint(3, 5)))
            if 'name="q_service"' in text:
                data.append(("q_service", random.randint(1, 2) if low else random.randint(4, 5)))
            if 'name="q_service_problem"' in text:
                data += [("q_service_problem", "waiting"), ("q_service_problem", "attitude")]
            if 'name="q_environment"' in text:
                data.append(("q_environment", random.randint(3, 5)))
            if 'name="q_nps"' in text:
                data.append(("q_nps", random.randint(0, 4) if low else random.randint(7, 10)))
            if 'name="q_comment"' in text:
                data.append(("q_comment", "排队时间太长了" if low else ""))
            page = session.post(url, data=data, timeout=30)
        raise RuntimeError("no thank-you page after 12 steps")


def burst(stamp: dict) -> None:
    """What an SLA sweep that fires many rungs does: publish, commit, hand the deliveries over."""
    os.environ.update(env())
    sys.path.insert(0, str(ROOT))
    from app import create_app
    from app.extensions import db
    from app.jobs.notifications import hand_over_webhooks
    from app.services.webhooks import events

    app = create_app()
    with app.app_context():
        began = time.monotonic()
        deliveries = []
        endpoints = events.active_endpoints()
        for number in range(BURST_EVENTS):
            deliveries += [events.emit_test(endpoint, f"LD-BENCH{number}") for endpoint in endpoints]
        db.session.flush()
        ids = [delivery.id for delivery in deliveries]
        db.session.commit()
        hand_over_webhooks(ids)
        stamp.update(deliveries=len(ids), handed_over_seconds=round(time.monotonic() - began, 2),
                     at=datetime.now(UTC), ids=ids)


def add_endpoints() -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES}/{DB}", autocommit=True) as conn:
        for name in ("crm", "chat"):
            conn.execute("INSERT INTO webhook_endpoints (url, secret, events, active, created_at) "
                         "VALUES (%s, 'whsec_YmVuY2gtc2VjcmV0', '[]', true, now())",
                         (f"http://127.0.0.1:{RECEIVER_PORT}/{name}",))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def figures(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50": round(statistics.median(values), 3), "p95": round(percentile(values, 0.95), 3),
            "max": round(max(values), 3)}


def measure(began: datetime, burst_info: dict, drain_seconds: float) -> dict:
    import psycopg

    with psycopg.connect(f"{POSTGRES}/{DB}") as conn:
        deadline = time.monotonic() + drain_seconds
        while time.monotonic() < deadline:  # the last submissions' jobs, and the burst
            waiting = conn.execute("SELECT count(*) FROM responses WHERE submitted_at >= %s AND processed_at IS NULL",
                                   (began,)).fetchone()[0]
            conn.commit()
            if not waiting:
                break
            time.sleep(1)
        rows = conn.execute(
            "SELECT r.submitted_at, EXTRACT(EPOCH FROM t.created_at - r.submitted_at) FROM tickets t "
            "JOIN responses r ON r.id = t.response_id WHERE r.submitted_at >= %s ORDER BY r.submitted_at", (began,)
        ).fetchall()
        submitted = conn.execute("SELECT count(*), count(processed_at) FROM responses WHERE submitted_at >= %s",
                                 (began,)).fetchone()
        low_without = conn.execute(
            "SELECT count(*) FROM responses r JOIN answers a ON a.response_id = r.id "
            "JOIN questions q ON q.id = a.question_id "
            "WHERE r.submitted_at >= %s AND q.key = 'service' AND a.value_int <= 2 "
            "AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.response_id = r.id)", (began,)
        ).fetchone()[0]
        ids = burst_info.get("ids", [])
        delivered = conn.execute(
            "SELECT count(delivered_at), max(delivered_at) FROM webhook_deliveries WHERE id = ANY(%s)", (ids,)
        ).fetchone()
        total_deliveries = conn.execute("SELECT count(*), count(delivered_at) FROM webhook_deliveries").fetchone()
    latencies = [float(seconds) for _at, seconds in rows]
    burst_at, burst_done = burst_info.get("at"), delivered[1]
    during = [float(seconds) for at, seconds in rows if burst_at and burst_done and burst_at <= at <= burst_done]
    return {
        "responses_submitted": submitted[0], "responses_processed": submitted[1], "tickets": len(rows),
        "low_service_without_ticket": low_without,
        "ticket_latency_seconds": figures(latencies),
        "ticket_latency_during_burst_seconds": figures(during),
        "burst": {"deliveries": burst_info.get("deliveries"), "handed_over_seconds": burst_info.get("handed_over_seconds"),
                  "delivered": delivered[0],
                  "delivered_within_seconds": round((burst_done - burst_at).total_seconds(), 1) if burst_done else None},
        "webhook_deliveries_all": {"created": total_deliveries[0], "delivered": total_deliveries[1]},
    }


def one_run(number: int) -> dict:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    tokens = reset()
    add_endpoints()
    receiver = Receiver()
    processes = start(stamp)
    try:
        wait_until_up(tokens)
        load_before = os.getloadavg()
        began = datetime.now(UTC)
        phones = Phones(tokens, time.monotonic() + SECONDS)
        threads = [threading.Thread(target=phones.run, args=(n,), daemon=True) for n in range(PHONES)]
        for thread in threads:
            thread.start()
        time.sleep(BURST_AT)
        burst_info: dict = {}
        burst(burst_info)
        for thread in threads:
            thread.join()
        result = measure(began, burst_info, drain_seconds=60)
        deadline = time.monotonic() + 120
        while receiver.count < result["webhook_deliveries_all"]["created"] and time.monotonic() < deadline:
            time.sleep(1)
        result = measure(began, burst_info, drain_seconds=0) | {
            "walks": phones.walks, "low_walks": phones.low, "walk_failures": phones.failures,
            "first_failure": phones.first_failure, "receiver_requests": receiver.count,
            "receiver_most_in_flight": receiver.most_in_flight,
            "load_before": [round(v, 2) for v in load_before], "load_after": [round(v, 2) for v in os.getloadavg()],
            "crashed": [p.args[-1] for p in processes if p.poll() is not None],
        }
    finally:
        stop(processes)
        receiver.server.shutdown()
        receiver.server.server_close()
    latency = result["ticket_latency_seconds"]
    print(f"run {number}: {result['walks']} walks ({result['walk_failures']} failed), {result['tickets']} tickets; "
          f"submitted → ticket p50 {latency.get('p50')} s, p95 {latency.get('p95')} s, max {latency.get('max')} s; "
          f"during the burst {result['ticket_latency_during_burst_seconds']}; burst {result['burst']}; "
          f"load {result['load_before']} → {result['load_after']}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    settings = {"phones": PHONES, "seconds": SECONDS, "think_seconds": THINK, "burst_at": BURST_AT,
                "burst_events": BURST_EVENTS, "receiver_seconds": RECEIVER_SECONDS, "workers": WORKERS + 1,
                "cpus": os.cpu_count()}
    print(f"settings: {settings}", flush=True)
    runs = []
    try:
        for number in range(1, args.runs + 1):
            runs.append(one_run(number))
    finally:
        if not args.keep:
            drop()
    p95s = sorted(run["ticket_latency_seconds"].get("p95", float("nan")) for run in runs)
    if p95s:
        print(f"p95 submitted → ticket over {len(p95s)} run(s), min / median / max: "
              f"{p95s[0]} / {p95s[len(p95s) // 2]} / {p95s[-1]} s (goal ≤ 2 s): "
              f"{'met' if p95s[-1] <= 2 else 'NOT met'}")
    out = RESULTS / f"queues-{time.strftime('%Y%m%d-%H%M%S')}.json"
    for run in runs:
        run.pop("ids", None)
    out.write_text(json.dumps({"settings": settings, "runs": runs}, indent=2, default=str))
    print(f"written {out}")


if __name__ == "__main__":
    main()
