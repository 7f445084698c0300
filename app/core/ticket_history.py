"""What a ticket's history says to its SLA clocks: the pauses, the current resolution period, the first response."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

DEFAULT_PAUSING_STATUSES: frozenset[str] = frozenset({"waiting_on_customer"})
DEFAULT_DONE_STATUSES: frozenset[str] = frozenset({"resolved", "closed"})
#: Activity that counts as the first response; an internal note does not.
FIRST_RESPONSE_KINDS: frozenset[str] = frozenset({"reply", "call"})


@dataclass(frozen=True)
class StatusChange:
    """One row of a ticket's append-only status history."""

    at: datetime
    status: str


@dataclass(frozen=True)
class Pause:
    """A stretch the clocks stand still; ``end`` is None while it lasts."""

    start: datetime
    end: datetime | None
    status: str


def _in_order(history: Iterable[StatusChange]) -> list[StatusChange]:
    return sorted(history, key=lambda change: change.at)  # stable: same-instant rows keep their order


def pauses_from_history(
    history: Iterable[StatusChange],
    pausing_statuses: frozenset[str] = DEFAULT_PAUSING_STATUSES,
    until: datetime | None = None,
) -> tuple[Pause, ...]:
    """The pauses a status history implies, as of ``until`` (later changes are ignored).

    A change between two pausing statuses ends one pause and starts the next, so the
    timeline names the status of each; a pause still going at ``until`` has no end.
    """
    pauses: list[Pause] = []
    current: StatusChange | None = None
    for change in _in_order(history):
        if until is not None and change.at > until:
            break
        if current is not None and change.status != current.status:
            if change.at > current.at:
                pauses.append(Pause(current.at, change.at, current.status))
            current = None
        if current is None and change.status in pausing_statuses:
            current = change
    if current is not None:
        pauses.append(Pause(current.at, None, current.status))
    return tuple(pauses)


def resolution_period(
    history: Iterable[StatusChange],
    opened_at: datetime,
    done_statuses: frozenset[str] = DEFAULT_DONE_STATUSES,
) -> tuple[datetime, datetime | None]:
    """When the current resolution clock started and when it stopped (None: still running).

    It starts when the ticket is opened or, after a reopen, at the last reopen; it stops
    when the ticket first reached a done status after that (resolved, then closed, stops
    at "resolved").
    """
    started_at, resolved_at = opened_at, None
    for change in _in_order(history):
        done = change.status in done_statuses
        if done and resolved_at is None:
            resolved_at = change.at
        elif not done and resolved_at is not None:
            started_at, resolved_at = change.at, None
    return started_at, resolved_at


def find_first_response(
    activity: Iterable[tuple[datetime, str]], kinds: frozenset[str] = FIRST_RESPONSE_KINDS
) -> datetime | None:
    """The first reply to the customer or logged call among ``(at, kind)`` activity."""
    return min((at for at, kind in activity if kind in kinds), default=None)
