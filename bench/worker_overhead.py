"""What a worker spends per job around the job itself: a fork per job, or none.

Each worker runs in one process that built the app once (as `flask jobs worker` does), on PostgreSQL
and Redis, draining N cheap jobs (`hand_over_held`: one SELECT … FOR UPDATE and a commit, nothing
held) in burst mode; the same with 0 jobs is subtracted (registration, shutdown). Workers: RQ's
`Worker` (a forked work horse per job, as Loopdesk's worker did before), RQ's `SimpleWorker` (no fork),
and Loopdesk's worker (`app.jobs.runner._Worker`) on the urgent queue (in process, an app context per
job) and on the bulk queue (a forked horse per job, which first forgets the inherited pool).

    .venv/bin/python bench/worker_overhead.py [--jobs 300] [--runs 3]

Needs PostgreSQL at 127.0.0.1:5432 (user root; database loopdesk_bench_queues, BENCH_QUEUES_DB, dropped
and recreated) and Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379/14; the queues it makes are deleted).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get("BENCH_POSTGRES", "postgresql://root@127.0.0.1:5432")
DB = os.environ.get("BENCH_QUEUES_DB", "loopdesk_bench_queues")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def reset_database() -> str:
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')
    url = f"{POSTGRES.replace('postgresql://', 'postgresql+psycopg://')}/{DB}"
    env = dict(os.environ, DATABASE_URL=url, FLASK_APP="wsgi", SECRET_KEY="bench")
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    return url


def drain(worker_class, jobs: int, queue_name: str) -> float:
    """Seconds for one burst worker of ``worker_class`` to run ``jobs`` jobs (app built before the clock starts)."""
    from flask import current_app

    from app.jobs import hand_over_held, queue
    from app.jobs.runner import _hand_over_held

    current_app.config["LOOPDESK_QUEUE"] = f"bench-{uuid.uuid4().hex[:8]}"
    jobs_queue = queue(queue_name)
    for _ in range(jobs):
        jobs_queue.enqueue(hand_over_held, job_timeout=60, result_ttl=60)
    _hand_over_held("bench")  # as run_worker does: the parent lets go of its connections before forking
    began = time.perf_counter()
    worker_class([jobs_queue], connection=jobs_queue.connection).work(burst=True, logging_level="WARNING")
    seconds = time.perf_counter() - began
    assert jobs_queue.count == 0 and jobs_queue.finished_job_registry.count == jobs, "not every job finished"
    jobs_queue.delete(delete_jobs=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    url = reset_database()
    os.environ.update(DATABASE_URL=url, REDIS_URL=REDIS_URL, SECRET_KEY="bench")
    sys.path.insert(0, str(ROOT))
    from rq import SimpleWorker, Worker

    from app import create_app
    from app.jobs import BULK, URGENT
    from app.jobs.runner import _Worker

    app = create_app()
    results: dict[str, list[float]] = {}
    with app.app_context():
        for run in range(args.runs):
            for label, worker_class, queue_name in [
                ("rq.Worker (fork)", Worker, URGENT), ("rq.SimpleWorker (no fork)", SimpleWorker, URGENT),
                ("Loopdesk urgent (no fork)", _Worker, URGENT), ("Loopdesk bulk (fork)", _Worker, BULK),
            ]:
                empty = drain(worker_class, 0, queue_name)
                full = drain(worker_class, args.jobs, queue_name)
                per_job = (full - empty) / args.jobs * 1000
                results.setdefault(label, []).append(per_job)
                print(f"run {run + 1} {label:28} {args.jobs} jobs {full:6.2f} s, empty {empty:5.2f} s: "
                      f"{per_job:6.1f} ms per job", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    for label, values in results.items():
        values.sort()
        print(f"{label:28} ms per job min / median / max: {values[0]:.1f} / {values[len(values) // 2]:.1f} / {values[-1]:.1f}")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"worker-overhead-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(
        json.dumps({"jobs": args.jobs, "results": results, "load": os.getloadavg()}, indent=2))


if __name__ == "__main__":
    main()
