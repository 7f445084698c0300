"""Responses as the API lists them: submitted ones in the key's branch scope, filtered, and each one's scores.

Dates are calendar days in head office's time zone, both ends included, on the submission time: the rule of
the analysis pages' filter (app.services.insight.filters.InsightFilter.utc_range). Status: ``pending`` (its
after-submit job has not run: no flags or ticket yet) or ``processed``. Quality: ``clean`` (no flag),
``flagged`` (not reviewed), ``confirmed`` or ``cleared`` (a reviewer's verdict).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, Text, cast, select
from sqlalchemy.orm import joinedload, selectinload

from app.core.scoring import mean_rating, weighted_index
from app.models import (
    ApiKey, Answer, Question, QuestionnaireVersion, QuestionType, Response,
)
from app.models.responses import QUALITY_CLEARED, QUALITY_CONFIRMED
from app.permissions import scope_responses
from app.services.insight.filters import InsightFilter

STATUSES = ("pending", "processed")
QUALITIES = ("clean", "flagged", "confirmed", "cleared")


@dataclass(frozen=True)
class ResponseQuery:
    branch_id: int | None = None
    questionnaire_id: int | None = None
    version_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    status: str | None = None
    quality: str | None = None


def in_scope(key: ApiKey) -> Select:
    """Submitted responses the key may read, with what a response's representation needs loaded."""
    query = (
        select(Response)
        .where(Response.submitted_at.is_not(None))
        .options(
            joinedload(Response.branch),
            joinedload(Response.version).joinedload(QuestionnaireVersion.questionnaire),
            selectinload(Response.answers).joinedload(Answer.question).joinedload(Question.dimension),
            joinedload(Response.version).selectinload(QuestionnaireVersion.dimensions),
            selectinload(Response.ticket),
            joinedload(Response.api_key),
        )
    )
    return scope_responses(query, key)


def filtered(key: ApiKey, wanted: ResponseQuery) -> Select:
    query = in_scope(key)
    if wanted.branch_id is not None:
        query = query.where(Response.branch_id == wanted.branch_id)
    if wanted.version_id is not None:
        query = query.where(Response.version_id == wanted.version_id)
    if wanted.questionnaire_id is not None:
        query = query.where(Response.version_id.in_(
            select(QuestionnaireVersion.id).where(QuestionnaireVersion.questionnaire_id == wanted.questionnaire_id)
        ))
    start, end = InsightFilter(date_from=wanted.date_from, date_to=wanted.date_to).utc_range()
    if start is not None:
        query = query.where(Response.submitted_at >= start)
    if end is not None:
        query = query.where(Response.submitted_at < end)
    if wanted.status == "pending":
        query = query.where(Response.processed_at.is_(None))
    elif wanted.status == "processed":
        query = query.where(Response.processed_at.is_not(None))
    no_flags = cast(Response.quality_flags, Text).in_(("[]", "null"))
    if wanted.quality == "clean":
        query = query.where(no_flags)
    elif wanted.quality == "flagged":
        query = query.where(~no_flags, Response.quality_review.is_(None))
    elif wanted.quality == "confirmed":
        query = query.where(Response.quality_review == QUALITY_CONFIRMED)
    elif wanted.quality == "cleared":
        query = query.where(Response.quality_review == QUALITY_CLEARED)
    return query


@dataclass(frozen=True)
class Scores:
    #: Mean of its CSAT ratings (1–5).
    csat: float | None
    nps: int | None
    #: The weighted satisfaction index (1–5) over its rated dimensions, as the exports compute it.
    index: float | None


def scores_of(response: Response) -> Scores:
    ratings: list[int] = []
    by_dimension: dict[str, list[int]] = defaultdict(list)
    nps = None
    for answer in response.answers:
        question = answer.question
        if answer.value_int is None:
            continue
        if question.type == QuestionType.NPS:
            nps = answer.value_int if nps is None else nps
        elif question.type == QuestionType.CSAT:
            ratings.append(answer.value_int)
            if question.dimension is not None:
                by_dimension[question.dimension.key].append(answer.value_int)
    weights = {d.key: d.weight for d in response.version.dimensions}
    means = {key: sum(values) / len(values) for key, values in by_dimension.items() if key in weights}
    try:  # a stored rating outside 1–5: no score rather than an error
        index = weighted_index(means, weights) if means else None
    except ValueError:
        index = None
    try:
        csat = mean_rating(ratings)
    except ValueError:
        csat = None
    return Scores(round(csat, 2) if csat is not None else None, nps, round(index, 2) if index is not None else None)
