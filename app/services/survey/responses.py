"""What happens to a response after the customer submitted it, and reading responses back."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import Text, cast, func, or_, select, tuple_, update
from sqlalchemy.orm import joinedload, selectinload

from app.core.clock import utcnow
from app.core.quality import BURST, CHARS_PER_TAP, QualityThresholds, effort, is_burst, quality_flags
from app.extensions import db
from app.models import Answer, Branch, QrCode, Question, QuestionType, Response, Ticket, User
from app.models.tickets import OPEN_STATUSES
from app.permissions import scope_responses
from app.services.insight import rollups
from app.services.tickets import opening
from app.services.insight.filters import ARG_NAMES, InsightFilter
from app.services.survey.plans import plan_for
from app.services.webhooks import events as webhook_events, payloads as webhook_payloads

log = logging.getLogger(__name__)

#: How many recent responses of a version make its median pace for the speeder flag.
DURATION_SAMPLE = 200


def process_submitted(response_id: int, source_key: str | None = None) -> bool:
    """Flag data quality, count the response on its QR code, open its ticket and emit ``response.submitted``, exactly once.

    Safe to run twice (a retry, the sweep): only the call that marks the row
    processed does the work. Returns whether this call did it. ``source_key`` is the keyed
    address it was submitted from (app/core/quality.source_key), for the burst rule.

    Several workers process responses at once, so the rows it writes are locked in one order every
    job follows, and no two jobs wait for each other (a deadlock, which PostgreSQL rolls back): the
    responses (its own and the earlier ones of its burst) by id, then its QR code, its ticket, and
    last the roll-up days it marks, in (branch, day) order.
    """
    now = utcnow()
    response = db.session.scalar(
        select(Response)
        .where(Response.id == response_id, Response.submitted_at.is_not(None), Response.processed_at.is_(None))
        .options(selectinload(Response.answers), joinedload(Response.qr_code))
    )
    if response is None:
        return False
    thresholds = QualityThresholds.from_config(current_app.config)
    burst = _burst_of(response, source_key or response.source_key, thresholds)
    members = [member.id for member in burst or ()]
    db.session.execute(
        select(Response.id).where(Response.id.in_([response.id, *members])).order_by(Response.id).with_for_update()
    )
    claimed = db.session.execute(
        update(Response)
        .where(Response.id == response_id, Response.processed_at.is_(None))
        .values(processed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        return False
    response.processed_at = now
    if source_key:
        response.source_key = source_key
    flags = _flags_for(response)
    days = {(response.branch_id, rollups.local_day(response.submitted_at, response.branch.timezone))}
    if burst is not None:
        flags.append(BURST)
        days |= _flag_earlier(members)
    response.quality_flags = flags
    if response.qr_code_id is not None:
        db.session.execute(
            update(QrCode)
            .where(QrCode.id == response.qr_code_id)
            .values(response_count=QrCode.response_count + 1)
        )
    db.session.flush()
    ticket = opening.open_from_response(response.id, now, attach_to=_same_source_ticket(response, thresholds))
    webhook_events.emit("response.submitted", lambda: {
        "response": webhook_payloads.response(response, ticket.reference_code if ticket is not None else None),
    }, response.branch_id, now)
    for branch_id, day in sorted(days):
        rollups.mark_dirty(branch_id, day)
    return True


def _in_window(response: Response, thresholds: QualityThresholds):
    return select(Response).where(
        Response.branch_id == response.branch_id,
        Response.id != response.id,
        Response.submitted_at >= response.submitted_at - thresholds.burst_window,
        Response.submitted_at <= response.submitted_at,
    )


def _judged(response: Response) -> bool:
    """A kiosk is one device at one address by design: the burst rules leave it alone."""
    return not (response.qr_code is not None and response.qr_code.is_kiosk)


def _burst_of(response: Response, source_key: str | None, thresholds: QualityThresholds) -> list[Response] | None:
    """The earlier responses of the burst this one (sent from ``source_key``) completes or continues; None when
    it is no burst."""
    if not _judged(response):
        return None
    same_address = (
        list(db.session.scalars(_in_window(response, thresholds).where(Response.source_key == source_key)))
        if source_key else []
    )
    same_code = (
        list(db.session.scalars(_in_window(response, thresholds).where(Response.qr_code_id == response.qr_code_id)))
        if response.qr_code_id is not None else []
    )
    if not is_burst(len(same_address) + 1, len(same_code) + 1, thresholds):
        return None
    members = same_address if len(same_address) + 1 >= thresholds.burst_same_address else []
    if len(same_code) + 1 >= thresholds.burst_same_code:
        members = members + [r for r in same_code if r not in members]
    return members


def _flag_earlier(member_ids: list[int]) -> set[tuple[int, date]]:
    """The burst's earlier responses are flagged too (kept, out of the scores like any flagged response).

    Read again under their locks (another job may have flagged them since); returns the roll-up days to mark."""
    days = set()
    members = db.session.scalars(
        select(Response).where(Response.id.in_(member_ids)).options(joinedload(Response.branch))
        .execution_options(populate_existing=True)
    ).all()
    for member in members:
        if BURST not in (member.quality_flags or []):
            member.quality_flags = [*(member.quality_flags or []), BURST]
            days.add((member.branch_id, rollups.local_day(member.submitted_at, member.branch.timezone)))
    return days


def _same_source_ticket(response: Response, thresholds: QualityThresholds) -> Ticket | None:
    """The open ticket of an earlier response from the same address (another phone) in the window: a burst opens
    one ticket, and the others join it. A customer who left contact details always gets their own."""
    if not _judged(response) or not response.source_key or response.contact_phone or response.contact_email:
        return None
    return db.session.scalar(
        select(Ticket)
        .join(Response, Response.id == Ticket.response_id)
        .where(
            Response.branch_id == response.branch_id,
            Response.id != response.id,
            Response.source_key == response.source_key,
            Response.device_id != response.device_id,
            Response.submitted_at >= response.submitted_at - thresholds.burst_window,
            Response.submitted_at <= response.submitted_at,
            Ticket.status.in_(OPEN_STATUSES),
        )
        .order_by(Ticket.id)
        .limit(1)
    )


def path_effort(plan, values: dict) -> tuple[float, int]:
    """(effort in taps, questions asked) of the path these answers took through the plan (app/core/quality)."""
    shown = []
    for key in plan.visible_keys(values):
        question = plan.by_key[key]
        value = values.get(key)
        typed = len(value) if isinstance(value, str) else 0
        if question.type == QuestionType.CONTACT:
            continue
        shown.append((question.type.value, typed))
    return effort(shown), len(shown)


def _flags_for(response: Response) -> list[str]:
    thresholds = QualityThresholds.from_config(current_app.config)
    plan = plan_for(response.version_id)
    questions = {q.id: q for q in plan.questions}
    answered = [(questions[a.question_id], a) for a in response.answers if a.question_id in questions]
    ratings = [a.value_int for q, a in answered if q.type == QuestionType.CSAT and a.value_int is not None]
    texts = [a.value_text for q, a in answered if q.type == QuestionType.TEXT and a.value_text]
    taps, asked = path_effort(plan, {q.key: a.value for q, a in answered})
    typed_contact = sum(len(v or "") for v in (response.contact_name, response.contact_phone, response.contact_email))
    response.effort = taps + typed_contact / CHARS_PER_TAP
    repeat = False
    kiosk = response.qr_code is not None and response.qr_code.is_kiosk
    if not kiosk:
        repeat = bool(
            db.session.scalar(
                select(func.count(Response.id)).where(
                    Response.device_id == response.device_id,
                    Response.branch_id == response.branch_id,
                    Response.id != response.id,
                    Response.submitted_at >= response.submitted_at - thresholds.repeat_device_window,
                    Response.submitted_at <= response.submitted_at,
                )
            )
        )
    return quality_flags(
        duration_seconds=response.duration_seconds or 0,
        effort_taps=response.effort,
        ratings=ratings,
        earlier_paces=recent_paces(response.version_id, excluding_id=response.id),
        repeat_device=repeat,
        texts=texts,
        asked=asked,
        thresholds=thresholds,
    )


def recent_durations(version_id: int, excluding_id: int | None = None) -> list[int]:
    """The durations of a version's latest submitted responses (shown beside a flagged one on the review page)."""
    query = (
        select(Response.duration_seconds)
        .where(
            Response.version_id == version_id,
            Response.submitted_at.is_not(None),
            Response.duration_seconds.is_not(None),
        )
        .order_by(Response.submitted_at.desc())
        .limit(DURATION_SAMPLE)
    )
    if excluding_id is not None:
        query = query.where(Response.id != excluding_id)
    return list(db.session.scalars(query))


def recent_paces(version_id: int, excluding_id: int | None = None) -> list[float]:
    """Seconds per tap of a version's latest submitted responses: its median is the speeder yardstick."""
    query = (
        select(Response.duration_seconds, Response.effort)
        .where(
            Response.version_id == version_id,
            Response.submitted_at.is_not(None),
            Response.duration_seconds.is_not(None),
            Response.effort > 0,
        )
        .order_by(Response.submitted_at.desc())
        .limit(DURATION_SAMPLE)
    )
    if excluding_id is not None:
        query = query.where(Response.id != excluding_id)
    return [duration / taps for duration, taps in db.session.execute(query)]


def unprocessed_response_ids(older_than: timedelta, limit: int = 1000) -> list[int]:
    """Submitted responses whose after-submit job never ran (Redis was down, a worker died)."""
    cutoff = utcnow() - older_than
    return list(
        db.session.scalars(
            select(Response.id)
            .where(Response.processed_at.is_(None), Response.submitted_at.is_not(None), Response.submitted_at <= cutoff)
            .order_by(Response.id)
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class ResponseFilter:
    """The responses behind a dashboard figure: the dashboard's filter, and what the figure counts.

    Dates are each branch's local days, as on the dashboard's roll-ups. Only submitted responses,
    flagged ones only with ``include_flagged`` (or cleared), like the scores.
    """

    insight: InsightFilter
    #: Answered this question (a key, stable across versions) ...
    question: str | None = None
    #: ... choosing this option, or rating it at most max_score.
    option: str | None = None
    max_score: int | None = None
    #: Only responses that opened a ticket.
    negative: bool = False

    ARGS = ("question", "option", "max_score", "negative")

    @classmethod
    def from_args(cls, args) -> ResponseFilter | None:
        """None when the query string asks for no filter (the plain latest list)."""
        if not any(args.get(name) for name in ARG_NAMES + cls.ARGS):
            return None
        max_score = args.get("max_score", "")
        return cls(
            insight=InsightFilter.from_args(args),
            question=(args.get("question") or "").strip()[:40] or None,
            option=(args.get("option") or "").strip()[:80] or None,
            max_score=int(max_score) if max_score.strip().isascii() and max_score.strip().isdigit() and len(max_score) < 4 else None,
            negative=args.get("negative") in ("1", "true", "on"),
        )

    def to_args(self) -> dict:
        params = {k: v for k, v in self.insight.to_params().items() if v not in (None, [], False)}
        if self.insight.include_flagged:
            params["include_flagged"] = "1"
        extra = {"question": self.question, "option": self.option, "max_score": self.max_score,
                 "negative": "1" if self.negative else None}
        return params | {k: v for k, v in extra.items() if v is not None}

    def apply(self, query, user: User):
        f = self.insight
        query = replace(f, date_from=None, date_to=None).apply_to_responses(query, user)
        if f.date_from or f.date_to:
            zones = db.session.execute(select(Branch.id, Branch.timezone)).all()
            query = query.where(
                rollups.local_days_condition(Response.submitted_at, Response.branch_id, f.date_from, f.date_to, zones)
            )
        if self.question:
            answered = (
                select(Answer.id)
                .join(Question, Question.id == Answer.question_id)
                .where(Answer.response_id == Response.id, Question.key == self.question)
            )
            if self.option:
                pattern = "%" + json.dumps(self.option).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                answered = answered.where(cast(Answer.value_choices, Text).like(pattern, escape="\\"))
            elif self.max_score is not None:
                answered = answered.where(Answer.value_int <= self.max_score)
            else:
                answered = answered.where(or_(Answer.value_int.is_not(None), Answer.value_choices.is_not(None)))
            query = query.where(answered.exists())
        if self.negative:
            query = query.where(select(Ticket.id).where(Ticket.response_id == Response.id).exists())
        return query


def latest_responses(
    user: User, limit: int = 50, before_id: int | None = None, narrowed: ResponseFilter | None = None
) -> list[Response]:
    """Newest visit first; ``before_id`` continues after that response (keyset, stable under inserts)."""
    query = (
        select(Response)
        .options(joinedload(Response.branch), joinedload(Response.qr_code))
        .order_by(Response.started_at.desc(), Response.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        anchor = db.session.get(Response, before_id)
        if anchor is None:
            return []
        query = query.where(tuple_(Response.started_at, Response.id) < tuple_(anchor.started_at, anchor.id))
    if narrowed is not None:
        query = narrowed.apply(query, user)
    return list(db.session.scalars(scope_responses(query, user)))


def count_responses(user: User, narrowed: ResponseFilter) -> int:
    """How many responses the filter finds (the number on the dashboard it came from)."""
    query = narrowed.apply(select(func.count(Response.id)), user)
    return db.session.scalar(scope_responses(query, user)) or 0


def response_for(user: User, response_id: int) -> Response | None:
    """One response with its answers, or None when it does not exist or is outside the scope."""
    query = (
        select(Response)
        .where(Response.id == response_id)
        .options(
            joinedload(Response.branch),
            joinedload(Response.qr_code),
            selectinload(Response.answers).joinedload(Answer.question),
        )
    )
    return db.session.scalar(scope_responses(query, user))
