"""The dashboard's figures (数据汇总分析) for supervisors and admins, inside their scope.

Responses are read from the daily roll-ups only (never the raw rows: a year of a chain is a
million responses): the roll-up tables are summed in SQL (GROUP BY), and the rules of
``app.core.scoring`` / ``app.core.insight`` turn the sums into scores in Python. Tickets are
few enough to aggregate directly.

The rules every figure follows (``app.services.dashboard_naive`` recomputes each of them from
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
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, and_, case, func, select

from app.core import insight
from app.core.clock import utcnow
from app.core.insight import Grain, IssueLevel
from app.core.scoring import index_percent, weak_dimensions, weighted_index
from app.extensions import db
from app.models import (
    AnswerRollup,
    Branch,
    Department,
    Dimension,
    ImprovementAction,
    OptionRollup,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    QuestionType,
    ResponseRollup,
    Role,
    Ticket,
    User,
)
from app.models.insight import action_branches
from app.models.tickets import OPEN_STATUSES
from app.models.types import Texts
from app.services import board, rollups
from app.services.insight_filters import InsightFilter

#: Without dates the dashboard shows the last 30 days.
DEFAULT_DAYS = 30
#: The page rebuilds the dirty days of its selection itself when there are at most this many.
SYNC_REBUILD_LIMIT = 30
#: The brief's target for improvement actions completed.
TARGET_ACTIONS_COMPLETED = 95.0
#: The brief's clocks behind the SLA targets: first response within 30 min, any feedback answered within 24 h.
FIRST_RESPONSE_WITHIN = timedelta(minutes=30)
ANSWERED_WITHIN = timedelta(hours=24)


# --- What the figures are about -------------------------------------------------------------


@dataclass(frozen=True)
class BranchRef:
    id: int
    code: str
    name: str
    region: str
    timezone: str


@dataclass(frozen=True)
class Selection:
    """A filter resolved for one user: its days, and the branches it covers inside their scope."""

    user: User
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


def visible_branches(user: User) -> list[BranchRef]:
    """The branches whose figures ``user`` may see: app.permissions' rule for responses
    (admins and head office every branch, others their own), closed branches included for history."""
    query = select(Branch.id, Branch.code, Branch.name, Branch.region, Branch.timezone).order_by(Branch.name)
    if not (user.role == Role.ADMIN or user.all_branches):
        query = query.where(Branch.id.in_([b.id for b in user.branches] or [-1]))
    return [BranchRef(*row) for row in db.session.execute(query)]


def home_today() -> date:
    return rollups.local_day(utcnow(), current_app.config["LOOPDESK_HOME_TIMEZONE"])


def resolve(user: User, wanted: InsightFilter, today: date, grain: Grain | str | None = None) -> Selection:
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
    everything = (user.role == Role.ADMIN or user.all_branches) and len(chosen) == len(visible)
    grain = Grain(grain) if grain in set(Grain) else insight.grain_for(first, last)
    return Selection(user, resolved, first, last, grain, tuple(chosen), everything)


def refresh_if_few(selection: Selection, limit: int = SYNC_REBUILD_LIMIT) -> int:
    """Rebuild the selection's dirty days now when there are few (the sweep does the rest)."""
    return rollups.rebuild_dirty_of(selection.branch_ids, limit)


def figures_as_of(selection: Selection, now: datetime) -> tuple[datetime, int]:
    """Until when the roll-ups of the selection are complete, and how many days wait for a rebuild."""
    waiting, oldest = rollups.pending(selection.branch_ids)
    return (oldest if oldest is not None and oldest < now else now), waiting


# --- Sums over the roll-ups ------------------------------------------------------------------


def _rollup_where(query: Select, model, selection: Selection) -> Select:
    query = query.where(
        model.branch_id.in_(selection.branch_ids or [-1]),
        model.day >= selection.first,
        model.day <= selection.last,
    )
    if selection.filter.version_id:
        query = query.where(model.version_id == selection.filter.version_id)
    if not selection.filter.include_flagged:
        query = query.where(model.counted.is_(True))
    return query


@dataclass
class RatingSums:
    """Sums of the ratings of one question: count, total, CSAT 4–5, NPS 9–10 and 0–6."""

    n: int = 0
    total: int = 0
    satisfied: int = 0
    promoters: int = 0
    detractors: int = 0

    def add(self, n, total, satisfied, promoters, detractors) -> None:
        self.n += int(n or 0)
        self.total += int(total or 0)
        self.satisfied += int(satisfied or 0)
        self.promoters += int(promoters or 0)
        self.detractors += int(detractors or 0)


def _answer_sums(selection: Selection, *keys) -> list[tuple]:
    """(*keys, question_id, n, total, satisfied, promoters, detractors) summed over the selection."""
    r = AnswerRollup
    query = select(
        *keys, r.question_id, func.sum(r.n), func.sum(r.total), func.sum(r.satisfied),
        func.sum(r.promoters), func.sum(r.detractors),
    ).group_by(*keys, r.question_id)
    return db.session.execute(_rollup_where(query, r, selection)).all()


def _response_sums(selection: Selection, *keys) -> list[tuple]:
    """(*keys, responses, negative) summed over the selection."""
    r = ResponseRollup
    query = select(*keys, func.sum(r.responses), func.sum(r.negative))
    if keys:
        query = query.group_by(*keys)
    return db.session.execute(_rollup_where(query, r, selection)).all()


@dataclass(frozen=True)
class QuestionInfo:
    id: int
    version_id: int
    key: str
    type: QuestionType
    dimension: str | None
    prompt: Texts
    options: dict[str, Texts]


def questions(ids: Iterable[int]) -> dict[int, QuestionInfo]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = db.session.execute(
        select(Question.id, Question.version_id, Question.key, Question.type, Dimension.key, Question.prompt,
               Question.options)
        .outerjoin(Dimension, Dimension.id == Question.dimension_id)
        .where(Question.id.in_(wanted))
    )
    return {
        qid: QuestionInfo(
            qid, version_id, key, QuestionType(kind), dimension, dict(prompt or {}),
            {str(o["value"]): dict(o.get("label") or {}) for o in options or []},
        )
        for qid, version_id, key, kind, dimension, prompt, options in rows
    }


@dataclass(frozen=True)
class DimensionInfo:
    key: str
    name: Texts
    weight: float


def dimension_weights(version_ids: Iterable[int]) -> dict[str, DimensionInfo]:
    """Each dimension key with its name and weight in the newest of these versions that has it."""
    found: dict[str, DimensionInfo] = {}
    rows = db.session.execute(
        select(Dimension.key, Dimension.name, Dimension.weight)
        .where(Dimension.version_id.in_(sorted(set(version_ids)) or [-1]))
        .order_by(Dimension.version_id, Dimension.position)
    )
    for key, name, weight in rows:
        found[key] = DimensionInfo(key, dict(name or {}), weight)
    return found


@dataclass(frozen=True)
class Scores:
    csat: float | None
    csat_ratings: int
    nps: float | None
    nps_answers: int
    means: dict[str, float]
    ratings_by_dimension: dict[str, int]
    index: float | None

    @property
    def index_percent(self) -> float | None:
        return index_percent(self.index)


def scores(sums: Iterable[tuple[int, RatingSums]], info: dict[int, QuestionInfo], weights: dict[str, float]) -> Scores:
    """CSAT, NPS, dimension means and the weighted index from per-question sums."""
    csat, nps = RatingSums(), RatingSums()
    by_dimension: dict[str, RatingSums] = defaultdict(RatingSums)
    for question_id, s in sums:
        question = info.get(question_id)
        if question is None:
            continue
        if question.type == QuestionType.CSAT:
            csat.add(s.n, s.total, s.satisfied, 0, 0)
            if question.dimension:
                by_dimension[question.dimension].add(s.n, s.total, 0, 0, 0)
        elif question.type == QuestionType.NPS:
            nps.add(s.n, s.total, 0, s.promoters, s.detractors)
    means = {key: d.total / d.n for key, d in by_dimension.items() if d.n}
    return Scores(
        csat=100 * csat.satisfied / csat.n if csat.n else None,
        csat_ratings=csat.n,
        nps=100 * (nps.promoters - nps.detractors) / nps.n if nps.n else None,
        nps_answers=nps.n,
        means=means,
        ratings_by_dimension={key: d.n for key, d in by_dimension.items() if d.n},
        index=weighted_index(means, weights) if means else None,
    )


def _group(rows: Iterable[tuple], key_count: int) -> dict[Any, dict[int, RatingSums]]:
    """Rows of _answer_sums folded into {group key: {question id: sums}}."""
    grouped: dict[Any, dict[int, RatingSums]] = defaultdict(lambda: defaultdict(RatingSums))
    for row in rows:
        key = row[0] if key_count == 1 else tuple(row[:key_count])
        question_id, *values = row[key_count:]
        grouped[key][question_id].add(*values)
    return grouped


@dataclass(frozen=True)
class Context:
    """What every roll-up figure needs: the questions met and the weights of the index."""

    questions: dict[int, QuestionInfo]
    dimensions: dict[str, DimensionInfo]

    @property
    def weights(self) -> dict[str, float]:
        return {key: d.weight for key, d in self.dimensions.items()}


def context_for(question_ids: Iterable[int]) -> Context:
    info = questions(question_ids)
    return Context(info, dimension_weights(q.version_id for q in info.values()))


# --- The figures -----------------------------------------------------------------------------


def negative_percent(negative: int, responses: int) -> float | None:
    """Negative feedback as a percentage of the responses (None without responses)."""
    rate = insight.negative_rate(negative, responses)
    return None if rate is None else 100 * rate


@dataclass(frozen=True)
class Headline:
    responses: int
    negative: int
    scores: Scores

    @property
    def negative_rate(self) -> float | None:
        return negative_percent(self.negative, self.responses)


@dataclass(frozen=True)
class DimensionRow:
    key: str
    name: Texts
    weight: float
    mean: float | None
    ratings: int
    weak: bool
    question_key: str | None


@dataclass(frozen=True)
class TrendPoint:
    start: date
    end: date
    responses: int
    scores: Scores


@dataclass(frozen=True)
class BranchRow:
    branch: BranchRef
    responses: int
    negative: int
    scores: Scores

    @property
    def negative_rate(self) -> float | None:
        return negative_percent(self.negative, self.responses)


@dataclass(frozen=True)
class IssueRow:
    question_key: str
    option: str
    prompt: Texts
    label: Texts
    customers: int
    share: float
    level: IssueLevel


@dataclass(frozen=True)
class DepartmentRow:
    id: int | None
    name: str
    tickets: int
    open: int
    breached: int
    resolved: int
    first_response_30_min: int
    answered_24_h: int

    def share(self, count: int) -> float | None:
        return 100.0 * count / self.tickets if self.tickets else None


@dataclass(frozen=True)
class CategoryRow:
    category: str | None
    tickets: int
    share: float


@dataclass(frozen=True)
class TargetRow:
    key: str
    value: float | None
    target: float
    #: "min": the value must reach the target; "max": it must stay below it.
    kind: str
    count: int
    of: int

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        return self.value >= self.target if self.kind == "min" else self.value < self.target


@dataclass(frozen=True)
class DaySums:
    """The selection's roll-ups summed per day: ratings per question, and (responses, negative).

    One scan of the answer roll-ups serves the headline, the dimensions and the trend.
    """

    ratings: dict[date, dict[int, RatingSums]]
    responses: dict[date, tuple[int, int]]
    context: Context


def day_sums(selection: Selection) -> DaySums:
    ratings = _group(_answer_sums(selection, AnswerRollup.day), 1)
    responses = {day: (int(n or 0), int(neg or 0)) for day, n, neg in _response_sums(selection, ResponseRollup.day)}
    return DaySums(ratings, responses, context_for(q for sums in ratings.values() for q in sums))


def _merged(groups: Iterable[dict[int, RatingSums]]) -> dict[int, RatingSums]:
    merged: dict[int, RatingSums] = defaultdict(RatingSums)
    for sums in groups:
        for question_id, s in sums.items():
            merged[question_id].add(s.n, s.total, s.satisfied, s.promoters, s.detractors)
    return merged


def headline_and_dimensions(selection: Selection, days: DaySums | None = None) -> tuple[Headline, list[DimensionRow]]:
    days = days or day_sums(selection)
    result = scores(_merged(days.ratings.values()).items(), days.context.questions, days.context.weights)
    responses = sum(n for n, _ in days.responses.values())
    negative = sum(neg for _, neg in days.responses.values())
    return Headline(responses, negative, result), dimension_rows(result, days.context)


def dimension_rows(result: Scores, context: Context) -> list[DimensionRow]:
    weak = set(weak_dimensions(result.means))
    rated_keys: dict[str, str] = {}
    for q in sorted(context.questions.values(), key=lambda q: (-q.version_id, q.id)):
        if q.type == QuestionType.CSAT and q.dimension and q.dimension not in rated_keys:
            rated_keys[q.dimension] = q.key
    return [
        DimensionRow(
            key=d.key, name=d.name, weight=d.weight, mean=result.means.get(d.key),
            ratings=result.ratings_by_dimension.get(d.key, 0), weak=d.key in weak,
            question_key=rated_keys.get(d.key),
        )
        for d in context.dimensions.values()
    ]


def trend(selection: Selection, days: DaySums | None = None) -> list[TrendPoint]:
    """One point per period (day, week or month) of the selection, empty periods included."""
    days = days or day_sums(selection)
    by_period: dict[date, list[dict[int, RatingSums]]] = defaultdict(list)
    responses: dict[date, int] = defaultdict(int)
    for day, sums in days.ratings.items():
        by_period[insight.period_start(day, selection.grain)].append(sums)
    for day, (count, _negative) in days.responses.items():
        responses[insight.period_start(day, selection.grain)] += count
    starts = insight.period_starts(selection.first, selection.last, selection.grain)
    points = []
    for i, start in enumerate(starts):
        end = starts[i + 1] - timedelta(days=1) if i + 1 < len(starts) else selection.last
        sums = _merged(by_period.get(start, []))
        points.append(TrendPoint(
            start=max(start, selection.first), end=min(end, selection.last), responses=responses.get(start, 0),
            scores=scores(sums.items(), days.context.questions, days.context.weights),
        ))
    return points


def branch_league(selection: Selection, context: Context | None = None) -> list[BranchRow]:
    """Every branch of the selection, best index first (branches without ratings last)."""
    by_branch = _group(_answer_sums(selection, AnswerRollup.branch_id), 1)
    context = context or context_for(q for sums in by_branch.values() for q in sums)
    counts = {branch_id: (int(n or 0), int(neg or 0)) for branch_id, n, neg in
              _response_sums(selection, ResponseRollup.branch_id)}
    rows = [
        BranchRow(
            branch=branch, responses=counts.get(branch.id, (0, 0))[0], negative=counts.get(branch.id, (0, 0))[1],
            scores=scores(by_branch.get(branch.id, {}).items(), context.questions, context.weights),
        )
        for branch in selection.branches
    ]
    return sorted(rows, key=lambda r: (r.scores.index is None, -(r.scores.index or 0), r.branch.name, r.branch.id))


def key_issues(selection: Selection, responses: int) -> list[IssueRow]:
    """Options chosen by ≥ 3 customers; first-level when ≥ 30 % of the selection's responses."""
    r = OptionRollup
    rows = db.session.execute(_rollup_where(
        select(r.question_id, r.option, func.sum(r.customers)).group_by(r.question_id, r.option), r, selection
    )).all()
    info = questions(q for q, _, _ in rows)
    customers: dict[tuple[str, str], int] = defaultdict(int)
    texts: dict[tuple[str, str], tuple[Texts, Texts, int]] = {}
    for question_id, option, count in rows:
        question = info[question_id]
        key = (question.key, option)
        customers[key] += int(count or 0)
        if key not in texts or question.version_id > texts[key][2]:
            texts[key] = (question.prompt, question.options.get(option, {}), question.version_id)
    issues = insight.key_issues({_problem(*key): n for key, n in customers.items()}, responses)
    result = []
    for issue in issues:
        question_key, option = issue.problem.split("\n", 1)
        prompt, label, _version = texts[(question_key, option)]
        result.append(IssueRow(question_key, option, prompt, label, issue.customers, 100 * issue.share, issue.level))
    return result


def _problem(question_key: str, option: str) -> str:
    return f"{question_key}\n{option}"


# --- Tickets ---------------------------------------------------------------------------------


def _answered_within(limit: timedelta):
    """The first answer came within ``limit`` of the opening, in SQL (SQLite has no interval type)."""
    answered = Ticket.first_response_at.is_not(None)
    if db.session.get_bind().dialect.name == "postgresql":
        return and_(answered, Ticket.first_response_at - Ticket.created_at <= limit)
    # julianday is a float of days: keep a millisecond of slack against its rounding.
    seconds = (func.julianday(Ticket.first_response_at) - func.julianday(Ticket.created_at)) * 86400.0 - 0.001
    return and_(answered, seconds <= limit.total_seconds())


def _count_if(condition):
    return func.sum(case((condition, 1), else_=0))


@dataclass(frozen=True)
class TicketSums:
    departments: list[DepartmentRow]
    categories: list[CategoryRow]


def ticket_sums(selection: Selection) -> TicketSums:
    """The selection's tickets per department (open, breached, resolved, answered in time) and per
    category (problem distribution): one pass over the tickets, grouped by both."""
    query = select(
        Ticket.department_id, Ticket.category, func.count(Ticket.id),
        _count_if(Ticket.status.in_(OPEN_STATUSES)),
        _count_if(Ticket.sla_state == "breached"),
        _count_if(Ticket.status.in_(board.DONE_STATUSES)),
        _count_if(_answered_within(FIRST_RESPONSE_WITHIN)),
        _count_if(_answered_within(ANSWERED_WITHIN)),
    ).group_by(Ticket.department_id, Ticket.category)
    rows = db.session.execute(_tickets_of(selection, query)).all()
    by_department: dict[int, list[int]] = defaultdict(lambda: [0] * 6)
    by_category: dict[str | None, int] = defaultdict(int)
    for department_id, category, *counts in rows:
        totals = by_department[department_id]
        for i, count in enumerate(counts):
            totals[i] += int(count or 0)
        by_category[str(category) if category is not None else None] += int(counts[0] or 0)
    names = dict(db.session.execute(
        select(Department.id, Department.name).where(Department.id.in_(list(by_department) or [-1]))
    ).all())
    departments = sorted(
        (DepartmentRow(d, names.get(d, ""), *totals) for d, totals in by_department.items()),
        key=lambda r: (-r.tickets, r.name, r.id),
    )
    total = sum(by_category.values())
    categories = sorted(
        (CategoryRow(c, n, 100 * n / total) for c, n in by_category.items() if n),
        key=lambda r: (-r.tickets, r.category or "~"),
    )
    return TicketSums(departments, categories)


def _tickets_of(selection: Selection, query: Select) -> Select:
    """Tickets of the selection: the shared filter (its days, scope) and the selection's branches."""
    query = selection.filter.apply_to_tickets(query, selection.user)
    if not selection.everything:
        query = query.where(Ticket.branch_id.in_(selection.branch_ids or [-1]))
    return query


def actions_completion(selection: Selection, today: date) -> tuple[int, int]:
    """Improvement actions due in the selection (deadline in its days, not after today): (completed, due).

    An action counts for the selection's branches when linked to one of them; with every branch
    selected, actions without a branch (chain-wide) count too.
    """
    last = min(selection.last, today)
    query = select(
        func.count(ImprovementAction.id), _count_if(ImprovementAction.completed_at.is_not(None))
    ).where(ImprovementAction.deadline >= selection.first, ImprovementAction.deadline <= last)
    if not selection.everything:
        linked = select(action_branches.c.action_id).where(
            action_branches.c.branch_id.in_(selection.branch_ids or [-1])
        )
        query = query.where(ImprovementAction.id.in_(linked))
    due, completed = db.session.execute(query).one()
    return int(completed or 0), int(due or 0)


def targets(selection: Selection, departments: list[DepartmentRow], headline: Headline, today: date) -> list[TargetRow]:
    """The brief's targets beside what the selection reached."""
    tickets = sum(d.tickets for d in departments)

    def percent(count: int, of: int) -> float | None:
        return 100.0 * count / of if of else None

    resolved = sum(d.resolved for d in departments)
    answered = sum(d.answered_24_h for d in departments)
    first = sum(d.first_response_30_min for d in departments)
    completed, due = actions_completion(selection, today)
    return [
        TargetRow("resolved", percent(resolved, tickets), board.TARGET_RESOLVED, "min", resolved, tickets),
        TargetRow("answered_24_h", percent(answered, tickets), board.TARGET_ANSWERED_24_H, "min", answered, tickets),
        TargetRow("first_response_30_min", percent(first, tickets), board.TARGET_FIRST_RESPONSE_30_MIN, "min",
                  first, tickets),
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
    key_issues: list[IssueRow]
    departments: list[DepartmentRow]
    categories: list[CategoryRow]
    targets: list[TargetRow]
    weak: list[DimensionRow] = field(default_factory=list)


def build(selection: Selection, today: date) -> Dashboard:
    days = day_sums(selection)
    headline, dimensions = headline_and_dimensions(selection, days)
    tickets = ticket_sums(selection)
    means = {d.key: d.mean for d in dimensions if d.mean is not None}
    by_key = {d.key: d for d in dimensions}
    return Dashboard(
        selection=selection,
        headline=headline,
        dimensions=dimensions,
        trend=trend(selection, days),
        branches=branch_league(selection, days.context),
        key_issues=key_issues(selection, headline.responses),
        departments=tickets.departments,
        categories=tickets.categories,
        targets=targets(selection, tickets.departments, headline, today),
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
    if f.include_flagged:
        args["include_flagged"] = "1"
    args.update({k: v for k, v in extra.items() if v is not None})
    return args

