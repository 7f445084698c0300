"""Whose figures the dashboard shows: a filter resolved for one user into days and branches.

The days are taken in each branch's own time zone (see ``app.services.dashboard``); the branches
are those the user may see that the filter keeps.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlalchemy import select

from app.core import insight
from app.core.insight import Grain
from app.extensions import db
from app.models import ApiKey, Branch, User
from app.permissions import branch_scope
from app.services.insight.filters import InsightFilter

#: Without dates the dashboard shows the last 30 days.
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class BranchRef:
    id: int
    code: str
    name: str
    region: str
    timezone: str


@dataclass(frozen=True)
class Selection:
    """A filter resolved for one user (or an integration's API key): its days, and the branches it covers
    inside their scope."""

    user: User | ApiKey
    filter: InsightFilter
    first: date
    last: date
    grain: Grain
    branches: tuple[BranchRef, ...]
    #: True when the selection is every branch there is (no scope limit and no branch filter).
    everything: bool

    @property
    def branch_ids(self) -> list[int]:
        return [b.id for b in self.branches]


def visible_branches(user: User | ApiKey) -> list[BranchRef]:
    """The branches whose figures ``user`` (or an API key) may see: app.permissions' rule for responses
    (admins and head office every branch, others their own), closed branches included for history."""
    query = select(Branch.id, Branch.code, Branch.name, Branch.region, Branch.timezone).order_by(Branch.name)
    branch_ids = branch_scope(user)
    if branch_ids is not None:
        query = query.where(Branch.id.in_(branch_ids or [-1]))
    return [BranchRef(*row) for row in db.session.execute(query)]


def resolve(user: User | ApiKey, wanted: InsightFilter, today: date, grain: Grain | str | None = None) -> Selection:
    """The filter with its days filled in (the last 30 days by default) and its branches in scope."""
    first, last = wanted.date_from, wanted.date_to
    if first is None and last is None:
        last = today
    if last is None:
        last = max(first, today)
    if first is None:
        first = last - timedelta(days=DEFAULT_DAYS - 1)
    resolved = replace(wanted, date_from=first, date_to=last)
    visible = visible_branches(user)
    chosen = [
        b for b in visible
        if (not wanted.branch_ids or b.id in wanted.branch_ids) and (not wanted.region or b.region == wanted.region)
    ]
    everything = branch_scope(user) is None and len(chosen) == len(visible)
    grain = Grain(grain) if grain in set(Grain) else insight.grain_for(first, last)
    return Selection(user, resolved, first, last, grain, tuple(chosen), everything)
