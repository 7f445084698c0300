"""SLA clocks of stored tickets: policies, calendars and status history from the database.

The rules are in ``app.core.sla``; this module feeds them what is stored and writes the
answer back on the ticket (``first_response_due_at``, ``resolution_due_at``,
``next_deadline_at``, ``sla_state``). The escalation sweep and the ticket operations both go
through ``SlaSettings``, so a ticket page and the sweep always agree.

Decisions:

- **Default ladder** (``DEFAULT_LADDER``), for each clock (first response and resolution)
  of each policy: the warning goes to the assignee (level 0), the breach to the
  supervisors whose scope covers the ticket (level 1), and the breach + 4 h to the admins
  (level 2; the people model has no hierarchy above a supervisor but the admins).
- **Holidays** are the public holidays of the branch's holiday region, by default the one
  its time zone belongs to (tzdata's zone.tab: Asia/Shanghai is CN; Europe/London is GB-ENG,
  England and Wales' bank holidays; see app.services.branches.calendars), CN when the zone
  has no country or the ``holidays`` package does not know it, plus the custom ``Holiday``
  rows for the branch and for every branch. A branch open on public holidays skips only its
  custom ones. A branch without opening hours counts around the clock.
- **next_deadline_at** is the earliest of: the core's next warning or due time, and each
  ladder rung that has not fired yet (a rung passed but not swept stays due, so it is never
  skipped). A ticket that is done has none.
- **Bookkeeping writes do not bump ``lock_version``**: a sweep or policy edit that moves
  deadlines must not make a staff member's open ticket page stale, so those updates are
  plain UPDATE statements (``write_deadlines``), not ORM flushes.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import DateTime, Integer, String, any_, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm.attributes import set_committed_value

from app.core import sla, sla_batch
from app.core.clock import utcnow
from app.extensions import db
from app.models import Branch, EscalationFiring, Priority, SlaPolicy, Ticket, TicketEvent
from app.models.tickets import OPEN_STATUSES
from app.services.branches.calendars import custom_holidays
from app.services.sla.policies import core_policy, LadderRule, PolicyRules, SlaSettings


#: Ticket events that carry a status: "created" has the first one, a reopen has its own kind.
STATUS_EVENT_KINDS = ("created", "status", "reopened")
#: Worst first: the state a ticket shows when its two clocks disagree.
_STATE_ORDER = (sla.SlaState.BREACHED, sla.SlaState.WARNING, sla.SlaState.PAUSED, sla.SlaState.ON_TRACK)


# --- Clocks --------------------------------------------------------------------


class Rung(NamedTuple):
    """A ladder rule's moment for one ticket: when it fires, in which cycle (a tuple: made for every rule of
    every ticket a sweep or refresh reads)."""

    rule: LadderRule
    cycle: int
    at: datetime

    def passed(self, now: datetime) -> bool:
        """A warning fires at its moment; a breach only after it (the core's "breached")."""
        return now > self.at if self.rule.trigger == "due" else now >= self.at


@dataclass(frozen=True)
class TicketClock:
    """A ticket's clocks as of a moment, with the ladder rungs that can still fire.

    ``clock`` is the core's ``SlaClock`` (with explanations) from ``measure``, or its moments
    (``sla_batch.ClockTimes``) from ``measure_times``.
    """

    clock: sla.SlaClock | sla_batch.ClockTimes
    rules: PolicyRules
    history: tuple[sla.StatusChange, ...]
    rungs: tuple[Rung, ...]

    @property
    def reopens(self) -> int:
        return reopen_count(self.history)


def status_history(
    created_at: datetime, status: str, events: Iterable[tuple[datetime, str, str | None, str | None]]
) -> tuple[sla.StatusChange, ...]:
    """The status history from ``(at, kind, old_value, new_value)`` events, oldest first.

    The "created" event carries the first status; without one the first change's old value
    (or the current status) is taken as the status at ``created_at``.
    """
    events = sorted(events, key=lambda event: event[0])
    created = next((event for event in events if event[1] == "created"), None)
    changes = [event for event in events if event[1] != "created" and event[3]]
    if created is not None and created[3]:
        first = created[3]
    elif changes and changes[0][2]:
        first = changes[0][2]
    else:
        first = str(status)
    return (sla.StatusChange(created_at, first), *(sla.StatusChange(at, new) for at, _kind, _old, new in changes))


def reopen_count(history: Iterable[sla.StatusChange]) -> int:
    """How often the ticket went from a done status back to an open one (each starts a new cycle)."""
    count, done = 0, False
    for change in history:
        now_done = change.status in sla.DEFAULT_DONE_STATUSES
        if done and not now_done:
            count += 1
        done = now_done
    return count


def _one_of(column, ids: Sequence[int]):
    """``column IN ids``; on PostgreSQL ``= ANY(array)``: one parameter for a batch of thousands, not thousands."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=postgresql.ARRAY(Integer)))
    return column.in_(ids)


def status_events(ticket_ids: Sequence[int]) -> dict[int, list[tuple[datetime, str, str | None, str | None]]]:
    rows = db.session.execute(
        select(TicketEvent.ticket_id, TicketEvent.at, TicketEvent.kind, TicketEvent.old_value, TicketEvent.new_value)
        .where(_one_of(TicketEvent.ticket_id, ticket_ids), TicketEvent.kind.in_(STATUS_EVENT_KINDS))
        .order_by(TicketEvent.id)
    )
    found: dict[int, list] = {}
    for ticket_id, *event in rows:
        found.setdefault(ticket_id, []).append(tuple(event))
    return found


def fired_rungs(ticket_ids: Sequence[int]) -> set[tuple[int, int, int]]:
    """(ticket id, rule id, cycle) of every rung that fired (its row without a receiver, user 0)."""
    rows = db.session.execute(
        select(EscalationFiring.ticket_id, EscalationFiring.rule_id, EscalationFiring.cycle)
        .where(_one_of(EscalationFiring.ticket_id, ticket_ids), EscalationFiring.user_id == 0)
    )
    return {tuple(row) for row in rows}


def measure(
    ticket: Ticket,
    now: datetime,
    settings: SlaSettings,
    events: Iterable[tuple[datetime, str, str | None, str | None]],
) -> TicketClock:
    """A ticket's clocks, with their explanations, and ladder as of ``now`` (what a ticket page shows)."""
    rules = settings.rules_for(ticket.priority)
    history = status_history(ticket.created_at, ticket.status, events)
    clock = sla.sla_clock(
        rules.policy,
        settings.calendar(ticket.branch, rules.policy.business_hours),
        opened_at=ticket.created_at,
        history=history,
        now=now,
        first_response_at=ticket.first_response_at,
        pausing_statuses=settings.pausing_statuses,
    )
    return TicketClock(clock, rules, history, _rungs(clock, rules, history))


def measure_times(
    ticket: Ticket | OpenTicket,
    now: datetime,
    settings: SlaSettings,
    events: Iterable[tuple[datetime, str, str | None, str | None]],
) -> TicketClock:
    """``measure``'s moments, states and ladder without the explanations, on the calendar laid out once per
    branch and policy kind (``SlaSettings.open_time``): what a refresh and the sweep store and act on.

    The same instants as ``measure`` (tests/unit/test_sla_batch.py, tests/integration/sla/test_batched_clocks.py).
    """
    rules = settings.rules_for(ticket.priority)
    history = status_history(ticket.created_at, ticket.status, events)
    clock = sla_batch.clock_times(
        settings.amounts(rules),
        settings.open_time(ticket.branch, rules.policy.business_hours),
        opened_at=ticket.created_at,
        history=history,
        now=now,
        first_response_at=ticket.first_response_at,
        pausing_statuses=settings.pausing_statuses,
    )
    return TicketClock(clock, rules, history, _rungs(clock, rules, history))


def _rungs(
    clock: sla.SlaClock | sla_batch.ClockTimes, rules: PolicyRules, history: Sequence[sla.StatusChange]
) -> tuple[Rung, ...]:
    cycle = reopen_count(history)
    rungs = []
    for rule in rules.rules:
        deadline = clock.first_response if rule.clock == "first_response" else clock.resolution
        moment = deadline.warning_at if rule.trigger == "warning" else deadline.due_at
        if moment is None:
            continue
        moment += timedelta(minutes=rule.offset_minutes)
        if deadline.stopped_at is not None and deadline.stopped_at <= moment:
            continue  # answered or resolved before the rung's moment: it never fires
        rungs.append(Rung(rule, cycle if rule.clock == "resolution" else 0, moment))
    rungs.sort(key=lambda rung: (rung.at, rung.rule.level, rung.rule.id))
    return tuple(rungs)


def ticket_state(clock: sla.SlaClock | sla_batch.ClockTimes) -> str:
    """One word for the ticket: the worst running clock, else how the resolution ended."""
    running = [d.state for d in (clock.first_response, clock.resolution) if d.stopped_at is None]
    for state in _STATE_ORDER:
        if state in running:
            return state.value
    return clock.resolution.state.value


def deadline_values(ticket: Ticket | OpenTicket, measured: TicketClock, fired: set[tuple[int, int, int]]) -> dict:
    """What the ticket stores about its clocks, given the rungs that fired already."""
    clock = measured.clock
    if not ticket.is_open:
        next_at = None
    else:
        moments = [sla.next_deadline(clock)] + [
            rung.at for rung in measured.rungs if (ticket.id, rung.rule.id, rung.cycle) not in fired
        ]
        next_at = min((moment for moment in moments if moment is not None), default=None)
    return {
        "first_response_due_at": clock.first_response.due_at,
        "resolution_due_at": clock.resolution.due_at,
        "next_deadline_at": next_at,
        "sla_state": ticket_state(clock),
    }


_TICKETS = Ticket.__table__
_DEADLINE_COLUMNS = ("first_response_due_at", "resolution_due_at", "next_deadline_at", "sla_state")
_WRITE_DEADLINES = (
    update(_TICKETS)
    .where(_TICKETS.c.id == bindparam("ticket_id"))
    .values({name: bindparam(name, type_=_TICKETS.c[name].type) for name in _DEADLINE_COLUMNS})
)
_DEADLINE_ARRAYS = func.unnest(
    bindparam("ticket_id", type_=postgresql.ARRAY(Integer)),
    *(bindparam(name, type_=postgresql.ARRAY(DateTime(timezone=True))) for name in _DEADLINE_COLUMNS[:3]),
    bindparam("sla_state", type_=postgresql.ARRAY(String)),
).table_valued("ticket_id", *_DEADLINE_COLUMNS).render_derived(name="deadline")
#: PostgreSQL: a batch's deadlines in one statement from five arrays, skipping the rows they leave as they
#: were (a rewritten row that did not change is a dead row for nothing).
_WRITE_DEADLINES_FROM_ARRAYS = (
    update(_TICKETS)
    .where(_TICKETS.c.id == _DEADLINE_ARRAYS.c.ticket_id)
    .where(or_(*(_TICKETS.c[name].is_distinct_from(_DEADLINE_ARRAYS.c[name]) for name in _DEADLINE_COLUMNS)))
    .values({name: _DEADLINE_ARRAYS.c[name] for name in _DEADLINE_COLUMNS})
)


def write_deadline_rows(rows: Sequence[dict]) -> None:
    """Store deadlines (``ticket_id`` and the four values of ``deadline_values``) of many tickets in one
    statement, without bumping their ``lock_version``."""
    if not rows:
        return
    if db.session.get_bind().dialect.name == "postgresql":
        arrays = {name: [row[name] for row in rows] for name in ("ticket_id", *_DEADLINE_COLUMNS)}
        db.session.execute(_WRITE_DEADLINES_FROM_ARRAYS, arrays)
    else:
        db.session.execute(_WRITE_DEADLINES, list(rows))


def _loaded_follow(rows: Sequence[dict]) -> None:
    """Tickets of these rows already loaded in the session get the values just saved (as ``write_deadlines``)."""
    loaded = db.session.identity_map
    if not loaded:
        return
    mapper = Ticket.__mapper__
    for row in rows:
        ticket = loaded.get(mapper.identity_key_from_primary_key((row["ticket_id"],)))
        if ticket is not None:
            for name in _DEADLINE_COLUMNS:
                set_committed_value(ticket, name, row[name])


def write_deadlines(values_by_ticket: Mapping[Ticket, dict]) -> None:
    """Store deadlines of many tickets in one statement, without bumping their ``lock_version``.

    The loaded objects get the same values as already saved, so the session stays in step.
    """
    if not values_by_ticket:
        return
    write_deadline_rows([{"ticket_id": ticket.id, **values} for ticket, values in values_by_ticket.items()])
    for ticket, values in values_by_ticket.items():
        for name, value in values.items():
            set_committed_value(ticket, name, value)


def clock_for(ticket: Ticket, now: datetime) -> sla.SlaClock:
    """A ticket's two clocks as of ``now``; each deadline's ``explanation`` says how it was reached."""
    return _measure_one(ticket, now).clock


def _measure_one(ticket: Ticket, now: datetime) -> TicketClock:
    if ticket.id is None:
        db.session.flush()
    settings = SlaSettings(custom_holidays([ticket.branch_id]))
    return measure(ticket, now, settings, status_events([ticket.id]).get(ticket.id, []))


def refresh_deadlines(ticket: Ticket, now: datetime | None = None) -> sla.SlaClock:
    """Recompute and set the ticket's deadlines, next deadline and state after a change. Flushes nothing."""
    now = now or utcnow()
    measured = _measure_one(ticket, now)
    for name, value in deadline_values(ticket, measured, fired_rungs([ticket.id])).items():
        setattr(ticket, name, value)
    return measured.clock


class OpenTicket(NamedTuple):
    """What a refresh reads of an open ticket (plain columns, no ORM object: 100,000 of them must be cheap)."""

    id: int
    branch: Branch
    priority: Priority
    status: str
    created_at: datetime
    first_response_at: datetime | None

    @property
    def is_open(self) -> bool:
        return True


def refresh_open_tickets(
    *conditions, now: datetime | None = None, batch: int = 2000, after_batch: Callable[[int], None] | None = None
) -> int:
    """Recompute the deadlines of every open ticket matching ``conditions``. Returns how many.

    In batches by id: the clocks of a batch share each branch's laid-out calendar
    (``measure_times``), and each batch is written with one statement (``write_deadline_rows``).
    ``after_batch(last id)`` runs after each batch is written (``refreshes.run`` commits there).
    """
    now = now or utcnow()
    settings = SlaSettings()
    branches = {branch.id: branch for branch in db.session.scalars(select(Branch))}
    done, last_id = 0, 0
    while True:
        rows = db.session.execute(
            select(Ticket.id, Ticket.branch_id, Ticket.priority, Ticket.status, Ticket.created_at,
                   Ticket.first_response_at)
            .where(Ticket.status.in_(OPEN_STATUSES), Ticket.id > last_id, *conditions)
            .order_by(Ticket.id)
            .limit(batch)
        ).all()
        if not rows:
            return done
        tickets = [OpenTicket(id_, branches[branch_id], priority, status, created_at, first_response_at)
                   for id_, branch_id, priority, status, created_at, first_response_at in rows]
        ids = [ticket.id for ticket in tickets]
        events, fired = status_events(ids), fired_rungs(ids)
        values = [
            {"ticket_id": ticket.id,
             **deadline_values(ticket, measure_times(ticket, now, settings, events.get(ticket.id, [])), fired)}
            for ticket in tickets
        ]
        write_deadline_rows(values)
        _loaded_follow(values)
        done += len(tickets)
        last_id = ids[-1]
        if after_batch is not None:
            after_batch(last_id)


def refresh_open_tickets_of_policy(policy: SlaPolicy, now: datetime | None = None) -> int:
    """After a policy edit: its open tickets follow the new targets and ladder."""
    db.session.flush()
    return refresh_open_tickets(Ticket.priority == Priority(policy.priority), now=now)


def refresh_open_tickets_of_branch(branch_id: int | None, now: datetime | None = None) -> int:
    """After an edit of a branch's hours or holidays (None: a holiday of every branch)."""
    db.session.flush()
    conditions = () if branch_id is None else (Ticket.branch_id == branch_id,)
    return refresh_open_tickets(*conditions, now=now)


POLICY_FIELDS = frozenset({"first_response_minutes", "resolution_minutes", "business_hours", "warning_percent"})


def update_policy(policy: SlaPolicy, now: datetime | None = None, refresh: bool = True, **changes: object) -> int:
    """Change a policy's targets; its open tickets' due times move with it. Returns how many moved.

    With ``refresh=False`` the tickets are left to the caller (who enqueues
    ``app.jobs.sla.refresh_policy_tickets`` after the commit) and 0 is returned.
    Raises ValueError for an unknown field or a target the core refuses (nothing is changed then).
    """
    unknown = set(changes) - POLICY_FIELDS
    if unknown:
        raise ValueError(f"unknown policy fields: {sorted(unknown)}")
    now = now or utcnow()
    before = {name: getattr(policy, name) for name in changes}
    for name, value in changes.items():
        setattr(policy, name, value)
    try:
        core_policy(policy)
    except ValueError:
        for name, value in before.items():
            setattr(policy, name, value)
        raise
    policy.updated_at = now
    return refresh_open_tickets_of_policy(policy, now) if refresh else 0
