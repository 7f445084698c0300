"""/api/v1/questionnaires: questionnaires with their published versions, questions and options in every language.

Texts are objects keyed by language ("zh_Hans", "en", "zh_Hant" where written), as they are stored. Drafts are not
shown: only published versions, which never change once published (responses point at them). Any key reads them.
"""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.blueprints.api import auth, pagination, problems
from app.extensions import db
from app.models import Question, Questionnaire, QuestionnaireVersion, SkipRule

bp = Blueprint("api_questionnaires", __name__, url_prefix="/api/v1/questionnaires",
               description="Questionnaires and their published versions (read)")


def _texts(**kwargs) -> ma.fields.Dict:
    return ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True,
                          metadata={"description": "text per language: zh_Hans, en, zh_Hant"}, **kwargs)


class OptionSchema(ma.Schema):
    value = ma.fields.String(required=True)
    label = _texts()


class QuestionSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    key = ma.fields.String(required=True)
    position = ma.fields.Integer(required=True)
    step = ma.fields.Integer(required=True, metadata={"description": "questions of one step share a screen"})
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(("csat", "nps", "single", "multiple", "text", "contact")))
    required = ma.fields.Boolean(required=True)
    dimension_key = ma.fields.Function(
        lambda question: question.dimension.key if question.dimension is not None else None, required=True,
        metadata={"type": ["string", "null"], "description": "the dimension its rating counts in, if any"},
    )
    prompt = _texts()
    help = _texts()
    options = ma.fields.List(ma.fields.Nested(OptionSchema), required=True)


class DimensionSchema(ma.Schema):
    key = ma.fields.String(required=True)
    name = _texts()
    weight = ma.fields.Integer(required=True)


class SkipRuleSchema(ma.Schema):
    source_question_key = ma.fields.String(attribute="source.key", required=True)
    operator = ma.fields.String(required=True)
    value = ma.fields.String(required=True)
    action = ma.fields.String(required=True, validate=ma.validate.OneOf(("show", "skip")))
    target_question_key = ma.fields.String(attribute="target.key", required=True)


class VersionSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    number = ma.fields.Integer(required=True)
    languages = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "the first is the fallback"})
    title = _texts()
    intro = _texts()
    thanks = _texts()
    published_at = ma.fields.AwareDateTime(required=True)
    dimensions = ma.fields.List(ma.fields.Nested(DimensionSchema), required=True)
    questions = ma.fields.List(ma.fields.Nested(QuestionSchema), required=True)
    rules = ma.fields.List(ma.fields.Nested(SkipRuleSchema), required=True)


class QuestionnaireSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    code = ma.fields.String(required=True)
    name = _texts()
    starts_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    ends_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    archived_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    current_version_id = ma.fields.Integer(required=True, allow_none=True,
                                           metadata={"description": "the version customers answer now"})
    versions = ma.fields.List(ma.fields.Nested(VersionSchema), attribute="published_versions", required=True,
                              metadata={"description": "its published versions, oldest first"})


def _query():
    return select(Questionnaire).options(
        selectinload(Questionnaire.versions).options(
            selectinload(QuestionnaireVersion.dimensions),
            selectinload(QuestionnaireVersion.questions).joinedload(Question.dimension),
            selectinload(QuestionnaireVersion.rules).options(
                selectinload(SkipRule.source), selectinload(SkipRule.target)),
        )
    )


@bp.route("")
@auth.requires(None)
@bp.arguments(pagination.ListArgs, location="query")
@bp.response(200, pagination.page_schema(QuestionnaireSchema))
@problems.documented(400)
def list_questionnaires(args):
    """Every questionnaire with its published versions, by id."""
    return pagination.page(_query(), (Questionnaire.id,), args)


@bp.route("/<int:questionnaire_id>")
@auth.requires(None)
@bp.response(200, QuestionnaireSchema)
@problems.documented(404)
def get_questionnaire(questionnaire_id: int):
    questionnaire = db.session.scalar(_query().where(Questionnaire.id == questionnaire_id))
    if questionnaire is None:
        problems.abort(404, "No questionnaire with this id.")
    return questionnaire
