"""The responses export: fixed columns, then one column per question key, one row per response."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.core.languages import pick_text
from app.core.scoring import weighted_index
from app.extensions import db
from app.i18n import flag_label
from app.labels import CHANNEL_LABELS
from app.models import Answer, QuestionnaireVersion, QuestionType, Response, User
from app.services.exports.batches import branch_facts, keyset_batches, spreadsheet_time
from app.services.insight.filters import InsightFilter

RESPONSE_COLUMNS = (
    _l("Response ID"),
    _l("Reference code"),
    _l("Submitted at (branch time)"),
    _l("Time zone"),
    _l("Branch code"),
    _l("Branch"),
    _l("Region"),
    _l("Questionnaire"),
    _l("Version"),
    _l("Language"),
    _l("Duration (seconds)"),
    _l("CSAT (mean, 1–5)"),
    _l("NPS (0–10)"),
    _l("Satisfaction index (1–5)"),
    _l("Quality flags"),
    _l("Quality review"),
    _l("Channel"),
)
REVIEW_LABELS = {"confirmed": _l("flags confirmed"), "cleared": _l("flags cleared")}


@dataclass(frozen=True)
class _VersionFacts:
    questionnaire: str
    number: int
    #: Dimension key → weight, for the satisfaction index.
    weights: dict[str, int]


@dataclass(frozen=True)
class _QuestionColumn:
    index: int
    type: QuestionType
    dimension: str | None
    #: Option value → its label in the export's language.
    labels: dict[str, str]


class ResponseTable:
    name = "responses"
    title = _l("Responses")

    def __init__(self, user: User, insight_filter: InsightFilter, language: str) -> None:
        self.language = language
        self.query = insight_filter.apply_to_responses(
            select(
                Response.id,
                Response.reference_code,
                Response.submitted_at,
                Response.branch_id,
                Response.version_id,
                Response.language,
                Response.channel,
                Response.duration_seconds,
                Response.quality_flags,
                Response.quality_review,
            ),
            user,
        )
        counted = insight_filter.apply_to_responses(select(func.count(Response.id), func.max(Response.id)), user)
        self.total, self.last_id = db.session.execute(counted).one()
        if insight_filter.version_id:
            version_ids = [insight_filter.version_id]
        else:
            answered = insight_filter.apply_to_responses(select(Response.version_id).distinct(), user)
            version_ids = list(db.session.scalars(answered))
        self.branches = branch_facts()
        self.versions: dict[int, _VersionFacts] = {}
        self.questions: dict[int, _QuestionColumn] = {}
        self.question_headers: list[str] = []
        self._lay_out_questions(version_ids)

    def _lay_out_questions(self, version_ids: list[int]) -> None:
        versions = db.session.scalars(
            select(QuestionnaireVersion)
            .where(QuestionnaireVersion.id.in_(version_ids))
            .options(
                selectinload(QuestionnaireVersion.questions),
                selectinload(QuestionnaireVersion.dimensions),
                selectinload(QuestionnaireVersion.questionnaire),
            )
        ).all()
        versions = sorted(versions, key=lambda v: (v.questionnaire_id, -v.number))
        column_of_key: dict[str, int] = {}
        for version in versions:
            self.versions[version.id] = _VersionFacts(
                questionnaire=pick_text(version.questionnaire.name, self.language) or version.questionnaire.code,
                number=version.number,
                weights={d.key: d.weight for d in version.dimensions},
            )
            dimension_keys = {d.id: d.key for d in version.dimensions}
            for question in version.questions:
                if question.type == QuestionType.CONTACT:
                    continue
                if question.key not in column_of_key:
                    column_of_key[question.key] = len(self.question_headers)
                    prompt = pick_text(question.prompt, self.language)
                    self.question_headers.append(f"{prompt} [{question.key}]" if prompt else question.key)
                self.questions[question.id] = _QuestionColumn(
                    index=column_of_key[question.key],
                    type=QuestionType(question.type),
                    dimension=dimension_keys.get(question.dimension_id),
                    labels={
                        str(o.get("value")): pick_text(o.get("label"), self.language) or str(o.get("value"))
                        for o in question.options or []
                    },
                )

    def headers(self) -> list[str]:
        return [str(header) for header in RESPONSE_COLUMNS] + self.question_headers

    def batches(self) -> Iterator[list[list[Any]]]:
        for rows in keyset_batches(self.query, Response.id, self.last_id):
            answers: dict[int, list] = defaultdict(list)
            for answer in db.session.execute(
                select(Answer.response_id, Answer.question_id, Answer.value_int, Answer.value_text, Answer.value_choices)
                .where(Answer.response_id.in_([row.id for row in rows]))
            ):
                answers[answer.response_id].append(answer)
            yield [self._row(row, answers.get(row.id, ())) for row in rows]

    def _row(self, response, answers: Sequence) -> list[Any]:
        cells: list[Any] = [None] * len(self.question_headers)
        ratings: list[int] = []
        by_dimension: dict[str, list[int]] = defaultdict(list)
        nps = None
        for answer in answers:
            question = self.questions.get(answer.question_id)
            if question is None:
                continue
            if question.type in (QuestionType.CSAT, QuestionType.NPS):
                if answer.value_int is None:
                    continue
                cells[question.index] = answer.value_int
                if question.type == QuestionType.NPS:
                    nps = answer.value_int if nps is None else nps
                else:
                    ratings.append(answer.value_int)
                    if question.dimension:
                        by_dimension[question.dimension].append(answer.value_int)
            elif answer.value_choices is not None:
                cells[question.index] = "; ".join(question.labels.get(str(v), str(v)) for v in answer.value_choices)
            elif question.type == QuestionType.SINGLE and answer.value_text is not None:
                cells[question.index] = question.labels.get(answer.value_text, answer.value_text)
            else:
                cells[question.index] = answer.value_text
        branch = self.branches.get(response.branch_id)
        version = self.versions.get(response.version_id)
        flags = response.quality_flags or []
        return [
            response.id,
            response.reference_code,
            spreadsheet_time(response.submitted_at, branch.zone) if branch else response.submitted_at.replace(tzinfo=None),
            branch.timezone if branch else "UTC",
            branch.code if branch else None,
            branch.name if branch else None,
            branch.region if branch else None,
            version.questionnaire if version else None,
            version.number if version else None,
            response.language,
            response.duration_seconds,
            round(sum(ratings) / len(ratings), 2) if ratings else None,
            nps,
            _index(by_dimension, version.weights if version else {}),
            "; ".join(flag_label(flag) for flag in flags),
            str(REVIEW_LABELS[response.quality_review]) if response.quality_review in REVIEW_LABELS else None,
            str(CHANNEL_LABELS[response.channel]),
        ] + cells


def _index(by_dimension: dict[str, list[int]], weights: dict[str, int]) -> float | None:
    """The response's weighted satisfaction index (app.core.scoring), None without rated dimensions."""
    means = {key: sum(values) / len(values) for key, values in by_dimension.items() if key in weights}
    try:
        index = weighted_index(means, weights) if means else None
    except ValueError:  # a stored rating outside 1–5: no index rather than no export
        return None
    return round(index, 2) if index is not None else None
