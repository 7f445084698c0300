"""Reviewing flagged responses: list them for a reviewer and record verdicts, never deleting anything.

A verdict is "confirmed" (the response stays out of the scores) or "cleared" (it counts again,
see ``Response.counts_in_scores``). It can be changed later; every change is written to the audit
log (before/after) and marks the response's (branch, local day) for the roll-ups to be rebuilt.
Responses outside the reviewer's branches, or without flags, are never touched.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from statistics import median
from typing import Any

from sqlalchemy import ColumnElement, Select, Text, cast, select, tuple_
from sqlalchemy.orm import joinedload, selectinload

from app.core.clock import utcnow
from app.core.quality import FLAGS
from app.extensions import db
from app.models import Answer, AuditEntry, Response, User
from app.models.responses import QUALITY_CLEARED, QUALITY_CONFIRMED
from app.permissions import scope_responses
from app.services import audit
from app.services.insight.filters import InsightFilter
from app.services.survey.responses import recent_durations, ResponseFilter
from app.services.insight.rollups import local_day, mark_dirty

UNREVIEWED, ALL = "unreviewed", "all"
REVIEW_STATES = (UNREVIEWED, QUALITY_CONFIRMED, QUALITY_CLEARED, ALL)
VERDICTS = (QUALITY_CONFIRMED, QUALITY_CLEARED)
#: The audit log's verb for each verdict.
VERDICT_ACTIONS = {QUALITY_CONFIRMED: "confirm", QUALITY_CLEARED: "clear"}
AUDIT_FIELDS = ("quality_flags", "quality_review")
#: More ids than this in one bulk verdict is not a person ticking boxes.
MAX_BULK = 500
_MAX_ID = 2**31 - 1


def is_flagged() -> ColumnElement[bool]:
    """SQL twin of ``Response.is_flagged`` (an empty list is stored as the JSON text ``[]``)."""
    return cast(Response.quality_flags, Text).not_in(("[]", "null"))


def has_flag(flag: str) -> ColumnElement[bool]:
    """The flag list holds ``flag`` (one of core.quality.FLAGS: plain words, nothing to escape)."""
    return cast(Response.quality_flags, Text).like(f'%"{flag}"%')


def valid_id(value: Any) -> int | None:
    """A response id as typed into a form or a URL, or None when it cannot be one."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= _MAX_ID else None


@dataclass(frozen=True)
class ReviewFilter:
    flag: str | None = None
    state: str = UNREVIEWED
    #: Dates, branches and the user's scope, as on the dashboard.
    period: InsightFilter = InsightFilter(include_flagged=True)

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> ReviewFilter:
        """Forgiving: a value that does not parse is dropped (never an error page)."""
        flag = args.get("flag")
        state = args.get("state")
        return cls(
            flag=flag if flag in FLAGS else None,
            state=state if state in REVIEW_STATES else UNREVIEWED,
            period=replace(InsightFilter.from_args(args), include_flagged=True),
        )

    def to_args(self) -> dict[str, Any]:
        """For a link or a redirect back to the same list."""
        args: dict[str, Any] = {"state": self.state}
        if self.flag:
            args["flag"] = self.flag
        if self.period.branch_ids:
            args["branch_ids"] = list(self.period.branch_ids)
        if self.period.date_from:
            args["date_from"] = self.period.date_from.isoformat()
        if self.period.date_to:
            args["date_to"] = self.period.date_to.isoformat()
        return args

    def apply(self, query: Select, user: User) -> Select:
        """Flagged, submitted, in the user's scope; dates are each branch's own days, as the list shows them."""
        query = ResponseFilter(insight=self.period).apply(query.where(is_flagged()), user)
        if self.flag:
            query = query.where(has_flag(self.flag))
        if self.state == UNREVIEWED:
            query = query.where(Response.quality_review.is_(None))
        elif self.state != ALL:
            query = query.where(Response.quality_review == self.state)
        return query


def flagged_responses(user: User, f: ReviewFilter, limit: int = 50, before_id: int | None = None) -> list[Response]:
    """Newest submission first; ``before_id`` continues after that response."""
    query = (
        select(Response)
        .options(
            joinedload(Response.branch),
            selectinload(Response.answers).joinedload(Answer.question),
        )
        .order_by(Response.submitted_at.desc(), Response.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        anchor = db.session.get(Response, before_id) if valid_id(before_id) else None
        if anchor is None or anchor.submitted_at is None:
            return []
        query = query.where(
            tuple_(Response.submitted_at, Response.id) < tuple_(anchor.submitted_at, anchor.id)
        )
    return list(db.session.scalars(f.apply(query, user)))


def median_durations(version_ids: Iterable[int]) -> dict[int, float]:
    """Each version's median time to answer (its latest responses), for "duration vs the median"."""
    medians = {}
    for version_id in set(version_ids):
        durations = recent_durations(version_id)
        if durations:
            medians[version_id] = median(durations)
    return medians


def verdict_history(responses: Iterable[Response]) -> dict[int, list[AuditEntry]]:
    """Each response's verdicts from the audit log, oldest first: who confirmed or cleared it, and when."""
    ids = [r.id for r in responses]
    if not ids:
        return {}
    entries = db.session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.entity_type == audit.ENTITY_TYPES["Response"],
            AuditEntry.entity_id.in_(ids),
            AuditEntry.action.in_(VERDICT_ACTIONS.values()),
        )
        .options(selectinload(AuditEntry.user))
        .order_by(AuditEntry.id)
    )
    history: dict[int, list[AuditEntry]] = {}
    for entry in entries:
        history.setdefault(entry.entity_id, []).append(entry)
    return history


def reviewable(user: User, response_id: Any) -> Response | None:
    """A flagged, submitted response in the user's scope, or None."""
    found = reviewable_many(user, [response_id])
    return found[0] if found else None


def reviewable_many(user: User, response_ids: Iterable[Any]) -> list[Response]:
    ids = {i for i in (valid_id(v) for v in list(response_ids)[:MAX_BULK]) if i is not None}
    if not ids:
        return []
    query = (
        select(Response)
        .where(Response.id.in_(ids), Response.submitted_at.is_not(None), is_flagged())
        .options(joinedload(Response.branch))
        .order_by(Response.id)
    )
    return list(db.session.scalars(scope_responses(query, user)))


def give_verdict(actor: User, responses: Iterable[Response], verdict: str) -> list[Response]:
    """Confirm or clear ``responses`` (from ``reviewable_many``); returns those whose verdict changed.

    Flushes; the caller commits. A response already carrying this verdict is left as it is.
    """
    if verdict not in VERDICTS:
        raise ValueError(f"unknown verdict {verdict!r}")
    now = utcnow()
    changed = []
    for response in responses:
        if response.quality_review == verdict or not response.is_flagged:
            continue
        before = audit.values(response, AUDIT_FIELDS)
        response.quality_review = verdict
        response.quality_reviewed_at = now
        response.quality_reviewed_by_id = actor.id
        audit.record(
            actor,
            VERDICT_ACTIONS[verdict],
            response,
            before=before,
            after=audit.values(response, AUDIT_FIELDS),
            label=f"#{response.id} · {response.branch.code}",
        )
        mark_dirty(response.branch_id, local_day(response.submitted_at, response.branch.timezone))
        changed.append(response)
    db.session.flush()
    return changed
