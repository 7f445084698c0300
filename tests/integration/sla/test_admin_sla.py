"""Admins edit the SLA policies, their escalation ladders and which statuses pause the clock:
bad settings are refused at the field, open tickets follow a change, every change is audited."""
from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AuditEntry,
    Branch,
    Department,
    EscalationFiring,
    EscalationRule,
    Notification,
    Priority,
    SlaPolicy,
    StatusSetting,
    Ticket,
    TicketEvent,
    TicketStatus,
    User,
)
from app.models.tickets import OPEN_STATUSES
from app.services.sla import clocks, escalations
from tests.conftest import csrf_token, login

#: A Monday in 2025, long before the demo's tickets, so the sweeps below see only the tickets made here.
MONDAY = datetime(2025, 3, 10, 3, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def admin(client, demo):
    login(client, "admin", demo["passwords"]["admin"])
    return client


def page_of(client, url: str = "/admin/sla/") -> str:
    response = client.get(url)
    assert response.status_code == 200
    return unescape(response.get_data(as_text=True))


def policy_of(app, priority: str) -> SlaPolicy:
    with app.app_context():
        policy = db.session.scalar(select(SlaPolicy).where(SlaPolicy.priority == priority))
        db.session.expunge(policy)
        return policy


def policy_data(page: str, policy: SlaPolicy, **values) -> dict:
    """What the policy's card posts: its current values, with ``values`` typed over them."""
    fields = {
        "first_response": str(policy.first_response_minutes), "first_response_unit": "minutes",
        "resolution": str(policy.resolution_minutes), "resolution_unit": "minutes",
        "counting": "business_hours" if policy.business_hours else "24x7",
        "warning_percent": str(policy.warning_percent),
        "csrf_token": csrf_token(page),
    } | values
    return {f"policy{policy.id}-{name}": value for name, value in fields.items()}


def rung_data(page: str, **values) -> dict:
    return {
        "level": "3", "clock": "resolution", "trigger": "due", "offset": "8", "offset_unit": "hours",
        "target": "admins", "action": "notify", "move_to_department_id": "", "csrf_token": csrf_token(page),
    } | values


def audit_entries(app, entity_type: str, action: str | None = None) -> list[AuditEntry]:
    with app.app_context():
        query = select(AuditEntry).where(AuditEntry.entity_type == entity_type).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        entries = list(db.session.scalars(query))
        for entry in entries:
            db.session.expunge(entry)
        return entries


def open_demo_ticket(app, priority: str | None = None) -> Ticket:
    with app.app_context():
        query = select(Ticket).where(Ticket.status.in_(OPEN_STATUSES)).order_by(Ticket.id)
        if priority:
            query = query.where(Ticket.priority == Priority(priority))
        ticket = db.session.scalars(query).first()
        assert ticket is not None and ticket.resolution_due_at is not None
        db.session.expunge(ticket)
        return ticket


def ticket(app, ticket_id: int) -> Ticket:
    with app.app_context():
        found = db.session.get(Ticket, ticket_id)
        db.session.expunge(found)
        return found


def error_at(page: str, field_id: str) -> str:
    """The error shown at a field (the field's block on the page)."""
    match = re.search(rf'<label for="{re.escape(field_id)}">.*?</div>', page, re.S)
    assert match, f"no field {field_id}"
    errors = re.findall(r'<p class="error" role="alert">([^<]+)</p>', match.group(0))
    return " ".join(errors)


# --- Policies ----------------------------------------------------------------------


def test_the_page_shows_each_prioritys_policy_and_its_ladder_as_sentences(admin):
    page = page_of(admin)
    for title in ("Urgent", "High", "Normal", "Low"):
        assert f"<h2>{title}</h2>" in page
    assert page.index("<h2>Urgent</h2>") < page.index("<h2>Low</h2>")
    assert "Level 0 · At the warning (80 % used) of the first response clock: notify the assignee" in page
    assert "Level 1 · At the deadline of the resolution clock: notify the supervisors" in page
    assert "Level 2 · At the deadline of the resolution clock + 4 h: notify the admins" in page
    # Urgent counts around the clock; 30 minutes is shown in minutes, 48 h in hours.
    assert re.search(r'checked id="policy\d+-counting-1"', page)
    assert 'name="policy3-resolution" required type="text" value="48"' in page


def test_saving_a_policy_in_hours_moves_an_open_tickets_due_time_and_is_audited(app, admin):
    demo_ticket = open_demo_ticket(app)
    policy = policy_of(app, demo_ticket.priority)
    page = page_of(admin)
    longer_hours = policy.resolution_minutes // 60 * 2
    response = admin.post(
        f"/admin/sla/policies/{policy.id}",
        data=policy_data(page, policy, resolution=str(longer_hours), resolution_unit="hours", warning_percent="70"),
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"#policy-{policy.id}")
    saved = policy_of(app, policy.priority)
    assert saved.resolution_minutes == longer_hours * 60 and saved.warning_percent == 70
    # The in-process job ran after the commit: the open ticket follows the longer target.
    assert ticket(app, demo_ticket.id).resolution_due_at > demo_ticket.resolution_due_at
    page = page_of(admin)
    assert "policy is saved" in page and re.search(r"The due times? of \d+ open tickets? (is|are) being updated", page)
    [entry] = audit_entries(app, "sla_policy", "update")
    assert entry.before == {"resolution_minutes": policy.resolution_minutes, "warning_percent": policy.warning_percent}
    assert entry.after == {"resolution_minutes": longer_hours * 60, "warning_percent": 70}
    assert entry.label == policy.priority


def test_saving_a_policy_unchanged_writes_no_audit_entry(app, admin):
    policy = policy_of(app, "high")
    response = admin.post(f"/admin/sla/policies/{policy.id}", data=policy_data(page_of(admin), policy),
                          follow_redirects=True)
    assert "Nothing changed in the High policy" in unescape(response.get_data(as_text=True))
    assert audit_entries(app, "sla_policy") == []


@pytest.mark.parametrize(
    "typed, message",
    [
        ("0", "A target must be more than zero."),
        ("-30", "A target must be more than zero."),
        ("thirty", "Enter a number, e.g. 30 or 1.5."),
        ("", "Enter a number, e.g. 30 or 1.5."),
        ("2.5", "Use whole minutes"),
        ("999999999", "A target can be at most 90 days."),
    ],
)
def test_a_bad_first_response_target_is_refused_at_the_field_and_nothing_is_saved(app, admin, typed, message):
    policy = policy_of(app, "normal")
    response = admin.post(f"/admin/sla/policies/{policy.id}",
                          data=policy_data(page_of(admin), policy, first_response=typed))
    assert response.status_code == 422
    page = unescape(response.get_data(as_text=True))
    assert message in error_at(page, f"policy{policy.id}-first_response")
    assert f'name="policy{policy.id}-first_response" required type="text" value="{typed}"' in page  # kept
    assert policy_of(app, "normal").first_response_minutes == policy.first_response_minutes
    assert audit_entries(app, "sla_policy") == []


def test_resolution_shorter_than_first_response_and_warning_outside_1_to_99_are_refused(app, admin):
    policy = policy_of(app, "low")
    response = admin.post(
        f"/admin/sla/policies/{policy.id}",
        data=policy_data(page_of(admin), policy, first_response="10", first_response_unit="hours",
                         resolution="5", resolution_unit="hours", warning_percent="100"),
    )
    assert response.status_code == 422
    page = unescape(response.get_data(as_text=True))
    assert "cannot be shorter than the first response target" in error_at(page, f"policy{policy.id}-resolution")
    assert "Warn at 1 to 99 %" in error_at(page, f"policy{policy.id}-warning_percent")
    for typed in ("0", "12.5", "eighty"):
        response = admin.post(f"/admin/sla/policies/{policy.id}",
                              data=policy_data(page_of(admin), policy, warning_percent=typed))
        assert response.status_code == 422
        assert error_at(unescape(response.get_data(as_text=True)), f"policy{policy.id}-warning_percent")
    saved = policy_of(app, "low")
    assert (saved.first_response_minutes, saved.resolution_minutes, saved.warning_percent) == (
        policy.first_response_minutes, policy.resolution_minutes, policy.warning_percent)


def test_switching_a_policy_to_24x7_counts_the_due_time_around_the_clock(app, admin):
    demo_ticket = open_demo_ticket(app, "normal")
    policy = policy_of(app, "normal")
    assert policy.business_hours
    response = admin.post(f"/admin/sla/policies/{policy.id}",
                          data=policy_data(page_of(admin), policy, counting="24x7"))
    assert response.status_code == 303
    assert policy_of(app, "normal").business_hours is False
    moved = ticket(app, demo_ticket.id)
    assert moved.resolution_due_at == moved.created_at + timedelta(minutes=policy.resolution_minutes)
    [entry] = audit_entries(app, "sla_policy", "update")
    assert entry.before == {"business_hours": True} and entry.after == {"business_hours": False}


def test_an_unknown_policy_is_not_found(admin):
    page = page_of(admin)
    assert admin.post("/admin/sla/policies/999", data={"csrf_token": csrf_token(page)}).status_code == 404
    assert admin.get("/admin/sla/policies/999/rungs/new").status_code == 404
    assert admin.get("/admin/sla/rungs/999").status_code == 404


# --- The ladder ---------------------------------------------------------------------


def rules_of(app, priority: str, active_only: bool = True) -> list[EscalationRule]:
    with app.app_context():
        query = select(EscalationRule).join(EscalationRule.policy).where(SlaPolicy.priority == priority)
        if active_only:
            query = query.where(EscalationRule.active.is_(True))
        rules = list(db.session.scalars(query.order_by(EscalationRule.id)))
        for rule in rules:
            db.session.expunge(rule)
        return rules


def rule_where(app, priority: str, clock: str, level: int) -> EscalationRule:
    [rule] = [r for r in rules_of(app, priority) if r.clock == clock and r.level == level]
    return rule


def test_adding_a_rung_shows_it_in_the_ladder_and_audits_it(app, admin):
    policy = policy_of(app, "high")
    url = f"/admin/sla/policies/{policy.id}/rungs/new"
    response = admin.post(url, data=rung_data(page_of(admin, url), offset="1.5", offset_unit="hours"))
    assert response.status_code == 303
    [added] = [r for r in rules_of(app, "high") if r.level == 3]
    assert (added.clock, added.trigger, added.offset_minutes, added.target) == ("resolution", "due", 90, "admins")
    page = page_of(admin)
    assert "Level 3 · At the deadline of the resolution clock + 1 h 30 min: notify the admins" in page
    [entry] = audit_entries(app, "escalation_rule", "create")
    assert entry.entity_id == added.id and entry.after["offset_minutes"] == 90 and entry.label == "high · resolution · level 3"


def test_a_move_queue_rung_without_a_department_is_refused_at_the_field(app, admin):
    policy = policy_of(app, "normal")
    url = f"/admin/sla/policies/{policy.id}/rungs/new"
    before = len(rules_of(app, "normal", active_only=False))
    response = admin.post(url, data=rung_data(page_of(admin, url), action="move_queue", offset="2"))
    assert response.status_code == 422
    page = unescape(response.get_data(as_text=True))
    assert "Choose the department the ticket moves to." in error_at(page, "move_to_department_id")
    assert 'name="offset" required type="text" value="2"' in page
    assert len(rules_of(app, "normal", active_only=False)) == before
    assert audit_entries(app, "escalation_rule") == []

    with app.app_context():
        product = db.session.scalar(select(Department).where(Department.code == "product"))
        product_id = product.id
    response = admin.post(url, data=rung_data(page_of(admin, url), action="move_queue", offset="2",
                                              move_to_department_id=str(product_id)))
    assert response.status_code == 303
    assert "notify the admins and move the ticket to 产品部 Product" in page_of(admin)


@pytest.mark.parametrize(
    "values, field, message",
    [
        ({"level": "-1"}, "level", "Choose a level from 0 to 9."),
        ({"level": "two"}, "level", "Enter a level from 0 to 9."),
        ({"offset": "-2"}, "offset", "cannot be negative"),
        ({"offset": "soon"}, "offset", "Enter a number"),
        ({"offset": "31", "offset_unit": "hours", "level": "1", "target": "supervisors"}, "offset", None),
        ({"offset": "4", "offset_unit": "hours", "level": "7", "target": "admins", "trigger": "due"}, "offset",
         "The level 2 rung already does exactly this at the same moment"),
        ({"target": "everyone"}, "target", "Not a valid choice"),
    ],
)
def test_bad_rungs_are_refused_at_the_field(app, admin, values, field, message):
    policy = policy_of(app, "normal")
    url = f"/admin/sla/policies/{policy.id}/rungs/new"
    response = admin.post(url, data=rung_data(page_of(admin, url), **values))
    if message is None:  # a valid rung, for contrast
        assert response.status_code == 303
        return
    assert response.status_code == 422
    assert message in error_at(unescape(response.get_data(as_text=True)), field)
    assert audit_entries(app, "escalation_rule") == []


def test_an_urgent_rung_cannot_raise_the_priority(app, admin):
    policy = policy_of(app, "urgent")
    url = f"/admin/sla/policies/{policy.id}/rungs/new"
    response = admin.post(url, data=rung_data(page_of(admin, url), action="raise_priority"))
    assert response.status_code == 422
    assert "Urgent is already the highest priority" in error_at(unescape(response.get_data(as_text=True)), "action")


def test_editing_a_rung_keeps_what_was_typed_on_error_and_audits_the_change(app, admin):
    rule = rule_where(app, "low", "resolution", 2)
    url = f"/admin/sla/rungs/{rule.id}"
    page = page_of(admin, url)
    assert 'name="offset" required type="text" value="4"' in page
    response = admin.post(url, data=rung_data(page, level="2", offset="0", offset_unit="hours", target="supervisors"))
    assert response.status_code == 422  # what level 1 already does
    assert "The level 1 rung already does exactly this" in error_at(unescape(response.get_data(as_text=True)), "offset")

    response = admin.post(url, data=rung_data(page, level="2", offset="6", offset_unit="hours"))
    assert response.status_code == 303
    assert rule_where(app, "low", "resolution", 2).offset_minutes == 360
    assert "Level 2 · At the deadline of the resolution clock + 6 h: notify the admins" in page_of(admin)
    [entry] = audit_entries(app, "escalation_rule", "update")
    assert entry.before == {"offset_minutes": 240} and entry.after == {"offset_minutes": 360}


# --- The ladder and the sweep ----------------------------------------------------------


def make_ticket(priority: str, created_at: datetime, answered_after: timedelta | None = MINUTE) -> int:
    """A ticket at the demo's Shanghai branch, service department, assigned to staff (as the ticket service would)."""
    branch = db.session.scalar(select(Branch).where(Branch.code == "SH-PEOPLE"))
    department = db.session.scalar(select(Department).where(Department.code == "service"))
    staff = db.session.scalar(select(User).where(User.username == "staff"))
    made = Ticket(
        reference_code=f"LD-{uuid.uuid4().hex[:8].upper()}", branch_id=branch.id, department_id=department.id,
        priority=Priority(priority), status=TicketStatus.NEW, assignee_id=staff.id, subject="Cold coffee",
        created_at=created_at, updated_at=created_at,
        first_response_at=created_at + answered_after if answered_after else None,
    )
    db.session.add(made)
    db.session.flush()
    db.session.add(TicketEvent(ticket_id=made.id, at=created_at, kind="created", new_value="new"))
    clocks.refresh_deadlines(made, created_at)
    db.session.commit()
    return made.id


def told(username: str, ticket_id: int) -> int:
    user = db.session.scalar(select(User).where(User.username == username))
    return db.session.scalar(
        select(func.count()).select_from(Notification)
        .where(Notification.user_id == user.id, Notification.ticket_id == ticket_id)
    )


def test_an_edited_rung_does_not_fire_again_and_a_removed_rung_stops_firing(app, admin):
    """Urgent: 1 h resolution around the clock; warning → staff, due → supervisors, due + 4 h → admins."""
    with app.app_context():
        ticket_id = make_ticket("urgent", MONDAY)
        escalations.sweep(MONDAY + 2 * timedelta(hours=1))
        assert told("staff", ticket_id) == 1 and told("supervisor", ticket_id) == 1 and told("admin", ticket_id) == 0
        firings = db.session.scalar(select(func.count()).select_from(EscalationFiring))

    breach = rule_where(app, "urgent", "resolution", 1)
    url = f"/admin/sla/rungs/{breach.id}"
    response = admin.post(url, data=rung_data(page_of(admin, url), level="1", offset="30", offset_unit="minutes",
                                              target="supervisors"))
    assert response.status_code == 303
    level_two = rule_where(app, "urgent", "resolution", 2)
    response = admin.post(f"/admin/sla/rungs/{level_two.id}/remove", data={"csrf_token": csrf_token(page_of(admin))})
    assert response.status_code == 303
    page = page_of(admin)
    assert "Removed: Level 2 · At the deadline of the resolution clock + 4 h: notify the admins" in page
    assert "Level 1 · At the deadline of the resolution clock + 30 min: notify the supervisors" in page
    assert admin.get(f"/admin/sla/rungs/{level_two.id}").status_code == 404

    with app.app_context():
        result = escalations.sweep(MONDAY + timedelta(hours=10))
        # The edited rung fired for this ticket before the edit; the removed one never fires.
        assert result.rungs_fired == 0
        assert told("supervisor", ticket_id) == 1 and told("admin", ticket_id) == 0
        assert db.session.get(Ticket, ticket_id).next_deadline_at is None
        assert db.session.scalar(select(func.count()).select_from(EscalationFiring)) == firings

        # A new ticket follows the edited rung: the supervisors hear 30 minutes after the breach.
        later = MONDAY + timedelta(days=1)
        fresh_id = make_ticket("urgent", later)
        escalations.sweep(later + timedelta(hours=1, minutes=20))
        assert told("staff", fresh_id) == 1 and told("supervisor", fresh_id) == 0
        escalations.sweep(later + timedelta(hours=1, minutes=31))
        assert told("supervisor", fresh_id) == 1
        escalations.sweep(later + timedelta(hours=10))
        assert told("admin", fresh_id) == 0

    [removed] = audit_entries(app, "escalation_rule", "delete")
    assert removed.entity_id == level_two.id and removed.before["offset_minutes"] == 240
    assert [r.id for r in rules_of(app, "urgent", active_only=False)].count(level_two.id) == 1  # kept, inactive


def test_removing_a_rung_that_fired_keeps_its_firings_and_the_sweep_runs_on(app, admin):
    with app.app_context():
        ticket_id = make_ticket("urgent", MONDAY)
        escalations.sweep(MONDAY + timedelta(hours=2))
        breach_id = rule_where(app, "urgent", "resolution", 1).id
        fired = db.session.scalar(
            select(func.count()).select_from(EscalationFiring).where(EscalationFiring.rule_id == breach_id))
        assert fired >= 1
    response = admin.post(f"/admin/sla/rungs/{breach_id}/remove", data={"csrf_token": csrf_token(page_of(admin))})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(EscalationRule, breach_id).active is False
        assert db.session.scalar(
            select(func.count()).select_from(EscalationFiring).where(EscalationFiring.rule_id == breach_id)) == fired
        result = escalations.sweep(MONDAY + timedelta(hours=6))
        assert told("admin", ticket_id) == 1 and result.rungs_fired == 1  # level 2 still fires
    assert admin.post(f"/admin/sla/rungs/{breach_id}/remove",
                      data={"csrf_token": csrf_token(page_of(admin))}).status_code == 404


# --- Statuses that pause the clock -----------------------------------------------------


def test_status_settings_list_open_statuses_and_change_what_pauses(app, admin):
    page = page_of(admin)
    section = page[page.index('id="statuses"'):]
    assert 'value="waiting_on_customer" checked' in section
    assert 'value="in_progress">' in section and 'value="resolved"' not in section
    with app.app_context():
        ticket_id = make_ticket("normal", datetime.now(UTC) - timedelta(minutes=5))
        made = db.session.get(Ticket, ticket_id)
        db.session.add(TicketEvent(ticket_id=ticket_id, at=made.created_at + MINUTE, kind="status",
                                   old_value="new", new_value="in_progress"))
        made.status = TicketStatus.IN_PROGRESS
        clocks.refresh_deadlines(made)
        db.session.commit()
        assert made.sla_state != "paused" and made.resolution_due_at is not None

    response = admin.post("/admin/sla/statuses", data={
        "pausing": ["waiting_on_customer", "in_progress"], "csrf_token": csrf_token(page)})
    assert response.status_code == 303
    with app.app_context():
        settings = dict(db.session.execute(select(StatusSetting.status, StatusSetting.pauses_clock)).all())
        assert settings["in_progress"] is True and settings["waiting_on_customer"] is True
        made = db.session.get(Ticket, ticket_id)
        assert made.sla_state == "paused" and made.resolution_due_at is None  # the refresh job ran
    [entry] = audit_entries(app, "status_setting", "update")
    assert entry.label == "in_progress" and entry.before == {"pauses_clock": False} and entry.after == {"pauses_clock": True}
    assert "Saved which statuses pause the SLA clock" in page_of(admin)


def test_pausing_every_open_status_is_refused(app, admin):
    page = page_of(admin)
    response = admin.post("/admin/sla/statuses", data={
        "pausing": ["new", "in_progress", "waiting_on_customer"], "csrf_token": csrf_token(page)})
    assert response.status_code == 422
    page = unescape(response.get_data(as_text=True))
    assert "At least one open status must keep the clock running" in page
    assert 'value="new" checked' in page  # what was ticked is kept
    with app.app_context():
        assert db.session.get(StatusSetting, "new").pauses_clock is False
    assert audit_entries(app, "status_setting") == []
