"""What happens to a response after the customer submitted it, and reading responses back."""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.orm import joinedload, selectinload

from app.core.clock import utcnow
from app.core.quality import REPEAT_DEVICE_WINDOW, quality_flags
from app.extensions import db
from app.models import Answer, QrCode, QuestionType, Response, User
from app.permissions import scope_responses
from app.services import tickets
from app.services.survey_plans import plan_for

log = logging.getLogger(__name__)

#: How many recent durations of a version make its median for the speeder flag.
DURATION_SAMPLE = 200


def process_submitted(response_id: int) -> bool:
    """Flag data quality, count the response on its QR code and open its ticket, exactly once.

    Safe to run twice (a retry, the sweep): only the call that marks the row
    processed does the work. Returns whether this call did it.
    """
    now = utcnow()
    claimed = db.session.execute(
        update(Response)
        .where(Response.id == response_id, Response.submitted_at.is_not(None), Response.processed_at.is_(None))
        .values(processed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        return False
    response = db.session.scalar(
        select(Response)
        .where(Response.id == response_id)
        .options(selectinload(Response.answers), joinedload(Response.qr_code))
    )
    assert response is not None and response.submitted_at is not None
    response.quality_flags = _flags_for(response)
    if response.qr_code_id is not None:
        db.session.execute(
            update(QrCode)
            .where(QrCode.id == response.qr_code_id)
            .values(response_count=QrCode.response_count + 1)
        )
    db.session.flush()
    tickets.open_from_response(response.id, now)
    return True


def _flags_for(response: Response) -> list[str]:
    plan = plan_for(response.version_id)
    types = {q.id: q.type for q in plan.questions}
    ratings = [a.value_int for a in response.answers if types.get(a.question_id) == QuestionType.CSAT]
    earlier = db.session.scalars(
        select(Response.duration_seconds)
        .where(
            Response.version_id == response.version_id,
            Response.submitted_at.is_not(None),
            Response.id != response.id,
        )
        .order_by(Response.submitted_at.desc())
        .limit(DURATION_SAMPLE)
    ).all()
    repeat = False
    kiosk = response.qr_code is not None and response.qr_code.is_kiosk
    if not kiosk:
        repeat = bool(
            db.session.scalar(
                select(func.count(Response.id)).where(
                    Response.device_id == response.device_id,
                    Response.branch_id == response.branch_id,
                    Response.id != response.id,
                    Response.submitted_at >= response.submitted_at - REPEAT_DEVICE_WINDOW,
                    Response.submitted_at <= response.submitted_at,
                )
            )
        )
    return quality_flags(
        duration_seconds=response.duration_seconds or 0,
        answered=len(response.answers),
        ratings=[r for r in ratings if r is not None],
        earlier_durations=[d for d in earlier if d is not None],
        repeat_device=repeat,
    )


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


def latest_responses(user: User, limit: int = 50, before_id: int | None = None) -> list[Response]:
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
    return list(db.session.scalars(scope_responses(query, user)))


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
