"""The batched refresh (``refresh_open_tickets``: laid-out calendars, one statement per batch) stores what
the per-ticket computation (``measure`` with explanations, as a ticket page and ``refresh_deadlines`` use)
gives, on random tickets, policies, ladders and branches (hours, time zones, custom holidays)."""
from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import (
    Branch,
    Department,
    EscalationFiring,
    EscalationRule,
    Holiday,
    Priority,
    SlaPolicy,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from app.models.tickets import OPEN_STATUSES
from app.services.branches.calendars import custom_holidays
from app.services.sla import clocks, policies
from app.services.sla.policies import SlaSettings

NOW = datetime(2025, 3, 31, 4, 7, 30, tzinfo=UTC)  # London's clocks went forward the day before
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS = (
    {day: [["09:00", "18:00"]] for day in WEEK[:5]},
    {day: [["10:00", "14:00"], ["15:30", "22:00"]] for day in WEEK},
    {"sat": [["00:00", "24:00"]], "sun": [["01:30", "02:30"]], "wed": [["12:00", "13:00"]]},
    {},  # no hours: around the clock
)
ZONES = ("Asia/Shanghai", "Europe/London", "America/New_York")


def random_world(rng: random.Random) -> list[int]:
    departments = [Department(code=f"d{n}", name=f"Department {n}") for n in range(2)]
    branches = [
        Branch(code=f"B{n}", name=f"Branch {n}", timezone=rng.choice(ZONES), opening_hours=rng.choice(HOURS))
        for n in range(4)
    ]
    db.session.add_all(departments + branches)
    db.session.flush()
    policies.ensure_default_policies()
    for policy in db.session.scalars(select(SlaPolicy)):
        policy.first_response_minutes = rng.choice([15, 30, 90, 24 * 60])
        policy.resolution_minutes = rng.choice([60, 8 * 60, 48 * 60, 5 * 24 * 60])
        policy.business_hours = rng.random() < 0.7
        policy.warning_percent = rng.choice([50, 80, 100])
        if rng.random() < 0.5:
            db.session.add(EscalationRule(policy=policy, clock="resolution", level=3, trigger="warning",
                                          offset_minutes=rng.choice([-30, 0, 45]), target="admins"))
    for day in range(rng.randrange(1, 4)):
        db.session.add(Holiday(branch_id=rng.choice([None, branches[0].id, branches[1].id]),
                               day=date(2025, 3, 20) + timedelta(days=rng.randrange(0, 20) + day), name="custom"))
    tickets = []
    for _ in range(150):
        created = NOW - timedelta(minutes=rng.randrange(1, 14 * 24 * 60), seconds=rng.random() * 60)
        status = rng.choice(list(OPEN_STATUSES))
        ticket = Ticket(
            reference_code=f"LD-{uuid.uuid4().hex[:8].upper()}",
            branch_id=rng.choice(branches).id, department_id=rng.choice(departments).id,
            priority=rng.choice(list(Priority)), status=status, subject="x",
            created_at=created, updated_at=created,
            first_response_at=created + timedelta(minutes=rng.randrange(1, 600)) if rng.random() < 0.5 else None,
        )
        db.session.add(ticket)
        db.session.flush()
        events = [TicketEvent(ticket_id=ticket.id, at=created, kind="created", new_value="new")]
        at, previous = created, "new"
        for new in [rng.choice(["in_progress", "waiting_on_customer", "resolved"]) for _ in range(rng.randrange(0, 4))] + [status.value]:
            at += timedelta(minutes=rng.randrange(0, 3000))
            if new == previous:
                continue
            kind = "reopened" if previous == "resolved" else "status"
            events.append(TicketEvent(ticket_id=ticket.id, at=min(at, NOW), kind=kind, old_value=previous, new_value=new))
            previous = new
        db.session.add_all(events)
        tickets.append(ticket.id)
    db.session.flush()
    rules = db.session.scalars(select(EscalationRule)).all()
    for ticket_id in rng.sample(tickets, 30):  # some rungs fired already
        rule = rng.choice(rules)
        db.session.add(EscalationFiring(ticket_id=ticket_id, rule_id=rule.id, user_id=0, level=rule.level, cycle=0))
    db.session.commit()
    return tickets


def per_ticket_values(ticket_ids: list[int]) -> dict[int, dict]:
    settings = SlaSettings(custom_holidays())
    events, fired = clocks.status_events(ticket_ids), clocks.fired_rungs(ticket_ids)
    found = {}
    for ticket in db.session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids))):
        measured = clocks.measure(ticket, NOW, settings, events.get(ticket.id, []))
        found[ticket.id] = clocks.deadline_values(ticket, measured, fired)
    return found


def stored_values(ticket_ids: list[int]) -> dict[int, dict]:
    db.session.expire_all()
    return {
        ticket.id: {name: getattr(ticket, name) for name in
                    ("first_response_due_at", "resolution_due_at", "next_deadline_at", "sla_state")}
        for ticket in db.session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids)))
    }


def test_the_batched_refresh_stores_what_the_per_ticket_clocks_give(app):
    with app.app_context():
        for seed in range(3):
            rng = random.Random(seed)
            db.session.execute(db.delete(EscalationFiring))
            ticket_ids = random_world(rng) if seed == 0 else _reshuffle(rng)
            expected = per_ticket_values(ticket_ids)
            assert clocks.refresh_open_tickets(now=NOW, batch=rng.choice([7, 64, 2000])) == len(ticket_ids)
            db.session.commit()
            assert stored_values(ticket_ids) == expected
            states = {values["sla_state"] for values in expected.values()}
            assert {"on_track", "breached", "paused"} <= states, states  # the sample is not all one case


def _reshuffle(rng: random.Random) -> list[int]:
    """Other policies and hours on the same tickets."""
    for policy in db.session.scalars(select(SlaPolicy)):
        policy.first_response_minutes = rng.choice([5, 30, 120])
        policy.resolution_minutes = rng.choice([90, 24 * 60, 72 * 60])
        policy.business_hours = rng.random() < 0.7
        policy.warning_percent = rng.choice([25, 80, 99])
    for branch in db.session.scalars(select(Branch)):
        branch.opening_hours = rng.choice(HOURS)
        branch.timezone = rng.choice(ZONES)
    db.session.commit()
    return list(db.session.scalars(select(Ticket.id).where(Ticket.status.in_(OPEN_STATUSES))))


def test_tickets_loaded_in_the_session_follow_the_refresh(app):
    with app.app_context():
        ticket_ids = random_world(random.Random(5))
        ticket = db.session.get(Ticket, ticket_ids[0])
        expected = per_ticket_values([ticket.id])[ticket.id]
        clocks.refresh_open_tickets(now=NOW)
        assert {name: getattr(ticket, name) for name in expected} == expected
        assert ticket.status in OPEN_STATUSES and ticket.status != TicketStatus.RESOLVED
