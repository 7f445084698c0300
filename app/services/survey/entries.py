"""From a scanned QR token to the survey it opens.

Every step of every survey starts here, so what it reads is kept in memory for
LOOPDESK_SURVEY_CACHE_SECONDS (default 10 s): QR codes with their branch, and the
questionnaires' windows and targeting. They change rarely (an admin revokes a code,
publishes or retargets a questionnaire) and such a change reaches customers on every
worker within that time; a started draft keeps its version regardless.
"""
from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from threading import Lock
from typing import TypeVar

from cachetools import TTLCache

from flask import current_app
from sqlalchemy import bindparam, select
from sqlalchemy.orm import selectinload

from app.core.clock import utcnow
from app.core.targeting import QuestionnaireWindow, choose_questionnaire
from app.extensions import db
from app.models import Branch, QrCode, Questionnaire


class Unavailable(enum.StrEnum):
    UNKNOWN = "unknown"    # no such code (mistyped, or never existed)
    REVOKED = "revoked"    # the code was replaced or withdrawn
    CLOSED = "closed"      # branch inactive, or no questionnaire open for it now


T = TypeVar("T")


class SurveyUnavailable(Exception):
    def __init__(self, reason: Unavailable, branch_name: str | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.branch_name = branch_name


@dataclass(frozen=True)
class SurveyEntry:
    """What the survey pages need of a QR code and its branch (plain values, no ORM objects)."""

    #: None: a response that came through no QR code (posted by an integration, ``submitting.submit_whole``).
    qr_id: int | None
    token: str
    is_kiosk: bool
    branch_id: int
    branch_name: str
    #: The version a new response would answer; None when nothing is open.
    version_id: int | None
    #: The branch's time for the kiosk's thank-you page; None: the chain's default.
    kiosk_restart_seconds: int | None = None
    #: The branch's language for a phone that asks for none we have; None: the chain's default.
    default_language: str | None = None


def open_survey(token: str, now: datetime | None = None) -> SurveyEntry:
    """Resolve a QR token. Raises SurveyUnavailable for unknown or revoked codes."""
    code = _cached("codes", token, lambda: _load_code(token))
    if code is None:
        raise SurveyUnavailable(Unavailable.UNKNOWN)
    if code.revoked:
        raise SurveyUnavailable(Unavailable.REVOKED, code.branch_name)
    chosen = None
    if code.branch_active:
        windows = _cached("windows", "all", questionnaire_windows)
        chosen = choose_questionnaire(windows, code.branch_id, code.region, code.pinned_id, now or utcnow())
    return SurveyEntry(
        qr_id=code.qr_id,
        token=token,
        is_kiosk=code.is_kiosk,
        branch_id=code.branch_id,
        branch_name=code.branch_name,
        version_id=chosen.version_id if chosen else None,
        kiosk_restart_seconds=code.kiosk_restart_seconds,
        default_language=code.default_language,
    )


def branch_language(token: str) -> str | None:
    """The language of the branch a QR token belongs to (None: unknown code, or the chain's default)."""
    if len(token) > 64 or "\x00" in token:
        return None
    code = _cached("codes", token, lambda: _load_code(token))
    return code.default_language if code is not None else None


def forget_cached_codes() -> None:
    """Drop this worker's cache now (after an admin change made in this process)."""
    _caches().clear()


@dataclass(frozen=True)
class _Code:
    qr_id: int
    is_kiosk: bool
    pinned_id: int | None
    revoked: bool
    branch_id: int
    branch_name: str
    region: str
    branch_active: bool
    kiosk_restart_seconds: int | None
    default_language: str | None


_READ_CODE = (
    select(
        QrCode.id, QrCode.is_kiosk, QrCode.questionnaire_id, QrCode.revoked_at,
        Branch.id, Branch.name, Branch.region, Branch.active, Branch.kiosk_restart_seconds,
        Branch.default_language,
    )
    .join(Branch, QrCode.branch_id == Branch.id)
    .where(QrCode.token == bindparam("token"))
)


def _load_code(token: str) -> _Code | None:
    row = db.session.execute(_READ_CODE, {"token": token}).one_or_none()
    if row is None:
        return None
    qr_id, is_kiosk, pinned_id, revoked_at, branch_id, branch_name, region, active, kiosk_seconds, language = row
    return _Code(
        qr_id, is_kiosk, pinned_id, revoked_at is not None, branch_id, branch_name, region, active, kiosk_seconds,
        language,
    )


def questionnaire_windows() -> tuple[QuestionnaireWindow, ...]:
    """Every questionnaire a scan may open (published, not archived), read now (the survey caches it)."""
    questionnaires = db.session.scalars(
        select(Questionnaire)
        .where(Questionnaire.archived_at.is_(None), Questionnaire.current_version_id.is_not(None))
        .options(selectinload(Questionnaire.target_branches))
    ).all()
    return tuple(window_of(q) for q in questionnaires)


def window_of(questionnaire: Questionnaire, version_id: int | None = None) -> QuestionnaireWindow:
    """A questionnaire's window and targeting as the choice reads them; ``version_id`` instead of its current one."""
    return QuestionnaireWindow(
        id=questionnaire.id,
        version_id=version_id if version_id is not None else questionnaire.current_version_id,
        starts_at=questionnaire.starts_at,
        ends_at=questionnaire.ends_at,
        branch_ids=frozenset(b.id for b in questionnaire.target_branches),
        regions=frozenset(questionnaire.target_regions or ()),
    )


CACHE_SIZE = 10_000


def _caches() -> dict[str, TTLCache]:
    return current_app.extensions.setdefault("loopdesk_survey_entries", {})


_lock = Lock()


def _cached(kind: str, key: str, load: Callable[[], T]) -> T:
    ttl = current_app.config["LOOPDESK_SURVEY_CACHE_SECONDS"]
    if ttl <= 0:
        return load()
    caches = _caches()
    with _lock:
        cache = caches.setdefault(kind, TTLCache(maxsize=CACHE_SIZE, ttl=ttl))
        if key in cache:
            return cache[key]
    value = load()
    with _lock:
        cache[key] = value
    return value
