#!/usr/bin/env python3
"""Where the dashboard's time goes, on the database bench/dashboard_run generated (through the test client).

    .venv/bin/python bench/dashboard_profile.py explain [--path …]     every statement, its time, EXPLAIN ANALYZE
    .venv/bin/python bench/dashboard_profile.py profile [--path …]     the page under cProfile
    .venv/bin/python bench/dashboard_profile.py time [--path …]        ms per request (no profiler), min/median/max

``--path`` defaults to the page for a year (the last 365 days of the roll-ups); ``{year}`` in it is replaced by
that range, e.g. ``--path '/insight/chart/trend.svg?{year}&grain=month'``. The database is
``BENCH_POSTGRES``/``BENCH_INSIGHT_DB`` as for bench/dashboard_run (or ``DATABASE_URL``). See bench/README.md.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import cProfile  # noqa: E402
import pstats  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from datetime import date, timedelta  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

SERVER = os.environ.get("BENCH_POSTGRES", "postgresql://root@127.0.0.1:5432")
DATABASE_URL = os.environ.get("DATABASE_URL") or f"{SERVER}/{os.environ.get('BENCH_INSIGHT_DB', 'loopdesk_insight_bench')}"
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ.setdefault("SECRET_KEY", "bench-dashboard")
os.environ["REDIS_URL"] = ""


def year_args() -> str:
    import psycopg

    with psycopg.connect(DATABASE_URL.replace("postgresql+psycopg://", "postgresql://")) as conn:
        (last,) = conn.execute("SELECT max(day) FROM rollup_responses").fetchone()
    last = last or date.today()
    return urlencode({"date_from": (last - timedelta(days=364)).isoformat(), "date_to": last.isoformat()})


def signed_in(user: str):
    from app import create_app

    app = create_app({"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    client = app.test_client()
    password = {"admin": "loopdesk-admin", "supervisor": "loopdesk-supervisor"}[user]
    response = client.post("/login", data={"username": user, "password": password})
    if response.status_code != 302:
        sys.exit(f"test client sign-in: {response.status_code}")
    return app, client


def explain(path: str, user: str) -> None:
    from sqlalchemy import event

    from app.extensions import db

    app, client = signed_in(user)
    client.get(path)  # warm: compiled statements, templates
    statements: list[dict] = []
    with app.app_context():
        engine = db.engine

        def before(conn, cursor, statement, parameters, context, executemany):
            conn.info["started"] = time.perf_counter()

        def after(conn, cursor, statement, parameters, context, executemany):
            statements.append({"sql": statement, "parameters": parameters,
                               "ms": (time.perf_counter() - conn.info.pop("started")) * 1000})

        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        started = time.perf_counter()
        response = client.get(path)
        page_ms = (time.perf_counter() - started) * 1000
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        with engine.connect() as conn:
            for statement in statements:
                if statement["sql"].lstrip().upper().startswith("SELECT"):
                    plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement["sql"], statement["parameters"])
                    statement["plan"] = [line for (line,) in plan]
            conn.rollback()
    print(f"== {path} as {user}: status {response.status_code}, {len(statements)} statements, "
          f"{sum(s['ms'] for s in statements):.1f} ms in SQL, {page_ms:.1f} ms for the page (test client)")
    for statement in statements:
        print(f"\n-- {statement['ms']:.2f} ms\n{statement['sql']}\n   {repr(statement['parameters'])[:300]}")
        for line in statement.get("plan", []):
            print(f"   {line}")


def profile(path: str, user: str, requests: int, sort: str, top: int) -> None:
    _app, client = signed_in(user)
    client.get(path)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(requests):
        client.get(path)
    profiler.disable()
    print(f"== {path}: {(time.perf_counter() - started) * 1000 / requests:.1f} ms per request under cProfile")
    pstats.Stats(profiler).sort_stats(sort).print_stats(top)


def timed(path: str, user: str, requests: int) -> None:
    _app, client = signed_in(user)
    for _ in range(3):
        client.get(path)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            sys.exit(f"GET {path}: {response.status_code}")
    print(f"{path}: min {min(times):.1f} / median {statistics.median(times):.1f} / max {max(times):.1f} ms "
          f"({requests} requests, test client); load average {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["explain", "profile", "time"])
    parser.add_argument("--path", default="/insight/?{year}")
    parser.add_argument("--user", default="admin", choices=["admin", "supervisor"])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    path = args.path.replace("{year}", year_args())
    if args.command == "explain":
        explain(path, args.user)
    elif args.command == "profile":
        profile(path, args.user, args.requests, args.sort, args.top)
    else:
        timed(path, args.user, args.requests)


if __name__ == "__main__":
    main()
