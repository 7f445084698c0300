"""Workers processing a burst's responses at once lock the rows they write in one order, so none waits for
another in a circle (PostgreSQL would roll one back as a deadlock and the job would have to run again)."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import Response
from app.services.survey.responses import process_submitted
from tests.integration.survey.test_ballot_stuffing import walk


def test_a_burst_processed_by_many_workers_at_once_never_deadlocks(app, demo):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("row locks and deadlocks are PostgreSQL's; SQLite locks the whole file")
    token = demo["tokens"]["SH-PEOPLE"]
    for _ in range(8):
        walk(app, token, "203.0.113.9")
    with app.app_context():
        ids = db.session.scalars(select(Response.id).where(Response.source_key.is_not(None)).order_by(Response.id)).all()
        assert len(ids) == 8
    failures: list[BaseException] = []
    for _round in range(5):
        with app.app_context():  # as if just submitted: every job still to run (their tickets stay: each opens once)
            db.session.execute(update(Response).where(Response.id.in_(ids)).values(processed_at=None, quality_flags=[]))
            db.session.commit()
        start = threading.Barrier(len(ids))

        def work(response_id: int) -> None:
            with app.app_context():
                try:
                    start.wait()
                    process_submitted(response_id)
                    db.session.commit()
                except BaseException as error:  # noqa: BLE001 - the test reports it
                    failures.append(error)
                    db.session.rollback()

        threads = [threading.Thread(target=work, args=(i,)) for i in reversed(ids)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not failures, failures[:2]
    with app.app_context():
        flags = db.session.scalars(select(Response.quality_flags).where(Response.id.in_(ids))).all()
        assert all("burst" in f for f in flags)
