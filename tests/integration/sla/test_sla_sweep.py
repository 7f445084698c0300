"""The SLA sweep: at risk → breached → level 1 → level 2, each notification exactly once,
also with two sweepers at once; the whole backlog in one run; policy edits move open tickets."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select

from app.extensions import db
from app.models import (
    Branch,
    Department,
    EscalationFiring,
    EscalationRule,
    Holiday,
    Notification,
    OutboxEmail,
    Priority,
    Role,
    SlaPolicy,
    Ticket,
    TicketEvent,
    TicketStatus,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.services import notifications
from app.services.webhooks import events as webhook_events
from app.services.branches import calendars
from app.services.sla import clocks as sla_clocks, escalations, policies
from tests.conftest import PG_URL, REDIS_URL, worker_env

SHANGHAI = ZoneInfo("Asia/Shanghai")
EVERY_DAY = {day: [["10:00", "22:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
#: A Monday in Shanghai with no public holiday near it.
MONDAY_11H = datetime(2025, 3, 10, 11, 0, tzinfo=SHANGHAI).astimezone(UTC)
MINUTE = timedelta(minutes=1)


def make_user(username: str, role: Role, branches=(), departments=(), **values) -> User:
    user = User(username=username, display_name=username, role=role, email=f"{username}@example.com", **values)
    user.set_password("x")
    user.branches = list(branches)
    user.departments = list(departments)
    db.session.add(user)
    return user


@pytest.fixture
def world(app):
    """One Shanghai branch open 10:00-22:00 every day, a London branch, two departments,
    a staff member, a supervisor in scope, one out of scope, and an admin."""
    with app.app_context():
        shanghai = Branch(code="SH", name="Shanghai", timezone="Asia/Shanghai", opening_hours=EVERY_DAY)
        london = Branch(code="LDN", name="London", timezone="Europe/London", opening_hours=EVERY_DAY)
        service = Department(code="service", name="Service")
        product = Department(code="product", name="Product")
        db.session.add_all([shanghai, london, service, product])
        users = {
            "staff": make_user("staff", Role.STAFF, [shanghai], [service]),
            "colleague": make_user("colleague", Role.STAFF, [shanghai], [service]),
            "supervisor": make_user("supervisor", Role.SUPERVISOR, [shanghai], [service]),
            "head_office": make_user("head_office", Role.SUPERVISOR, [], [service], all_branches=True),
            "other_supervisor": make_user("other_supervisor", Role.SUPERVISOR, [london], [service, product]),
            "product_supervisor": make_user("product_supervisor", Role.SUPERVISOR, [shanghai], [product]),
            "admin": make_user("admin", Role.ADMIN, all_branches=True),
        }
        policies.ensure_default_policies()
        db.session.commit()
        return {
            "branch": shanghai.id, "london": london.id, "service": service.id, "product": product.id,
            **{name: user.id for name, user in users.items()},
        }


def open_ticket(world, created_at: datetime, priority: str = "normal", assignee: str | None = "staff",
                first_response_at: datetime | None = None, branch: str = "branch") -> int:
    """A ticket made with the models (as the ticket service would), with its "created" event."""
    ticket = Ticket(
        reference_code=f"LD-{uuid.uuid4().hex[:8].upper()}",
        branch_id=world[branch],
        department_id=world["service"],
        priority=Priority(priority),
        status=TicketStatus.NEW,
        assignee_id=world[assignee] if assignee else None,
        subject="Queue far too long",
        created_at=created_at,
        updated_at=created_at,
        first_response_at=first_response_at,
    )
    db.session.add(ticket)
    db.session.flush()
    db.session.add(TicketEvent(ticket_id=ticket.id, at=created_at, kind="created", new_value="new"))
    sla_clocks.refresh_deadlines(ticket, first_response_at or created_at)
    db.session.commit()
    return ticket.id


def change_status(ticket_id: int, status: str, at: datetime) -> None:
    ticket = db.session.get(Ticket, ticket_id)
    db.session.add(TicketEvent(ticket_id=ticket_id, at=at, kind="status", old_value=ticket.status.value, new_value=status))
    ticket.status = TicketStatus(status)
    sla_clocks.refresh_deadlines(ticket, at)
    db.session.commit()


def received(user_id: int, ticket_id: int | None = None) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user_id).order_by(Notification.id)
    if ticket_id is not None:
        query = query.where(Notification.ticket_id == ticket_id)
    return list(db.session.scalars(query))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_ticket_goes_on_track_warning_breached_level_two_each_notification_exactly_once(app, world):
    with app.app_context():
        # Answered at once, so only the resolution ladder runs: 48 business hours.
        ticket_id = open_ticket(world, MONDAY_11H, first_response_at=MONDAY_11H + 5 * MINUTE)
        ticket = db.session.get(Ticket, ticket_id)
        clock = sla_clocks.clock_for(ticket, MONDAY_11H)
        warning_at, due_at = clock.resolution.warning_at, clock.resolution.due_at
        assert due_at == datetime(2025, 3, 14, 11, 0, tzinfo=SHANGHAI)  # Mon 11 h + Tue, Wed, Thu 12 h + Fri 1 h
        assert ticket.next_deadline_at == warning_at and ticket.sla_state == "on_track"
        version = ticket.lock_version

        def sweep_twice(now: datetime) -> None:
            first = escalations.sweep(now)
            again = escalations.sweep(now)
            assert again.notifications == 0 and again.rungs_fired == 0
            assert first.tickets <= 1

        sweep_twice(warning_at - MINUTE)
        assert count(Notification) == 0 and count(EscalationFiring) == 0
        assert db.session.get(Ticket, ticket_id).sla_state == "on_track"

        sweep_twice(warning_at + MINUTE)
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.sla_state == "warning" and ticket.next_deadline_at == due_at
        [warning] = received(world["staff"])
        assert warning.kind == "sla_warning" and "Resolution due soon" in warning.title
        assert received(world["supervisor"]) == [] and received(world["admin"]) == []

        sweep_twice(due_at + MINUTE)
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.sla_state == "breached"
        assert ticket.next_deadline_at == due_at + timedelta(hours=4)
        [breach] = received(world["supervisor"])
        assert breach.kind == "escalation" and "level 1" in breach.title
        [head_office_breach] = received(world["head_office"])  # every branch, same department
        assert head_office_breach.title == breach.title
        for outside in ("other_supervisor", "product_supervisor", "admin", "colleague"):
            assert received(world[outside]) == [], outside

        sweep_twice(due_at + timedelta(hours=4) + MINUTE)
        [level_two] = received(world["admin"])
        assert "level 2" in level_two.title and "overdue by 4 h" in level_two.title
        assert db.session.get(Ticket, ticket_id).next_deadline_at is None

        sweep_twice(due_at + timedelta(days=3))
        assert len(received(world["staff"])) == 1 and len(received(world["supervisor"])) == 1
        assert len(received(world["admin"])) == 1 and count(Notification) == 4
        # Per rung one row without receiver (the rung) and one per receiver: 2 + 3 + 2.
        assert count(EscalationFiring) == 7
        levels = db.session.scalars(
            select(TicketEvent.new_value).where(TicketEvent.kind == "escalation").order_by(TicketEvent.id)
        ).all()
        assert levels == ["0", "1", "2"]
        # Bookkeeping never makes a staff member's open page stale.
        assert db.session.get(Ticket, ticket_id).lock_version == version
        assert count(OutboxEmail) == 4  # every receiver has an address; no SMTP: outbox and log only


def test_first_response_clock_has_its_own_ladder_and_stops_it_when_answered(app, world):
    with app.app_context():
        ticket_id = open_ticket(world, MONDAY_11H)
        clock = sla_clocks.clock_for(db.session.get(Ticket, ticket_id), MONDAY_11H)
        assert clock.first_response.due_at == MONDAY_11H + 30 * MINUTE
        escalations.sweep(MONDAY_11H + 25 * MINUTE)
        [warning] = received(world["staff"])
        assert "First response due soon" in warning.title
        ticket = db.session.get(Ticket, ticket_id)
        ticket.first_response_at = MONDAY_11H + 28 * MINUTE
        sla_clocks.refresh_deadlines(ticket, MONDAY_11H + 28 * MINUTE)
        db.session.commit()
        escalations.sweep(MONDAY_11H + timedelta(hours=6))
        assert received(world["supervisor"]) == []  # answered in time: no breach
        assert db.session.get(Ticket, ticket_id).sla_state == "on_track"


def test_unassigned_ticket_warns_the_staff_who_could_claim_it(app, world):
    with app.app_context():
        ticket_id = open_ticket(world, MONDAY_11H, assignee=None)
        escalations.sweep(MONDAY_11H + 25 * MINUTE)
        assert [n.ticket_id for n in received(world["staff"])] == [ticket_id]
        assert [n.ticket_id for n in received(world["colleague"])] == [ticket_id]
        assert received(world["supervisor"]) == []


def test_a_paused_ticket_is_not_escalated_and_its_clock_comes_back(app, world):
    with app.app_context():
        ticket_id = open_ticket(world, MONDAY_11H, first_response_at=MONDAY_11H + MINUTE)
        change_status(ticket_id, "waiting_on_customer", MONDAY_11H + timedelta(hours=1))
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.sla_state == "paused" and ticket.resolution_due_at is None and ticket.next_deadline_at is None
        escalations.sweep(MONDAY_11H + timedelta(days=10))
        assert count(Notification) == 0
        back = MONDAY_11H + timedelta(days=2)
        change_status(ticket_id, "in_progress", back)
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.sla_state == "on_track" and ticket.resolution_due_at > back + timedelta(days=3)


def test_reopened_ticket_runs_the_ladder_again(app, world):
    with app.app_context():
        ticket_id = open_ticket(world, MONDAY_11H, priority="urgent", first_response_at=MONDAY_11H + MINUTE)
        escalations.sweep(MONDAY_11H + timedelta(hours=2))  # urgent: 1 h around the clock
        assert len(received(world["supervisor"])) == 1
        change_status(ticket_id, "resolved", MONDAY_11H + timedelta(hours=3))
        ticket = db.session.get(Ticket, ticket_id)
        db.session.add(TicketEvent(ticket_id=ticket_id, at=MONDAY_11H + timedelta(hours=5), kind="reopened",
                                   old_value="resolved", new_value="in_progress"))
        ticket.status = TicketStatus.IN_PROGRESS
        sla_clocks.refresh_deadlines(ticket, MONDAY_11H + timedelta(hours=5))
        db.session.commit()
        escalations.sweep(MONDAY_11H + timedelta(hours=7))
        assert len(received(world["supervisor"])) == 2
        cycles = set(db.session.scalars(select(EscalationFiring.cycle)))
        assert cycles == {0, 1}


def test_notification_outside_business_hours_waits_for_the_opening_unless_urgent(app, world):
    with app.app_context():
        thursday_night = datetime(2025, 3, 13, 23, 0, tzinfo=SHANGHAI)
        friday_opening = datetime(2025, 3, 14, 10, 0, tzinfo=SHANGHAI)
        normal = open_ticket(world, datetime(2025, 3, 13, 21, 0, tzinfo=SHANGHAI))  # warning at 21:24
        urgent = open_ticket(world, datetime(2025, 3, 13, 22, 30, tzinfo=SHANGHAI), priority="urgent")
        escalations.sweep(thursday_night)
        staff = db.session.get(User, world["staff"])
        [waiting] = received(world["staff"], normal)
        assert waiting.deliver_after == friday_opening and waiting.emailed_at is None
        [now_] = received(world["staff"], urgent)
        assert now_.deliver_after == thursday_night and now_.emailed_at == thursday_night
        assert notifications.unread_count(staff, thursday_night) == 1
        assert [n.id for n in notifications.inbox(staff, thursday_night)] == [now_.id]
        assert count(OutboxEmail) == 1

        assert notifications.write_due_emails(friday_opening - MINUTE) == []
        # The staff's warning and the supervisors' breach of the normal ticket waited for the opening.
        written = notifications.write_due_emails(friday_opening)
        assert sorted(email.to for email in written) == [
            "head_office@example.com", "staff@example.com", "supervisor@example.com"
        ]
        db.session.commit()
        assert notifications.unread_count(staff, friday_opening) == 2
        assert notifications.write_due_emails(friday_opening + MINUTE) == []  # once


def test_shortening_a_policy_moves_open_tickets_due_times_and_their_explanation(app, world):
    with app.app_context():
        open_id = open_ticket(world, MONDAY_11H, first_response_at=MONDAY_11H + MINUTE)
        done_id = open_ticket(world, MONDAY_11H, first_response_at=MONDAY_11H + MINUTE)
        change_status(done_id, "resolved", MONDAY_11H + timedelta(hours=1))
        high_id = open_ticket(world, MONDAY_11H, priority="high", first_response_at=MONDAY_11H + MINUTE)
        before = {t.id: (t.resolution_due_at, t.lock_version) for t in db.session.scalars(select(Ticket))}
        assert before[open_id][0] == datetime(2025, 3, 14, 11, 0, tzinfo=SHANGHAI)

        policy = db.session.scalar(select(SlaPolicy).where(SlaPolicy.priority == "normal"))
        now = MONDAY_11H + timedelta(hours=2)
        moved = sla_clocks.update_policy(policy, now=now, resolution_minutes=4 * 60)
        db.session.commit()

        assert moved == 1
        ticket = db.session.get(Ticket, open_id)
        assert ticket.resolution_due_at == MONDAY_11H + timedelta(hours=4)
        assert ticket.next_deadline_at == MONDAY_11H + timedelta(hours=4) * 0.8
        assert ticket.lock_version == before[open_id][1]
        explanation = sla_clocks.clock_for(ticket, now).resolution.explanation
        assert explanation.target == timedelta(hours=4)
        assert explanation.summary().startswith("4h in Asia/Shanghai: start Mon 10 Mar 11:00; counted 4h to 15:00")
        assert db.session.get(Ticket, done_id).resolution_due_at == before[done_id][0]
        assert db.session.get(Ticket, high_id).resolution_due_at == before[high_id][0]

        with pytest.raises(ValueError):
            sla_clocks.update_policy(policy, now=now, resolution_minutes=0)
        assert policy.resolution_minutes == 4 * 60


def test_a_custom_holiday_moves_the_due_time_of_the_branchs_open_tickets(app, world):
    with app.app_context():
        ticket_id = open_ticket(world, MONDAY_11H, first_response_at=MONDAY_11H + MINUTE)
        db.session.add(Holiday(branch_id=world["branch"], day=datetime(2025, 3, 12).date(), name="Stocktaking"))
        assert sla_clocks.refresh_open_tickets_of_branch(world["branch"], now=MONDAY_11H) == 1
        db.session.commit()
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.resolution_due_at == datetime(2025, 3, 15, 11, 0, tzinfo=SHANGHAI)
        notes = [note.name for entry in sla_clocks.clock_for(ticket, MONDAY_11H).resolution.explanation.entries
                 for note in entry.notes]
        assert "Stocktaking" in notes


def test_a_london_branch_closes_on_british_holidays_not_chinese_ones(app, world):
    with app.app_context():
        london = db.session.get(Branch, world["london"])
        assert calendars.holiday_country("Europe/London") == "GB"
        assert calendars.holiday_country("Asia/Shanghai") == "CN"
        assert calendars.holiday_country("Etc/UTC") == "CN"
        calendar = calendars.calendar_for(london, None)
        christmas = datetime(2025, 12, 25, 12, 0, tzinfo=ZoneInfo("Europe/London"))
        assert calendars.next_opening(calendar, christmas).date() > christmas.date()
        policy = db.session.scalar(select(SlaPolicy).where(SlaPolicy.priority == "urgent"))
        assert calendars.calendar_for(london, policy).always_open


def test_raise_priority_and_move_queue_rungs_act_once_and_are_logged(app, world):
    with app.app_context():
        policy = db.session.scalar(select(SlaPolicy).where(SlaPolicy.priority == "low"))
        policy.escalations.append(EscalationRule(clock="first_response", level=3, trigger="due", offset_minutes=60,
                                                 target="supervisors", action="raise_priority"))
        policy.escalations.append(EscalationRule(clock="first_response", level=4, trigger="due", offset_minutes=120,
                                                 target="supervisors", action="move_queue",
                                                 move_to_department_id=world["product"]))
        db.session.commit()
        ticket_id = open_ticket(world, MONDAY_11H, priority="low")
        due = sla_clocks.clock_for(db.session.get(Ticket, ticket_id), MONDAY_11H).first_response.due_at
        for _ in range(2):
            escalations.sweep(due + timedelta(hours=3))
        ticket = db.session.get(Ticket, ticket_id)
        # low → normal by the low ladder; the normal ladder (no actions) applies from then on.
        assert ticket.priority == Priority.NORMAL and ticket.department_id == world["service"]
        changes = db.session.execute(
            select(TicketEvent.kind, TicketEvent.old_value, TicketEvent.new_value)
            .where(TicketEvent.kind == "priority")
        ).all()
        assert changes == [("priority", "low", "normal")]

        policy = db.session.scalar(select(SlaPolicy).where(SlaPolicy.priority == "normal"))
        policy.escalations.append(EscalationRule(clock="resolution", level=3, trigger="due", offset_minutes=0,
                                                 target="supervisors", action="move_queue",
                                                 move_to_department_id=world["product"]))
        db.session.commit()
        for _ in range(2):
            escalations.sweep(due + timedelta(days=30))
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.department_id == world["product"] and ticket.assignee_id is None  # staff is not in product
        moves = db.session.scalars(select(TicketEvent.new_value).where(TicketEvent.kind == "department")).all()
        assert moves == ["Product"]


def test_each_rung_is_published_once_to_webhooks(app, world):
    with app.app_context():
        db.session.add(WebhookEndpoint(url="http://127.0.0.1:9/hooks", secret="whsec_c2VjcmV0",
                                       events=["sla.warning", "sla.breached", "escalation.fired"]))
        db.session.commit()
        ticket_id = open_ticket(world, MONDAY_11H, first_response_at=MONDAY_11H + MINUTE)
        due = sla_clocks.clock_for(db.session.get(Ticket, ticket_id), MONDAY_11H).resolution.due_at
        delivery_ids = []
        for now in (due - timedelta(hours=1), due + MINUTE, due + timedelta(hours=5), due + timedelta(hours=5)):
            escalations.sweep(now)
            delivery_ids += webhook_events.committed_delivery_ids()
        deliveries = db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        assert [d.id for d in deliveries] == delivery_ids
        assert [d.event for d in deliveries] == ["sla.warning", "sla.breached", "escalation.fired"]
        assert len({d.event_id for d in deliveries}) == 3
        breach = deliveries[1].payload
        assert breach["ticket"]["reference_code"] == db.session.get(Ticket, ticket_id).reference_code
        assert breach["escalation"] == {"level": 1, "clock": "resolution", "trigger": "due", "action": "notify",
                                        "receivers": [world["supervisor"], world["head_office"]]}
        assert not {"contact_phone", "contact_email", "contact_name"} & set(breach["ticket"])


def make_backlog(world, tickets: int, created_at: datetime) -> None:
    """Tickets made in bulk whose next deadline is long past (as after an outage)."""
    rows = [
        {
            "reference_code": f"LD-B{n:07d}", "customer_secret": "s", "branch_id": world["branch"],
            "department_id": world["service"], "priority": Priority.NORMAL, "status": TicketStatus.NEW,
            "assignee_id": world["staff"], "created_at": created_at, "updated_at": created_at,
            "next_deadline_at": created_at, "sla_state": "on_track", "subject": "", "description": "",
            "routing": {}, "language": "en", "contact_consent": False, "source": "survey", "lock_version": 1,
        }
        for n in range(tickets)
    ]
    db.session.execute(insert(Ticket), rows)
    ids = db.session.scalars(select(Ticket.id)).all()
    db.session.execute(insert(TicketEvent), [
        {"ticket_id": ticket_id, "at": created_at, "kind": "created", "new_value": "new",
         "visible_to_customer": False}
        for ticket_id in ids
    ])
    db.session.commit()


def test_a_backlog_of_2000_due_tickets_is_finished_in_one_sweep(app, world, capsys):
    with app.app_context():
        created = MONDAY_11H
        make_backlog(world, 2000, created)
        now = created + timedelta(days=10)
        result = escalations.sweep(now, batch=500)
        with capsys.disabled():
            print(f"\nSLA sweep of 2,000 due tickets ({db.engine.dialect.name}): {result.seconds:.2f} s, "
                  f"{result.rungs_fired} rungs, {result.notifications} notifications")
        assert result.tickets == 2000 and result.batches == 4
        # Both clocks' three rungs: staff (warning), supervisor and head office (breach), admin (+4 h).
        assert result.rungs_fired == 2000 * 6 and result.notifications == 2000 * 2 * 4
        assert db.session.scalar(select(func.count(Ticket.id)).where(Ticket.next_deadline_at <= now)) == 0
        assert escalations.sweep(now).tickets == 0


def _sweep_in_thread(app, now: datetime, barrier: threading.Barrier, results: list, errors: list) -> None:
    try:
        with app.app_context():
            barrier.wait()
            results.append(escalations.sweep(now, batch=50))
            db.session.remove()
    except Exception as error:  # reported by the test
        errors.append(error)


def two_sweeps_at_once(app, now: datetime) -> list:
    barrier = threading.Barrier(2)
    results: list = []
    errors: list = []
    threads = [threading.Thread(target=_sweep_in_thread, args=(app, now, barrier, results, errors)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def assert_each_notification_once(world, tickets: int) -> None:
    per_user = dict(db.session.execute(select(Notification.user_id, func.count()).group_by(Notification.user_id)).all())
    # Both clocks: warning to staff, breach to supervisor and head office, +4 h to admin.
    assert per_user == {world["staff"]: 2 * tickets, world["supervisor"]: 2 * tickets,
                        world["head_office"]: 2 * tickets, world["admin"]: 2 * tickets}
    distinct = db.session.scalar(select(func.count()).select_from(
        select(Notification.user_id, Notification.ticket_id, Notification.title).distinct().subquery()
    ))
    assert distinct == count(Notification)
    assert count(EscalationFiring) == tickets * (6 + 8)


@pytest.mark.skipif(not PG_URL, reason="row locks and concurrent writers need PostgreSQL")
def test_two_sweeps_at_the_same_time_notify_each_receiver_exactly_once(app, world):
    with app.app_context():
        make_backlog(world, 300, MONDAY_11H)
    now = MONDAY_11H + timedelta(days=10)
    results = two_sweeps_at_once(app, now)
    with app.app_context():
        assert sum(result.tickets for result in results) == 300  # split by SKIP LOCKED, none twice
        assert_each_notification_once(world, 300)


@pytest.mark.skipif(not PG_URL, reason="concurrent writers need PostgreSQL")
def test_the_unique_firing_row_alone_keeps_notifications_single_when_sweepers_see_the_same_tickets(
    app, world, monkeypatch
):
    """Without the row locks (both sweepers read the same due tickets) the INSERT … ON CONFLICT decides."""

    def unlocked(now, after_id, batch):
        return db.session.scalars(
            select(Ticket)
            .where(Ticket.next_deadline_at <= now, Ticket.id > after_id)
            .order_by(Ticket.id)
            .limit(batch)
        ).all()

    monkeypatch.setattr(escalations, "_lock_due_batch", unlocked)
    with app.app_context():
        make_backlog(world, 200, MONDAY_11H)
    results = two_sweeps_at_once(app, MONDAY_11H + timedelta(days=10))
    with app.app_context():
        assert sum(result.rungs_fired for result in results) == 200 * 6
        assert_each_notification_once(world, 200)


@pytest.mark.redis
@pytest.mark.skipif(not PG_URL, reason="two worker processes writing at once need PostgreSQL")
@pytest.mark.parametrize(
    "app", [{"REDIS_URL": REDIS_URL, "LOOPDESK_QUEUE": f"test-{uuid.uuid4().hex}"}], indirect=True
)
def test_two_rq_workers_running_the_sweep_job_at_once_notify_each_receiver_once(app, world):
    from app.jobs import queue
    from app.jobs.sla import sweep_sla

    with app.app_context():
        make_backlog(world, 200, datetime.now(UTC) - timedelta(days=10))
        jobs = queue()
        jobs.enqueue(sweep_sla)
        jobs.enqueue(sweep_sla)
    env = worker_env(app)
    started = time.monotonic()
    workers = [
        subprocess.Popen([sys.executable, "-m", "flask", "jobs", "worker", "--burst"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for worker in workers:
        _out, err = worker.communicate(timeout=180)
        assert worker.returncode == 0, err[-2000:]
    assert time.monotonic() - started < 180
    with app.app_context():
        assert_each_notification_once(world, 200)
        assert jobs.failed_job_registry.count == 0
        jobs.delete(delete_jobs=True)
