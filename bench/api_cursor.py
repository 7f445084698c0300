"""Listing 100,000 responses through the API's cursor (issue 13): pages of 500 on PostgreSQL.

    flock /work/tools/bench.lock .venv/bin/python bench/api_cursor.py            # reset, seed (≈ 30 s), 3 walks
    flock /work/tools/bench.lock .venv/bin/python bench/api_cursor.py --reuse    # walk the last seeded database again

A database of its own (``BENCH_API_DB``, default loopdesk_bench_api on ``BENCH_POSTGRES``): migrated, the demo
without past responses, then 100,000 submitted responses with three CSAT answers each, spread over a year, written
by one INSERT … SELECT generate_series and analysed. Each walk lists them all as an integration would: an
every-branch key, GET /api/v1/responses?limit=500, then each ``next`` until it is null, through the WSGI app in this
process (the API's own work: query, loading, serialising; no network). Figures per walk: pages, seconds, pages/s,
and the median time of the first 10 and of the last 10 pages: keyset pagination must not grow with the offset.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SERVER = os.environ.get("BENCH_POSTGRES", "postgresql://root@127.0.0.1:5432")
DATABASE = os.environ.get("BENCH_API_DB", "loopdesk_bench_api")
os.environ["DATABASE_URL"] = f"{SERVER}/{DATABASE}"
os.environ.setdefault("SECRET_KEY", "bench-api")
os.environ["REDIS_URL"] = ""
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESPONSES, PAGE = 100_000, 500


def reset_and_seed() -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    done = subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "db", "upgrade"],
                          cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        sys.exit(done.stderr)
    from app import create_app
    from app.demo import seed_demo

    app = create_app({"RATELIMIT_ENABLED": False})
    with app.app_context():
        seed_demo(responses=0, worked_tickets=False)
    with psycopg.connect(f"{SERVER}/{DATABASE}", autocommit=True) as conn:
        conn.execute(f"""
            INSERT INTO responses (branch_id, version_id, language, device_id, idempotency_key, started_at,
                                   last_answered_at, furthest_step, submitted_at, duration_seconds, quality_flags,
                                   contact_consent, processed_at, updated_at)
            SELECT b.ids[1 + g % array_length(b.ids, 1)], v.id, 'zh_Hans', md5(g::text), md5('k' || g),
                   t, t, 5, t, 60, '[]', false, t, t
            FROM generate_series(1, {RESPONSES}) AS g
            CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM branches) AS b
            CROSS JOIN (SELECT min(id) AS id FROM questionnaire_versions WHERE status = 'published') AS v
            CROSS JOIN LATERAL (SELECT now() - interval '365 days' + g * interval '315 seconds' AS t) AS moment
        """)
        conn.execute("""
            INSERT INTO answers (response_id, question_id, value_int)
            SELECT r.id, q.id, 1 + (r.id + q.id) % 5 FROM responses r
            CROSS JOIN LATERAL (SELECT id FROM questions WHERE version_id = r.version_id AND type = 'csat'
                                ORDER BY position LIMIT 3) AS q
        """)
        for table in ("responses", "answers"):
            conn.execute(f"VACUUM ANALYZE {table}")


def walk(client, token: str) -> dict:
    url, times, items = f"/api/v1/responses?limit={PAGE}", [], 0
    started = time.perf_counter()
    while url:
        before = time.perf_counter()
        answer = client.get(url, headers={"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"})
        times.append(time.perf_counter() - before)
        assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
        body = answer.get_json()
        items += len(body["items"])
        url = body["next"]
    seconds = time.perf_counter() - started
    return {
        "items": items, "pages": len(times), "seconds": round(seconds, 2), "pages_per_s": round(len(times) / seconds, 2),
        "first_10_ms": round(1000 * statistics.median(times[:10]), 1),
        "last_10_ms": round(1000 * statistics.median(times[-10:]), 1),
        "median_ms": round(1000 * statistics.median(times), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reuse", action="store_true", help="walk the database the last run seeded")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not args.reuse:
        reset_and_seed()
    from app import create_app
    from app.extensions import db
    from app.models import Role, User
    from app.services.integrations import keys

    app = create_app({"RATELIMIT_ENABLED": False})
    with app.app_context():
        admin = db.session.scalar(db.select(User).where(User.role == Role.ADMIN))
        _key, token = keys.create(admin, "bench", ["responses:read"], True, [])
        db.session.commit()
    client = app.test_client()
    runs = []
    for _ in range(args.runs):
        runs.append(walk(client, token) | {"load": os.getloadavg()[0]})
        print(json.dumps(runs[-1]), flush=True)

    def spread(name: str) -> str:
        values = sorted(r[name] for r in runs)
        return f"{values[0]} / {statistics.median(values)} / {values[-1]}"

    print(json.dumps({name: spread(name) for name in ("pages_per_s", "first_10_ms", "last_10_ms", "median_ms", "seconds", "load")}))
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
