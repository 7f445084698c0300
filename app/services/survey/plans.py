"""A published questionnaire version as the survey walks it, built once and cached.

Published versions never change, so their plan can be kept in memory for the
life of the process; this keeps every survey step to a couple of small queries.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from threading import Lock

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.core.skip_logic import AnswerValue, Rule, visible_questions
from app.extensions import db
from app.models import QuestionnaireVersion, QuestionType
from app.models.types import Texts

PLAN_CACHE_SIZE = 128


@dataclass(frozen=True)
class PlannedQuestion:
    id: int
    key: str
    step: int
    type: QuestionType
    required: bool
    prompt: Texts
    help: Texts
    options: tuple[dict, ...]
    dimension: str | None

    @property
    def option_values(self) -> tuple[str, ...]:
        return tuple(str(option["value"]) for option in self.options)


@dataclass(frozen=True)
class SurveyPlan:
    version_id: int
    questionnaire_id: int
    languages: tuple[str, ...]
    title: Texts
    intro: Texts
    thanks: Texts
    questions: tuple[PlannedQuestion, ...]
    rules: tuple[Rule, ...]
    by_key: Mapping[str, PlannedQuestion] = field(repr=False)

    def visible_keys(self, answers: Mapping[str, AnswerValue]) -> list[str]:
        return visible_questions([q.key for q in self.questions], self.rules, answers)

    def visible_steps(self, answers: Mapping[str, AnswerValue]) -> list[int]:
        return sorted({self.by_key[key].step for key in self.visible_keys(answers)})

    def questions_on(self, step: int, answers: Mapping[str, AnswerValue]) -> list[PlannedQuestion]:
        return [self.by_key[k] for k in self.visible_keys(answers) if self.by_key[k].step == step]

    def next_step(self, answers: Mapping[str, AnswerValue], furthest_step: int) -> int | None:
        """The first visible step after the furthest one completed; None when all are done."""
        return next((s for s in self.visible_steps(answers) if s > furthest_step), None)

    @property
    def contact_question(self) -> PlannedQuestion | None:
        return next((q for q in self.questions if q.type == QuestionType.CONTACT), None)


def build_plan(version: QuestionnaireVersion) -> SurveyPlan:
    keys = {q.id: q.key for q in version.questions}
    dimension_keys = {d.id: d.key for d in version.dimensions}
    questions = tuple(
        PlannedQuestion(
            id=q.id,
            key=q.key,
            step=q.step,
            type=QuestionType(q.type),
            required=q.required,
            prompt=dict(q.prompt or {}),
            help=dict(q.help or {}),
            options=tuple(dict(o) for o in (q.options or [])),
            dimension=dimension_keys.get(q.dimension_id) if q.dimension_id else None,
        )
        for q in version.questions
    )
    rules = tuple(
        Rule(
            source=keys[r.source_question_id],
            operator=r.operator,
            value=r.value,
            action=str(r.action),
            target=keys[r.target_question_id],
        )
        for r in version.rules
    )
    return SurveyPlan(
        version_id=version.id,
        questionnaire_id=version.questionnaire_id,
        languages=tuple(version.languages or ()),
        title=dict(version.title or {}),
        intro=dict(version.intro or {}),
        thanks=dict(version.thanks or {}),
        questions=questions,
        rules=rules,
        by_key={q.key: q for q in questions},
    )


class _PlanCache:
    def __init__(self) -> None:
        self._plans: OrderedDict[int, SurveyPlan] = OrderedDict()
        self._lock = Lock()

    def get(self, version_id: int) -> SurveyPlan | None:
        with self._lock:
            plan = self._plans.get(version_id)
            if plan is not None:
                self._plans.move_to_end(version_id)
            return plan

    def put(self, plan: SurveyPlan) -> None:
        with self._lock:
            self._plans[plan.version_id] = plan
            while len(self._plans) > PLAN_CACHE_SIZE:
                self._plans.popitem(last=False)


def plan_for(version_id: int) -> SurveyPlan:
    """The plan of a version; only published versions are cached (drafts are previews)."""
    cache: _PlanCache = current_app.extensions.setdefault("loopdesk_plans", _PlanCache())
    plan = cache.get(version_id)
    if plan is not None:
        return plan
    version = db.session.scalar(
        select(QuestionnaireVersion)
        .where(QuestionnaireVersion.id == version_id)
        .options(
            selectinload(QuestionnaireVersion.questions),
            selectinload(QuestionnaireVersion.dimensions),
            selectinload(QuestionnaireVersion.rules),
        )
    )
    if version is None:
        raise LookupError(f"no questionnaire version {version_id}")
    plan = build_plan(version)
    if version.is_published:
        cache.put(plan)
    return plan
