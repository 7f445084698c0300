"""The dashboard's scoring: the roll-ups of a selection summed in SQL, and the scores they make.

The roll-up tables are summed with GROUP BY (whole months from the monthly tables, the days around
them from the daily ones: a year reads about 12 rows per branch and question instead of 365); the rules of ``app.core.scoring`` turn the
per-question sums into CSAT, NPS, dimension means and the weighted index (see the rules in
``app.services.dashboard``). Alerts score a branch with the same functions.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, union_all

from app.core.scoring import index_percent, weighted_index
from app.extensions import db
from app.models import (
    AnswerRollup,
    Dimension,
    MonthlyAnswerRollup,
    MonthlyOptionRollup,
    MonthlyResponseRollup,
    OptionRollup,
    Question,
    QuestionType,
    ResponseRollup,
)
from app.models.types import Texts
from app.services.dashboard.selection import Selection
from app.services.insight import rollups


def _narrowed(query: Select, model, selection: Selection) -> Select:
    """``query`` on a roll-up table narrowed to the selection's branches, version, channel and counted rows."""
    query = query.where(model.branch_id.in_(selection.branch_ids or [-1]))
    if selection.filter.version_id:
        query = query.where(model.version_id == selection.filter.version_id)
    if selection.filter.channel:
        query = query.where(model.channel == selection.filter.channel)
    if not selection.filter.include_flagged:
        query = query.where(model.counted.is_(True))
    return query


@dataclass(frozen=True)
class Span:
    """The selection's days as read from the roll-ups: whole calendar months from the monthly tables
    (``months``: the first and last month's first day), the days around them from the daily ones."""

    days: tuple[tuple[date, date], ...]
    months: tuple[date, date] | None


def span(first: date, last: date, whole_months: bool = True) -> Span:
    """``first``…``last`` split into the whole months inside it and the days before and after them."""
    if not whole_months:
        return Span(((first, last),), None)
    start = first if first.day == 1 else rollups.next_month(first)
    end = rollups.next_month(last) if rollups.next_month(last) - timedelta(days=1) == last else rollups.month_start(last)
    # Whole months are [start, end): start and end are firsts of months.
    if start >= end:
        return Span(((first, last),), None)
    days = tuple(part for part in ((first, start - timedelta(days=1)), (end, last)) if part[0] <= part[1])
    return Span(days, (start, rollups.month_start(end - timedelta(days=1))))


#: Each roll-up kind: its daily and monthly table and the columns a figure may read from it.
KINDS = {
    "responses": (ResponseRollup, MonthlyResponseRollup, ("responses", "negative")),
    "answers": (AnswerRollup, MonthlyAnswerRollup, ("question_id", "n", "total", "satisfied", "promoters", "detractors")),
    "options": (OptionRollup, MonthlyOptionRollup, ("question_id", "option", "customers")),
}


def rollup_rows(selection: Selection, kind: str, whole_months: bool = True):
    """The selection's roll-up rows of ``kind`` as one subquery: ``period`` (the day, or the first day of
    a whole month read from the monthly table), ``branch_id``, ``channel`` and the kind's columns.

    With ``whole_months`` False, every day comes from the daily table (figures by day or by week).
    A month's row is exactly the sum of its days' rows (``app.services.insight.rollups``), so every
    sum over the selection is the same either way.
    """
    daily, monthly, columns = KINDS[kind]
    parts = []
    where = span(selection.first, selection.last, whole_months)
    if where.days:
        query = select(
            daily.day.label("period"), daily.branch_id, daily.channel, *(getattr(daily, c) for c in columns)
        ).where(
            or_(*(and_(daily.day >= a, daily.day <= b) for a, b in where.days))
        )
        parts.append(_narrowed(query, daily, selection))
    if where.months:
        query = select(
            monthly.month.label("period"), monthly.branch_id, monthly.channel, *(getattr(monthly, c) for c in columns)
        ).where(
            monthly.month >= where.months[0], monthly.month <= where.months[1]
        )
        parts.append(_narrowed(query, monthly, selection))
    return (parts[0] if len(parts) == 1 else union_all(*parts)).subquery(kind)


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


def answer_sums(selection: Selection, *keys: str, whole_months: bool = True) -> list[tuple]:
    """(*keys, question_id, n, total, satisfied, promoters, detractors) summed over the selection.

    ``keys``: columns of ``rollup_rows`` ("period", "branch_id", "channel").
    """
    r = rollup_rows(selection, "answers", whole_months).c
    group = [*(r[k] for k in keys), r.question_id]
    query = select(
        *group, func.sum(r.n), func.sum(r.total), func.sum(r.satisfied), func.sum(r.promoters), func.sum(r.detractors),
    ).group_by(*group)
    return db.session.execute(query).all()


def response_sums(selection: Selection, *keys: str, whole_months: bool = True) -> list[tuple]:
    """(*keys, responses, negative) summed over the selection."""
    r = rollup_rows(selection, "responses", whole_months).c
    group = [r[k] for k in keys]
    query = select(*group, func.sum(r.responses), func.sum(r.negative))
    if group:
        query = query.group_by(*group)
    return db.session.execute(query).all()


def option_sums(selection: Selection) -> list[tuple]:
    """(question_id, option, customers) summed over the selection."""
    r = rollup_rows(selection, "options").c
    query = select(r.question_id, r.option, func.sum(r.customers)).group_by(r.question_id, r.option)
    return db.session.execute(query).all()


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


def group_sums(rows: Iterable[tuple], key_count: int) -> dict[Any, dict[int, RatingSums]]:
    """Rows of answer_sums folded into {group key: {question id: sums}}."""
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
