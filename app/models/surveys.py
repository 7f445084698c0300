"""Questionnaires (问卷), their frozen versions, dimensions, questions and skip logic."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Column, Enum, ForeignKey, String, Table, UniqueConstraint, event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.core.clock import utcnow
from app.extensions import db
from app.models.branches import Branch
from app.models.types import Texts, UtcDateTime


def _enum(cls: type[enum.Enum], length: int = 16) -> Enum:
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class QuestionType(enum.StrEnum):
    CSAT = "csat"          # 1 = very dissatisfied … 5 = very satisfied
    NPS = "nps"            # 0–10, likelihood to recommend
    SINGLE = "single"      # one option
    MULTIPLE = "multiple"  # any options
    TEXT = "text"          # open answer
    CONTACT = "contact"    # optional name / phone / e-mail with explicit consent


class VersionStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class RuleAction(enum.StrEnum):
    SHOW = "show"  # the target is asked only when the condition holds
    SKIP = "skip"  # the target is left out when the condition holds


questionnaire_branches = Table(
    "questionnaire_branches",
    db.metadata,
    Column("questionnaire_id", ForeignKey("questionnaires.id", ondelete="CASCADE"), primary_key=True),
    Column("branch_id", ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True),
)


class Questionnaire(db.Model):
    __tablename__ = "questionnaires"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[Texts] = mapped_column(JSON, default=dict)
    #: Active window; open-ended when None.
    starts_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: Targeting: no branches and no regions means every branch.
    target_regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The version customers answer now (the latest published one).
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("questionnaire_versions.id", use_alter=True)
    )
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    versions: Mapped[list[QuestionnaireVersion]] = relationship(
        back_populates="questionnaire",
        order_by="QuestionnaireVersion.number",
        foreign_keys="QuestionnaireVersion.questionnaire_id",
    )
    current_version: Mapped[QuestionnaireVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )
    target_branches: Mapped[list[Branch]] = relationship(secondary=questionnaire_branches)

    @property
    def published_versions(self) -> list[QuestionnaireVersion]:
        return [v for v in self.versions if v.status == VersionStatus.PUBLISHED]


class QuestionnaireVersion(db.Model):
    """A version's questions. Once published it never changes: responses point at it."""

    __tablename__ = "questionnaire_versions"
    __table_args__ = (UniqueConstraint("questionnaire_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"), index=True)
    number: Mapped[int] = mapped_column(default=1)
    status: Mapped[VersionStatus] = mapped_column(_enum(VersionStatus), default=VersionStatus.DRAFT)
    #: Locales this version is offered in, first is the fallback.
    languages: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["zh_Hans", "en"])
    title: Mapped[Texts] = mapped_column(JSON, default=dict)
    intro: Mapped[Texts] = mapped_column(JSON, default=dict)
    thanks: Mapped[Texts] = mapped_column(JSON, default=dict)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    questionnaire: Mapped[Questionnaire] = relationship(
        back_populates="versions", foreign_keys=[questionnaire_id]
    )
    dimensions: Mapped[list[Dimension]] = relationship(
        back_populates="version", order_by="Dimension.position", cascade="all, delete-orphan"
    )
    questions: Mapped[list[Question]] = relationship(
        back_populates="version", order_by="Question.position", cascade="all, delete-orphan"
    )
    rules: Mapped[list[SkipRule]] = relationship(
        back_populates="version", order_by="SkipRule.position", cascade="all, delete-orphan"
    )

    @property
    def is_published(self) -> bool:
        return self.status == VersionStatus.PUBLISHED


class Dimension(db.Model):
    """A group of questions (维度) with a weight in percent for the satisfaction index."""

    __tablename__ = "dimensions"
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    name: Mapped[Texts] = mapped_column(JSON, default=dict)
    weight: Mapped[int] = mapped_column(default=0)
    position: Mapped[int] = mapped_column(default=0)

    version: Mapped[QuestionnaireVersion] = relationship(back_populates="dimensions")


class Question(db.Model):
    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id"), index=True)
    #: Stable name within the version, used by skip rules and exports.
    key: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(default=0)
    #: Questions with the same step number are shown on one screen.
    step: Mapped[int] = mapped_column(default=1)
    type: Mapped[QuestionType] = mapped_column(_enum(QuestionType))
    required: Mapped[bool] = mapped_column(default=False)
    dimension_id: Mapped[int | None] = mapped_column(ForeignKey("dimensions.id"))
    prompt: Mapped[Texts] = mapped_column(JSON, default=dict)
    help: Mapped[Texts] = mapped_column(JSON, default=dict)
    #: Choices: [{"value": "wait", "label": {"zh_Hans": "…", "en": "…"}}, …]
    options: Mapped[list[dict]] = mapped_column(JSON, default=list)

    version: Mapped[QuestionnaireVersion] = relationship(back_populates="questions")
    dimension: Mapped[Dimension | None] = relationship()


class SkipRule(db.Model):
    """If <source> <operator> <value> then <action> <target> (跳转逻辑)."""

    __tablename__ = "skip_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    source_question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    operator: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(80), default="")
    action: Mapped[RuleAction] = mapped_column(_enum(RuleAction), default=RuleAction.SHOW)
    target_question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))

    version: Mapped[QuestionnaireVersion] = relationship(back_populates="rules")
    source: Mapped[Question] = relationship(foreign_keys=[source_question_id])
    target: Mapped[Question] = relationship(foreign_keys=[target_question_id])


class PublishedVersionError(Exception):
    """Raised on any attempt to change a published questionnaire version."""


def _frozen_version_of(session: Session, obj: object) -> QuestionnaireVersion | None:
    if isinstance(obj, QuestionnaireVersion):
        history = inspect(obj).attrs.status.history
        was = history.deleted[0] if history.deleted else obj.status
        return obj if was == VersionStatus.PUBLISHED else None
    if isinstance(obj, (Dimension, Question, SkipRule)):
        version = obj.version
        if version is None and obj.version_id is not None:
            version = session.get(QuestionnaireVersion, obj.version_id)
        if version is not None and version.status == VersionStatus.PUBLISHED:
            # A child added in the same flush as the publish is part of the version.
            if version in session.new or inspect(version).attrs.status.history.deleted:
                return None
            return version
    return None


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_published_versions(session: Session, flush_context, instances) -> None:
    """The guarantee behind "a published version never changes", whatever route tries."""
    for obj in list(session.dirty):
        if session.is_modified(obj, include_collections=False) and _frozen_version_of(session, obj) is not None:
            raise PublishedVersionError(f"published version cannot change: {obj!r}")
    for obj in list(session.new) + list(session.deleted):
        if _frozen_version_of(session, obj) is not None:
            raise PublishedVersionError(f"published version cannot change: {obj!r}")
