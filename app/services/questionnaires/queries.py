"""Reading questionnaires for the builder, and a version as the pure checks of app.core read it."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.core import questionnaire_checks as checks
from app.core.questionnaire_checks import OptionSpec, Problem, QuestionSpec, RuleSpec, VersionSpec
from app.extensions import db
from app.models import Branch, Question, Questionnaire, QuestionnaireVersion, SkipRule


def questionnaires(archived: bool = False) -> list[Questionnaire]:
    query = select(Questionnaire).options(
        selectinload(Questionnaire.current_version),
        selectinload(Questionnaire.versions),
        selectinload(Questionnaire.target_branches),
    )
    query = query.where(Questionnaire.archived_at.is_not(None) if archived else Questionnaire.archived_at.is_(None))
    return list(db.session.scalars(query.order_by(Questionnaire.code)))


def version_with_children(version_id: int) -> QuestionnaireVersion | None:
    return db.session.scalar(
        select(QuestionnaireVersion)
        .where(QuestionnaireVersion.id == version_id)
        .options(
            selectinload(QuestionnaireVersion.questions),
            selectinload(QuestionnaireVersion.dimensions),
            selectinload(QuestionnaireVersion.rules),
        )
    )


def code_taken(code: str) -> bool:
    return db.session.scalar(select(func.count(Questionnaire.id)).where(Questionnaire.code == code)) > 0


def open_draft(questionnaire: Questionnaire) -> QuestionnaireVersion | None:
    return next((v for v in questionnaire.versions if not v.is_published), None)


def version_to_copy(questionnaire: Questionnaire) -> QuestionnaireVersion:
    """The version customers answer now, else (nothing published yet) the newest one."""
    return questionnaire.current_version or max(questionnaire.versions, key=lambda v: v.number)


def ordered_questions(version: QuestionnaireVersion) -> list[Question]:
    """In the order customers meet them: by step, then position."""
    return sorted(version.questions, key=lambda q: (q.step, q.position))


def regions_in_use() -> list[str]:
    return list(db.session.scalars(select(Branch.region).where(Branch.region != "").distinct().order_by(Branch.region)))


def spec_of(version: QuestionnaireVersion, questions: Sequence[QuestionSpec] | None = None) -> VersionSpec:
    """The version as the pure checks read it; ``questions`` replaces its questions (a proposed change)."""
    return VersionSpec(
        languages=tuple(version.languages or ()),
        title=dict(version.title or {}),
        intro=dict(version.intro or {}),
        thanks=dict(version.thanks or {}),
        questions=tuple(questions) if questions is not None else tuple(question_spec(q) for q in ordered_questions(version)),
        dimensions=tuple(checks.DimensionSpec(d.id, d.key, d.weight) for d in version.dimensions),
        rules=tuple(_rule_spec(r) for r in version.rules),
    )


def question_spec(question: Question) -> QuestionSpec:
    return QuestionSpec(
        ref=question.id,
        key=question.key,
        step=question.step,
        type=str(question.type),
        prompt=dict(question.prompt or {}),
        help=dict(question.help or {}),
        options=tuple(OptionSpec(str(o.get("value", "")), dict(o.get("label") or {})) for o in question.options or ()),
    )


def _rule_spec(rule: SkipRule) -> RuleSpec:
    return RuleSpec(rule.id, rule.source_question_id, rule.operator, rule.value, str(rule.action), rule.target_question_id)


def publish_problems(version: QuestionnaireVersion) -> list[Problem]:
    return checks.publish_problems(spec_of(version))
