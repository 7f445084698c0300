"""The dashboard's figures (数据汇总分析) for supervisors and admins, inside their scope.

Responses are read from the daily roll-ups only (never the raw rows: a year of a chain is a
million responses): the roll-up tables are summed in SQL (GROUP BY), and the rules of
``app.core.scoring`` / ``app.core.insight`` turn the sums into scores in Python. Tickets are
few enough to aggregate directly.

The rules every figure follows (``tests.oracles.dashboard_naive`` recomputes each of them from
the raw rows, and the tests hold the two together):

- A response's day is its branch's local day; the range first…last is taken in each branch's own
  time zone. Tickets follow the shared ``InsightFilter`` (head office's days, by creation).
- Flagged responses count only when the filter includes them (or a reviewer cleared them).
- CSAT pools every CSAT (1–5) rating: the share that is 4–5. NPS pools every NPS answer.
- Dimension means pool the CSAT ratings of the dimension's questions, by dimension key across
  questionnaire versions. The index weighs them with each dimension's weight in the newest
  version (highest id) that has answers in the selection; the same weights serve every row and
  period, so they compare.
- Key issues are options of single / multiple choice questions, pooled by (question key,
  option), counted once per response; the share is of all responses in the selection.
- Negative feedback: a response that opened a ticket.
- SLA attainment: each ticket by its own clock, ``app.services.sla.attainment`` (the board's rule):
  a target counts once met or overdue; the share is met / (met + missed).

This module is the package's face: the page (``build``), its targets and filter links. Beside it:
``selection`` (a filter resolved for one user into days and branches), ``scores`` (roll-ups summed
in SQL and scored), ``figures`` (headline, dimensions, trend, league, channels, key issues), ``tickets``
(per department and category), ``charts`` (the SVG charts).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from app.core import insight
from app.core.clock import utcnow
from app.core.scoring import weak_dimensions
from app.extensions import db
from app.models import ImprovementAction, Questionnaire, QuestionnaireVersion, ResponseRollup
from app.models.insight import action_branches
from app.models.types import Texts
from app.services.insight import rollups
from app.services.sla import attainment as sla_attainment
from app.services.sla.attainment import Attainment, Tally
from app.services.dashboard.figures import (
    branch_league,
    BranchRow,
    channel_split,
    ChannelRow,
    day_sums,
    DimensionRow,
    Headline,
    headline_and_dimensions,
    IssueRow,
    key_issues,
    trend,
    TrendPoint,
)
from app.services.dashboard.selection import Selection, visible_branches
from app.services.dashboard.tickets import CategoryRow, count_if, DepartmentRow, ticket_sums

#: The page's entry points, with the selection, figures and scoring that other modules take from here.

#: The page rebuilds the dirty days of its selection itself when there are at most this many.
SYNC_REBUILD_LIMIT = 30
#: The brief's target for improvement actions completed.
TARGET_ACTIONS_COMPLETED = 95.0


def home_today() -> date:
    return rollups.local_day(utcnow(), current_app.config["LOOPDESK_HOME_TIMEZONE"])


def refresh_if_few(selection: Selection, limit: int = SYNC_REBUILD_LIMIT) -> int:
    """Rebuild the selection's dirty days now when there are few (the sweep does the rest)."""
    return rollups.rebuild_dirty_of(selection.branch_ids, limit)


def figures_as_of(selection: Selection, now: datetime) -> tuple[datetime, int]:
    """Until when the roll-ups of the selection are complete, and how many days wait for a rebuild."""
    waiting, oldest = rollups.pending(selection.branch_ids)
    return (oldest if oldest is not None and oldest < now else now), waiting


@dataclass(frozen=True)
class TargetRow:
    key: str
    value: float | None
    target: float
    #: "min": the value must reach the target; "max": it must stay below it.
    kind: str
    count: int
    of: int
    #: For an SLA target: met, missed and still running (``app.services.sla.attainment``).
    tally: Tally | None = None

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        return self.value >= self.target if self.kind == "min" else self.value < self.target


def actions_completion(selection: Selection, today: date) -> tuple[int, int]:
    """Improvement actions due in the selection (deadline in its days, not after today): (completed, due).

    An action counts for the selection's branches when linked to one of them; with every branch
    selected, actions without a branch (chain-wide) count too.
    """
    last = min(selection.last, today)
    query = select(
        func.count(ImprovementAction.id), count_if(ImprovementAction.completed_at.is_not(None))
    ).where(ImprovementAction.deadline >= selection.first, ImprovementAction.deadline <= last)
    if not selection.everything:
        linked = select(action_branches.c.action_id).where(
            action_branches.c.branch_id.in_(selection.branch_ids or [-1])
        )
        query = query.where(ImprovementAction.id.in_(linked))
    due, completed = db.session.execute(query).one()
    return int(completed or 0), int(due or 0)


def targets(selection: Selection, attained: Attainment, headline: Headline, today: date) -> list[TargetRow]:
    """The brief's targets beside what the selection reached (SLA: each ticket by its own clock)."""

    def percent(count: int, of: int) -> float | None:
        return 100.0 * count / of if of else None

    def sla_row(key: str, tally: Tally, target: float) -> TargetRow:
        return TargetRow(key, tally.share, target, "min", tally.met, tally.counted, tally)

    completed, due = actions_completion(selection, today)
    return [
        sla_row("first_response", attained.first_response, sla_attainment.TARGET_FIRST_RESPONSE),
        sla_row("resolution", attained.resolution, sla_attainment.TARGET_RESOLUTION),
        TargetRow("negative_rate", headline.negative_rate, 100 * insight.NEGATIVE_RATE_TARGET, "max",
                  headline.negative, headline.responses),
        TargetRow("actions_completed", percent(completed, due), TARGET_ACTIONS_COMPLETED, "min", completed, due),
    ]


@dataclass(frozen=True)
class Dashboard:
    selection: Selection
    headline: Headline
    dimensions: list[DimensionRow]
    trend: list[TrendPoint]
    branches: list[BranchRow]
    channels: list[ChannelRow]
    key_issues: list[IssueRow]
    departments: list[DepartmentRow]
    categories: list[CategoryRow]
    targets: list[TargetRow]
    weak: list[DimensionRow] = field(default_factory=list)


def build(selection: Selection, today: date, now: datetime | None = None) -> Dashboard:
    days = day_sums(selection)
    headline, dimensions = headline_and_dimensions(selection, days)
    tickets = ticket_sums(selection, now or utcnow())
    means = {d.key: d.mean for d in dimensions if d.mean is not None}
    by_key = {d.key: d for d in dimensions}
    return Dashboard(
        selection=selection,
        headline=headline,
        dimensions=dimensions,
        trend=trend(selection, days),
        branches=branch_league(selection, days.context),
        channels=channel_split(selection, days.context),
        key_issues=key_issues(selection, headline.responses),
        departments=tickets.departments,
        categories=tickets.categories,
        targets=targets(selection, tickets.attainment, headline, today),
        weak=[by_key[key] for key in weak_dimensions(means)],
    )


def versions_in_scope(selection: Selection) -> list[tuple[int, int, Texts, str]]:
    """(version id, number, questionnaire name and code) of the versions with responses in the user's branches."""
    used = select(ResponseRollup.version_id).where(
        ResponseRollup.branch_id.in_([b.id for b in visible_branches(selection.user)] or [-1])
    ).distinct()
    rows = db.session.execute(
        select(QuestionnaireVersion.id, QuestionnaireVersion.number, Questionnaire.name, Questionnaire.code)
        .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
        .where(QuestionnaireVersion.id.in_(used))
        .order_by(Questionnaire.id, QuestionnaireVersion.number)
    )
    return [(vid, number, dict(name or {}), code) for vid, number, name, code in rows]


def filter_args(selection: Selection, **extra: Any) -> dict[str, Any]:
    """The selection as query-string arguments (for links and chart URLs)."""
    f = selection.filter
    args: dict[str, Any] = {"date_from": f.date_from.isoformat(), "date_to": f.date_to.isoformat()}
    if f.branch_ids:
        args["branch_ids"] = list(f.branch_ids)
    if f.region:
        args["region"] = f.region
    if f.version_id:
        args["version_id"] = f.version_id
    if f.channel:
        args["channel"] = f.channel.value
    if f.include_flagged:
        args["include_flagged"] = "1"
    args.update({k: v for k, v in extra.items() if v is not None})
    return args
