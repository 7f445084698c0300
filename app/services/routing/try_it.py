"""The admins' "try it" box: responses to pick, answers typed in, and the ticket a response opened."""
from __future__ import annotations

import re
from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.core import routing
from app.extensions import db
from app.models import (
    Answer,
    Branch,
    Questionnaire,
    QuestionnaireVersion,
    QuestionType,
    Response,
    Ticket,
    VersionStatus,
)
from app.services.routing.editor import RuleError


def submitted_response(response_id: int) -> Response | None:
    return db.session.scalar(
        select(Response)
        .where(Response.id == response_id, Response.submitted_at.is_not(None))
        .options(selectinload(Response.answers), joinedload(Response.branch))
    )


def recent_responses(limit: int = 40) -> list[Response]:
    """Submitted responses, newest first, with their answers' questions (for a select to try)."""
    return list(db.session.scalars(
        select(Response)
        .where(Response.submitted_at.is_not(None))
        .options(joinedload(Response.branch), selectinload(Response.answers).joinedload(Answer.question))
        .order_by(Response.submitted_at.desc(), Response.id.desc())
        .limit(limit)
    ))


def ticket_of_response(response_id: int) -> Ticket | None:
    return db.session.scalar(
        select(Ticket).where(Ticket.response_id == response_id).options(joinedload(Ticket.department))
    )


def ticket_codes_of_responses(response_ids: Sequence[int]) -> dict[int, str]:
    """Response id → the reference code of the ticket it opened, for those that opened one."""
    return dict(db.session.execute(
        select(Ticket.response_id, Ticket.reference_code).where(Ticket.response_id.in_(list(response_ids)))
    ).all())


def published_versions() -> list[QuestionnaireVersion]:
    """Versions answers can be typed for: the questionnaires' current ones first, then older ones."""
    versions = db.session.scalars(
        select(QuestionnaireVersion)
        .join(QuestionnaireVersion.questionnaire)
        .where(QuestionnaireVersion.status == VersionStatus.PUBLISHED)
        .options(joinedload(QuestionnaireVersion.questionnaire))
        .order_by(Questionnaire.archived_at.is_not(None), Questionnaire.code, QuestionnaireVersion.number.desc())
    ).all()
    return sorted(versions, key=lambda v: v.questionnaire.current_version_id != v.id)


def response_summary(response: Response) -> str:
    """"service 1, nps 8, comment: The queue was…": what a response said, for a select's label."""
    parts = []
    for answer in response.answers:
        value = answer.value
        if value in (None, "", []) or answer.question.type == QuestionType.CONTACT:
            continue
        if isinstance(value, list):
            value = "+".join(value)
        elif isinstance(value, str) and len(value) > 30:
            value = value[:30] + "…"
        parts.append(f"{answer.question.key} {value}")
    return ", ".join(parts)


def pasted_response(plan, branch: Branch, lines: str, comment: str = "") -> routing.RoutedResponse:
    """A response as routing reads it, from ``key=value`` lines and a comment, for ``plan``'s questions.

    Scores are whole numbers (CSAT 1–5, NPS 0–10), a multiple choice takes its option values
    separated by commas, the comment is the answer to the first open question. Lines that do not
    fit raise ``RuleError`` (fields "answers" and "comment").
    """
    questions = {q.key: q for q in plan.questions}
    answers: dict[str, routing.AnswerValue] = {}
    problems: list[str] = []
    for number, line in enumerate(lines.splitlines(), start=1):
        if not line.strip():
            continue
        key, separator, value = line.partition("=")
        key, value = key.strip(), value.strip()
        question = questions.get(key)
        if not separator or not key:
            problems.append(_l("Line %(n)d: write key=value, e.g. service=2.", n=number))
        elif question is None:
            problems.append(_l(
                "Line %(n)d: this questionnaire has no question %(key)s (it has: %(keys)s).",
                n=number, key=key, keys=", ".join(questions),
            ))
        elif question.type in (QuestionType.CSAT, QuestionType.NPS):
            low, high = (1, 5) if question.type == QuestionType.CSAT else (0, 10)
            if not re.fullmatch(r"\d{1,2}", value) or not low <= int(value) <= high:
                problems.append(_l("Line %(n)d: %(key)s takes a whole number from %(low)d to %(high)d.",
                                   n=number, key=key, low=low, high=high))
            else:
                answers[key] = int(value)
        elif question.type == QuestionType.MULTIPLE:
            answers[key] = [part.strip() for part in value.split(",") if part.strip()]
        elif question.type == QuestionType.CONTACT:
            problems.append(_l("Line %(n)d: contact details play no part in routing.", n=number))
        else:
            answers[key] = value
    errors: dict[str, str] = {}
    if problems:
        errors["answers"] = " ".join(str(problem) for problem in problems)
    if comment.strip():
        text_question = next((q for q in plan.questions if q.type == QuestionType.TEXT), None)
        if text_question is None:
            errors["comment"] = _l("This questionnaire has no open question for a comment.")
        else:
            answers.setdefault(text_question.key, comment.strip())
    if errors:
        raise RuleError(errors)
    return routing.RoutedResponse(
        branch_code=branch.code,
        region=branch.region,
        answers=answers,
        questions={q.key: routing.QuestionKind(str(q.type), q.dimension) for q in plan.questions},
    )
