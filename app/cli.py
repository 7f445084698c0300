"""Command-line entry points: `flask demo`, `flask create-admin`, `flask jobs …`."""
from __future__ import annotations

import logging
import time

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.extensions import db
from app.jobs import BULK, QUEUES

log = logging.getLogger(__name__)

jobs_cli = AppGroup("jobs", help="Background jobs: RQ worker, scheduler and sweeps.")


def register_cli(app: Flask) -> None:
    app.cli.add_command(jobs_cli)
    app.cli.add_command(demo)
    app.cli.add_command(create_admin)


@click.command("demo")
@click.option("--responses", default=300, show_default=True, help="Past responses to generate.")
def demo(responses: int) -> None:
    """Fill an empty database with the demo; print the demo logins and survey URLs."""
    from app.demo import demo_lines, seed_demo

    seed_demo(responses=responses)
    for line in demo_lines():
        click.echo(line)


@click.command("create-admin")
@click.argument("username")
@click.password_option()
@click.option("--email", default=None, help="For password links later.")
@click.option("--name", "display_name", default=None, help="The name colleagues see (default: the username).")
def create_admin(username: str, password: str, email: str | None, display_name: str | None) -> None:
    """Create an administrator (the first one on an empty production database)."""
    from flask_babel import force_locale
    from sqlalchemy import func

    from app.models import Role, User
    from app.services import audit
    from app.services.people import admin as people_admin

    username = username.strip()
    if not people_admin.USERNAME_PATTERN.fullmatch(username):
        raise click.ClickException("use 2 to 80 letters, digits or . _ @ + - for the username (no spaces)")
    if db.session.scalar(db.select(User.id).where(func.lower(User.username) == username.lower())):
        raise click.ClickException(f"user {username!r} exists already")
    with force_locale("en"):  # no request to pick a language from
        problem = people_admin.password_problem(password, username)
        if problem:
            raise click.ClickException(str(problem))
    user = User(
        username=username, display_name=display_name or username, email=email or None,
        role=Role.ADMIN, all_branches=True, active=True,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record(None, "create", user, after=people_admin.user_values(user))
    db.session.commit()
    click.echo(f"created admin {username}: sign in at {current_app.config['LOOPDESK_BASE_URL']}/login")


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--queues", default=",".join(QUEUES), show_default=True,
              help="The queues it takes jobs from, all of one before any of the next.")
def worker(burst: bool, queues: str) -> None:
    """Run an RQ worker for REDIS_URL (it waits for Redis through an outage and carries on)."""
    from app.jobs import legacy_queue, queue
    from app.jobs.runner import run_worker

    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set: jobs run in process, no worker is needed")
    names = [name.strip() for name in queues.split(",") if name.strip()]
    unknown = [name for name in names if name not in QUEUES]
    if unknown or not names:
        raise click.BadParameter(f"{', '.join(unknown) or 'none'}: the queues are {', '.join(QUEUES)}",
                                 param_hint="--queues")
    taken = [queue(name) for name in names]
    if BULK in names:
        taken.append(legacy_queue())
    run_worker(taken, burst=burst)


@jobs_cli.command("cron")
def cron() -> None:
    """Run RQ's cron scheduler: enqueue the periodic sweeps (through a Redis outage too)."""
    from app.jobs import HAND_OVER_SECONDS, hand_over_held, queue, queue_of
    from app.jobs.alerts import INTERVAL_SECONDS as ALERT_INTERVAL, sweep_alerts
    from app.jobs.customers import sweep_customer_retention
    from app.jobs.files import sweep_old_files
    from app.jobs.insight import sweep_rollups
    from app.jobs.responses import sweep_unprocessed
    from app.jobs.runner import run_cron
    from app.jobs.sla import sweep_sla

    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set: use `flask jobs sweep --every 60`")
    sla_seconds = current_app.config["LOOPDESK_SLA_SWEEP_SECONDS"]
    every = [(hand_over_held, HAND_OVER_SECONDS), (sweep_unprocessed, 60), (sweep_rollups, 60),
             (sweep_sla, sla_seconds), (sweep_alerts, ALERT_INTERVAL), (sweep_old_files, 3600),
             (sweep_customer_retention, 3600)]

    def register(scheduler) -> None:
        for func, interval in every:
            scheduler.register(func, queue_name=queue(queue_of(func)).name, interval=interval)

    run_cron(queue().connection, register)


@jobs_cli.command("sweep")
@click.option("--every", type=int, default=0, help="Repeat every N seconds (in-process scheduler).")
def sweep(every: int) -> None:
    """Run the periodic sweeps now: responses, SLA escalations, due notifications, dashboard roll-ups,
    alerts (or forever, with --every)."""
    while True:
        try:
            _sweep_once()
        except Exception:
            if not every:
                raise
            # The database away (a restart): the next round tries again, the process carries on.
            log.exception("a sweep failed; trying again in %s s", every)
            db.session.rollback()
        if not every:
            return
        time.sleep(every)


def _sweep_once() -> None:
    from app.jobs.alerts import sweep_alerts
    from app.jobs.customers import sweep_customer_retention
    from app.jobs.files import sweep_old_files
    from app.jobs.insight import sweep_rollups
    from app.jobs.responses import sweep_unprocessed
    from app.jobs.sla import sweep_sla

    done = sweep_unprocessed()
    if done:
        click.echo(f"swept {done} response(s)")
    escalated = sweep_sla()
    if escalated.tickets:
        click.echo(
            f"SLA sweep: {escalated.tickets} ticket(s), {escalated.rungs_fired} escalation(s), "
            f"{escalated.notifications} notification(s) in {escalated.seconds:.2f} s"
        )
    rebuilt = sweep_rollups()
    if rebuilt:
        click.echo(f"rebuilt the roll-ups of {rebuilt} branch day(s)")
    alerted = sweep_alerts()
    if alerted.opened or alerted.closed:
        click.echo(f"alerts: {len(alerted.opened)} opened, {alerted.closed} closed, "
                   f"{alerted.notifications} notification(s)")
    removed = sweep_old_files()
    if removed:
        click.echo(f"removed {removed} file(s) kept past LOOPDESK_JOB_FILE_DAYS")
    erased = sweep_customer_retention()
    if erased:
        click.echo(f"erased {erased} customer(s) inactive past LOOPDESK_CUSTOMER_RETENTION_DAYS")
