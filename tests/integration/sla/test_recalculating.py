"""While an edit's refresh has not reached a ticket, its pages say "due time being recalculated" (also in
Chinese) instead of a due time that no longer holds; once the refresh has passed it, the new due time shows."""
from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from app import jobs
from app.core.clock import utcnow
from app.extensions import db
from app.jobs.sla import sweep_sla
from app.models import Branch, Priority, SlaPolicy, SlaRefresh, Ticket, TicketStatus
from app.models.tickets import OPEN_STATUSES
from app.services.sla import clocks, refreshes
from tests.conftest import csrf_token, login

RECALCULATING = "due time being recalculated"


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return unescape(response.get_data(as_text=True))


@pytest.fixture
def staff(client, demo, app):
    login(client, "supervisor", demo["passwords"]["supervisor"])  # both Chinese branches, every department
    return client


def test_a_pending_policy_refresh_marks_its_priority_s_tickets_until_it_has_run(app, staff):
    with app.app_context():
        normal, high = (db.session.scalar(select(Ticket.id).where(Ticket.status.in_(OPEN_STATUSES),
                        Ticket.priority == Priority(p), Ticket.first_response_at.is_(None)).order_by(Ticket.id))
                        for p in ("normal", "high"))
        assert normal and high
        refreshes.request(priority="normal")
        db.session.commit()
    assert RECALCULATING in page(staff, f"/staff/tickets/{normal}")
    assert RECALCULATING not in page(staff, f"/staff/tickets/{high}")
    with app.app_context():
        assert refreshes.run(priority="normal") > 0
        [row] = db.session.scalars(select(SlaRefresh)).all()
        assert row.finished_at is not None and row.done_through_id >= normal
    shown = page(staff, f"/staff/tickets/{normal}")
    assert RECALCULATING not in shown and "due" in shown


def test_the_queue_and_the_board_say_it_too_and_in_chinese(app, client, demo):
    with app.app_context():
        refreshes.request()  # every open ticket (a holiday of every branch)
        db.session.commit()
    login(client, "supervisor", demo["passwords"]["supervisor"])
    queue = page(client, "/staff/queue?view=all")
    assert queue.count(RECALCULATING) == queue.count('class="ticket-row') > 0
    board = page(client, "/supervisor/board")
    assert RECALCULATING in board
    chinese = page(client, "/supervisor/board?lang=zh_Hans")
    assert "到期时间重新计算中" in chinese and RECALCULATING not in chinese


def test_progress_by_ticket_id_clears_the_tickets_already_re_timed(app, demo):
    with app.app_context():
        ids = list(db.session.scalars(select(Ticket.id).where(Ticket.status.in_(OPEN_STATUSES)).order_by(Ticket.id)))
        row = refreshes.request()
        row.done_through_id = ids[len(ids) // 2]
        db.session.commit()
        pending = refreshes.pending()
        tickets = db.session.scalars(select(Ticket).where(Ticket.id.in_(ids))).all()
        marked = {t.id for t in tickets if refreshes.is_recalculating(t, pending)}
        assert marked == {i for i in ids if i > ids[len(ids) // 2]}
        # A ticket opened after the edit was timed with the new settings already.
        row.done_through_id = 0
        row.up_to_ticket_id = ids[0]
        db.session.commit()
        assert {t.id for t in tickets if refreshes.is_recalculating(t, refreshes.pending())} == {ids[0]}
        # A closed ticket is never re-timed.
        first = db.session.get(Ticket, ids[0])
        first.status = TicketStatus.CLOSED
        assert not refreshes.is_recalculating(first, refreshes.pending())
        db.session.rollback()


def test_a_refresh_reports_progress_after_each_batch(app, demo):
    with app.app_context():
        refreshes.request(branch_id=None)
        db.session.commit()
        seen = []
        total = clocks.refresh_open_tickets(batch=3, after_batch=seen.append)
        db.session.commit()
        assert len(seen) == -(-total // 3) and seen == sorted(seen)


def test_an_admin_edit_marks_the_tickets_and_its_job_clears_them(app, client, demo):
    login(client, "admin", demo["passwords"]["admin"])
    with app.app_context():
        policy = db.session.scalar(select(SlaPolicy).where(SlaPolicy.priority == "normal"))
        policy_id, minutes = policy.id, policy.resolution_minutes
    admin_page = page(client, "/admin/sla/")
    data = {f"policy{policy_id}-{name}": value for name, value in {
        "first_response": "30", "first_response_unit": "minutes", "resolution": str(minutes * 2),
        "resolution_unit": "minutes", "counting": "business_hours", "warning_percent": "80",
        "csrf_token": csrf_token(admin_page)}.items()}
    assert client.post(f"/admin/sla/policies/{policy_id}", data=data).status_code == 303
    with app.app_context():  # the in-process job ran after the commit
        [row] = db.session.scalars(select(SlaRefresh)).all()
        assert row.priority == "normal" and row.finished_at is not None


def test_a_refresh_whose_job_was_lost_is_run_by_the_sweep(app, client, demo, monkeypatch):
    login(client, "admin", demo["passwords"]["admin"])
    monkeypatch.setattr(jobs, "enqueue", lambda *args, **kwargs: False)
    with app.app_context():
        policy = db.session.scalar(select(SlaPolicy).where(SlaPolicy.priority == "normal"))
        policy_id, minutes = policy.id, policy.resolution_minutes
    admin_page = page(client, "/admin/sla/")
    data = {f"policy{policy_id}-{name}": value for name, value in {
        "first_response": "30", "first_response_unit": "minutes", "resolution": str(minutes + 60),
        "resolution_unit": "minutes", "counting": "business_hours", "warning_percent": "80",
        "csrf_token": csrf_token(admin_page)}.items()}
    assert client.post(f"/admin/sla/policies/{policy_id}", data=data).status_code == 303
    with app.app_context():
        [row] = db.session.scalars(select(SlaRefresh)).all()
        assert row.finished_at is None
        sweep_sla()  # too early: the job may still be on its way
        assert db.session.get(SlaRefresh, row.id).finished_at is None
        row = db.session.get(SlaRefresh, row.id)
        row.requested_at = utcnow() - refreshes.STALE_AFTER - timedelta(seconds=1)
        db.session.commit()
        sweep_sla()
        db.session.expire_all()
        assert db.session.get(SlaRefresh, row.id).finished_at is not None
