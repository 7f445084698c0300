"""The escalation sweep: tickets whose next deadline has come, and the ladder rungs they pass.

``sweep(now)`` takes open tickets with ``next_deadline_at <= now`` in batches, recomputes
their clocks and fires every rung whose moment has passed, exactly once:

- **The unique ``EscalationFiring`` row decides.** A rung fired is a row with
  ``user_id`` 0 (its inserter logs the escalation, sends the webhook and applies the action);
  each receiver notified is a row with their id (its inserter notifies them). Rows go in
  with INSERT … ON CONFLICT DO NOTHING RETURNING, so of two sweepers only the one whose row
  went in acts, even if both computed the same rung at the same time.
- **Two sweepers split the work**: on PostgreSQL a batch is locked with
  ``FOR UPDATE SKIP LOCKED``, so the other sweeper takes the next tickets instead of waiting.
- **The whole backlog in one run**: batches follow each other by ticket id until none is due,
  with a commit after each (which also releases the batch's locks).
- **Receivers**: "assignee" (an unassigned ticket's warning goes to the staff whose scope
  covers it: they are the ones who can claim it), "supervisors" whose scope covers the
  ticket's branch and department, "admins". A rung reaches the receivers it has when it
  fires; somebody assigned later is not told about past rungs.
- **Quiet hours**: a notification outside the branch's business hours waits for its next
  opening (``deliver_after``), unless the ticket is urgent. Webhooks are sent at once.
- **Actions** (besides notifying): "raise_priority" one step (urgent stays urgent) and
  "move_queue" to the rule's department, each logged as a ticket event; the ticket's new
  policy and ladder apply at once, in the same sweep.
- Deadline bookkeeping is written without bumping ``lock_version`` (see
  ``app.services.sla.clocks``); priority and department changes do bump it.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import force_locale, gettext as _
from sqlalchemy import Integer, bindparam, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from app import labels
from app.core.sla import Deadline
from app.extensions import db
from app.i18n import local_time
from app.models import (
    Branch,
    Department,
    EscalationFiring,
    Priority,
    Role,
    Ticket,
    TicketEvent,
    User,
)
from app.services import notifications
from app.services.branches import calendars
from app.services.sla import clocks as sla_clocks
from app.services.sla.clocks import OPEN_STATUSES, Rung, TicketClock
from app.services.sla.policies import LadderRule, SlaSettings
from app.services.webhooks import events as webhook_events

log = logging.getLogger(__name__)

#: Lowest first: raising a priority takes the next one.
PRIORITY_STEPS = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)
#: Ladder passes per batch: each pass goes up to a ticket's next action (which may change its
#: ladder or scope); rungs left over are still due and fire in the next sweep.
_MAX_PASSES = 8


@dataclass
class SweepResult:
    tickets: int = 0
    rungs_fired: int = 0
    notifications: int = 0
    actions: int = 0
    batches: int = 0
    seconds: float = 0.0

    def add(self, other: SweepResult) -> None:
        for name in ("tickets", "rungs_fired", "notifications", "actions"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def sweep(now: datetime, batch: int = 1000) -> SweepResult:
    """Escalate every open ticket whose next deadline is at or before ``now``.

    Commits after each batch (a sweep is its own unit of work: holding the whole backlog's
    row locks in one transaction would block staff working those tickets).
    """
    started = time.perf_counter()
    result = SweepResult()
    settings = SlaSettings()
    last_id = 0
    while True:
        tickets = _lock_due_batch(now, last_id, batch)
        if not tickets:
            break
        result.add(sweep_batch(tickets, now, settings))
        result.batches += 1
        last_id = tickets[-1].id
        db.session.commit()
    result.seconds = time.perf_counter() - started
    if result.tickets:
        log.info("SLA sweep: %s ticket(s), %s rung(s) fired, %s notification(s), %s action(s) in %.2f s",
                 result.tickets, result.rungs_fired, result.notifications, result.actions, result.seconds)
    return result


def _lock_due_batch(now: datetime, after_id: int, batch: int) -> Sequence[Ticket]:
    """The next due tickets by id; on PostgreSQL locked, skipping those another sweeper holds."""
    query = (
        select(Ticket)
        .where(Ticket.next_deadline_at <= now, Ticket.status.in_(OPEN_STATUSES), Ticket.id > after_id)
        .order_by(Ticket.id)
        .limit(batch)
        .options(selectinload(Ticket.branch), selectinload(Ticket.department), selectinload(Ticket.assignee))
        .execution_options(populate_existing=True)
    )
    if _dialect() == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Ticket)
    return db.session.scalars(query).all()


def sweep_batch(tickets: Sequence[Ticket], now: datetime, settings: SlaSettings) -> SweepResult:
    """Fire the passed rungs of ``tickets`` (locked by the caller) and store their new deadlines. Flushes."""
    result = SweepResult(tickets=len(tickets))
    ids = [ticket.id for ticket in tickets]
    events = sla_clocks.status_events(ids)
    fired = sla_clocks.fired_rungs(ids)
    batch = _Batch(now, settings)
    measured = {ticket.id: sla_clocks.measure_times(ticket, now, settings, events.get(ticket.id, [])) for ticket in tickets}
    pending = list(tickets)
    for _ in range(_MAX_PASSES):
        claims: list[_Claim] = []
        again: dict[int, Ticket] = {}
        for ticket in pending:
            for rung in measured[ticket.id].rungs:
                if not rung.passed(now) or (ticket.id, rung.rule.id, rung.cycle) in fired:
                    continue
                claims.append(_Claim(ticket, measured[ticket.id], rung, batch.receivers(rung.rule.target, ticket)))
                if rung.rule.action != "notify":
                    # Later rungs wait until the action is applied: the ticket's ladder or scope may change.
                    again[ticket.id] = ticket
                    break
        if not claims:
            break
        won = _insert_firings(claims, now)
        for claim in claims:
            fired.add((claim.ticket.id, claim.rung.rule.id, claim.rung.cycle))
            batch.fire(claim, won, result)
        if not again:
            break
        db.session.flush()
        for ticket in again.values():
            measured[ticket.id] = sla_clocks.measure_times(ticket, now, settings, events.get(ticket.id, []))
        pending = list(again.values())
    batch.write()
    sla_clocks.write_deadlines(
        {ticket: sla_clocks.deadline_values(ticket, measured[ticket.id], fired) for ticket in tickets}
    )
    return result


@dataclass(frozen=True)
class _Claim:
    ticket: Ticket
    measured: TicketClock
    rung: Rung
    receivers: tuple[User, ...]

    def keys(self) -> list[tuple[int, int, int, int]]:
        rule, cycle = self.rung.rule.id, self.rung.cycle
        return [(self.ticket.id, rule, 0, cycle)] + [(self.ticket.id, rule, user.id, cycle) for user in self.receivers]


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _insert_firings(claims: Sequence[_Claim], now: datetime) -> set[tuple[int, int, int, int]]:
    """Insert the claims' firing rows; return the keys this call inserted (the rest fired before).

    Sorted, so two sweepers inserting the same keys wait on each other in one order (no deadlock).
    """
    levels = {(claim.ticket.id, claim.rung.rule.id): claim.rung.rule.level for claim in claims}
    keys = sorted({key for claim in claims for key in claim.keys()})
    if not keys:
        return set()
    if _dialect() == "postgresql":
        columns = list(zip(*keys))
        values = dict(zip(("ticket_id", "rule_id", "user_id", "cycle"), columns))
        values["level"] = [levels[key[0], key[1]] for key in keys]
        return {tuple(row) for row in db.session.execute(_INSERT_FIRINGS_FROM_ARRAYS, {**values, "now": now})}
    rows = [
        {"ticket_id": t, "rule_id": r, "user_id": u, "cycle": c, "level": levels[t, r], "fired_at": now}
        for t, r, u, c in keys
    ]
    statement = sqlite.insert(_FIRINGS).on_conflict_do_nothing(index_elements=_FIRING_KEY).returning(*_RETURNED)
    return {tuple(row) for row in db.session.execute(statement, rows)}


_FIRINGS = EscalationFiring.__table__
_FIRING_KEY = ["ticket_id", "rule_id", "user_id", "cycle"]
_RETURNED = [_FIRINGS.c[name] for name in _FIRING_KEY]
_ARRAYS = func.unnest(
    *(bindparam(name, type_=postgresql.ARRAY(Integer)) for name in (*_FIRING_KEY, "level"))
).table_valued(*_FIRING_KEY, "level").render_derived(name="firing")
#: PostgreSQL: one statement for a whole batch, from five arrays (a multi-row VALUES of
#: thousands of rows costs more to build and parse than to run).
_INSERT_FIRINGS_FROM_ARRAYS = (
    postgresql.insert(_FIRINGS)
    .from_select(
        [*_FIRING_KEY, "level", "fired_at"],
        select(*(_ARRAYS.c[name] for name in (*_FIRING_KEY, "level")), bindparam("now", type_=_FIRINGS.c.fired_at.type)),
    )
    .on_conflict_do_nothing(index_elements=_FIRING_KEY)
    .returning(*_RETURNED)
)


class _Batch:
    """What one batch reads once: receivers by role and scope, opening times, webhook endpoints."""

    def __init__(self, now: datetime, settings: SlaSettings) -> None:
        self.now = now
        self.settings = settings
        self._users: dict[Role, list[User]] = {}
        self._covering: dict[tuple[Role, int, int], tuple[User, ...]] = {}
        self._openings: dict[int, datetime] = {}
        self._endpoints = None
        self._departments: dict[int, Department | None] = {}
        self.messages: list[notifications.Message] = []
        self.events: list[dict] = []

    # receivers

    def receivers(self, target: str, ticket: Ticket) -> tuple[User, ...]:
        if target == "assignee":
            if ticket.assignee is not None and ticket.assignee.active:
                return (ticket.assignee,)
            return self._covering_users(Role.STAFF, ticket)
        if target == "supervisors":
            return self._covering_users(Role.SUPERVISOR, ticket)
        if target == "admins":
            return tuple(self._users_of(Role.ADMIN))
        log.error("escalation rule for ticket %s names an unknown target %r", ticket.id, target)
        return ()

    def _users_of(self, role: Role) -> list[User]:
        if role not in self._users:
            self._users[role] = list(db.session.scalars(
                select(User)
                .where(User.role == role, User.active.is_(True))
                .options(selectinload(User.branches), selectinload(User.departments))
                .order_by(User.id)
            ))
        return self._users[role]

    def _covering_users(self, role: Role, ticket: Ticket) -> tuple[User, ...]:
        """Users of ``role`` whose departments include the ticket's, at its branch (as ``scope_tickets``)."""
        key = (role, ticket.branch_id, ticket.department_id)
        if key not in self._covering:
            self._covering[key] = tuple(
                user for user in self._users_of(role)
                if any(d.id == ticket.department_id for d in user.departments)
                and (user.all_branches or any(b.id == ticket.branch_id for b in user.branches))
            )
        return self._covering[key]

    def deliver_after(self, ticket: Ticket) -> datetime:
        if ticket.priority == Priority.URGENT:
            return self.now
        branch: Branch = ticket.branch
        if branch.id not in self._openings:
            self._openings[branch.id] = calendars.next_opening(self.settings.calendar(branch), self.now)
        return self._openings[branch.id]

    # firing

    def fire(self, claim: _Claim, won: set[tuple[int, int, int, int]], result: SweepResult) -> None:
        """Notify the receivers whose rows this sweeper inserted; log, publish and act if it inserted the rung's."""
        ticket, rule, cycle = claim.ticket, claim.rung.rule, claim.rung.cycle
        deadline = claim.measured.clock.first_response if rule.clock == "first_response" else claim.measured.clock.resolution
        notice = rung_notice(claim.rung, deadline, self.now)
        notified = [user for user in claim.receivers if (ticket.id, rule.id, user.id, cycle) in won]
        deliver_after = self.deliver_after(ticket) if notified else self.now
        worded: dict[str, tuple[str, str]] = {}
        for user in notified:
            locale = notifications.locale_of(user)
            if locale not in worded:
                with force_locale(locale):
                    worded[locale] = _message(ticket, notice, deadline)
            self.messages.append(notifications.Message(user, ticket.id, notice["kind"], *worded[locale], deliver_after))
        result.notifications += len(notified)
        if (ticket.id, rule.id, 0, cycle) not in won:
            return
        result.rungs_fired += 1
        receivers = [user.display_name or user.username for user in claim.receivers]
        self.log(ticket, "escalation", None, str(rule.level), None,
                 {"level": rule.level, "notice": notice, "receivers": receivers})
        logged = len(self.events)
        acted = self._act(ticket, rule)
        result.actions += int(acted)
        if self._endpoints is None:
            self._endpoints = webhook_events.active_endpoints()
        escalation = {"level": rule.level, "clock": rule.clock, "trigger": rule.trigger, "action": rule.action,
                      "receivers": [user.id for user in claim.receivers]}
        webhook_events.ticket_changed(_event_name(rule), ticket, self.now, self._endpoints, escalation=escalation)
        if acted:
            webhook_events.ticket_changed("ticket.updated", ticket, self.now, self._endpoints,
                                          changes=[event["kind"] for event in self.events[logged:]])

    def _act(self, ticket: Ticket, rule: LadderRule) -> bool:
        if rule.action == "raise_priority":
            step = PRIORITY_STEPS.index(ticket.priority)
            if step + 1 >= len(PRIORITY_STEPS):
                return False
            old, ticket.priority = ticket.priority, PRIORITY_STEPS[step + 1]
            self.log_change(ticket, "priority", old.value, ticket.priority.value, rule.level)
            return True
        if rule.action == "move_queue":
            target = self._department(rule.move_to_department_id)
            if target is None or target.id == ticket.department_id:
                return False
            old, ticket.department = ticket.department, target
            self.log_change(ticket, "department", old.name, target.name, rule.level)
            assignee = ticket.assignee
            if assignee is not None and assignee.role != Role.ADMIN and target not in assignee.departments:
                ticket.assignee = None
                self.log_change(ticket, "assignee", assignee.display_name or assignee.username, None, rule.level)
            return True
        return False

    def log(
        self, ticket: Ticket, kind: str, old: str | None, new: str | None, body: str | None, details: dict
    ) -> None:
        self.events.append({"ticket_id": ticket.id, "at": self.now, "actor_id": None, "kind": kind, "old_value": old,
                            "new_value": new, "body": body, "details": details, "visible_to_customer": False})

    def log_change(self, ticket: Ticket, kind: str, old: str | None, new: str | None, level: int) -> None:
        ticket.updated_at = self.now
        self.log(ticket, kind, old, new, None, {"escalation_level": level})

    def write(self) -> None:
        """The batch's ticket events and notifications, as multi-row INSERTs (after the ORM's changes)."""
        db.session.flush()
        if self.events:
            db.session.execute(insert(TicketEvent.__table__), self.events)
        notifications.notify_many(self.messages, self.now)

    def _department(self, department_id: int | None) -> Department | None:
        if department_id not in self._departments:
            found = db.session.get(Department, department_id) if department_id else None
            self._departments[department_id] = found if found is not None and found.active else None
        return self._departments[department_id]


def _event_name(rule: LadderRule) -> str:
    """The webhook event of a fired rung: a warning, the breach itself, or a rung after the breach."""
    if rule.trigger == "warning":
        return "sla.warning"
    return "sla.breached" if rule.offset_minutes <= 0 else "escalation.fired"


def rung_notice(rung: Rung, deadline: Deadline, now: datetime) -> dict:
    """What a fired rung says, as a code and its values (``app.labels.notice_label`` words it)."""
    rule = rung.rule
    overdue = deadline.due_at is not None and now > deadline.due_at
    if rule.trigger == "warning":
        kind, code = "sla_warning", "warning_overdue" if overdue else "due_soon"
    else:
        kind, code = "escalation", "escalated" if rule.offset_minutes > 0 and overdue else "overdue"
    minutes = int((now - deadline.due_at).total_seconds() // 60) if overdue else 0
    return {"kind": kind, "code": code, "clock": rule.clock, "level": rule.level, "overdue_minutes": minutes}


def _message(ticket: Ticket, notice: dict, deadline: Deadline) -> tuple[str, str]:
    """(title, body) of a rung's notification, in the current language (the receiver's: see ``_Batch.fire``)."""
    due = _("due %(at)s", at=local_time(deadline.due_at, ticket.branch.timezone)) if deadline.due_at else ""
    parts = [labels.ticket_subject(ticket) or ticket.reference_code, ticket.branch.name, ticket.department.name, due]
    return f"{ticket.reference_code} · {labels.notice_label(notice)}", " · ".join(part for part in parts if part)
