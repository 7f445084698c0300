"""The SLA sweep and the staff queue on PostgreSQL with 100,000 open tickets (issue 3).

Targets: one full ``escalations.sweep(now)`` ≤ 2 s; GET /staff/queue for a staff user
(the demo's ``staff``: customer service at SH-PEOPLE), median ≤ 150 ms.

    bench/tickets_run                              # reset, seed, sweep, serve, measure (≈ 5 min)
    bench/tickets_run --reuse                      # measure again on the database the last run seeded
    .venv/bin/python bench/tickets_bench.py explain        # the queue page's queries, EXPLAIN ANALYZE
    .venv/bin/python bench/tickets_bench.py profile        # the queue page under cProfile (test client)

The run works on a virtual clock: the sweeps get ``now`` from it, so every run measures the
same moment of a busy day (12:00 UTC: 20:00 in Shanghai and Hangzhou, noon in London, every
demo branch open). See bench/README.md, "SLA sweep and staff queue".
"""
from __future__ import annotations

import argparse
import cProfile
import gzip
import http.client
import json
import math
import os
import pstats
import random
import re
import secrets
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from http.cookies import SimpleCookie
from pathlib import Path

SERVER = os.environ.get("BENCH_POSTGRES", "postgresql://root@127.0.0.1:5432")
DATABASE = os.environ.get("BENCH_TICKETS_DB", "loopdesk_bench_tickets")
DATABASE_URL = f"{SERVER}/{DATABASE}"
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ.setdefault("SECRET_KEY", "bench-tickets")
os.environ["REDIS_URL"] = ""  # no RQ: nothing the sweep queues may leave the run

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BIN = Path(sys.executable).parent

SWEEP_TARGET_SECONDS = 2.0
QUEUE_TARGET_MS = 150.0
STAFF_USER, STAFF_PASSWORD = "staff", "loopdesk-staff"
#: Shares of the tickets: the demo staff's scope (SH-PEOPLE × service) is 0.40 × 0.30 = 12 %.
BRANCH_SHARES = {"SH-PEOPLE": 0.40, "HZ-WESTLAKE": 0.35, "LDN-SOHO": 0.25}
DEPARTMENT_SHARES = {"service": 0.30, "product": 0.25, "operations": 0.30, "triage": 0.15}
PRIORITY_SHARES = {"urgent": 0.03, "high": 0.17, "normal": 0.60, "low": 0.20}
SOURCE_SHARES = {"survey": 0.70, "phone": 0.20, "walk_in": 0.10}
#: Staff per branch and department (the demo's own staff count among them).
STAFF_PER_TEAM = 4
#: Open tickets by age: recent ones are mostly new, older ones mostly being worked or waiting.
STATUS_BY_AGE = (
    (timedelta(minutes=15), {"new": 0.9, "in_progress": 0.1, "waiting_on_customer": 0.0}),
    (timedelta(hours=2), {"new": 0.5, "in_progress": 0.4, "waiting_on_customer": 0.1}),
    (timedelta.max, {"new": 0.2, "in_progress": 0.5, "waiting_on_customer": 0.3}),
)
#: Tickets get older at this pace: a ticket opened this long ago is e (2.7) times rarer than a new one.
AGE_DECAY = timedelta(hours=36)
SUBJECTS = {
    "service": ["service: service 1/5, nps 2/10", "service: service 2/5", "service: 排队时间太长了，等了二十分钟"],
    "product": ["product: product 1/5", "product: 产品质量不错，但是价格有点贵", "product: product 2/5, nps 3/10"],
    "environment": ["environment: 洗手间不干净", "environment: Music was too loud", "environment: environment 2/5"],
    "communication": ["communication: nobody called back", "communication: 电话没人接"],
}
DESCRIPTIONS = [
    "排队时间太长了，等了二十分钟。服务员说系统坏了，但是没有人解释什么时候能好。",
    "The queue was far too long and the staff did not seem to know when the order would be ready.",
    "洗手间不干净，地上有水，没有纸巾。希望门店能注意一下卫生。",
    "Music was too loud, we could not hear each other. Otherwise fine.",
    "产品质量不错，但是价格有点贵。上次买的同款便宜了二十块。",
]
REPLIES = ["您好，非常抱歉给您带来不便，我们已经通知门店经理跟进。", "Sorry about this, we are looking into it today."]
META_TABLE = "bench_tickets_meta"  # the bench's own key/value table (virtual clock, seed figures)


# --- Database and app ---------------------------------------------------------


def connect(autocommit: bool = False):
    import psycopg

    return psycopg.connect(DATABASE_URL, autocommit=autocommit)


def reset_database() -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')


def flask(*args: str) -> str:
    done = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def make_app(**overrides):
    from app import create_app

    return create_app(overrides or None)


def meta(key: str, value: object = None):
    """Read (value None) or write one entry of the bench's own table in the bench database."""
    with connect() as conn:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key text PRIMARY KEY, value text NOT NULL)")
        if value is None:
            row = conn.execute(f"SELECT value FROM {META_TABLE} WHERE key = %s", (key,)).fetchone()
            return json.loads(row[0]) if row else None
        conn.execute(
            f"INSERT INTO {META_TABLE} VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )


def vacuum_analyze() -> None:
    with connect(autocommit=True) as conn:
        for table in ("tickets", "ticket_events", "escalation_firings", "notifications"):
            conn.execute(f"VACUUM ANALYZE {table}")


# --- The virtual clock --------------------------------------------------------


def sweep_moment(real_now: datetime, country_of) -> datetime:
    """The latest 12:00 UTC at least 10 min before ``real_now`` on a day no demo branch has a public holiday."""
    import holidays

    moment = datetime.combine(real_now.date(), clock_time(12), UTC)
    if moment > real_now - timedelta(minutes=10):
        moment -= timedelta(days=1)
    countries = {country_of(zone) for zone in ("Asia/Shanghai", "Europe/London")}
    while any(moment.date() in holidays.country_holidays(c, years=moment.year) for c in countries):
        moment -= timedelta(days=1)
    return moment


# --- Seeding ------------------------------------------------------------------


def pick(rng: random.Random, shares: dict[str, float]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def add_colleagues(conn, branches: dict[str, int], departments: dict[str, int]) -> dict[tuple[int, int], list[int]]:
    """Staff for every branch and department (4 each, the demo's two staff among them) and a London
    supervisor; returns the staff ids by (branch id, department id)."""
    from werkzeug.security import generate_password_hash

    password_hash = generate_password_hash("bench-colleague")
    now = datetime.now(UTC)
    teams: dict[tuple[int, int], list[int]] = {}
    for user_id, branch_id, department_id in conn.execute(
        "SELECT u.id, ub.branch_id, ud.department_id FROM users u JOIN user_branches ub ON ub.user_id = u.id "
        "JOIN user_departments ud ON ud.user_id = u.id WHERE u.role = 'staff' AND u.active"
    ):
        teams.setdefault((branch_id, department_id), []).append(user_id)

    def add_user(username: str, role: str, display: str, branch_ids: list[int], department_ids: list[int]) -> int:
        user_id = conn.execute(
            "INSERT INTO users (username, display_name, password_hash, role, all_branches, active, created_at) "
            "VALUES (%s, %s, %s, %s, false, true, %s) RETURNING id",
            (username, display, password_hash, role, now),
        ).fetchone()[0]
        conn.cursor().executemany("INSERT INTO user_branches VALUES (%s, %s)", [(user_id, b) for b in branch_ids])
        conn.cursor().executemany("INSERT INTO user_departments VALUES (%s, %s)", [(user_id, d) for d in department_ids])
        return user_id

    for branch_code, branch_id in branches.items():
        for department_code, department_id in departments.items():
            team = teams.setdefault((branch_id, department_id), [])
            while len(team) < STAFF_PER_TEAM:
                number = len(team) + 1
                team.append(add_user(f"bench.{branch_code.lower()}.{department_code}.{number}", "staff",
                                     f"{department_code} {branch_code} #{number}", [branch_id], [department_id]))
    add_user("bench.supervisor.london", "supervisor", "Supervisor London", [branches["LDN-SOHO"]],
             list(departments.values()))
    return teams


def creation_slots(app, start: datetime, end: datetime) -> dict[int, tuple[list[datetime], list[float]]]:
    """Per branch: every open minute between ``start`` and ``end`` and its cumulative weight (newer: likelier)."""
    from app.core import sla
    from app.extensions import db
    from app.models import Branch
    from app.services.branches import calendars as branches_calendars
    from app.services.sla import clocks

    slots = {}
    with app.app_context():
        for branch in db.session.query(Branch):
            minutes, weights, total = [], [], 0.0
            for opens, closes in sla.open_intervals(branches_calendars.calendar_for(branch), start, end):
                moment = opens
                while moment < closes:
                    total += math.exp(-((end - moment) / AGE_DECAY))
                    minutes.append(moment)
                    weights.append(total)
                    moment += timedelta(minutes=1)
            slots[branch.id] = (minutes, weights)
    return slots


def insert_tickets(app, count: int, start: datetime, end: datetime, seed: int) -> dict:
    """COPY ``count`` open tickets created between ``start`` and ``end`` (while their branch was open),
    with their "created", "reply" and "status" events. Deadlines are left for ``refresh_open_tickets``."""
    from app.core.reference import ALPHABET

    rng = random.Random(seed)
    with connect() as conn:
        branches = dict(conn.execute("SELECT code, id FROM branches"))
        departments = dict(conn.execute("SELECT code, id FROM departments"))
        teams = add_colleagues(conn, branches, departments)
        taken = {code for (code,) in conn.execute(
            "SELECT reference_code FROM tickets UNION SELECT reference_code FROM responses WHERE reference_code IS NOT NULL"
        )}
        ticket_id = conn.execute("SELECT coalesce(max(id), 0) FROM tickets").fetchone()[0]
        event_id = conn.execute("SELECT coalesce(max(id), 0) FROM ticket_events").fetchone()[0]
        conn.commit()
    slots = creation_slots(app, start, end)
    tickets, events, shares = [], [], Counter()
    for _ in range(count):
        ticket_id += 1
        branch_code, department_code = pick(rng, BRANCH_SHARES), pick(rng, DEPARTMENT_SHARES)
        branch_id, department_id = branches[branch_code], departments[department_code]
        minutes, weights = slots[branch_id]
        created = rng.choices(minutes, cum_weights=weights)[0] + timedelta(seconds=rng.uniform(0, 59.9))
        created = min(created, end - timedelta(seconds=1))
        age = end - created
        status = pick(rng, next(shares_ for limit, shares_ in STATUS_BY_AGE if age < limit))
        priority, source = pick(rng, PRIORITY_SHARES), pick(rng, SOURCE_SHARES)
        category = rng.choice(list(SUBJECTS))
        team = teams[branch_id, department_id]
        assigned = rng.random() < (0.1 if status == "new" else 0.95)
        assignee = rng.choice(team) if assigned else None
        code = "LD-" + "".join(rng.choice(ALPHABET) for _ in range(6))
        while code in taken:
            code = "LD-" + "".join(rng.choice(ALPHABET) for _ in range(6))
        taken.add(code)
        contact = source == "survey" and rng.random() < 0.3
        created_by = None if source == "survey" else rng.choice(team)
        first_response = changed = None
        if status != "new":
            first_response = created + min(age * rng.uniform(0.1, 0.9), timedelta(minutes=rng.uniform(3, 45)))
            changed = first_response
            if status == "waiting_on_customer":
                changed = first_response + (end - first_response) * rng.uniform(0.05, 0.95)
        tickets.append((
            ticket_id, code, secrets.token_urlsafe(16), source, None, branch_id, department_id, category, priority,
            status, assignee, rng.choice(SUBJECTS[category]), rng.choice(DESCRIPTIONS),
            json.dumps({"rule": f"{category} complaints", "category": category, "department": department_code,
                        "priority": priority, "reasons": [f"{category} score ≤ 2"], "quality_flags": []}),
            rng.choice(["zh_Hans", "zh_Hans", "en"]), contact,
            "王女士" if contact else None, f"138{rng.randint(10000000, 99999999)}" if contact else None, None,
            created, changed or created, first_response, None, None, None, None, None, "on_track",
            created + timedelta(hours=24) if contact and rng.random() < 0.5 else None, None, 1,
        ))
        event_id += 1
        events.append((event_id, ticket_id, created, created_by, "created", None, "new", None, False))
        if first_response is not None:
            event_id += 1
            events.append((event_id, ticket_id, first_response, assignee, "reply", None, None, rng.choice(REPLIES), True))
            event_id += 1
            events.append((event_id, ticket_id, first_response, assignee, "status", "new", "in_progress", None, False))
        if status == "waiting_on_customer":
            event_id += 1
            events.append((event_id, ticket_id, changed, assignee, "status", "in_progress", status, None, False))
        shares[status] += 1
        shares[priority] += 1
    with connect() as conn:
        with conn.cursor().copy(
            "COPY tickets (id, reference_code, customer_secret, source, response_id, branch_id, department_id, "
            "category, priority, status, assignee_id, subject, description, routing, language, contact_consent, "
            "contact_name, contact_phone, contact_email, created_at, updated_at, first_response_at, resolved_at, "
            "closed_at, first_response_due_at, resolution_due_at, next_deadline_at, sla_state, callback_due_at, "
            "callback_done_at, lock_version) FROM STDIN"
        ) as copy:
            for row in tickets:
                copy.write_row(row)
        with conn.cursor().copy(
            "COPY ticket_events (id, ticket_id, at, actor_id, kind, old_value, new_value, body, visible_to_customer) "
            "FROM STDIN"
        ) as copy:
            for row in events:
                copy.write_row(row)
        conn.execute("SELECT setval('tickets_id_seq', (SELECT max(id) FROM tickets))")
        conn.execute("SELECT setval('ticket_events_id_seq', (SELECT max(id) FROM ticket_events))")
    return {"tickets": count, "events": len(events), "by_status": {k: shares[k] for k in STATUS_BY_AGE[-1][1]},
            "by_priority": {k: shares[k] for k in PRIORITY_SHARES}}


def seed(args) -> dict:
    """Fresh database, migrations, demo, 100,000 tickets, their deadlines, then the backlog swept."""
    from app.services.branches import calendars as branches_calendars
    from app.services.sla import clocks, escalations

    figures: dict = {}
    started = time.perf_counter()
    reset_database()
    flask("db", "upgrade")
    flask("demo", "--responses", "50")
    figures["migrate_and_demo_seconds"] = round(time.perf_counter() - started, 2)
    app = make_app()
    first_sweep = sweep_moment(datetime.now(UTC), branches_calendars.holiday_country)
    settled = first_sweep - timedelta(seconds=args.sweep_every)
    print(f"== virtual clock: tickets opened over the {args.days} days before {settled:%Y-%m-%d %H:%M:%S} UTC; "
          f"the backlog swept then, the measured sweeps after it ({args.sweep_gaps} s)")

    started = time.perf_counter()
    figures["inserted"] = insert_tickets(app, args.tickets, settled - timedelta(days=args.days), settled, args.seed)
    with connect(autocommit=True) as conn:
        conn.execute("ANALYZE")
    figures["insert_seconds"] = round(time.perf_counter() - started, 2)
    print(f"   inserted {args.tickets:,} tickets and {figures['inserted']['events']:,} events "
          f"in {figures['insert_seconds']:.1f} s (COPY)")

    with app.app_context():
        from app.extensions import db

        started = time.perf_counter()
        refreshed = clocks.refresh_open_tickets(now=settled)
        db.session.commit()
        figures["refresh_open_tickets"] = {"tickets": refreshed, "seconds": round(time.perf_counter() - started, 2)}
    print(f"   clocks.refresh_open_tickets(now=…): {refreshed:,} tickets in "
          f"{figures['refresh_open_tickets']['seconds']:.1f} s")
    with connect() as conn:
        due = conn.execute("SELECT count(*) FROM tickets WHERE next_deadline_at <= %s", (settled,)).fetchone()[0]
    # Nothing ever fired: every rung passed before the settling moment is due at once. Sweep
    # them now, so the measured sweeps see the steady state of a sweep every minute.
    with app.app_context():
        backlog = escalations.sweep(settled)
    figures["backlog_sweep"] = {"due": due, **sweep_figures(backlog)}
    print(f"   backlog sweep (every rung that passed before, as after an outage of days): {backlog.tickets:,} tickets, "
          f"{backlog.rungs_fired:,} rungs, {backlog.notifications:,} notifications in {backlog.seconds:.1f} s")
    started = time.perf_counter()
    vacuum_analyze()
    figures["vacuum_analyze_seconds"] = round(time.perf_counter() - started, 2)
    meta("clock", settled.isoformat())
    meta("seed", figures)
    return figures


# --- Sweeps -------------------------------------------------------------------


def sweep_figures(result) -> dict:
    return {"tickets": result.tickets, "rungs_fired": result.rungs_fired, "notifications": result.notifications,
            "actions": result.actions, "batches": result.batches, "seconds": round(result.seconds, 3)}


def measured_sweeps(gaps: list[int]) -> list[dict]:
    """One sweep after each gap (seconds on the virtual clock), in a fresh process, so the first is as
    cold as an RQ work-horse's (no calendars, no compiled statements yet)."""
    done = subprocess.run([sys.executable, __file__, "sweeps", "--gaps", ",".join(map(str, gaps))],
                          cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"the sweeps failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_sweeps(gaps: list[int]) -> list[dict]:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Ticket
    from app.models.tickets import OPEN_STATUSES
    from app.services.sla import escalations

    app = make_app()
    clock = datetime.fromisoformat(meta("clock"))
    results = []
    for number, gap in enumerate(gaps, 1):
        now = clock + timedelta(seconds=gap)
        with app.app_context():
            due = db.session.scalar(
                select(func.count(Ticket.id)).where(Ticket.next_deadline_at <= now, Ticket.status.in_(OPEN_STATUSES))
            )
            db.session.commit()
            started = time.perf_counter()
            result = escalations.sweep(now)
            wall = time.perf_counter() - started
            left = db.session.scalar(
                select(func.count(Ticket.id)).where(Ticket.next_deadline_at <= now, Ticket.status.in_(OPEN_STATUSES))
            )
        results.append({"sweep": number, "now": now.isoformat(), "gap_seconds": gap, "cold": number == 1,
                        "due_before": due,
                        "due_after": left, **sweep_figures(result), "wall_seconds": round(wall, 3)})
        clock = now
        meta("clock", clock.isoformat())
    return results


# --- Due times after an edit, and the catch-up sweep after an outage (issue 15) -----------

REFRESH_TARGET_SECONDS = 5.0       # every open ticket re-timed (a holiday of every branch), 100k
CATCHUP_TARGET_SECONDS = 20.0      # the catch-up sweep, for 50k due tickets
CATCHUP_TARGET_DUE = 50_000


def spread(values: list[float]) -> dict:
    return {"min": round(min(values), 3), "median": round(statistics.median(values), 3), "max": round(max(values), 3)}


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def run_refreshes(runs: int) -> list[dict]:
    """Each run: the normal policy's resolution target edited (48 h ↔ 47 h, so every run moves its tickets),
    its open tickets re-timed as the job does; then every open ticket re-timed, as after a holiday of every branch."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import SlaPolicy
    from app.services.sla import clocks

    app = make_app()
    clock = datetime.fromisoformat(meta("clock"))
    results = []
    with app.app_context():
        for number in range(runs):
            policy = db.session.scalars(select(SlaPolicy).where(SlaPolicy.priority == "normal")).one()
            target = 47 * 60 if policy.resolution_minutes == 48 * 60 else 48 * 60
            load = load_average()
            started, cpu = time.perf_counter(), time.process_time()
            clocks.update_policy(policy, now=clock, refresh=False, resolution_minutes=target)
            db.session.commit()
            moved = clocks.refresh_open_tickets_of_policy(policy, now=clock)
            db.session.commit()
            policy_seconds, policy_cpu = time.perf_counter() - started, time.process_time() - cpu
            started, cpu = time.perf_counter(), time.process_time()
            every = clocks.refresh_open_tickets_of_branch(None, now=clock)
            db.session.commit()
            results.append({"run": number + 1, "load_average": load, "policy_tickets": moved,
                            "policy_resolution_minutes": target, "policy_seconds": round(policy_seconds, 3),
                            "policy_cpu_seconds": round(policy_cpu, 3), "all_tickets": every,
                            "all_seconds": round(time.perf_counter() - started, 3),
                            "all_cpu_seconds": round(time.process_time() - cpu, 3)})
        policy = db.session.scalars(select(SlaPolicy).where(SlaPolicy.priority == "normal")).one()
        if policy.resolution_minutes != 48 * 60:  # leave the demo's target, and due times that follow it
            clocks.update_policy(policy, now=clock, refresh=True, resolution_minutes=48 * 60)
            db.session.commit()
    return results


def forget_escalations(clock: datetime) -> None:
    """As if no rung had ever fired (firings, their notifications, e-mails, webhooks and events gone), with
    every open ticket's deadlines as of ``clock``: each rung passed before it is due, as after days of outage."""
    with connect() as conn:
        conn.execute("DELETE FROM escalation_firings")
        conn.execute("DELETE FROM notifications")
        conn.execute("DELETE FROM outbox_emails")
        conn.execute("DELETE FROM webhook_deliveries")
        conn.execute("DELETE FROM ticket_events WHERE kind = 'escalation'")
    app = make_app()
    with app.app_context():
        from app.extensions import db
        from app.services.sla import clocks

        clocks.refresh_open_tickets(now=clock)
        db.session.commit()
    vacuum_analyze()


def run_catchups(runs: int) -> list[dict]:
    """Each run forgets every firing (untimed), then one ``escalations.sweep(clock)`` in a fresh process."""
    clock = datetime.fromisoformat(meta("clock"))
    results = []
    for number in range(runs):
        forget_escalations(clock)
        done = subprocess.run([sys.executable, __file__, "catchup-once"], cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"the catch-up sweep failed:\n{done.stdout}\n{done.stderr}")
        results.append({"run": number + 1, **json.loads(done.stdout.strip().splitlines()[-1])})
    return results


def catchup_once() -> dict:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Ticket
    from app.models.tickets import OPEN_STATUSES
    from app.services.sla import escalations

    app = make_app()
    clock = datetime.fromisoformat(meta("clock"))
    with app.app_context():
        due = db.session.scalar(
            select(func.count(Ticket.id)).where(Ticket.next_deadline_at <= clock, Ticket.status.in_(OPEN_STATUSES))
        )
        db.session.commit()
        load = load_average()
        cpu = time.process_time()
        result = escalations.sweep(clock)
        cpu = time.process_time() - cpu
    return {"load_average": load, "due": due, **sweep_figures(result), "cpu_seconds": round(cpu, 3),
            "ms_per_ticket": round(1000 * result.seconds / max(result.tickets, 1), 3)}


def edits(args) -> None:
    """``refresh`` and ``catchup``: min / median / max of the runs, the load average of each, JSON in bench/results."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (BENCH / "results").mkdir(exist_ok=True)
    if meta("seed") is None:
        sys.exit(f"{DATABASE} has no bench seed: run `bench/tickets_run` first")
    flask("db", "upgrade")
    found: dict = {"command": args.command, "database": DATABASE, "code": str(ROOT), "runs": []}
    if args.command == "refresh":
        found["runs"] = runs = run_refreshes(args.runs)
        for run in runs:
            print(f"   run {run['run']} (load {run['load_average']}): policy edit {run['policy_tickets']:,} tickets "
                  f"{run['policy_seconds']:.2f} s (CPU {run['policy_cpu_seconds']:.2f} s); every open ticket "
                  f"{run['all_tickets']:,} {run['all_seconds']:.2f} s (CPU {run['all_cpu_seconds']:.2f} s)")
        policy, every = spread([r["policy_seconds"] for r in runs]), spread([r["all_seconds"] for r in runs])
        found["summary"] = {"policy_seconds": policy, "all_seconds": every}
        print(f"policy edit ({runs[0]['policy_tickets']:,} tickets): {policy['min']} / {policy['median']} / "
              f"{policy['max']} s; every open ticket ({runs[0]['all_tickets']:,}): {every['min']} / {every['median']} / "
              f"{every['max']} s (min / median / max; target ≤ {REFRESH_TARGET_SECONDS} s for 100k) "
              f"{verdict(every['max'] <= REFRESH_TARGET_SECONDS)}")
    else:
        found["runs"] = runs = run_catchups(args.runs)
        for run in runs:
            print(f"   run {run['run']} (load {run['load_average']}): {run['tickets']:,} tickets swept ({run['due']:,} due), "
                  f"{run['rungs_fired']:,} rungs, {run['notifications']:,} notifications in {run['seconds']:.2f} s "
                  f"(CPU {run['cpu_seconds']:.2f} s, {run['ms_per_ticket']:.2f} ms per ticket, {run['batches']} batches)")
        seconds = spread([r["seconds"] for r in runs])
        per_ticket = spread([r["ms_per_ticket"] for r in runs])
        found["summary"] = {"seconds": seconds, "ms_per_ticket": per_ticket}
        scaled = seconds["max"] * CATCHUP_TARGET_DUE / max(runs[0]["tickets"], 1)
        print(f"catch-up sweep ({runs[0]['tickets']:,} due): {seconds['min']} / {seconds['median']} / {seconds['max']} s, "
              f"{per_ticket['min']} / {per_ticket['median']} / {per_ticket['max']} ms per ticket (min / median / max; "
              f"target ≤ {CATCHUP_TARGET_SECONDS} s for {CATCHUP_TARGET_DUE:,}: worst scaled {scaled:.1f} s) "
              f"{verdict(scaled <= CATCHUP_TARGET_SECONDS)}")
    out = BENCH / "results" / f"tickets-{args.command}-{stamp}.json"
    out.write_text(json.dumps(found, indent=2, default=str))
    print(f"results: {out.relative_to(ROOT)}")


# --- The staff queue over HTTP ----------------------------------------------------


class Browser:
    """One tablet: a keep-alive connection, the cookies the app sets, a browser's headers."""

    def __init__(self, port: int, accept_encoding: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.headers = {"Accept": "text/html", "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8",
                        "User-Agent": "loopdesk-bench (tablet)"}
        if accept_encoding:
            self.headers["Accept-Encoding"] = accept_encoding

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, int, float]:
        """(status, page text, bytes on the wire, seconds from sending to the last byte)."""
        from urllib.parse import urlencode

        headers = dict(self.headers)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        raw = response.read()
        seconds = time.perf_counter() - started
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        return response.status, decode(raw, response.headers.get("Content-Encoding")), len(raw), seconds


def decode(raw: bytes, encoding: str | None) -> str:
    if encoding == "br":
        import brotli

        raw = brotli.decompress(raw)
    elif encoding == "gzip":
        raw = gzip.decompress(raw)
    return raw.decode()


def sign_in(browser: Browser) -> None:
    status, page, _, _ = browser.request("GET", "/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    if status != 200 or not token:
        sys.exit(f"GET /login: {status}, no CSRF token")
    status, _, _, _ = browser.request(
        "POST", "/login", {"csrf_token": token.group(1), "username": STAFF_USER, "password": STAFF_PASSWORD}
    )
    if status != 302:
        sys.exit(f"POST /login as {STAFF_USER}: {status}, expected 302")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def time_page(browser: Browser, path: str, requests: int, warmup: int) -> dict:
    for _ in range(warmup):
        browser.request("GET", path)
    timings, sizes, rows = [], [], set()
    for _ in range(requests):
        status, page, size, seconds = browser.request("GET", path)
        if status != 200:
            sys.exit(f"GET {path}: {status} (see bench/results/tickets-gunicorn.log)")
        timings.append(seconds * 1000)
        sizes.append(size)
        rows.add(page.count('class="ticket-row'))
    return {"path": path, "requests": requests, "median_ms": round(statistics.median(timings), 1),
            "p95_ms": round(percentile(timings, 0.95), 1), "mean_ms": round(statistics.fmean(timings), 1),
            "min_ms": round(min(timings), 1), "max_ms": round(max(timings), 1),
            "bytes": round(statistics.fmean(sizes)), "rows_shown": sorted(rows)}


def measure_queue(args) -> list[dict]:
    """gunicorn as scripts/dev serves the app; one signed-in staff tablet asks for its queue, one request at a time."""
    command = [str(BIN / "gunicorn"), "--workers", str(args.workers), *args.gunicorn_worker.split(),
               "--no-control-socket", "--bind", f"127.0.0.1:{args.port}", "wsgi:app"]
    env = {**os.environ, "LOOPDESK_BASE_URL": f"http://127.0.0.1:{args.port}"}
    log_path = BENCH / "results" / "tickets-gunicorn.log"
    log = open(log_path, "w")
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", args.port, timeout=1).request("HEAD", "/login")
                break
            except OSError:
                time.sleep(0.1)
        browser = Browser(args.port, args.accept_encoding)
        sign_in(browser)
        pages = [time_page(browser, path, args.requests, args.warmup) for path in ("/staff/queue", "/staff/queue?view=all")]
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    tracebacks = log_path.read_text().count("Traceback")
    if tracebacks:
        sys.exit(f"{tracebacks} traceback(s) in {log_path.relative_to(ROOT)}")
    return pages


def scope_counts() -> dict:
    """Open tickets in the demo staff's scope (SH-PEOPLE × service), and those the default view ("mine") filters."""
    with connect() as conn:
        user_id = conn.execute("SELECT id FROM users WHERE username = %s", (STAFF_USER,)).fetchone()[0]
        total, scope, mine, breached = conn.execute(
            """SELECT count(*), count(*) FILTER (WHERE in_scope),
                      count(*) FILTER (WHERE in_scope AND (assignee_id = %(user)s OR assignee_id IS NULL)),
                      count(*) FILTER (WHERE in_scope AND sla_state = 'breached')
               FROM (SELECT t.*, t.department_id IN (SELECT department_id FROM user_departments WHERE user_id = %(user)s)
                             AND t.branch_id IN (SELECT branch_id FROM user_branches WHERE user_id = %(user)s) AS in_scope
                     FROM tickets t WHERE status IN ('new', 'in_progress', 'waiting_on_customer')) AS open""",
            {"user": user_id},
        ).fetchone()
        states = dict(conn.execute(
            "SELECT sla_state, count(*) FROM tickets WHERE status IN ('new', 'in_progress', 'waiting_on_customer') "
            "GROUP BY 1"
        ))
        sizes = dict(conn.execute(
            "SELECT relname, n_live_tup FROM pg_stat_user_tables WHERE relname IN "
            "('tickets', 'ticket_events', 'escalation_firings', 'notifications')"
        ))
    return {"open_tickets": total, "staff_scope": scope, "staff_mine_view": mine, "staff_scope_breached": breached,
            "open_by_sla_state": states, "table_rows": sizes}


# --- What a queue page asks the database (test client) --------------------------


def queue_client(app):
    client = app.test_client()
    response = client.post("/login", data={"username": STAFF_USER, "password": STAFF_PASSWORD})
    if response.status_code != 302:
        sys.exit(f"test client sign-in: {response.status_code}")
    return client


def explain(path: str = "/staff/queue") -> dict:
    """Every statement one queue page runs, with its time and EXPLAIN (ANALYZE, BUFFERS) of each SELECT."""
    from sqlalchemy import event

    from app.extensions import db

    app = make_app(WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
    client = queue_client(app)
    client.get(path)  # warm: compiled statements, calendars, templates
    statements: list[dict] = []
    with app.app_context():
        engine = db.engine

        def before(conn, cursor, statement, parameters, context, executemany):
            conn.info["started"] = time.perf_counter()

        def after(conn, cursor, statement, parameters, context, executemany):
            statements.append({"sql": statement, "parameters": parameters,
                               "ms": round((time.perf_counter() - conn.info.pop("started")) * 1000, 2)})

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
    for statement in statements:
        statement["parameters"] = repr(statement["parameters"])[:300]
    return {"path": path, "status": response.status_code, "page_ms_test_client": round(page_ms, 1),
            "statements": statements, "sql_ms": round(sum(s["ms"] for s in statements), 2)}


def print_explain(found: dict) -> None:
    print(f"== {found['path']}: {len(found['statements'])} statements, {found['sql_ms']} ms in SQL, "
          f"{found['page_ms_test_client']} ms for the page (test client, no server)")
    for statement in found["statements"]:
        print(f"\n-- {statement['ms']} ms\n{statement['sql']}\n   {statement['parameters']}")
        for line in statement.get("plan", []):
            print(f"   {line}")


def profile(path: str, requests: int, sort: str, top: int) -> None:
    app = make_app(WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
    client = queue_client(app)
    client.get(path)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(requests):
        client.get(path)
    profiler.disable()
    print(f"== {path}: {(time.perf_counter() - started) * 1000 / requests:.1f} ms per page under cProfile")
    pstats.Stats(profiler).sort_stats(sort).print_stats(top)


# --- The run ------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def run(args) -> None:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (BENCH / "results").mkdir(exist_ok=True)
    if args.reuse:
        flask("db", "upgrade")
        seeded = meta("seed")
        if seeded is None:
            sys.exit(f"{DATABASE} has no bench seed: run without --reuse first")
        print(f"== reusing {DATABASE} (seeded before; virtual clock at {meta('clock')})")
    else:
        print(f"== {DATABASE}: fresh database, migrations, demo (--responses 50), {args.tickets:,} open tickets")
        seeded = seed(args)
    scope = scope_counts()
    print(f"   open tickets: {scope['open_tickets']:,}; SLA states {scope['open_by_sla_state']}")
    print(f"   staff '{STAFF_USER}' (customer service at SH-PEOPLE): {scope['staff_scope']:,} open tickets in scope "
          f"({100 * scope['staff_scope'] / scope['open_tickets']:.1f} %), {scope['staff_mine_view']:,} in the default "
          f"view (theirs or nobody's)")

    gaps = [int(gap) for gap in args.sweep_gaps.split(",")]
    print(f"== SLA sweeps: {len(gaps)} × escalations.sweep(now), each `now` this many seconds after the one before: "
          f"{args.sweep_gaps}; the first in a fresh process (cold)")
    sweeps = measured_sweeps(gaps)
    for s in sweeps:
        print(f"   sweep {s['sweep']} (+{s['gap_seconds']:>3} s{', cold' if s['cold'] else ''}): {s['seconds']:.3f} s  "
              f"{s['tickets']:>5} tickets swept ({s['due_before']} due, {s['due_after']} left)  "
              f"{s['rungs_fired']:>5} rungs fired  {s['notifications']:>5} notifications  {s['batches']} batch(es)")
    worst_sweep = max(s["seconds"] for s in sweeps)  # the 5-minute one included

    print(f"== GET /staff/queue as '{STAFF_USER}': gunicorn {args.workers} workers ({args.gunicorn_worker}), "
          f"{args.requests} sequential requests after {args.warmup} warm-up, Accept-Encoding: {args.accept_encoding or '-'}")
    pages = measure_queue(args)
    for page in pages:
        print(f"   {page['path']:<24} median {page['median_ms']:6.1f} ms  p95 {page['p95_ms']:6.1f} ms  "
              f"mean {page['mean_ms']:6.1f}  min {page['min_ms']:6.1f}  max {page['max_ms']:6.1f}  "
              f"{page['bytes']:,} bytes, {page['rows_shown']} rows")

    found = explain("/staff/queue")
    print(f"   one /staff/queue page runs {len(found['statements'])} statements, {found['sql_ms']} ms in SQL "
          f"(`bench/tickets_bench.py explain` for the plans)")

    sweep_ok = worst_sweep <= SWEEP_TARGET_SECONDS
    queue_ok = pages[0]["median_ms"] <= QUEUE_TARGET_MS
    print(f"\nsweep: worst {worst_sweep:.3f} s of {len(sweeps)} (target ≤ {SWEEP_TARGET_SECONDS} s) {verdict(sweep_ok)}")
    print(f"queue: median {pages[0]['median_ms']:.1f} ms, p95 {pages[0]['p95_ms']:.1f} ms "
          f"(target median ≤ {QUEUE_TARGET_MS:.0f} ms) {verdict(queue_ok)}; "
          f"view=all median {pages[1]['median_ms']:.1f} ms, p95 {pages[1]['p95_ms']:.1f} ms")
    out = BENCH / "results" / f"tickets-{stamp}.json"
    out.write_text(json.dumps({
        "settings": {k: v for k, v in vars(args).items() if k != "command"} | {"database": DATABASE, "cpus": os.cpu_count()},
        "seed": seeded, "scope": scope, "sweeps": sweeps, "queue": pages,
        "queue_statements": [{"ms": s["ms"], "sql": s["sql"]} for s in found["statements"]],
        "targets": {"sweep_seconds": SWEEP_TARGET_SECONDS, "queue_median_ms": QUEUE_TARGET_MS,
                    "sweep_ok": sweep_ok, "queue_ok": queue_ok},
    }, indent=2, default=str))
    print(f"results: {out.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command")
    everything = commands.add_parser("run", help="seed (unless --reuse), sweep, serve and measure")
    everything.add_argument("--reuse", action="store_true", help="keep the seeded database, continue its clock")
    everything.add_argument("--tickets", type=int, default=100_000)
    everything.add_argument("--days", type=float, default=4, help="tickets were opened over this many days")
    everything.add_argument("--seed", type=int, default=11)
    everything.add_argument("--sweep-every", type=int, default=60, help="the sweep's interval (the backlog is swept "
                            "this long before the first measured sweep)")
    everything.add_argument("--sweep-gaps", default="60,60,60,300",
                            help="seconds (virtual clock) before each measured sweep; 300: five minutes' deadlines at once")
    everything.add_argument("--requests", type=int, default=200)
    everything.add_argument("--warmup", type=int, default=20)
    everything.add_argument("--port", type=int, default=18100)
    everything.add_argument("--workers", type=int, default=2)
    everything.add_argument("--gunicorn-worker", default=os.environ.get("BENCH_GUNICORN_WORKER",
                                                                        "--worker-class gthread --threads 4"))
    everything.add_argument("--accept-encoding", default="gzip, deflate, br", help="empty: none")
    for name, text in (("refresh", "due times after a policy edit and after a holiday of every branch (timed runs)"),
                       ("catchup", "the catch-up sweep after an outage: every firing forgotten, then one sweep (timed runs)")):
        edit = commands.add_parser(name, help=text)
        edit.add_argument("--runs", type=int, default=3)
    commands.add_parser("catchup-once", help="(used by catchup) one sweep at the clock in this process, JSON on stdout")
    sweeps = commands.add_parser("sweeps", help="(used by run) measured sweeps in this process, JSON on stdout")
    sweeps.add_argument("--gaps", default="60,60,60")
    plans = commands.add_parser("explain", help="the statements of one queue page with EXPLAIN ANALYZE")
    plans.add_argument("--path", default="/staff/queue")
    profiled = commands.add_parser("profile", help="the queue page under cProfile, through the test client")
    profiled.add_argument("--path", default="/staff/queue")
    profiled.add_argument("--requests", type=int, default=50)
    profiled.add_argument("--sort", default="cumulative")
    profiled.add_argument("--top", type=int, default=40)
    args = parser.parse_args(sys.argv[1:] or ["run"])
    if args.command == "run":
        run(args)
    elif args.command == "sweeps":
        print(json.dumps(run_sweeps([int(gap) for gap in args.gaps.split(",")])))
    elif args.command in ("refresh", "catchup"):
        edits(args)
    elif args.command == "catchup-once":
        print(json.dumps(catchup_once()))
    elif args.command == "explain":
        print_explain(explain(args.path))
    else:
        profile(args.path, args.requests, args.sort, args.top)


if __name__ == "__main__":
    main()
