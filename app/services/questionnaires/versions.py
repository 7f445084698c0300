"""A questionnaire's versions: a new draft, its texts, publishing it; only a draft may change."""
from __future__ import annotations

from collections.abc import Sequence

from app.core.questionnaire_checks import Problem
from app.extensions import db
from app.models import (
    Dimension,
    PublishedVersionError,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    SkipRule,
    User,
    VersionStatus,
)
from app.models.types import Texts
from app.services import audit
from app.services.survey import entries
from app.services.questionnaires.queries import open_draft, publish_problems
from app.services.questionnaires.serving import publish_preview, switch_lines
from app.services.questionnaires.templates import publish_version

VERSION_FIELDS = ("number", "status", "languages", "title", "intro", "thanks")


def version_label(version: QuestionnaireVersion) -> str:
    return f"{version.questionnaire.code} v{version.number}"


def ensure_draft(version: QuestionnaireVersion) -> None:
    if version.is_published:
        raise PublishedVersionError(f"version {version.id} is published")


def new_draft_from(actor: User, version: QuestionnaireVersion) -> tuple[QuestionnaireVersion, bool]:
    """A draft copied from ``version`` (texts, dimensions, questions with the same keys, rules).

    A questionnaire has at most one open draft: when there is one, it is returned as it is
    (and False says nothing was made).
    """
    questionnaire = version.questionnaire
    existing = open_draft(questionnaire)
    if existing is not None:
        return existing, False
    number = max(v.number for v in questionnaire.versions) + 1
    draft = copy_version(version, questionnaire, number)
    db.session.add(draft)
    db.session.flush()
    audit.record(actor, "create", draft, after={**audit.values(draft, VERSION_FIELDS), "copied_from": version.number},
                 label=version_label(draft))
    return draft, True


def copy_version(version: QuestionnaireVersion, questionnaire: Questionnaire, number: int) -> QuestionnaireVersion:
    """A draft of ``questionnaire`` with everything ``version`` holds: languages, texts, dimensions and
    their weights, questions with the same keys and options, skip rules (between the copied questions)."""
    draft = QuestionnaireVersion(
        questionnaire=questionnaire,
        number=number,
        status=VersionStatus.DRAFT,
        languages=list(version.languages or []),
        title=dict(version.title or {}),
        intro=dict(version.intro or {}),
        thanks=dict(version.thanks or {}),
    )
    dimensions = {
        d.id: Dimension(key=d.key, name=dict(d.name or {}), weight=d.weight, position=d.position)
        for d in version.dimensions
    }
    draft.dimensions = list(dimensions.values())
    questions = {
        q.id: Question(
            key=q.key, position=q.position, step=q.step, type=q.type, required=q.required,
            dimension=dimensions.get(q.dimension_id), prompt=dict(q.prompt or {}), help=dict(q.help or {}),
            options=[dict(o, label=dict(o.get("label") or {})) for o in q.options or []],
        )
        for q in version.questions
    }
    draft.questions = list(questions.values())
    draft.rules = [
        SkipRule(position=r.position, source=questions[r.source_question_id], operator=r.operator, value=r.value,
                 action=r.action, target=questions[r.target_question_id])
        for r in version.rules
    ]
    return draft


def update_texts(actor: User, version: QuestionnaireVersion, languages: Sequence[str], title: Texts,
                 intro: Texts, thanks: Texts) -> None:
    ensure_draft(version)
    before = audit.values(version, VERSION_FIELDS)
    version.languages = list(languages)
    version.title, version.intro, version.thanks = dict(title), dict(intro), dict(thanks)
    db.session.flush()
    audit.record(actor, "update", version, before=before, after=audit.values(version, VERSION_FIELDS),
                 label=version_label(version))


def publish(actor: User, version: QuestionnaireVersion) -> list[Problem]:
    """Freeze the draft and make it the one customers answer; the problems when it is not fit yet."""
    ensure_draft(version)
    problems = publish_problems(version)
    if problems:
        return problems
    switched = switch_lines(publish_preview(version))
    publish_version(version)
    audit.record(actor, "publish", version,
                 after={"number": version.number, "status": version.status, **({"switched": switched} if switched else {})},
                 label=version_label(version))
    customers_see_it_now()
    return []


def customers_see_it_now() -> None:
    """Which questionnaire a QR code opens is cached for a few seconds; this worker forgets it at once."""
    entries.forget_cached_codes()
