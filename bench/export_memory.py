"""Peak memory of the responses export on 100,000 responses (issue 5: "an XLSX export of 100,000
responses opens with openpyxl with the right row and column counts; peak memory of the export job
stays under 300 MB").

    .venv/bin/python bench/export_memory.py                       # temporary SQLite file, 100,000 rows, XLSX
    DATABASE_URL=postgresql://root@127.0.0.1:5432/loopdesk_bench_exports .venv/bin/python bench/export_memory.py
    .venv/bin/python bench/export_memory.py --rows 20000 --format csv
    .venv/bin/python bench/export_memory.py --reuse               # measure again on the database seeded before
    DATABASE_URL=postgresql://root@127.0.0.1:5432/loopdesk_bench_exports .venv/bin/python bench/export_memory.py --reuse --store database

Steps: seed the demo (branches, users, the default questionnaire) and N submitted responses with
their answers through SQLAlchemy Core bulk inserts; store an export run (all responses, flagged
included, headers in Chinese) for the demo admin; build it in a fresh Python process, exactly as an
RQ work-horse runs ``job_runs.build``, and take that process's peak resident memory
(``getrusage(RUSAGE_SELF).ru_maxrss``: the imports, the app and the job together), handing the file to
the store ``--store`` names (LOOPDESK_FILE_STORE: folder, or database for several servers); download it
in another fresh process the way the download view reads it (8 KiB reads from the store) and take that
process's peak too; then open the file with openpyxl (read-only) and check rows = N + 1 (the header)
and the column count.

Without DATABASE_URL the SQLite file is made afresh on every run. A database given by DATABASE_URL
(PostgreSQL: created when missing) that already has branches is refused unless ``--reuse`` (measure
on it as it is) or ``--fresh`` (SQLite: a new file; PostgreSQL: the database is dropped and created again).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
os.environ["REDIS_URL"] = ""  # the job runs here, never in a queue

TARGET_MB = 300
CHUNK = 5000
COMMENTS = [
    "排队时间太长了，等了二十分钟",
    "服务员态度很好，环境干净",
    "产品质量不错，但是价格有点贵",
    "Great coffee, friendly staff",
    "The queue was far too long",
    "=HYPERLINK(\"http://example.com\",\"click\")",
    "-- nothing to add --",
]


def _app(url: str):
    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-exports", "REDIS_URL": None,
                      "LOOPDESK_FILE_STORE": os.environ.get("LOOPDESK_FILE_STORE", "folder")})
    # Job files are named by run id: keep ours apart from those of other apps using instance/.
    app.config["LOOPDESK_JOB_FILES"] = os.path.join(tempfile.gettempdir(), "loopdesk-bench-exports-files")
    return app


def _database_url() -> str:
    from app.config import database_url

    raw = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.gettempdir()}/loopdesk-bench-exports.db"
    return database_url(raw, str(ROOT / "instance"))


def _fresh(url: str) -> None:
    """SQLite: remove the file. PostgreSQL: drop and create the database."""
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if os.path.exists(path):
            os.remove(path)
        return
    _postgres(url, drop=True)


def _postgres(url: str, drop: bool) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(scheme="postgresql", path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if drop:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def seed(url: str, rows: int, seed_value: int = 5) -> dict:
    """The demo without its history, then ``rows`` submitted responses in bulk. Returns timings."""
    from sqlalchemy import func, insert, select, text

    from app.demo import seed_demo
    from app.extensions import db
    from app.models import Answer, Branch, Questionnaire, Response
    from app.services.survey.plans import plan_for

    if url.startswith("postgresql"):
        _postgres(url, drop=False)
    app = _app(url)
    started = time.monotonic()
    with app.app_context():
        db.create_all()
        if db.session.scalar(select(func.count(Branch.id))):
            sys.exit("the database is not empty: --reuse to measure on it, --fresh to start over")
        seed_demo(responses=0)
        version_id = db.session.scalar(select(Questionnaire.current_version_id))
        plan = plan_for(version_id)
        question = {q.key: q.id for q in plan.questions}
        branches = [(b.id, b.qr_codes[0].id) for b in db.session.scalars(select(Branch).order_by(Branch.id))]
        rng = random.Random(seed_value)
        now = datetime.now(UTC)
        first_id = (db.session.scalar(select(func.max(Response.id))) or 0) + 1
        for chunk_start in range(0, rows, CHUNK):
            responses, answers = [], []
            for rid in range(first_id + chunk_start, first_id + min(chunk_start + CHUNK, rows)):
                branch_id, qr_id = rng.choice(branches)
                duration = rng.randint(20, 160)
                started_at = now - timedelta(days=rng.uniform(0, 365))
                submitted_at = started_at + timedelta(seconds=duration)
                responses.append({
                    "id": rid, "branch_id": branch_id, "qr_code_id": qr_id, "version_id": version_id,
                    "language": rng.choice(("zh_Hans", "zh_Hans", "en")), "device_id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "idempotency_key": f"bench-export-{rid}", "started_at": started_at,
                    "last_answered_at": submitted_at, "furthest_step": 6, "submitted_at": submitted_at,
                    "duration_seconds": duration, "quality_flags": ["too_fast"] if duration < 25 else [],
                    "reference_code": f"BX{rid:08d}" if rng.random() < 0.05 else None,
                    "contact_consent": False, "processed_at": submitted_at,
                })
                mood = rng.choices([1, 2, 3, 4, 5], weights=[4, 6, 15, 40, 35])[0]
                scores = {key: max(1, min(5, mood + rng.choice((-1, 0, 0, 1)))) for key in ("product", "service", "environment")}
                scores["nps"] = max(0, min(10, 2 * mood + rng.choice((-1, 0, 1))))
                for key, value in scores.items():
                    answers.append({"response_id": rid, "question_id": question[key], "value_int": value,
                                    "value_text": None, "value_choices": None})
                if scores["service"] <= 3:
                    chosen = rng.sample(["waiting", "attitude", "knowledge", "after_sales"], rng.randint(1, 2))
                    answers.append({"response_id": rid, "question_id": question["service_problem"], "value_int": None,
                                    "value_text": None, "value_choices": chosen})
                if rng.random() < 0.35:
                    answers.append({"response_id": rid, "question_id": question["comment"], "value_int": None,
                                    "value_text": rng.choice(COMMENTS), "value_choices": None})
            db.session.execute(insert(Response.__table__), responses)
            db.session.execute(insert(Answer.__table__), answers)
            db.session.commit()
        if url.startswith("postgresql"):
            db.session.execute(text("SELECT setval(pg_get_serial_sequence('responses', 'id'), (SELECT max(id) FROM responses))"))
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        answer_rows = db.session.scalar(select(func.count(Answer.id)))
    return {"seed_seconds": round(time.monotonic() - started, 1), "answers": answer_rows}


def new_run(url: str, file_format: str) -> tuple[int, int, int]:
    """Store the export run; returns its id, the responses it will hold and the columns expected."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import JobRun, QuestionType, Response, User
    from app.services import exports
    from app.services.exports import responses as exports_responses
    from app.services.insight.filters import InsightFilter
    from app.services.survey.plans import plan_for

    app = _app(url)
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        run = JobRun(kind=f"responses_{file_format}", user_id=admin.id,
                     params={"language": "zh_Hans", "filter": InsightFilter(include_flagged=True).to_params()})
        db.session.add(run)
        db.session.commit()
        responses = db.session.scalar(select(func.count(Response.id)).where(Response.submitted_at.is_not(None)))
        version_ids = db.session.scalars(select(Response.version_id).distinct()).all()
        keys = {q.key for v in version_ids for q in plan_for(v).questions if q.type != QuestionType.CONTACT}
        return run.id, responses, len(exports_responses.RESPONSE_COLUMNS) + len(keys)


def measure(url: str, run_id: int) -> None:
    """In a fresh process: build the run as the job does, print seconds and peak memory as JSON."""
    from app.extensions import db
    from app.models import JobRun
    from app.services import job_runs

    app = _app(url)
    with app.app_context():
        before_mb = _rss_mb()
        started, cpu_started = time.monotonic(), time.process_time()
        job_runs.build(run_id)
        seconds, cpu_seconds = time.monotonic() - started, time.process_time() - cpu_started
        run = db.session.get(JobRun, run_id)
        print(json.dumps({
            "status": str(run.status), "error": run.error, "store": run.file_store, "seconds": round(seconds, 1),
            "cpu_seconds": round(cpu_seconds, 1),
            "rss_before_mb": round(before_mb, 1),
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }))


def download(url: str, run_id: int, path: str) -> None:
    """In a fresh process: read the run's file from its store as the download view does, into ``path``."""
    from app.extensions import db
    from app.models import JobRun
    from app.services import file_store, job_runs

    app = _app(url)
    with app.app_context():
        before_mb = _rss_mb()
        started = time.monotonic()
        store, key = job_runs.stored_file(db.session.get(JobRun, run_id))
        with file_store.open_file(store, key) as source, open(path, "wb") as out:
            while block := source.read(8192):
                out.write(block)
        print(json.dumps({
            "seconds": round(time.monotonic() - started, 1), "rss_before_mb": round(before_mb, 1),
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }))
        store.delete(key)
        db.session.commit()


def _child(*args: str) -> dict:
    child = subprocess.run([sys.executable, __file__, "--store", os.environ["LOOPDESK_FILE_STORE"], *args],
                           env=dict(os.environ, DATABASE_URL=_database_url()),
                           capture_output=True, text=True, cwd=ROOT)
    if child.returncode != 0:
        sys.exit(child.stderr[-3000:])
    return json.loads(child.stdout.strip().splitlines()[-1])


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def count_file(path: str) -> tuple[int, int, int]:
    """Rows, header width and widest row of the file, read the way an analyst's script would."""
    if path.endswith(".csv"):
        import csv

        with open(path, encoding="utf-8-sig", newline="") as f:
            widths = [len(row) for row in csv.reader(f)]
        return len(widths), widths[0], max(widths)
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    rows, header, widest = 0, 0, 0
    for row in book.active.iter_rows(values_only=True):
        rows += 1
        header = header or len(row)
        widest = max(widest, len(row))
    book.close()
    return rows, header, widest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    parser.add_argument("--reuse", action="store_true", help="measure on the database as it is")
    parser.add_argument("--fresh", action="store_true", help="start from an empty database")
    parser.add_argument("--keep", action="store_true", help="keep the exported file")
    parser.add_argument("--store", choices=("folder", "database"), default="folder",
                        help="LOOPDESK_FILE_STORE: where the finished file is kept")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--download", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ["LOOPDESK_FILE_STORE"] = args.store
    url = _database_url()
    if args.measure:
        measure(url, args.measure)
        return
    if args.download:
        download(url, int(args.download[0]), args.download[1])
        return

    figures: dict = {"database": urlsplit(url).scheme, "format": args.format, "store": args.store}
    if not args.reuse:
        if args.fresh or not os.environ.get("DATABASE_URL"):
            _fresh(url)
        print(f"seeding {args.rows:,} responses into {url} …", flush=True)
        figures.update(seed(url, args.rows))
    run_id, responses, columns = new_run(url, args.format)
    print(f"exporting {responses:,} responses in a fresh process …", flush=True)
    job = _child("--measure", str(run_id))
    if job["status"] != "done":
        sys.exit(f"the export failed: {job['error']}")
    path = os.path.join(tempfile.gettempdir(), f"loopdesk-bench-export-{run_id}.{args.format}")
    print(f"downloading it from the {job['store']} store in a fresh process …", flush=True)
    fetched = _child("--download", str(run_id), path)
    started = time.monotonic()
    rows, header, widest = count_file(path)
    figures.update(
        responses=responses, rows=rows, rows_expected=responses + 1, columns=header, columns_expected=columns,
        widest_row=widest, export_seconds=job["seconds"], export_cpu_seconds=job["cpu_seconds"], rss_before_mb=job["rss_before_mb"], peak_mb=job["peak_mb"],
        download_seconds=fetched["seconds"], download_peak_mb=fetched["peak_mb"],
        file_mb=round(os.path.getsize(path) / 2**20, 1), read_back_seconds=round(time.monotonic() - started, 1),
    )
    ok = (rows == responses + 1 and header == columns and widest <= columns
          and job["peak_mb"] < TARGET_MB and fetched["peak_mb"] < TARGET_MB)
    figures["ok"] = ok
    if not args.keep:
        os.remove(path)
    results = BENCH / "results"
    results.mkdir(exist_ok=True)
    out = results / f"export-{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(figures, indent=2))
    print(
        f"rows {rows:,} (expected {responses + 1:,}) · columns {header} (expected {columns}) · "
        f"{job['seconds']} s ({job['cpu_seconds']} s CPU) · peak {job['peak_mb']} MB (before the build {job['rss_before_mb']} MB; "
        f"target < {TARGET_MB} MB) · {args.store} store: downloaded in {fetched['seconds']} s, peak {fetched['peak_mb']} MB · "
        f"file {figures['file_mb']} MB · read back in {figures['read_back_seconds']} s"
    )
    print(("OK" if ok else "FAIL") + f" — {out.relative_to(ROOT)}")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
