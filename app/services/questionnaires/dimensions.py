"""A draft's scoring dimensions, saved all at once so their weights add up to 100."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.core import questionnaire_checks as checks
from app.core.questionnaire_checks import Problem
from app.extensions import db
from app.models import Dimension, QuestionnaireVersion, User
from app.models.types import Texts
from app.services import audit
from app.services.questionnaires.questions import update_question_fields
from app.services.questionnaires.refusals import Refused
from app.services.questionnaires.versions import ensure_draft

DIMENSION_FIELDS = ("key", "name", "weight", "position")


@dataclass(frozen=True)
class DimensionInput:
    row: int
    id: int | None
    key: str
    name: Texts
    weight: int
    remove: bool = False


def save_dimensions(actor: User, version: QuestionnaireVersion, rows: Sequence[DimensionInput]) -> None:
    """Add, change and remove dimensions at once, so the weights can add up to 100 after the change."""
    ensure_draft(version)
    by_id = {d.id: d for d in version.dimensions}
    kept = [r for r in rows if not r.remove and (r.id in by_id or r.key or any(r.name.values()) or r.weight)]
    problems = []
    seen: list[str] = []
    for row in kept:
        code = checks.key_problem(row.key, seen)
        if code:
            problems.append(Problem(f"dimension-{row.row}-key", code))
        seen.append(row.key)
    weights = checks.weights_problem([r.weight for r in kept])
    if weights:
        problems.append(weights)
    if problems:
        raise Refused(problems)
    removed = [by_id[r.id] for r in rows if r.remove and r.id in by_id]
    for dimension in removed:
        for question in version.questions:
            if question.dimension_id == dimension.id:
                update_question_fields(actor, question, dimension_id=None)
        audit.record(actor, "delete", dimension, before=audit.values(dimension, DIMENSION_FIELDS))
        version.dimensions.remove(dimension)
    befores = {r.id: audit.values(by_id[r.id], DIMENSION_FIELDS) for r in kept if r.id in by_id}
    for row in kept:
        if row.id in by_id and by_id[row.id].key != row.key:
            by_id[row.id].key = f"~{row.id}"  # two dimensions may swap keys: free them first
    db.session.flush()  # a removed or renamed key may be taken again below
    for position, row in enumerate(kept):
        dimension = by_id.get(row.id)
        if dimension is None:
            dimension = Dimension(key=row.key, name=dict(row.name), weight=row.weight, position=position)
            version.dimensions.append(dimension)
            db.session.flush()
            audit.record(actor, "create", dimension, after=audit.values(dimension, DIMENSION_FIELDS))
            continue
        dimension.key, dimension.name, dimension.weight, dimension.position = row.key, dict(row.name), row.weight, position
        audit.record(actor, "update", dimension, before=befores[row.id], after=audit.values(dimension, DIMENSION_FIELDS))
    db.session.flush()
