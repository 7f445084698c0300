"""A questionnaire version offered in Traditional Chinese too, its texts converted with OpenCC (s2twp),
as an admin would type them for a Hong Kong or Taiwan branch."""
from __future__ import annotations

import opencc
from sqlalchemy import select

from app.extensions import db
from app.models import Branch, QrCode, QuestionnaireVersion, User
from app.services.questionnaires import queries, versions
from app.services.survey.entries import forget_cached_codes, open_survey

_convert = opencc.OpenCC("s2twp").convert


def with_hant(texts: dict | None) -> dict | None:
    if not texts or not texts.get("zh_Hans"):
        return texts
    return {**texts, "zh_Hant": _convert(texts["zh_Hans"])}


def offer_traditional_chinese(version: QuestionnaireVersion) -> None:
    """Every text of ``version`` also in zh_Hant, and zh_Hant among its languages (in the session)."""
    version.languages = [*version.languages, "zh_Hant"]
    for name in ("title", "intro", "thanks"):
        setattr(version, name, with_hant(getattr(version, name)))
    for dimension in version.dimensions:
        dimension.name = with_hant(dimension.name)
    for question in version.questions:
        question.prompt = with_hant(question.prompt)
        question.help = with_hant(question.help)
        question.options = [{**option, "label": with_hant(option.get("label"))} for option in question.options or []]


def serve_traditional_chinese_at(branch_code: str) -> QuestionnaireVersion:
    """The questionnaire the branch's codes serve gets a new version with zh_Hant texts, published
    by the admin (committed; caches dropped)."""
    branch = db.session.scalar(select(Branch).where(Branch.code == branch_code))
    qr = db.session.scalar(select(QrCode).where(QrCode.branch_id == branch.id))
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    forget_cached_codes()
    served = queries.version_with_children(open_survey(qr.token).version_id)
    draft, _made = versions.new_draft_from(admin, served)
    db.session.flush()
    offer_traditional_chinese(draft)
    assert versions.publish(admin, draft) == []
    db.session.commit()
    forget_cached_codes()
    return draft
