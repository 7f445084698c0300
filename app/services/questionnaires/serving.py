"""What each branch's QR codes serve now, and which would switch to another questionnaire after a change.

A preview runs the survey's own choice (``app.core.targeting``) on the questionnaires as they are
and as publishing a version, retargeting or moving a window would leave them. Its fingerprint
names what was shown, so a confirmation given for one list is refused when the list changed since.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.core.clock import utcnow
from app.core.targeting import CodeTarget, QuestionnaireWindow, Switch, moments_to_check, serving, switches, with_window
from app.extensions import db
from app.models import Branch, QrCode, Questionnaire, QuestionnaireVersion
from app.models.types import Texts
from app.services.survey.entries import questionnaire_windows, window_of


@dataclass(frozen=True)
class Served:
    """A questionnaire version as the admin reads it."""

    questionnaire_id: int
    code: str
    name: Texts
    version_number: int


@dataclass(frozen=True)
class CodeServing:
    """A live QR code, where it hangs, and what a scan opens (None: nothing open for it)."""

    qr_id: int
    label: str
    is_kiosk: bool
    branch_id: int
    branch_code: str
    branch_name: str
    served: Served | None


@dataclass(frozen=True)
class CodeSwitch:
    """A code that opens ``after`` instead of ``before`` from ``at`` on (None: right away)."""

    code: CodeServing
    before: Served | None
    after: Served | None
    at: datetime | None = None


@dataclass(frozen=True)
class Preview:
    switches: list[CodeSwitch]
    fingerprint: str


def serving_now(now: datetime | None = None) -> list[CodeServing]:
    """Every live code of every active branch (by branch name, then code) with what it serves now."""
    codes = _live_codes()
    windows = questionnaire_windows()
    moment = now or utcnow()
    chosen = {qr.id: serving(windows, target, moment) for qr, target in codes}
    names = _served_names(w.version_id for w in chosen.values() if w is not None)
    return [_code_serving(qr, names.get(chosen[qr.id].version_id) if chosen[qr.id] else None) for qr, _t in codes]


def publish_preview(version: QuestionnaireVersion, now: datetime | None = None) -> Preview:
    """Which codes would open another questionnaire once ``version`` is the one its questionnaire offers."""
    questionnaire = version.questionnaire
    if questionnaire.archived_at is not None:
        return _preview(questionnaire, None, now, unchanged=True)
    return _preview(questionnaire, window_of(questionnaire, version_id=version.id), now)


def targeting_preview(questionnaire: Questionnaire, branch_ids: Iterable[int], regions: Iterable[str],
                      now: datetime | None = None) -> Preview:
    return _changed(questionnaire, now, branch_ids=frozenset(branch_ids), regions=frozenset(regions))


def window_preview(questionnaire: Questionnaire, starts_at: datetime | None, ends_at: datetime | None,
                   now: datetime | None = None) -> Preview:
    return _changed(questionnaire, now, starts_at=starts_at, ends_at=ends_at)


def _changed(questionnaire: Questionnaire, now: datetime | None, **changes) -> Preview:
    """A published, offered questionnaire with another window or targeting; any other is offered nowhere either way."""
    offered = questionnaire.current_version_id is not None and questionnaire.archived_at is None
    if not offered:
        return _preview(questionnaire, None, now, unchanged=True)
    return _preview(questionnaire, replace(window_of(questionnaire), **changes), now)


def _preview(questionnaire: Questionnaire, changed: QuestionnaireWindow | None, now: datetime | None,
             unchanged: bool = False) -> Preview:
    """The switches right away, then those at each later moment the questionnaire's window (as it is or as
    changed) opens or closes: a window that opens next week switches its codes next week."""
    codes = _live_codes()
    before = questionnaire_windows()
    after = before if unchanged else with_window(before, changed, questionnaire.id)
    moment = now or utcnow()
    targets = [target for _qr, target in codes]
    current = next((w for w in before if w.id == questionnaire.id), None)
    found: list[tuple[datetime | None, Switch]] = []
    listed_keys = set()
    for at in moments_to_check([current, changed], moment):
        for switch in switches(targets, before, after, at):
            key = (switch.code.qr_id, _key(switch.before), _key(switch.after))
            if key not in listed_keys:
                listed_keys.add(key)
                found.append((at if at != moment else None, switch))
    names = _served_names(w.version_id for _at, s in found for w in (s.before, s.after) if w is not None)
    by_id = {qr.id: qr for qr, _target in codes}
    listed = [
        CodeSwitch(_code_serving(by_id[s.code.qr_id], _name(names, s.before)), _name(names, s.before),
                   _name(names, s.after), at)
        for at, s in found
    ]
    return Preview(listed, fingerprint(found))


def switch_lines(preview: Preview) -> list[str]:
    """The switches as the audit log keeps them: ``SH-PEOPLE/Entrance: satisfaction v1 → winter v1``."""
    def named(served: Served | None) -> str:
        return f"{served.code} v{served.version_number}" if served is not None else "-"

    return [f"{s.code.branch_code}/{s.code.label or s.code.qr_id}: {named(s.before)} → {named(s.after)}"
            + (f" ({s.at.isoformat()})" if s.at else "") for s in preview.switches]


def fingerprint(found: Sequence[tuple[datetime | None, Switch]]) -> str:
    """A short name for one list of switches: the same list gives the same name."""
    served = [(s.code.qr_id, _key(s.before), _key(s.after), at.isoformat() if at else None) for at, s in found]
    return hashlib.sha256(repr(served).encode()).hexdigest()[:20]


def _key(window: QuestionnaireWindow | None) -> tuple[int, int] | None:
    return (window.id, window.version_id) if window is not None else None


def _live_codes() -> list[tuple[QrCode, CodeTarget]]:
    rows = db.session.scalars(
        select(QrCode)
        .join(Branch, QrCode.branch_id == Branch.id)
        .where(QrCode.revoked_at.is_(None), Branch.active.is_(True))
        .options(selectinload(QrCode.branch))
        .order_by(Branch.name, Branch.id, QrCode.is_kiosk, QrCode.label, QrCode.id)
    ).all()
    return [(qr, CodeTarget(qr.id, qr.branch_id, qr.branch.region, qr.questionnaire_id)) for qr in rows]


def _served_names(version_ids: Iterable[int]) -> dict[int, Served]:
    ids = set(version_ids)
    if not ids:
        return {}
    versions = db.session.scalars(
        select(QuestionnaireVersion).where(QuestionnaireVersion.id.in_(ids))
        .options(selectinload(QuestionnaireVersion.questionnaire))
    ).all()
    return {
        v.id: Served(v.questionnaire_id, v.questionnaire.code, dict(v.questionnaire.name or {}), v.number)
        for v in versions
    }


def _name(names: dict[int, Served], window: QuestionnaireWindow | None) -> Served | None:
    return names.get(window.version_id) if window is not None else None


def _code_serving(qr: QrCode, served: Served | None) -> CodeServing:
    return CodeServing(qr.id, qr.label, qr.is_kiosk, qr.branch_id, qr.branch.code, qr.branch.name, served)
