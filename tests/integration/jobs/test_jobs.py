"""After a response is saved: the job runs in process, or on RQ with the real Redis; nothing is lost if Redis is down."""
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import select

from app.extensions import db
from app.jobs.responses import sweep_unprocessed
from app.models import QrCode, Response
from tests.conftest import REDIS_URL, SurveyWalker, hidden, run_burst_worker, worker_env

HAPPY = [("product", 5), ("service", 5), ("environment", 5), ("nps", 10), ("comment", "")]


def finish(walker):
    walker.open()
    for key, value in HAPPY:
        walker.answer(**{key: value})
    return walker.page


def latest(app):
    with app.app_context():
        return db.session.scalar(select(Response).order_by(Response.id.desc()))


@pytest.mark.parametrize("app", [{"REDIS_URL": "redis://127.0.0.1:1/0"}], indirect=True)
def test_redis_down_customer_is_thanked_and_the_sweep_catches_up(app, client, demo):
    page = finish(SurveyWalker(client, demo["tokens"]["HZ-WESTLAKE"]))
    assert "Thank you for your feedback" in page
    saved = latest(app)
    assert saved.submitted_at is not None and saved.processed_at is None
    app.config["LOOPDESK_SWEEP_AFTER_SECONDS"] = 0
    with app.app_context():
        counted_before = db.session.get(QrCode, saved.qr_code_id).response_count
        assert sweep_unprocessed() == 1
        assert sweep_unprocessed() == 0  # safe to run twice
        assert db.session.get(Response, saved.id).processed_at is not None
        assert db.session.get(QrCode, saved.qr_code_id).response_count == counted_before + 1


def test_job_run_twice_counts_the_response_once(app, client, demo):
    from app.services.survey.responses import process_submitted

    finish(SurveyWalker(client, demo["tokens"]["HZ-WESTLAKE"]))
    saved = latest(app)
    with app.app_context():
        counted = db.session.get(QrCode, saved.qr_code_id).response_count
        assert process_submitted(saved.id) is False
        db.session.commit()
        assert db.session.get(QrCode, saved.qr_code_id).response_count == counted


def test_scanning_counts_once_per_visit_not_per_step(app, client, demo):
    token = demo["tokens"]["LDN-SOHO"]
    with app.app_context():
        before = db.session.scalar(select(QrCode.scan_count).where(QrCode.token == token))
    walker = SurveyWalker(client, token)
    walker.open()
    walker.answer(product=4)
    walker.open()
    with app.app_context():
        assert db.session.scalar(select(QrCode.scan_count).where(QrCode.token == token)) == before + 1


@pytest.mark.redis
@pytest.mark.parametrize(
    "app", [{"REDIS_URL": REDIS_URL, "LOOPDESK_QUEUE": f"test-{uuid.uuid4().hex}"}], indirect=True
)
def test_submitted_response_goes_to_redis_and_the_worker_command_processes_it(app, client, demo):
    from app.jobs import queue

    finish(SurveyWalker(client, demo["tokens"]["SH-PEOPLE"]))
    saved = latest(app)
    assert saved.processed_at is None
    with app.app_context():
        jobs = queue()
        assert jobs.count == 1
    run_burst_worker(app)
    with app.app_context():
        processed = db.session.get(Response, saved.id)
        assert processed.processed_at is not None
        jobs.delete(delete_jobs=True)


@pytest.mark.redis
@pytest.mark.parametrize(
    "app", [{"REDIS_URL": REDIS_URL, "LOOPDESK_QUEUE": f"test-{uuid.uuid4().hex}"}], indirect=True
)
def test_low_score_opens_a_ticket_within_5_s_with_redis_and_a_running_worker(app, client, demo):
    import time

    from rq import Worker

    from app.jobs import queue
    from app.models import Department, Ticket

    env = worker_env(app)
    worker = subprocess.Popen([sys.executable, "-m", "flask", "jobs", "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        with app.app_context():
            jobs = queue()
            deadline = time.monotonic() + 60
            while not Worker.all(queue=jobs) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert Worker.all(queue=jobs), "the worker did not start"
        walker = SurveyWalker(client, demo["tokens"]["SH-PEOPLE"])
        walker.open()
        for key, value in [("product", 4), ("service", 1), ("service_problem", ["attitude"]), ("environment", 4), ("nps", 3)]:
            walker.answer(**{key: value})
        key = hidden(walker.page, "key")
        submitted = time.monotonic()
        walker.answer(comment="")
        ticket = None
        while ticket is None and time.monotonic() - submitted < 5:
            time.sleep(0.05)
            with app.app_context():
                ticket = db.session.scalar(
                    select(Ticket).join(Response, Ticket.response_id == Response.id).where(Response.idempotency_key == key)
                )
        assert ticket is not None, "no ticket within 5 s"
        with app.app_context():
            assert db.session.get(Department, ticket.department_id).code == "service"
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        with app.app_context():
            queue().delete(delete_jobs=True)


@pytest.mark.parametrize("app", [{"REDIS_URL": "redis://127.0.0.1:1/0"}], indirect=True)
def test_redis_down_the_after_submit_job_is_held_in_the_database_with_its_arguments(app, client, demo):
    from app.models import HeldJob

    finish(SurveyWalker(client, demo["tokens"]["HZ-WESTLAKE"]))
    finish(SurveyWalker(app.test_client(), demo["tokens"]["SH-PEOPLE"]))  # within 5 s: Redis is not asked again
    with app.app_context():
        held = db.session.scalars(select(HeldJob).order_by(HeldJob.id)).all()
        submitted = db.session.scalars(select(Response.id).where(Response.submitted_at.is_not(None))
                                       .order_by(Response.id.desc()).limit(2)).all()
        assert [(job.func, job.args[0]) for job in held] == [
            ("app.jobs.responses.response_submitted", response_id) for response_id in reversed(submitted)
        ]
        assert all(isinstance(job.args[1], str) for job in held)  # the keyed address, for the burst rule
