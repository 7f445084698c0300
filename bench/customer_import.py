"""Importing 100,000 customers from CSV on PostgreSQL, as the import job runs it: time and peak memory.

Each run is a fresh process (so its memory is its own) that builds the app, empties the customers,
keeps the upload in the file store and starts the import (without REDIS_URL the job runs in process:
job_runs.build -> customers.imports.run, 500 rows a transaction), and then imports the same file again
(every row found by its external id and updated), with --update. Peak RSS is sampled every 20 ms during each import;
the baseline is the process's RSS just before it.

    .venv/bin/python bench/customer_import.py [--rows 100000] [--runs 3] [--update]

Needs PostgreSQL at 127.0.0.1:5432 (user root; database loopdesk_bench_customers, BENCH_CUSTOMERS_DB,
dropped and recreated). Run it under `flock /work/tools/bench.lock`.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get("BENCH_POSTGRES", "postgresql://root@127.0.0.1:5432")
DB = os.environ.get("BENCH_CUSTOMERS_DB", "loopdesk_bench_customers")
URL = f"{POSTGRES.replace('postgresql://', 'postgresql+psycopg://')}/{DB}"
HEADER = ["客户编号", "姓名", "手机", "邮箱", "公司", "门店", "价值等级", "客户规模", "合作开始日期", "邮件同意", "短信同意"]


def reset_database() -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')
    env = dict(os.environ, DATABASE_URL=URL, FLASK_APP="wsgi", SECRET_KEY="bench")
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([sys.executable, "-c", "from app import create_app\nfrom app.demo import seed_demo\n"
                    "app = create_app()\nwith app.app_context(): seed_demo(responses=0, worked_tickets=False)"],
                   cwd=ROOT, env=env, check=True, capture_output=True)


def write_csv(path: str, rows: int) -> None:
    """A CRM export: Chinese headers, local mobile numbers, one row in 200 with a bad phone."""
    rng = random.Random(14)
    tiers, sizes = ["高价值", "中价值", "低价值"], ["大型", "中型", "小型"]
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for number in range(1, rows + 1):
            phone = f"139{number:08d}" if number % 200 else "12345"
            writer.writerow([
                f"CRM-{number:07d}", f"客户{number}", phone, f"customer{number}@example.com", f"公司{number % 5000}",
                rng.choice(["SH-PEOPLE", "HZ-WESTLAKE"]), rng.choice(tiers), rng.choice(sizes),
                f"20{rng.randrange(15, 26)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                rng.choice(["是", "否", ""]), rng.choice(["是", ""]),
            ])


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1 << 20)


def one_run(path: str, phases: tuple[str, ...]) -> dict:
    """In this process: two imports of the file (creating, then updating); seconds and RSS for each."""
    os.environ.update(DATABASE_URL=URL, SECRET_KEY="bench")
    os.environ.pop("REDIS_URL", None)
    from sqlalchemy import func, select, text

    from app import create_app
    from app.extensions import db
    from app.models import Customer, JobRun, User
    from app.services.customers import imports

    app = create_app()
    results = {}
    with app.app_context():
        db.session.execute(text("TRUNCATE customers, customer_consents, customer_branches, customer_import_problems"
                                " RESTART IDENTITY CASCADE"))
        db.session.commit()
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        for phase in phases:
            with open(path, "rb") as source:
                _key, preview = imports.keep_upload(admin, source, "customers.csv")
            baseline, peak, running = rss_mib(), [0.0], [True]

            def sample() -> None:
                while running[0]:
                    peak[0] = max(peak[0], rss_mib())
                    time.sleep(0.02)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            began = time.perf_counter()
            run = imports.start(admin, preview, preview.mapping, None)  # in process without Redis
            seconds = time.perf_counter() - began
            running[0] = False
            sampler.join()
            run = db.session.get(JobRun, run.id)
            results[phase] = {"seconds": round(seconds, 1), "rss_before_mib": round(baseline, 1),
                              "rss_peak_mib": round(peak[0], 1), "status": str(run.status), **run.params["result"]}
        results["customers"] = db.session.scalar(select(func.count()).select_from(Customer))
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--update", action="store_true", help="then import the same file again (every row updated)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    phases = ("create", "update") if args.update else ("create",)
    if args.one:
        print(json.dumps(one_run(args.one, phases)))
        return
    reset_database()
    path = os.path.join(tempfile.mkdtemp(prefix="bench-customers-"), "customers.csv")
    write_csv(path, args.rows)
    print(f"{args.rows} rows, {os.path.getsize(path) / (1 << 20):.1f} MiB; load {os.getloadavg()}", flush=True)
    runs = []
    for number in range(args.runs):
        done = subprocess.run([sys.executable, __file__, "--one", path, *(["--update"] if args.update else [])], cwd=ROOT, check=True, capture_output=True, text=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["load"] = os.getloadavg()
        runs.append(result)
        print(f"run {number + 1}: {json.dumps(result)}", flush=True)
    for phase in phases:
        for figure in ("seconds", "rss_peak_mib"):
            values = sorted(r[phase][figure] for r in runs)
            print(f"{phase} {figure}: min {values[0]} / median {statistics.median(values)} / max {values[-1]}")
        rates = sorted(args.rows / r[phase]["seconds"] for r in runs)
        print(f"{phase} rows/s: min {rates[0]:.0f} / median {statistics.median(rates):.0f} / max {rates[-1]:.0f}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
