"""The filter the analysis pages and the exports share: period, branches, region, version, channel, flagged.

One object, so that "the responses on the dashboard" and "the responses in the export" are the
same rows:

- read it from a query string or a form with ``InsightFilter.from_args(request.args)``: forgiving,
  a value that does not parse is dropped (never an error page);
- keep it in a background job's ``run.params`` with ``to_params()`` / ``from_params()`` (JSON-safe);
- apply it to a ``select()`` on Response or Ticket with ``apply_to_responses(query, user)`` /
  ``apply_to_tickets(query, user)``. Both also limit the query to the user's scope
  (app.permissions), so a branch id typed into a URL never widens what anyone sees.

Rules it applies:

- Dates are calendar days in head office's time zone (config ``LOOPDESK_HOME_TIMEZONE``), both
  ends included: the half-open UTC range [date_from 00:00, day after date_to 00:00). Responses
  are dated by submission, tickets by creation.
- Responses: only submitted ones (a partial response is not a response yet). Flagged responses
  (data quality) are left out unless ``include_flagged``, except those a reviewer cleared: the
  same rule as ``Response.counts_in_scores`` (see ``counted_in_scores()``).
- Tickets: the version and the channel are those of the response the ticket came from (tickets
  staff opened by hand have none and drop out when a version or a channel is chosen). ``include_flagged`` does not apply: a
  ticket is work done whatever the quality of the response behind it.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import ColumnElement, Select, Text, cast, or_, select

from app.core.ids import id_or_none
from app.models import Branch, Channel, Response, Ticket, User
from app.models.responses import QUALITY_CLEARED
from app.permissions import scope_responses, scope_tickets

#: Dates outside these are typing mistakes; they are dropped rather than overflowing a time zone.
MIN_DATE, MAX_DATE = date(1970, 1, 1), date(2999, 12, 31)
#: More branch ids than this in one filter is not a person choosing branches.
MAX_BRANCH_IDS = 1000
REGION_MAX_LENGTH = 80
_TRUE_WORDS = frozenset({"1", "true", "on", "yes", "y"})

#: The names of the query-string arguments (and of the export form's fields).
ARG_NAMES = ("date_from", "date_to", "branch_ids", "region", "version_id", "channel", "include_flagged")


def counted_in_scores() -> ColumnElement[bool]:
    """SQL twin of ``Response.counts_in_scores``: no quality flags, or flags a reviewer cleared.

    An empty flag list is stored as the JSON text ``[]``; comparing the text works the same on
    SQLite and PostgreSQL (``json``, which keeps the text as written).
    """
    no_flags = cast(Response.quality_flags, Text).in_(("[]", "null"))
    return or_(no_flags, Response.quality_review == QUALITY_CLEARED)


@dataclass(frozen=True)
class InsightFilter:
    date_from: date | None = None
    date_to: date | None = None
    branch_ids: tuple[int, ...] = ()
    region: str | None = None
    #: A questionnaire version (responses point at the version they answered).
    version_id: int | None = None
    include_flagged: bool = False
    #: How the responses reached us (app.models.Channel).
    channel: Channel | None = None

    # -- reading -------------------------------------------------------------------------------

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> InsightFilter:
        """From a query string or form data (a MultiDict: ``branch_ids`` may repeat)."""
        getlist = getattr(args, "getlist", None)
        branch_values = getlist("branch_ids") if getlist else _as_list(args.get("branch_ids"))
        return cls._parsed(
            date_from=args.get("date_from"),
            date_to=args.get("date_to"),
            branch_ids=branch_values,
            region=args.get("region"),
            version_id=args.get("version_id"),
            channel=args.get("channel"),
            include_flagged=args.get("include_flagged"),
        )

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> InsightFilter:
        """From what ``to_params`` stored (the same forgiving parsing: params may be old or edited)."""
        params = params or {}
        return cls._parsed(
            date_from=params.get("date_from"),
            date_to=params.get("date_to"),
            branch_ids=_as_list(params.get("branch_ids")),
            region=params.get("region"),
            version_id=params.get("version_id"),
            channel=params.get("channel"),
            include_flagged=params.get("include_flagged"),
        )

    def to_params(self) -> dict[str, Any]:
        return {
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "branch_ids": list(self.branch_ids),
            "region": self.region,
            "version_id": self.version_id,
            "channel": self.channel.value if self.channel else None,
            "include_flagged": self.include_flagged,
        }

    @classmethod
    def _parsed(cls, date_from, date_to, branch_ids, region, version_id, channel, include_flagged) -> InsightFilter:
        first, last = _date(date_from), _date(date_to)
        if first and last and first > last:
            first, last = last, first
        ids = sorted({i for i in (_positive_int(v) for v in branch_ids[:MAX_BRANCH_IDS]) if i is not None})
        # Control characters (PostgreSQL refuses a NUL byte) are never part of a region's name.
        region_text = "".join(c for c in region if c >= " ") if isinstance(region, str) else ""
        region_text = region_text.strip()[:REGION_MAX_LENGTH]
        return cls(
            date_from=first,
            date_to=last,
            branch_ids=tuple(ids),
            region=region_text or None,
            version_id=_positive_int(version_id),
            channel=_channel(channel),
            include_flagged=_flag(include_flagged),
        )

    # -- applying ------------------------------------------------------------------------------

    def utc_range(self, zone: str | None = None) -> tuple[datetime | None, datetime | None]:
        """[start, end) in UTC of the chosen days in ``zone`` (head office's by default)."""
        tz = ZoneInfo(zone or current_app.config["LOOPDESK_HOME_TIMEZONE"])
        start = end = None
        if self.date_from:
            start = datetime.combine(self.date_from, time(), tz).astimezone(UTC)
        if self.date_to:
            end = datetime.combine(self.date_to + timedelta(days=1), time(), tz).astimezone(UTC)
        return start, end

    def apply_to_responses(self, query: Select, user: User) -> Select:
        """Submitted responses matching the filter, inside the user's scope."""
        query = query.where(Response.submitted_at.is_not(None))
        query = self._period_and_place(query, Response.submitted_at, Response.branch_id)
        if self.version_id:
            query = query.where(Response.version_id == self.version_id)
        if self.channel:
            query = query.where(Response.channel == self.channel)
        if not self.include_flagged:
            query = query.where(counted_in_scores())
        return scope_responses(query, user)

    def apply_to_tickets(self, query: Select, user: User) -> Select:
        """Tickets matching the filter, inside the user's scope (departments and branches)."""
        query = self._period_and_place(query, Ticket.created_at, Ticket.branch_id)
        if self.version_id:
            query = query.where(
                Ticket.response_id.in_(select(Response.id).where(Response.version_id == self.version_id))
            )
        if self.channel:
            query = query.where(Ticket.response_id.in_(select(Response.id).where(Response.channel == self.channel)))
        return scope_tickets(query, user)

    def _period_and_place(self, query: Select, moment: ColumnElement, branch_id: ColumnElement) -> Select:
        start, end = self.utc_range()
        if start is not None:
            query = query.where(moment >= start)
        if end is not None:
            query = query.where(moment < end)
        if self.branch_ids:
            query = query.where(branch_id.in_(self.branch_ids))
        if self.region:
            query = query.where(branch_id.in_(select(Branch.id).where(Branch.region == self.region)))
        return query


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        if not isinstance(value, str) or not value.strip():
            return None
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            return None
    return value if MIN_DATE <= value <= MAX_DATE else None


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    return id_or_none(value.strip() if isinstance(value, str) else value)


def _channel(value: Any) -> Channel | None:
    try:
        return Channel(value.strip()) if isinstance(value, str) else None
    except ValueError:
        return None


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in _TRUE_WORDS
