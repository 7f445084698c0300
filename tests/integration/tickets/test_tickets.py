"""Tickets: opened from negative responses, routed, worked by staff without overwriting each other, scoped."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, text

from app.core.clock import utcnow
from app.extensions import db
from app.models import (
    AppendOnlyError,
    Branch,
    Department,
    Response,
    RoutingRule,
    SlaPolicy,
    Ticket,
    TicketEvent,
    TicketStatus,
    User,
)
from app.services import tickets
from app.services.routing import stored
from app.services.sla import clocks as sla_clocks
from app.services.sla import escalations
from app.services.tickets import opening, queries
from app.services.tickets.errors import EmptyBody, ForbiddenTransition, InvalidValue, OutOfScope, StaleTicket
from tests.conftest import PG_URL, SurveyWalker

REDIS_DOWN = {"REDIS_URL": "redis://127.0.0.1:1/0"}  # the after-submit job is not run: tests call it themselves


@pytest.fixture
def ctx(app, demo):
    """Inside a request (messages are in its language), as a view would be."""
    with app.test_request_context():
        yield
        db.session.rollback()


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def branch(code: str) -> Branch:
    return db.session.scalar(select(Branch).where(Branch.code == code))


def department(code: str) -> Department:
    return db.session.scalar(select(Department).where(Department.code == code))


def staff_ticket(branch_code: str = "SH-PEOPLE", department_code: str = "service", **fields) -> Ticket:
    values = {"category": "service", "priority": "normal", "subject": "Rude on the phone", "source": "phone"} | fields
    ticket = opening.create_ticket(
        user("admin"), branch_id=branch(branch_code).id, department_id=department(department_code).id, **values
    )
    db.session.commit()
    return ticket


def complain(walker: SurveyWalker, answers, comment: str = "", **contact):
    """Walk the demo survey; returns the seconds the final submit took (the after-submit job included)."""
    walker.open()
    for key, value in answers:
        walker.answer(**{key: value})
    started = time.monotonic()
    walker.answer(comment=comment, **contact)
    elapsed = time.monotonic() - started
    assert "Thank you for your feedback" in walker.page
    return elapsed


def newest_response() -> Response:
    return db.session.scalar(select(Response).order_by(Response.id.desc()))


def ticket_of(response: Response) -> Ticket | None:
    return db.session.scalar(select(Ticket).where(Ticket.response_id == response.id))


def kinds(ticket: Ticket) -> list[str]:
    return list(db.session.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)))


LOW_SERVICE = [("product", 5), ("service", 1), ("service_problem", ["attitude"]), ("environment", 5), ("nps", 8)]
HAPPY = [("product", 5), ("service", 5), ("environment", 4), ("nps", 9)]


# --- Opening tickets ------------------------------------------------------------------------


def test_low_service_score_opens_a_customer_service_ticket_at_the_branch_within_a_second(app, walker):
    elapsed = complain(walker, LOW_SERVICE)
    assert elapsed < 1.0
    with app.app_context():
        ticket = ticket_of(newest_response())
        assert ticket is not None
        assert (ticket.department.code, ticket.branch.code, ticket.category) == ("service", "SH-PEOPLE", "service")
        assert ticket.priority == "high"  # a CSAT of 1
        assert ticket.status == TicketStatus.NEW
        # no words of their own: the subject is the ticked option's label, worded when read
        assert ticket.subject == "" and ticket.description == ""
        assert ticket.routing["subject"] == [{"option": {"zh_Hans": "服务态度不好", "en": "Staff attitude"}}]
        assert ticket.routing["rule"] == "Service problems"
        assert {"code": "low_csat", "params": {"question": "service", "score": 1, "limit": 2}} in ticket.routing["reasons"]
        assert kinds(ticket) == ["created"]
        assert ticket.next_deadline_at is not None  # the SLA clocks were set


def test_happy_customer_opens_no_ticket(app, walker):
    complain(walker, HAPPY, comment="Lovely tea")
    with app.app_context():
        assert newest_response().processed_at is not None
        assert ticket_of(newest_response()) is None


def test_demo_staff_user_sees_a_complaint_from_their_branch_qr_code(app, walker):
    complain(walker, LOW_SERVICE)
    with app.app_context():
        ticket = ticket_of(newest_response())
        staff = user("staff")
        assert ticket in queries.queue(staff, mine=True)
        assert queries.ticket_for(staff, ticket.id) is not None


def test_a_response_never_opens_two_tickets(app, walker):
    complain(walker, LOW_SERVICE)
    with app.app_context():
        response = newest_response()
        first = ticket_of(response)
        assert opening.open_from_response(response.id) is first
        db.session.commit()
        assert db.session.scalar(select(func.count(Ticket.id)).where(Ticket.response_id == response.id)) == 1


@pytest.mark.skipif(not PG_URL, reason="two writers at once need PostgreSQL")
@pytest.mark.parametrize("app", [REDIS_DOWN], indirect=True)
def test_two_workers_opening_one_response_at_once_make_one_ticket(app, walker):
    complain(walker, LOW_SERVICE)
    with app.app_context():
        response_id = newest_response().id
        assert ticket_of(newest_response()) is None
        first = opening.open_from_response(response_id)  # inserted, not committed: holds the unique key
        result = {}

        def second_worker():
            with app.app_context():
                result["ticket_id"] = opening.open_from_response(response_id).id
                db.session.commit()

        worker = threading.Thread(target=second_worker)
        worker.start()
        with db.engine.connect() as watcher:  # wait until the second insert waits on the first
            deadline = time.monotonic() + 10
            while not watcher.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )).scalar():
                assert time.monotonic() < deadline, "the second worker never waited"
                watcher.rollback()  # PostgreSQL keeps one pg_stat_activity snapshot per transaction
                time.sleep(0.02)
        db.session.commit()
        worker.join(10)
        assert result["ticket_id"] == first.id
        assert db.session.scalar(select(func.count(Ticket.id)).where(Ticket.response_id == response_id)) == 1
        assert kinds(first) == ["created"]


def test_negative_response_no_rule_claims_lands_in_triage(app, walker):
    complain(walker, [("product", 4), ("service", 4), ("environment", 4), ("nps", 3)])
    with app.app_context():
        ticket = ticket_of(newest_response())
        assert ticket.department.is_triage
        assert ticket.category is None and ticket.priority == "normal"
        assert ticket.routing["rule"] is None
        assert {"code": "no_rule", "params": {"department": "triage", "priority": "normal"}} in ticket.routing["reasons"]


def test_saved_rules_route_before_the_defaults(app, walker):
    with app.app_context():
        db.session.add(RoutingRule(
            position=0, name="Washrooms at People's Square", department=department("operations"),
            priority="urgent", keywords=["洗手间"], branch_codes=["SH-PEOPLE"],
        ))
        db.session.commit()
    complain(walker, LOW_SERVICE, comment="洗手间不干净")
    with app.app_context():
        ticket = ticket_of(newest_response())
        assert (ticket.department.code, ticket.priority) == ("operations", "urgent")
        assert ticket.description.startswith("洗手间不干净")


def test_customer_who_left_a_phone_keeps_their_code_and_gets_a_call_back_within_24_hours(app, walker):
    complain(walker, LOW_SERVICE, comment="Rude waiter", q_contact_phone="13800138000", q_contact_consent="y")
    with app.app_context():
        response = newest_response()
        ticket = ticket_of(response)
        assert response.reference_code and ticket.reference_code == response.reference_code
        assert response.reference_code in walker.page
        assert (ticket.contact_consent, ticket.contact_phone) == (True, "13800138000")
        assert ticket.callback_due_at == ticket.created_at + timedelta(hours=24)
        assert ticket.callback_done_at is None


@pytest.mark.parametrize("app", [{"LOOPDESK_CALLBACK_HOURS": 4}], indirect=True)
def test_call_back_time_is_configurable(app, walker):
    complain(walker, LOW_SERVICE, q_contact_phone="13800138000", q_contact_consent="y")
    with app.app_context():
        ticket = ticket_of(newest_response())
        assert ticket.callback_due_at == ticket.created_at + timedelta(hours=4)


def test_complaint_without_contact_details_gets_its_code_and_link_and_no_call_back(app, walker):
    complain(walker, LOW_SERVICE)
    with app.app_context():
        response = newest_response()
        ticket = ticket_of(response)
        # the code and status link the thank-you page showed open this ticket
        assert ticket.reference_code == response.reference_code and ticket.reference_code.startswith("LD-")
        assert ticket.customer_secret == response.customer_secret
        assert ticket.callback_due_at is None
        assert (ticket.contact_consent, ticket.contact_phone, ticket.contact_email) == (False, None, None)


def test_demo_seeds_default_rules_and_a_few_tickets(ctx):
    rules = stored.active_rules()
    assert [(r.name, r.department) for r in rules] == [
        ("Product problems", "product"), ("Service problems", "service"),
        ("Communication problems", "service"), ("Environment problems", "operations"),
    ]
    assert stored.seed_default_rules() == []  # only once
    seeded = db.session.scalars(select(Ticket)).all()
    assert 1 <= len(seeded) <= 8
    assert all(kinds(t)[0] == "created" for t in seeded)


def test_rules_of_an_inactive_department_are_left_out(ctx):
    department("product").active = False
    db.session.commit()
    assert "product" not in {rule.department for rule in stored.active_rules()}


# --- Working a ticket -----------------------------------------------------------------------


def test_every_change_appends_an_event_with_old_and_new_values(ctx):
    ticket = staff_ticket()
    ticket.callback_due_at = ticket.created_at + timedelta(hours=24)
    db.session.commit()
    staff, supervisor = user("staff"), user("supervisor")

    def seen():
        return tickets.page_version(ticket)

    tickets.claim(ticket, staff, seen_version=seen())
    tickets.assign(ticket, supervisor, supervisor, seen_version=seen())
    tickets.add_note(ticket, supervisor, "check CCTV", seen_version=seen())
    assert ticket.first_response_at is None
    tickets.reply(ticket, supervisor, "We are sorry", seen_version=seen())
    answered = ticket.first_response_at
    assert answered is not None
    tickets.log_call(ticket, supervisor, "Called, apologised", seen_version=seen())
    assert ticket.first_response_at == answered and ticket.callback_done_at is not None
    tickets.change_priority(ticket, supervisor, "urgent", seen_version=seen())
    tickets.change_status(ticket, supervisor, "waiting_on_customer", seen_version=seen())
    tickets.change_status(ticket, supervisor, "resolved", seen_version=seen())
    assert ticket.resolved_at is not None
    tickets.change_status(ticket, supervisor, "closed", seen_version=seen())
    assert ticket.closed_at is not None
    tickets.reopen(ticket, supervisor, seen_version=seen())
    assert (ticket.status, ticket.resolved_at, ticket.closed_at) == (TicketStatus.IN_PROGRESS, None, None)
    tickets.move_to_department(ticket, supervisor, department("product"), seen_version=seen())
    db.session.commit()

    trail = [
        (e.kind, e.actor.username if e.actor else None, e.old_value, e.new_value, e.body, e.visible_to_customer)
        for e in db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id))
    ]
    callback = trail[7]
    assert trail == [
        ("created", "admin", None, "new", None, False),
        ("assignee", "staff", None, "李客服 Li (service)", None, False),
        ("status", "staff", "new", "in_progress", None, False),
        ("assignee", "supervisor", "李客服 Li (service)", "王主管 Supervisor Wang", None, False),
        ("note", "supervisor", None, None, "check CCTV", False),
        ("reply", "supervisor", None, None, "We are sorry", True),
        ("call", "supervisor", None, None, "Called, apologised", False),
        ("callback", "supervisor", None, callback[3], None, False),
        ("priority", "supervisor", "normal", "urgent", None, False),
        ("status", "supervisor", "in_progress", "waiting_on_customer", None, False),
        ("status", "supervisor", "waiting_on_customer", "resolved", None, False),
        ("status", "supervisor", "resolved", "closed", None, False),
        ("reopened", "supervisor", "closed", "in_progress", None, False),
        ("department", "supervisor", "客服部 Customer service", "产品部 Product", None, False),
    ]
    # the supervisor works in product too, so keeps the ticket
    assert ticket.assignee == supervisor and ticket.department.code == "product"


def test_moving_a_ticket_lets_go_of_an_assignee_who_does_not_work_there(ctx):
    ticket = staff_ticket()
    staff = user("staff")
    tickets.claim(ticket, staff, seen_version=tickets.page_version(ticket))
    tickets.move_to_department(ticket, staff, department("product"), seen_version=tickets.page_version(ticket))
    db.session.commit()
    assert ticket.assignee is None
    assert kinds(ticket)[-2:] == ["department", "assignee"]
    assert queries.ticket_for(staff, ticket.id) is None  # out of their hands now


def test_ticket_events_refuse_updates_and_deletes(ctx):
    ticket = staff_ticket()
    created = ticket.events[0]
    created.body = "rewritten"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(TicketEvent, created.id))
    with pytest.raises(AppendOnlyError):
        db.session.flush()


def test_forbidden_changes_are_refused_with_a_message(ctx):
    ticket = staff_ticket()
    staff = user("staff")

    def seen():
        return tickets.page_version(ticket)

    with pytest.raises(ForbiddenTransition, match="A ticket that is New cannot be set to Closed"):
        tickets.change_status(ticket, staff, "closed", seen_version=seen())
    with pytest.raises(InvalidValue):
        tickets.change_status(ticket, staff, "done", seen_version=seen())
    with pytest.raises(InvalidValue):
        tickets.change_priority(ticket, staff, "whenever", seen_version=seen())
    with pytest.raises(EmptyBody):
        tickets.reply(ticket, staff, "   ", seen_version=seen())
    with pytest.raises(OutOfScope):
        tickets.assign(ticket, staff, user("staff.london"), seen_version=seen())
    with pytest.raises(OutOfScope):
        tickets.claim(ticket, user("staff.london"), seen_version=seen())
    with pytest.raises(ForbiddenTransition):
        tickets.reopen(ticket, staff, seen_version=seen())
    tickets.change_status(ticket, staff, "resolved", seen_version=seen())
    with pytest.raises(ForbiddenTransition):
        tickets.change_status(ticket, staff, "waiting_on_customer", seen_version=seen())
    tickets.change_status(ticket, staff, "closed", seen_version=seen())
    with pytest.raises(ForbiddenTransition):
        tickets.change_status(ticket, staff, "resolved", seen_version=seen())
    db.session.commit()
    assert kinds(ticket) == ["created", "status", "status"]


def test_staff_cannot_enter_a_complaint_for_a_branch_of_someone_else(ctx):
    with pytest.raises(OutOfScope):
        opening.create_ticket(
            user("staff"), branch_id=branch("LDN-SOHO").id, department_id=department("service").id,
            category="service", priority="normal", subject="x", source="walk_in",
        )
    ticket = opening.create_ticket(
        user("staff"), branch_id=branch("SH-PEOPLE").id, department_id=department("product").id, category="product",
        priority="high", subject="Broken cup", source="walk_in", contact_consent=False, contact_phone="13800138000",
    )
    assert (ticket.source, ticket.contact_phone, ticket.reference_code[:3]) == ("walk_in", None, "LD-")
    assert ticket.events[0].actor.username == "staff"


def test_two_staff_changing_one_ticket_one_wins_and_the_other_sees_what_changed(app, ctx):
    ticket = staff_ticket()
    ticket_id = ticket.id
    page_shown = tickets.page_version(ticket)  # both opened the page now
    with app.app_context():  # the staff member at the counter, in their own request
        tickets.claim(db.session.get(Ticket, ticket_id), user("staff"), seen_version=page_shown)
        db.session.commit()
    supervisor = user("supervisor")
    with pytest.raises(StaleTicket) as refused:
        tickets.reply(ticket, supervisor, "We are sorry", seen_version=page_shown)
    stale = refused.value
    assert [(e.kind, e.actor.username, e.new_value) for e in stale.changes] == [
        ("assignee", "staff", "李客服 Li (service)"), ("status", "staff", "in_progress"),
    ]
    assert "李客服 Li (service) assignee — → 李客服 Li (service)" in str(stale)
    db.session.rollback()
    # nothing lost: the claim stands, and the reply goes through once they have seen it
    tickets.reply(ticket, supervisor, "We are sorry", seen_version=tickets.page_version(ticket))
    db.session.commit()
    assert kinds(ticket) == ["created", "assignee", "status", "reply"]
    assert ticket.assignee.username == "staff"


@pytest.fixture
def meanwhile(app, monkeypatch):
    """``meanwhile(change)``: another request runs and commits ``change`` once, between an operation's
    checks and its write (the operation's SLA refresh is the moment in between)."""

    def arrange(change) -> None:
        refresh = sla_clocks.refresh_deadlines

        def change_then_refresh(ticket, now):
            monkeypatch.setattr(sla_clocks, "refresh_deadlines", refresh)
            with app.app_context():
                change()
                db.session.commit()
            return refresh(ticket, now)

        monkeypatch.setattr(sla_clocks, "refresh_deadlines", change_then_refresh)

    return arrange


def test_a_change_saved_between_the_check_and_the_write_is_refused_by_the_lock_version(ctx, meanwhile):
    ticket = staff_ticket()
    ticket_id, page_shown = ticket.id, tickets.page_version(ticket)
    meanwhile(lambda: tickets.claim(db.session.get(Ticket, ticket_id), user("staff"), seen_version=page_shown))
    with pytest.raises(StaleTicket) as refused:
        tickets.change_priority(ticket, user("supervisor"), "urgent", seen_version=page_shown)
    assert [e.kind for e in refused.value.changes] == ["assignee", "status"]
    db.session.rollback()
    fresh = db.session.get(Ticket, ticket_id)
    assert (fresh.priority, fresh.assignee.username) == ("normal", "staff")


def test_a_rewrite_of_the_row_without_any_event_meanwhile_does_not_refuse_a_reply(ctx, meanwhile, caplog):
    ticket = staff_ticket()
    ticket_id, page_shown = ticket.id, tickets.page_version(ticket)

    def bookkeeping():
        db.session.get(Ticket, ticket_id).sla_state = "warning"  # an ORM write: lock_version moves

    meanwhile(bookkeeping)
    with caplog.at_level("INFO", logger="app.services.tickets"):
        events = tickets.reply(ticket, user("staff"), "On it", seen_version=page_shown)
    db.session.commit()
    assert "trying once more" in caplog.text  # the first write was refused by the lock version
    assert [e.kind for e in events] == ["reply"]
    assert kinds(db.session.get(Ticket, ticket_id)) == ["created", "reply"]


# --- Scope, queue, viewers ------------------------------------------------------------------


def test_each_user_sees_only_tickets_of_their_departments_and_branches(ctx):
    shanghai = staff_ticket("SH-PEOPLE", "service")
    hangzhou = staff_ticket("HZ-WESTLAKE", "product", category="product")
    london = staff_ticket("LDN-SOHO", "operations", category="environment")
    ours = {shanghai.id, hangzhou.id, london.id}

    def visible(username):
        someone = user(username)
        queued = {t.id for t in queries.queue(someone, mine=False)} & ours
        assert queued == {i for i in ours if queries.ticket_for(someone, i) is not None}
        return queued

    assert visible("staff") == {shanghai.id}
    assert visible("staff.london") == {london.id}
    assert visible("supervisor") == {shanghai.id, hangzhou.id}
    assert visible("admin") == ours
    london_staff = user("staff.london")
    london_staff.departments = []
    db.session.commit()
    assert visible("staff.london") == set()
    assert queries.queue_counts(london_staff).open == 0


def test_assignees_offered_are_the_people_whose_scope_includes_the_ticket(ctx):
    ticket = staff_ticket()
    offered = {u.username for u in queries.assignable_users(ticket)}
    assert offered == {"admin", "supervisor", "staff"}
    assert queries.assignable_user(ticket, user("staff.london").id) is None


def test_queue_is_mine_and_unassigned_soonest_due_first(ctx):
    now = utcnow()
    staff, supervisor = user("staff"), user("supervisor")
    for existing in db.session.scalars(select(Ticket)):
        existing.status = TicketStatus.CLOSED  # the demo's tickets out of the way
    later, sooner, undated, others = (staff_ticket(subject=s) for s in ("later", "sooner", "undated", "others"))
    tickets.assign(others, supervisor, supervisor, seen_version=tickets.page_version(others))
    tickets.claim(later, staff, seen_version=tickets.page_version(later))
    for ticket, due in ((later, now + timedelta(hours=2)), (sooner, now + timedelta(minutes=5)), (undated, None),
                        (others, now)):
        ticket.first_response_due_at = ticket.resolution_due_at = due
        ticket.sla_state = "on_track"
    db.session.commit()
    assert [t.subject for t in queries.queue(staff, mine=True)] == ["sooner", "later", "undated"]
    assert [t.subject for t in queries.queue(supervisor, mine=False)] == ["others", "sooner", "later", "undated"]
    sooner.sla_state = "breached"
    db.session.commit()
    assert [t.subject for t in queries.queue(staff, mine=True, breached=True)] == ["sooner"]
    assert [t.subject for t in queries.queue(staff, mine=True, status="in_progress")] == ["later"]
    counts = queries.queue_counts(staff)
    assert (counts.open, counts.mine, counts.unassigned, counts.breached) == (4, 1, 2, 1)


def overdue_ticket(subject: str, overdue: timedelta, now) -> Ticket:
    """A ticket whose first response fell due ``overdue`` ago (the normal policy counts around the clock here)."""
    ticket = staff_ticket(subject=subject)
    policy = db.session.scalar(select(SlaPolicy).where(SlaPolicy.priority == "normal"))
    created = now - timedelta(minutes=policy.first_response_minutes) - overdue
    ticket.created_at = created
    db.session.execute(  # the test goes back in time; the app never rewrites events
        TicketEvent.__table__.update().where(TicketEvent.__table__.c.ticket_id == ticket.id).values(at=created)
    )
    db.session.commit()
    return ticket


def test_most_overdue_ticket_is_on_top_then_at_risk_then_soonest_due(ctx):
    now = utcnow()
    for existing in db.session.scalars(select(Ticket)):
        existing.status = TicketStatus.CLOSED  # the demo's tickets out of the way
    policy = db.session.scalar(select(SlaPolicy).where(SlaPolicy.priority == "normal"))
    sla_clocks.update_policy(policy, business_hours=False, refresh=False)
    fresh = staff_ticket(subject="fresh")
    day = overdue_ticket("27 h overdue", timedelta(hours=27), now)
    week = overdue_ticket("5 days overdue", timedelta(days=5), now)
    newer = staff_ticket(subject="fresher")
    risky = overdue_ticket("at risk", -timedelta(minutes=policy.first_response_minutes) * (1 - policy.warning_percent / 100) / 2, now)
    sla_clocks.refresh_open_tickets(now=now)
    db.session.commit()
    escalations.sweep(now)  # the ladder fires for the breached ones: nothing left for the sweep to look at
    db.session.commit()
    db.session.expire_all()
    assert (week.sla_state, day.sla_state, risky.sla_state, fresh.sla_state) == ("breached", "breached", "warning", "on_track")
    assert week.next_deadline_at is None or week.next_deadline_at > now

    staff, supervisor = user("staff"), user("supervisor")
    expected = ["5 days overdue", "27 h overdue", "at risk", "fresh", "fresher"]
    assert [t.subject for t in queries.queue(staff, mine=True)] == expected
    assert [t.subject for t in queries.queue(staff, mine=True, order="due")] == expected
    assert [t.subject for t in queries.queue(supervisor, mine=False, order="newest")][:2] == ["fresher", "fresh"]
    assert [t.subject for t in queries.queue(supervisor, mine=False, order="oldest")][0] == "5 days overdue"
    newer.priority = "urgent"
    db.session.commit()
    assert [t.subject for t in queries.queue(supervisor, mine=False, order="priority")][:2] == ["fresher", "5 days overdue"]


def test_queue_loads_branch_department_and_assignee_in_one_query(app, ctx):
    for _ in range(3):
        staff_ticket()
    db.session.expire_all()
    statements = []

    def count(*_args):
        statements.append(1)

    staff = user("staff")
    staff.departments, staff.branches  # the user's scope is loaded once per request anyway
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        rows = queries.queue(staff, mine=False)
        for row in rows:
            row.branch.name, row.department.name, row.assignee
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(rows) >= 3 and len(statements) == 1


def test_a_ticket_page_says_who_else_has_it_open_and_forgets_them_after_a_minute(ctx):
    ticket = staff_ticket()
    staff, supervisor = user("staff"), user("supervisor")
    now = utcnow()
    queries.touch_viewer(ticket, staff, now)
    queries.touch_viewer(ticket, supervisor, now - timedelta(seconds=30))
    queries.touch_viewer(ticket, supervisor, now)  # the page polls: one row, moved on
    db.session.commit()
    assert queries.other_viewers(ticket, staff, now) == [supervisor]
    assert queries.other_viewers(ticket, supervisor, now) == [staff]
    assert queries.other_viewers(ticket, staff, now + timedelta(seconds=61)) == []
