"""Queues by urgency (issue 12 §1): which entry point runs on which queue, the order a worker takes
them in, and a webhook burst limited per endpoint so the urgent queue keeps flowing."""
from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import func, select

import app.jobs
from app.core.clock import utcnow
from app.extensions import db
from app.jobs import BULK, NOTIFY, QUEUES, URGENT, queue, queue_of
from app.models import Response, WebhookDelivery
from app.services.webhooks import events
from tests.conftest import REDIS_URL, SurveyWalker, run_burst_worker, worker_env
from tests.integration.webhooks.receiver import add_endpoint, receiving

EXPECTED = {
    "app.jobs.hand_over_held": URGENT,
    "app.jobs.responses.response_submitted": URGENT,
    "app.jobs.responses.sweep_unprocessed": URGENT,
    "app.jobs.notifications.send_email": NOTIFY,
    "app.jobs.notifications.send_sms": NOTIFY,
    "app.jobs.sla.sweep_sla": NOTIFY,
    "app.jobs.alerts.sweep_alerts": NOTIFY,
    "app.jobs.notifications.deliver_webhook": BULK,
    "app.jobs.files.build_file": BULK,
    "app.jobs.files.sweep_old_files": BULK,
    "app.jobs.customers.sweep_customer_retention": BULK,
    "app.jobs.insight.sweep_rollups": BULK,
    "app.jobs.insight.rebuild_branch_rollups": BULK,
    "app.jobs.sla.refresh_policy_tickets": BULK,
    "app.jobs.sla.refresh_branch_tickets": BULK,
}


def entry_points() -> dict[str, object]:
    """Every function of app.jobs that runs as a job (it opens ``job_context()``)."""
    modules = [app.jobs] + [importlib.import_module(f"app.jobs.{info.name}")
                            for info in pkgutil.iter_modules(app.jobs.__path__)]
    return {
        f"{module.__name__}.{name}": function
        for module in modules
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__ and "with job_context()" in inspect.getsource(function)
    }


def test_every_entry_point_names_its_queue_and_urgent_work_comes_first():
    found = entry_points()
    assert sorted(found) == sorted(EXPECTED)
    assert {name: queue_of(function) for name, function in found.items()} == EXPECTED
    assert all(hasattr(function, "loopdesk_queue") for function in found.values())
    assert QUEUES == (URGENT, NOTIFY, BULK)


def test_the_worker_refuses_a_queue_it_does_not_know(app):
    env = dict(worker_env(app), REDIS_URL="redis://127.0.0.1:1/0")
    run = subprocess.run([sys.executable, "-m", "flask", "jobs", "worker", "--queues", "urgent,later"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode != 0 and "later" in run.stderr and "urgent, notify, bulk" in run.stderr


def _clear(app) -> None:
    with app.app_context():
        for name in QUEUES:
            queue(name).delete(delete_jobs=True)


@pytest.mark.redis
@pytest.mark.parametrize(
    "app", [{"REDIS_URL": REDIS_URL, "LOOPDESK_QUEUE": f"test-{uuid.uuid4().hex}"}], indirect=True
)
def test_a_complaint_left_in_the_single_queue_of_the_version_before_still_opens_its_ticket(app, client, demo):
    """Upgraded while a job waited in the one queue every job went to before the queues by urgency."""
    from app.jobs import legacy_queue

    walker = SurveyWalker(client, demo["tokens"]["SH-PEOPLE"])
    walker.open()
    for key, value in [("product", 4), ("service", 1), ("service_problem", ["attitude"]),
                       ("environment", 4), ("nps", 3), ("comment", "")]:
        walker.answer(**{key: value})
    try:
        with app.app_context():
            [job_id] = queue(URGENT).get_job_ids()
            job = queue(URGENT).fetch_job(job_id)
            queue(URGENT).remove(job_id)
            legacy_queue().enqueue_job(job)  # where the version before put it
            response = db.session.scalars(select(Response).order_by(Response.id.desc()).limit(1)).one()
            assert response.submitted_at is not None and response.processed_at is None
            response_id = response.id
        run_burst_worker(app)
        with app.app_context():
            assert db.session.get(Response, response_id).processed_at is not None
            assert legacy_queue().count == 0
    finally:
        _clear(app)
        with app.app_context():
            legacy_queue().delete(delete_jobs=True)


@pytest.mark.redis
@pytest.mark.parametrize(
    "app", [{"REDIS_URL": REDIS_URL, "LOOPDESK_QUEUE": f"test-{uuid.uuid4().hex}"}], indirect=True
)
def test_a_worker_takes_the_urgent_queue_first_then_notifications_then_bulk(app, demo):
    from rq.job import Job

    from app.jobs import enqueue, hand_over_held
    from app.jobs.insight import sweep_rollups
    from app.jobs.sla import sweep_sla

    try:
        with app.app_context():
            ids = {}
            for job, name in [(sweep_rollups, BULK), (sweep_sla, NOTIFY), (hand_over_held, URGENT)]:  # last first
                assert enqueue(job)
                [ids[name]] = queue(name).get_job_ids()
            connection = queue().connection
        run_burst_worker(app)
        started = {name: Job.fetch(job_id, connection=connection).started_at for name, job_id in ids.items()}
        assert all(started.values())
        assert started[URGENT] < started[NOTIFY] < started[BULK]
    finally:
        _clear(app)


@pytest.mark.redis
@pytest.mark.parametrize(
    "app", [{"REDIS_URL": REDIS_URL, "LOOPDESK_QUEUE": f"test-{uuid.uuid4().hex}",
             "LOOPDESK_OUTGOING_ALLOWED_HOSTS": ["127.0.0.1"], "LOOPDESK_WEBHOOK_CONCURRENCY": 2}],
    indirect=True,
)
def test_a_webhook_burst_waits_beside_the_queue_and_a_new_complaint_goes_first(app, client, demo):
    from rq.rate_limit import RateLimitRegistry

    from app.jobs.notifications import hand_over_webhooks

    try:
        with receiving(200) as receiver:
            with app.app_context():
                first = add_endpoint(receiver.url)
                second = add_endpoint(receiver.url.replace("/hooks", "/other"))
                db.session.commit()
                now = utcnow()
                for _ in range(30):  # 30 events, each to both endpoints
                    events.emit_test(first, "LD-7K2Q9", now)
                    events.emit_test(second, "LD-7K2Q9", now)
                db.session.commit()
                deliveries = db.session.scalars(select(WebhookDelivery.id).order_by(WebhookDelivery.id)).all()
                assert len(deliveries) == 60
                hand_over_webhooks(deliveries)
                bulk = queue(BULK)
                # Two per endpoint in the queue; the other 56 wait beside it, not in it.
                assert bulk.count == 4
                waiting = {endpoint.id: RateLimitRegistry(f"{bulk.name}:endpoint:{endpoint.id}", bulk.connection)
                           for endpoint in (first, second)}
                assert [registry.get_rate_limited_job_count() for registry in waiting.values()] == [28, 28]

            walker = SurveyWalker(client, demo["tokens"]["SH-PEOPLE"])
            walker.open()
            for key, value in [("product", 4), ("service", 1), ("service_problem", ["attitude"]),
                               ("environment", 4), ("nps", 3), ("comment", "")]:
                walker.answer(**{key: value})
            with app.app_context():
                assert queue(URGENT).count == 1

            run_burst_worker(app)  # one worker: every job of the burst, and the complaint

            with app.app_context():
                processed = db.session.scalar(select(Response.processed_at).order_by(Response.id.desc()).limit(1))
                delivered = db.session.execute(
                    select(func.count(), func.min(WebhookDelivery.delivered_at)).where(
                        WebhookDelivery.delivered_at.is_not(None), WebhookDelivery.event == "webhook.test")
                ).one()
                assert delivered[0] == 60  # the whole burst went out
                # and the complaint's own events (response.submitted, ticket.created) to both endpoints
                assert len(receiver.requests) == 64
                assert processed is not None and processed < delivered[1]  # the complaint before any of it
                assert [registry.get_rate_limited_job_count() for registry in waiting.values()] == [0, 0]
    finally:
        _clear(app)


def where_am_i() -> tuple[int, int, int]:
    """A job for the test below: its process, how many jobs its session has seen, and a query."""
    seen = db.session.info["jobs"] = db.session.info.get("jobs", 0) + 1
    return os.getpid(), seen, db.session.scalar(select(1))


@pytest.mark.redis
@pytest.mark.parametrize(
    "app", [{"REDIS_URL": REDIS_URL, "LOOPDESK_QUEUE": f"test-{uuid.uuid4().hex}"}], indirect=True
)
def test_urgent_jobs_run_in_the_worker_itself_and_bulk_ones_in_a_work_horse_each_with_a_fresh_session(app):
    from rq.job import Job

    try:
        with app.app_context():
            jobs = {name: [queue(name).enqueue("tests.integration.jobs.test_queues.where_am_i").id for _ in range(3)] for name in (URGENT, NOTIFY, BULK)}
            connection = queue().connection
        run_burst_worker(app)
        fetched = {name: [Job.fetch(job_id, connection=connection) for job_id in ids] for name, ids in jobs.items()}
        assert [job.get_status() for group in fetched.values() for job in group] == ["finished"] * 9, [
            job.latest_result().exc_string for group in fetched.values() for job in group if job.latest_result()][:1]
        ran = {name: [job.return_value() for job in group] for name, group in fetched.items()}
        in_process = {tuple(result)[0] for name in (URGENT, NOTIFY) for result in ran[name]}
        assert len(in_process) == 1  # one process: the worker's, no fork
        horses = {tuple(result)[0] for result in ran[BULK]}
        assert len(horses) == 3 and not horses & in_process  # a work horse each
        assert all(tuple(result)[1:] == (1, 1) for results in ran.values() for result in results)
    finally:
        _clear(app)
