"""The dashboard's scoring: the roll-ups of a selection summed in SQL, and the scores they make.

The roll-up tables are summed with GROUP BY; the rules of ``app.core.scoring`` turn the
per-question sums into CSAT, NPS, dimension means and the weighted index (see the rules in
``app.services.dashboard``). Alerts score a branch with the same functions.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from app.core.scoring import index_percent, weighted_index
from app.extensions import db
from app.models import AnswerRollup, Dimension, Question, QuestionType, ResponseRollup
from app.models.types import Texts
from app.services.dashboard.selection import Selection


def rollup_where(query: Select, model, selection: Selection) -> Select:
    """``query`` on a roll-up table narrowed to the selection: its branches, days, version, counted rows."""
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


def answer_sums(selection: Selection, *keys) -> list[tuple]:
    """(*keys, question_id, n, total, satisfied, promoters, detractors) summed over the selection."""
    r = AnswerRollup
    query = select(
        *keys, r.question_id, func.sum(r.n), func.sum(r.total), func.sum(r.satisfied),
        func.sum(r.promoters), func.sum(r.detractors),
    ).group_by(*keys, r.question_id)
    return db.session.execute(rollup_where(query, r, selection)).all()


def response_sums(selection: Selection, *keys) -> list[tuple]:
    """(*keys, responses, negative) summed over the selection."""
    r = ResponseRollup
    query = select(*keys, func.sum(r.responses), func.sum(r.negative))
    if keys:
        query = query.group_by(*keys)
    return db.session.execute(rollup_where(query, r, selection)).all()


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
