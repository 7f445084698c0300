"""Taking a customer's survey: open it from a QR token, save each step, submit once."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from app.core.clock import utcnow
from app.core.reference import new_reference_code
from app.core.skip_logic import AnswerValue
from app.extensions import db
from app.models import Answer, Branch, QrCode, Questionnaire, QuestionType, Response
from app.services.survey_plans import SurveyPlan, plan_for


class Unavailable(enum.StrEnum):
    UNKNOWN = "unknown"    # no such code (mistyped, or never existed)
    REVOKED = "revoked"    # the code was replaced or withdrawn
    CLOSED = "closed"      # branch inactive, or no questionnaire open for it now


class SurveyUnavailable(Exception):
    def __init__(self, reason: Unavailable, branch: Branch | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.branch = branch


class AlreadySubmitted(Exception):
    """The response was submitted already (double tap, retry, back button)."""


@dataclass(frozen=True)
class SurveyEntry:
    qr: QrCode
    branch: Branch
    #: The version a new response would answer; None when nothing is open.
    version_id: int | None


@dataclass(frozen=True)
class ContactDetails:
    consent: bool
    name: str | None
    phone: str | None
    email: str | None

    @property
    def reachable(self) -> bool:
        return self.consent and bool(self.phone or self.email)


def open_survey(token: str, now: datetime | None = None) -> SurveyEntry:
    """Resolve a QR token. Raises SurveyUnavailable for unknown or revoked codes."""
    qr = db.session.scalar(select(QrCode).where(QrCode.token == token).options(joinedload(QrCode.branch)))
    if qr is None:
        raise SurveyUnavailable(Unavailable.UNKNOWN)
    if qr.revoked:
        raise SurveyUnavailable(Unavailable.REVOKED, qr.branch)
    version_id = None
    if qr.branch.active:
        questionnaire = _questionnaire_for(qr, now or utcnow())
        version_id = questionnaire.current_version_id if questionnaire else None
    return SurveyEntry(qr=qr, branch=qr.branch, version_id=version_id)


def _questionnaire_for(qr: QrCode, now: datetime) -> Questionnaire | None:
    """The code's own questionnaire, else the most specific one open for its branch."""
    candidates = db.session.scalars(
        select(Questionnaire)
        .where(Questionnaire.archived_at.is_(None), Questionnaire.current_version_id.is_not(None))
        .options(selectinload(Questionnaire.target_branches))
        .order_by(Questionnaire.id.desc())
    ).all()
    if qr.questionnaire_id is not None:
        pinned = [q for q in candidates if q.id == qr.questionnaire_id and q.is_open_at(now)]
        return pinned[0] if pinned else None
    branch = qr.branch
    open_here = [q for q in candidates if q.is_open_at(now) and q.targets(branch)]

    def specificity(q: Questionnaire) -> int:
        return 2 if branch in q.target_branches else 1 if branch.region in q.target_regions else 0

    return max(open_here, key=specificity, default=None)


def count_scan(qr: QrCode) -> None:
    db.session.execute(update(QrCode).where(QrCode.id == qr.id).values(scan_count=QrCode.scan_count + 1))


def find_draft(key: str) -> Response | None:
    return db.session.scalar(
        select(Response).where(Response.idempotency_key == key).options(selectinload(Response.answers))
    )


def answers_of(response: Response | None, plan: SurveyPlan) -> dict[str, AnswerValue]:
    if response is None:
        return {}
    keys = {q.id: q.key for q in plan.questions}
    return {keys[a.question_id]: a.value for a in response.answers if a.question_id in keys}


def plan_of(entry: SurveyEntry, draft: Response | None) -> SurveyPlan | None:
    """A started response keeps the version it began with, even if a newer one is published."""
    if draft is not None:
        return plan_for(draft.version_id)
    return plan_for(entry.version_id) if entry.version_id else None


@dataclass(frozen=True)
class StepInput:
    key: str
    device_id: str
    started_at: datetime
    language: str
    step: int
    values: dict[str, AnswerValue]
    contact: ContactDetails | None


def save_step(entry: SurveyEntry, plan: SurveyPlan, data: StepInput) -> tuple[Response, bool]:
    """Store one step's answers; submit when it was the last step.

    Returns the response and whether this call submitted it. Safe to repeat: the
    idempotency key finds the same row, answers are overwritten, a submitted
    response is never changed (AlreadySubmitted). One retry covers the race of
    two identical requests arriving together.
    """
    for attempt in (1, 2):
        try:
            with db.session.begin_nested():
                return _save_step_once(entry, plan, data)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _save_step_once(entry: SurveyEntry, plan: SurveyPlan, data: StepInput) -> tuple[Response, bool]:
    now = utcnow()
    response = find_draft(data.key)
    if response is None:
        response = Response(
            branch_id=entry.branch.id,
            qr_code_id=entry.qr.id,
            version_id=plan.version_id,
            language=data.language,
            device_id=data.device_id,
            idempotency_key=data.key,
            started_at=min(data.started_at, now),
            furthest_step=0,
            quality_flags=[],
            answers=[],
        )
        db.session.add(response)
    elif response.submitted_at is not None:
        raise AlreadySubmitted()
    by_question = {a.question_id: a for a in response.answers}
    for key, value in data.values.items():
        question = plan.by_key[key]
        answer = by_question.get(question.id)
        if value in (None, "", []):
            if answer is not None:
                response.answers.remove(answer)
            continue
        if answer is None:
            answer = Answer(question_id=question.id)
            response.answers.append(answer)
        answer.value_int = value if isinstance(value, int) else None
        answer.value_choices = list(value) if isinstance(value, list) else None
        answer.value_text = value if isinstance(value, str) else None
    if data.contact is not None:
        _set_contact(response, data.contact)
    response.language = data.language
    response.furthest_step = max(response.furthest_step, data.step)
    response.last_answered_at = now
    db.session.flush()
    answers = answers_of(response, plan)
    if plan.next_step(answers, response.furthest_step) is not None:
        return response, False
    _submit(response, plan, answers, now)
    return response, True


def _set_contact(response: Response, contact: ContactDetails) -> None:
    keep = contact.consent
    response.contact_consent = contact.consent
    response.contact_name = contact.name if keep else None
    response.contact_phone = contact.phone if keep else None
    response.contact_email = contact.email if keep else None


def _submit(response: Response, plan: SurveyPlan, answers: dict[str, AnswerValue], now: datetime) -> None:
    visible = set(plan.visible_keys(answers))
    hidden_ids = {q.id for q in plan.questions if q.key not in visible}
    for answer in [a for a in response.answers if a.question_id in hidden_ids]:
        response.answers.remove(answer)
    contact_question = plan.contact_question
    if contact_question is None or contact_question.key not in visible:
        _set_contact(response, ContactDetails(False, None, None, None))
    reference_code = None
    if response.contact_consent and (response.contact_phone or response.contact_email):
        reference_code = new_reference_code()
    db.session.flush()
    # Only one of two racing submits wins this row; the loser rolls back.
    won = db.session.execute(
        update(Response)
        .where(Response.id == response.id, Response.submitted_at.is_(None))
        .values(
            submitted_at=now,
            duration_seconds=max(0, int((now - response.started_at).total_seconds())),
            reference_code=reference_code,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not won:
        raise AlreadySubmitted()
    db.session.refresh(response)

