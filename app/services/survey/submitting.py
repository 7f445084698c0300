"""Taking a customer's survey: resume a draft, save each step, submit once.

This is the hot path of the whole product (every tap of every customer), so it reads
and writes with a few plain statements instead of the ORM's unit of work, and it is
idempotent by construction: inserts are upserts keyed by the draft's idempotency key
and by (response, question), and the final UPDATE only applies to an unsubmitted row.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import bindparam, delete, select, update

from app.core.clock import utcnow
from app.core.reference import new_reference_code
from app.core.routing import DEFAULT_SETTINGS, QuestionKind, RoutedResponse, is_negative
from app.core.skip_logic import AnswerValue
from app.extensions import db
from app.models import Answer, Channel, QrCode, Response
from app.models.tickets import new_customer_secret
from app.models.responses import answer_value
from app.models.upsert import insert_on_conflict
from app.services.survey.entries import SurveyEntry
from app.services.survey.plans import plan_for, SurveyPlan


class AlreadySubmitted(Exception):
    """The response was submitted already (double tap, retry, back button)."""


@dataclass(frozen=True)
class ContactDetails:
    consent: bool
    name: str | None
    phone: str | None
    email: str | None

    @property
    def kept(self) -> ContactDetails:
        """Without consent nothing is stored, whatever was typed."""
        return self if self.consent else NO_CONTACT


NO_CONTACT = ContactDetails(False, None, None, None)


@dataclass(frozen=True)
class SavedAnswer:
    question_id: int
    value: AnswerValue


@dataclass(frozen=True)
class DraftView:
    """A response as the survey pages read it: plain values in one query."""

    id: int
    version_id: int
    qr_code_id: int | None
    started_at: datetime
    submitted_at: datetime | None
    furthest_step: int
    contact_consent: bool
    contact_name: str | None
    contact_phone: str | None
    contact_email: str | None
    answers: tuple[SavedAnswer, ...]
    reference_code: str | None = None
    customer_secret: str | None = None


_COUNT_SCAN = update(QrCode).where(QrCode.id == bindparam("qr_id")).values(scan_count=QrCode.scan_count + 1)


def count_scan(entry: SurveyEntry) -> None:
    db.session.execute(_COUNT_SCAN, {"qr_id": entry.qr_id})


#: Built once: on the hot path, building a statement costs more than running it.
_READ_DRAFT = (
    select(
        Response.id, Response.version_id, Response.qr_code_id, Response.started_at, Response.submitted_at,
        Response.furthest_step,
        Response.contact_consent, Response.contact_name, Response.contact_phone, Response.contact_email,
        Answer.question_id, Answer.value_int, Answer.value_choices, Answer.value_text,
    )
    .outerjoin(Answer, Answer.response_id == Response.id)
    .where(Response.idempotency_key == bindparam("key"))
    .order_by(Answer.id)
)


def read_draft(key: str) -> DraftView | None:
    """The response this idempotency key made, with its answers, or None."""
    rows = db.session.execute(_READ_DRAFT, {"key": key}).all()
    if not rows:
        return None
    answers = tuple(
        SavedAnswer(row.question_id, answer_value(row.value_int, row.value_choices, row.value_text))
        for row in rows
        if row.question_id is not None
    )
    return DraftView(*rows[0][:10], answers=answers)


_READ_REFERENCE_CODE = select(Response.reference_code, Response.customer_secret).where(
    Response.idempotency_key == bindparam("key"), Response.qr_code_id == bindparam("qr_id"),
    Response.submitted_at.is_not(None),
)


@dataclass(frozen=True)
class FollowUp:
    """What the thank-you page gives the customer to follow their feedback with."""

    reference_code: str
    secret: str | None  # the status link's; None for a response stored before links carried one


def follow_up_of(key: str, qr_id: int) -> FollowUp | None:
    """The code (and link secret) of the response this draft key submitted through this QR code; None: not
    submitted, or nothing to follow.

    The thank-you page reads it here, not from what the submitting request put in the session:
    a reply that never reached the phone, or the loser of two taps, still shows it.
    """
    row = db.session.execute(_READ_REFERENCE_CODE, {"key": key, "qr_id": qr_id}).first()
    if row is None or row.reference_code is None:
        return None
    return FollowUp(row.reference_code, row.customer_secret)


def answers_of(draft: DraftView | None, plan: SurveyPlan) -> dict[str, AnswerValue]:
    if draft is None:
        return {}
    keys = {q.id: q.key for q in plan.questions}
    return {keys[a.question_id]: a.value for a in draft.answers if a.question_id in keys}


def plan_of(entry: SurveyEntry, draft: DraftView | None) -> SurveyPlan | None:
    """A started response keeps the version it began with, even if a newer one is published."""
    if draft is not None:
        return plan_for(draft.version_id)
    return plan_for(entry.version_id) if entry.version_id else None


def channel_of(entry: SurveyEntry, opened_by_link: bool) -> Channel:
    """A kiosk's code is the kiosk whatever the address said; a poster's code scanned is a QR code, and the
    same survey opened from its link (``survey_link``: e-mail, SMS, a website) is the link."""
    if entry.is_kiosk:
        return Channel.KIOSK
    return Channel.LINK if opened_by_link else Channel.QR


@dataclass(frozen=True)
class StepInput:
    key: str
    device_id: str
    started_at: datetime
    language: str
    step: int
    values: dict[str, AnswerValue]
    contact: ContactDetails | None
    #: How the survey was opened (``channel_of``): kept by the draft its first step makes.
    channel: Channel
    #: The integration that posts it (channel api).
    api_key_id: int | None = None


def save_step(entry: SurveyEntry, plan: SurveyPlan, data: StepInput, draft: DraftView | None) -> tuple[DraftView, bool]:
    """Store one step's answers; submit when it was the last step.

    Returns the draft as it is now and whether this call submitted it. Safe to
    repeat: the idempotency key finds the same row, answers are overwritten, and a
    submitted response is never changed (AlreadySubmitted).
    """
    now = utcnow()
    if draft is None:
        draft = _create_draft(entry, plan, data, now)
    if draft.submitted_at is not None:
        raise AlreadySubmitted()
    answers = {a.question_id: a for a in draft.answers}
    for key, value in data.values.items():
        question_id = plan.by_key[key].id
        if value in (None, "", []):
            answers.pop(question_id, None)
        else:
            answers[question_id] = SavedAnswer(question_id, value)
    contact = data.contact.kept if data.contact is not None else _contact_of(draft)
    draft = replace(
        draft,
        answers=tuple(answers.values()),
        furthest_step=max(draft.furthest_step, data.step),
        contact_consent=contact.consent,
        contact_name=contact.name,
        contact_phone=contact.phone,
        contact_email=contact.email,
    )
    by_key = answers_of(draft, plan)
    finished = plan.next_step(by_key, draft.furthest_step) is None
    if finished:
        draft = _finish(draft, plan, by_key, now)
    _store_step(draft, plan, data, now)
    return draft, finished


def submit_whole(branch_id: int, plan: SurveyPlan, data: StepInput) -> DraftView:
    """A response given whole at once (an integration's, through the API): the customer's path in one step,
    through the same draft, skip logic (answers the final answers hide are dropped), reference code and
    submit-once as the survey's steps. ``data.values`` are the answers already checked by the survey's step
    form; ``data.step`` is ignored. Raises AlreadySubmitted when ``data.key`` submitted a response already.
    """
    entry = SurveyEntry(qr_id=None, token="", is_kiosk=False, branch_id=branch_id, branch_name="",
                        version_id=plan.version_id)
    last_step = max((q.step for q in plan.questions), default=0)
    draft, finished = save_step(entry, plan, replace(data, step=last_step), read_draft(data.key))
    assert finished, "every step is done after the last one"
    return draft


def _create_draft(entry: SurveyEntry, plan: SurveyPlan, data: StepInput, now: datetime) -> DraftView:
    """Insert the draft once; a second request with the same key finds the first one's row."""
    inserted = db.session.execute(
        insert_on_conflict(Response)
        .values(
            branch_id=entry.branch_id,
            qr_code_id=entry.qr_id,
            version_id=plan.version_id,
            channel=data.channel,
            api_key_id=data.api_key_id,
            language=data.language,
            device_id=data.device_id,
            idempotency_key=data.key,
            started_at=min(data.started_at, now),
            furthest_step=0,
            quality_flags=[],
        )
        .on_conflict_do_nothing(index_elements=[Response.idempotency_key])
        .returning(Response.id)
    ).scalar()
    if inserted is not None:
        started_at = min(data.started_at, now)
        return DraftView(inserted, plan.version_id, entry.qr_id, started_at, None, 0, False, None, None, None, ())
    existing = read_draft(data.key)
    assert existing is not None, "a conflicting insert means the row exists"
    return existing


def _contact_of(draft: DraftView) -> ContactDetails:
    return ContactDetails(draft.contact_consent, draft.contact_name, draft.contact_phone, draft.contact_email)


def _finish(draft: DraftView, plan: SurveyPlan, by_key: dict[str, AnswerValue], now: datetime) -> DraftView:
    """Drop answers to questions the final answers hide; give a reference code for a call back."""
    visible = set(plan.visible_keys(by_key))
    visible_ids = {q.id for q in plan.questions if q.key in visible}
    contact = _contact_of(draft)
    if plan.contact_question is None or plan.contact_question.key not in visible:
        contact = NO_CONTACT
    reachable = contact.consent and bool(contact.phone or contact.email)
    answers = tuple(a for a in draft.answers if a.question_id in visible_ids)
    follow = reachable or _may_open_a_ticket(plan, answers)
    return replace(
        draft,
        answers=answers,
        contact_consent=contact.consent,
        contact_name=contact.name,
        contact_phone=contact.phone,
        contact_email=contact.email,
        submitted_at=now,
        reference_code=new_reference_code() if follow else None,
        customer_secret=new_customer_secret() if follow else None,
    )


def _may_open_a_ticket(plan: SurveyPlan, answers: tuple[SavedAnswer, ...]) -> bool:
    """Routing decides after the submit, in a job, but the customer must leave with a code for what will
    become a ticket (a customer without contact details too: the status link is how they hear back): a
    score at or below the default triggers (CSAT ≤ 2, NPS ≤ 6) or a written complaint by the keyword rules.
    The sentiment lexicons are left out here (loading them costs a web worker a second and 70 MB); a
    complaint only they find opens its ticket without a code on the page."""
    keys = {q.id: q.key for q in plan.questions}
    routed = RoutedResponse(
        branch_code="", region="",
        answers={keys[a.question_id]: a.value for a in answers if a.question_id in keys},
        questions={q.key: QuestionKind(str(q.type), q.dimension) for q in plan.questions},
    )
    return bool(is_negative(routed, _WITHOUT_LEXICON))


_STEP_COLUMNS = (
    "language", "furthest_step", "last_answered_at",
    "contact_consent", "contact_name", "contact_phone", "contact_email",
)
_WITHOUT_LEXICON = replace(DEFAULT_SETTINGS, sentiment_lexicon=False)
_SUBMIT_COLUMNS = ("submitted_at", "duration_seconds", "reference_code", "customer_secret")


def _guarded_update(columns: tuple[str, ...]):
    """UPDATE a response that is not submitted yet: of two racing final submits, one wins."""
    return (
        update(Response)
        .where(Response.id == bindparam("response_id"), Response.submitted_at.is_(None))
        .values({name: bindparam(name) for name in columns})
    )


_SAVE_STEP = _guarded_update(_STEP_COLUMNS)
_SAVE_AND_SUBMIT = _guarded_update(_STEP_COLUMNS + _SUBMIT_COLUMNS)
_DELETE_ANSWERS = delete(Answer).where(
    Answer.response_id == bindparam("response_id"), Answer.question_id.in_(bindparam("gone", expanding=True))
)


def _store_step(draft: DraftView, plan: SurveyPlan, data: StepInput, now: datetime) -> None:
    values = {
        "response_id": draft.id,
        "language": data.language,
        "furthest_step": draft.furthest_step,
        "last_answered_at": now,
        "contact_consent": draft.contact_consent,
        "contact_name": draft.contact_name,
        "contact_phone": draft.contact_phone,
        "contact_email": draft.contact_email,
    }
    statement = _SAVE_STEP
    if draft.submitted_at is not None:
        statement = _SAVE_AND_SUBMIT
        values.update(
            submitted_at=draft.submitted_at,
            duration_seconds=max(0, int((draft.submitted_at - draft.started_at).total_seconds())),
            reference_code=draft.reference_code,
            customer_secret=draft.customer_secret,
        )
    # First: it takes the row's lock, and refuses a response submitted meanwhile.
    changed = db.session.execute(statement, values, execution_options={"synchronize_session": False}).rowcount
    if not changed:
        raise AlreadySubmitted()
    kept_ids = {a.question_id for a in draft.answers}
    step_ids = [plan.by_key[key].id for key in data.values]
    checked_ids = [q.id for q in plan.questions] if draft.submitted_at is not None else step_ids
    gone = [qid for qid in checked_ids if qid not in kept_ids]
    if gone:
        db.session.execute(_DELETE_ANSWERS, {"response_id": draft.id, "gone": gone})
    written = [
        {
            "response_id": draft.id,
            "question_id": a.question_id,
            "value_int": a.value if isinstance(a.value, int) else None,
            "value_choices": list(a.value) if isinstance(a.value, list) else None,
            "value_text": a.value if isinstance(a.value, str) else None,
        }
        for a in draft.answers
        if a.question_id in step_ids
    ]
    if written:
        db.session.execute(_upsert_answers(), written)


def _upsert_answers():
    """INSERT … ON CONFLICT DO UPDATE, built once per dialect."""
    dialect = db.session.get_bind().dialect.name
    statement = _UPSERT_ANSWERS.get(dialect)
    if statement is None:
        insert = insert_on_conflict(Answer)
        statement = _UPSERT_ANSWERS[dialect] = insert.on_conflict_do_update(
            index_elements=[Answer.response_id, Answer.question_id],
            set_={
                "value_int": insert.excluded.value_int,
                "value_choices": insert.excluded.value_choices,
                "value_text": insert.excluded.value_text,
            },
        )
    return statement


_UPSERT_ANSWERS: dict[str, object] = {}
