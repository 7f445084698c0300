"""The dashboard's figures recomputed the slow, obvious way from the raw rows.

The check on ``app.services.dashboard`` (which reads the roll-ups): it shares no aggregation code
with it. It loads every response the user may see with its answers, and every ticket, decides in
Python which belong to the filter, and scores them with the list forms of the rules
(``csat_score``, ``nps_score``, ``mean_rating``...). Same rules, see the dashboard's docstring:
a response's day is its branch's local day; tickets are dated by creation in head office's days; a ticket's SLA outcome is what its page's
clocks say (``clocks.clock_for``: met, breached, or still running).

``figures(dashboard)`` and ``naive_figures(...)`` return the same plain structure, so a test
compares them with one ``==``.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.core import insight
from app.core.clock import utcnow
from app.core.insight import Grain
from app.core.sla import SlaState
from app.core.scoring import csat_score, mean_rating, nps_score, weak_dimensions, weighted_index
from app.extensions import db
from app.models import Branch, Channel, Dimension, ImprovementAction, Question, QuestionType, Response, Role, Ticket, User
from app.models.tickets import OPEN_STATUSES
from app.permissions import scope_responses, scope_tickets
from app.services.sla import board, clocks
from app.services.insight.filters import InsightFilter


def figures(dashboard) -> dict:
    """The numbers a dashboard shows, as plain values."""
    h = dashboard.headline
    return {
        "responses": h.responses,
        "negative": h.negative,
        "csat": (h.scores.csat, h.scores.csat_ratings),
        "nps": (h.scores.nps, h.scores.nps_answers),
        "index": h.scores.index,
        "dimensions": {d.key: (d.mean, d.ratings, d.weight, d.weak) for d in dashboard.dimensions},
        "weak": [d.key for d in dashboard.weak],
        "trend": [
            (p.start, p.end, p.responses, p.scores.csat, p.scores.nps, p.scores.index) for p in dashboard.trend
        ],
        "branches": [
            (r.branch.id, r.responses, r.negative, r.scores.csat, r.scores.nps, r.scores.index,
             tuple(sorted(r.scores.means.items())))
            for r in dashboard.branches
        ],
        "channels": [
            (str(r.channel), r.responses, r.negative, r.scores.csat, r.scores.nps, r.scores.index)
            for r in dashboard.channels
        ],
        "key_issues": [(i.question_key, i.option, i.customers, i.share, str(i.level)) for i in dashboard.key_issues],
        "departments": [
            (d.id, d.tickets, d.open, d.breached, d.resolved,
             (d.first_response.met, d.first_response.missed, d.first_response.running),
             (d.resolution.met, d.resolution.missed, d.resolution.running))
            for d in dashboard.departments
        ],
        "categories": [(c.category, c.tickets, c.share) for c in dashboard.categories],
        "targets": {t.key: (t.value, t.count, t.of, t.met) for t in dashboard.targets},
    }


def sla_outcomes(ticket: Ticket, now: datetime) -> tuple[str, str]:
    """What the ticket's page says of its two clocks as of ``now``: met, missed (breached) or running."""
    clock = clocks.clock_for(ticket, now)
    return tuple(
        "met" if d.state is SlaState.MET else "missed" if d.state is SlaState.BREACHED else "running"
        for d in (clock.first_response, clock.resolution)
    )


def naive_figures(user: User, wanted: InsightFilter, grain: Grain, today: date, now: datetime | None = None) -> dict:
    """Every figure of the dashboard for ``wanted`` (its dates set), from the raw rows; SLA as of ``now``."""
    now = now or utcnow()
    first, last = wanted.date_from, wanted.date_to
    assert first is not None and last is not None, "the naive check needs both dates"

    # Branches: the user's (every one for admins and head office), then the filter's.
    if user.role == Role.ADMIN or user.all_branches:
        visible = list(db.session.scalars(select(Branch)))
    else:
        visible = list(user.branches)
    chosen = sorted(
        (b for b in visible
         if (not wanted.branch_ids or b.id in wanted.branch_ids) and (not wanted.region or b.region == wanted.region)),
        key=lambda b: (b.name, b.id),
    )
    chosen_ids = {b.id for b in chosen}
    everything = (user.role == Role.ADMIN or user.all_branches) and len(chosen) == len(visible)

    # Responses: submitted, in scope, on the branch's local days, the version, the channel, flagged or not.
    def belongs(response: Response) -> bool:
        if response.submitted_at is None or response.branch_id not in chosen_ids:
            return False
        day = response.submitted_at.astimezone(ZoneInfo(response.branch.timezone)).date()
        if not first <= day <= last:
            return False
        if wanted.version_id and response.version_id != wanted.version_id:
            return False
        if wanted.channel and response.channel != wanted.channel:
            return False
        return wanted.include_flagged or response.counts_in_scores

    query = scope_responses(
        select(Response).options(selectinload(Response.answers), selectinload(Response.branch)), user
    )
    responses = [r for r in db.session.scalars(query) if belongs(r)]
    question_of = {q.id: q for q in db.session.scalars(select(Question).options(selectinload(Question.dimension)))}
    negative_ids = set(db.session.scalars(select(Ticket.response_id).where(Ticket.response_id.is_not(None))))

    def ratings(rs, kind):
        return [a.value_int for r in rs for a in r.answers
                if question_of[a.question_id].type == kind and a.value_int is not None]

    # The weights: each dimension's weight in the newest version with ratings in the selection.
    rated_versions = sorted({r.version_id for r in responses if ratings([r], QuestionType.CSAT) or ratings([r], QuestionType.NPS)})
    weights: dict[str, float] = {}
    for dimension in db.session.scalars(
        select(Dimension).where(Dimension.version_id.in_(rated_versions)).order_by(Dimension.version_id)
    ):
        weights[dimension.key] = dimension.weight

    def dimension_ratings(rs) -> dict[str, list[int]]:
        found: dict[str, list[int]] = defaultdict(list)
        for r in rs:
            for a in r.answers:
                q = question_of[a.question_id]
                if q.type == QuestionType.CSAT and q.dimension is not None and a.value_int is not None:
                    found[q.dimension.key].append(a.value_int)
        return found

    def score(rs):
        means = {k: mean_rating(v) for k, v in dimension_ratings(rs).items()}
        return csat_score(ratings(rs, QuestionType.CSAT)), nps_score(ratings(rs, QuestionType.NPS)), (
            weighted_index(means, weights) if means else None
        )

    csat, nps, index = score(responses)
    by_dimension = dimension_ratings(responses)
    means = {k: mean_rating(v) for k, v in by_dimension.items()}
    weak = weak_dimensions(means)
    negative = sum(1 for r in responses if r.id in negative_ids)

    # Trend: every period from first to last.
    trend = []
    starts = insight.period_starts(first, last, grain)
    for i, start in enumerate(starts):
        end = min(starts[i + 1] - timedelta(days=1) if i + 1 < len(starts) else last, last)
        start = max(start, first)
        in_period = [
            r for r in responses
            if start <= r.submitted_at.astimezone(ZoneInfo(r.branch.timezone)).date() <= end
        ]
        trend.append((start, end, len(in_period), *score(in_period)))

    # Branch league: best index first, branches without ratings last.
    league = []
    for branch in chosen:
        mine = [r for r in responses if r.branch_id == branch.id]
        b_csat, b_nps, b_index = score(mine)
        b_means = {k: mean_rating(v) for k, v in dimension_ratings(mine).items()}
        league.append((branch.id, len(mine), sum(1 for r in mine if r.id in negative_ids), b_csat, b_nps, b_index,
                       tuple(sorted(b_means.items())), branch.name))
    league.sort(key=lambda row: (row[5] is None, -(row[5] or 0), row[7], row[0]))

    # Channels: in the order of Channel, those with responses.
    channels = []
    for channel in Channel:
        mine = [r for r in responses if r.channel == channel]
        if mine:
            channels.append((str(channel), len(mine), sum(1 for r in mine if r.id in negative_ids), *score(mine)))

    # Key issues: options per customer, by question key.
    customers: dict[str, int] = defaultdict(int)
    for r in responses:
        chosen_options = set()
        for a in r.answers:
            q = question_of[a.question_id]
            if q.type in (QuestionType.SINGLE, QuestionType.MULTIPLE):
                chosen_options |= {(q.key, str(o)) for o in a.value_choices or []}
        for key, option in chosen_options:
            customers[f"{key}\n{option}"] += 1
    issues = [
        (*i.problem.split("\n", 1), i.customers, 100 * i.share, str(i.level))
        for i in insight.key_issues(customers, len(responses))
    ]

    # Tickets: in scope, created on head office's days, the filter's branches, version and channel.
    home = ZoneInfo(current_app.config["LOOPDESK_HOME_TIMEZONE"])

    def ticket_belongs(t: Ticket) -> bool:
        if not first <= t.created_at.astimezone(home).date() <= last:
            return False
        if wanted.branch_ids and t.branch_id not in wanted.branch_ids:
            return False
        if wanted.region and t.branch.region != wanted.region:
            return False
        if not everything and t.branch_id not in chosen_ids:
            return False
        if wanted.channel and (t.response is None or t.response.channel != wanted.channel):
            return False
        return not wanted.version_id or (t.response is not None and t.response.version_id == wanted.version_id)

    tickets = [t for t in db.session.scalars(scope_tickets(select(Ticket), user)) if ticket_belongs(t)]

    outcomes = {t.id: sla_outcomes(t, now) for t in tickets}

    def tally(mine: list[Ticket], target: int) -> tuple[int, int, int]:
        found = [outcomes[t.id][target] for t in mine]
        return found.count("met"), found.count("missed"), found.count("running")

    departments = []
    for department_id in {t.department_id for t in tickets}:
        mine = [t for t in tickets if t.department_id == department_id]
        departments.append((
            department_id, len(mine),
            sum(1 for t in mine if t.status in OPEN_STATUSES),
            sum(1 for t in mine if t.sla_state == "breached"),
            sum(1 for t in mine if t.status in board.DONE_STATUSES),
            tally(mine, 0),
            tally(mine, 1),
            mine[0].department.name,
        ))
    departments.sort(key=lambda row: (-row[1], row[7], row[0]))

    by_category: dict[str | None, int] = defaultdict(int)
    for t in tickets:
        by_category[str(t.category) if t.category is not None else None] += 1
    category_rows = sorted(
        ((c, n, 100 * n / len(tickets)) for c, n in by_category.items()), key=lambda row: (-row[1], row[0] or "~")
    )

    # Targets.
    def percent(count, of):
        return 100.0 * count / of if of else None

    def met(value, target, kind):
        if value is None:
            return None
        return value >= target if kind == "min" else value < target

    first_met, first_missed, _running = tally(tickets, 0)
    resolution_met, resolution_missed, _running = tally(tickets, 1)
    due_actions = [
        a for a in db.session.scalars(select(ImprovementAction).options(selectinload(ImprovementAction.branches)))
        if a.deadline is not None and first <= a.deadline <= min(last, today)
        and (everything or any(b.id in chosen_ids for b in a.branches))
    ]
    completed = sum(1 for a in due_actions if a.completed_at is not None)
    negative_rate = percent(negative, len(responses))
    target_rows = {
        "first_response": (percent(first_met, first_met + first_missed), first_met, first_met + first_missed),
        "resolution": (percent(resolution_met, resolution_met + resolution_missed), resolution_met,
                       resolution_met + resolution_missed),
        "negative_rate": (negative_rate, negative, len(responses)),
        "actions_completed": (percent(completed, len(due_actions)), completed, len(due_actions)),
    }
    goals = {"first_response": (90.0, "min"), "resolution": (98.0, "min"),
             "negative_rate": (5.0, "max"), "actions_completed": (95.0, "min")}

    return {
        "responses": len(responses),
        "negative": negative,
        "csat": (csat, len(ratings(responses, QuestionType.CSAT))),
        "nps": (nps, len(ratings(responses, QuestionType.NPS))),
        "index": index,
        "dimensions": {
            key: (means.get(key), len(by_dimension.get(key, [])), weight, key in weak) for key, weight in weights.items()
        },
        "weak": weak,
        "trend": trend,
        "branches": [row[:7] for row in league],
        "channels": channels,
        "key_issues": issues,
        "departments": [row[:7] for row in departments],
        "categories": category_rows,
        "targets": {key: (*values, met(values[0], *goals[key])) for key, values in target_rows.items()},
    }
