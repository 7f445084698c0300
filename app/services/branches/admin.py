"""Admin changes to branches, their calendars (weekly hours, holidays) and their QR codes.

Each change checks its rules, changes the rows, records itself in the audit log and flushes;
the view commits. After the commit the view drops the survey pages' cached codes
(``survey_entries.forget_cached_codes``) and, when a calendar changed, has the open tickets'
due times recomputed (``app.jobs.sla.refresh_branch_tickets``): a job never sees a change
that might still be rolled back.

Decisions:

- **A branch code** is unique and stays editable: responses and tickets point to the branch's
  id, never its code. Codes are stored in capitals (they name the poster files).
- **Weekly hours** must be usable by the SLA clocks (``calendars.opening_hours_problems``):
  no interval that ends at or before its start, no overlap within a day, and at least one
  open day a week (a branch closed all week would stop every clock).
- **A new branch gets its first QR code** at once, so its poster can be printed right away.
- **Rotate** revokes the code and creates a new one with the same label, kiosk setting and
  pinned questionnaire; the old token then shows the polite "no longer in use" page.
  Revoked codes keep their counts (history) and cannot be changed again.
- **Deactivating** a branch keeps everything: its codes then show "closed" and it is left
  out of the all-posters job; reactivating brings them back.
- **Holiday region**: empty follows the time zone (``calendars.default_holiday_region``:
  Europe/London is GB-ENG); a region the ``holidays`` package does not know is refused. A
  branch **open on public holidays** keeps its weekly hours on them (and on make-up workdays);
  its custom holidays still close it. Both change the calendar, so open tickets are refreshed.
- **Holidays** are one per day and scope: a day can be closed for every branch or for one
  branch, not both (the branch's own entry would change nothing).
"""
from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import selectinload

from app.core import calendars
from app.core.calendars import HoursProblem
from app.core.clock import utcnow
from app.core.languages import SUPPORTED_LOCALES
from app.extensions import db
from app.models import Branch, Holiday, QrCode, Questionnaire, User
from app.services import audit
from app.services.branches.calendars import (
    holiday_language,
    holiday_region as branch_holiday_region,
    known_holiday_region,
    split_region,
)

BRANCH_FIELDS = (
    "code", "name", "region", "timezone", "opening_hours", "holiday_region", "open_on_public_holidays",
    "kiosk_restart_seconds", "default_language", "active",
)
#: What makes a branch's calendar: a change of one of these moves its open tickets' due times.
CALENDAR_FIELDS = ("timezone", "opening_hours", "holiday_region", "open_on_public_holidays")
CODE_FIELDS = ("branch_id", "label", "is_kiosk", "questionnaire_id", "revoked_at")
HOLIDAY_FIELDS = ("branch_id", "day", "name")

#: The key of a problem that belongs to no single field.
GENERAL = ""

HOURS_MESSAGES = {
    HoursProblem.NOT_A_TIME: _l("Use a time like 09:00."),
    HoursProblem.EMPTY: _l(
        "Overlapping or empty business hours: each closing time must be after its opening time. "
        "For hours past midnight, close at 00:00 and open at 00:00 the next day."
    ),
    HoursProblem.OVERLAP: _l("Overlapping or empty business hours: the opening times of this day overlap."),
    HoursProblem.UNKNOWN_DAY: _l("Unknown day of the week."),
    HoursProblem.CLOSED_ALL_WEEK: _l(
        "Overlapping or empty business hours: the branch would be closed all week. Give it opening hours on at least one day."
    ),
}


class Refused(Exception):
    """A change that breaks a rule; ``problems`` are messages by form field (a weekday: that day's hours)."""

    def __init__(self, problems: Mapping[str, object]) -> None:
        super().__init__("; ".join(str(message) for message in problems.values()))
        self.problems = dict(problems)


@dataclass(frozen=True)
class BranchValues:
    code: str
    name: str
    region: str
    timezone: str
    #: ``Branch.opening_hours``' shape: {"mon": [["09:00", "21:00"]], ...}, a closed day left out.
    opening_hours: dict
    #: "CN", "GB-ENG"; "" follows the time zone.
    holiday_region: str = ""
    open_on_public_holidays: bool = False
    #: The kiosk's thank-you page time; None: the chain's LOOPDESK_KIOSK_RESTART_SECONDS.
    kiosk_restart_seconds: int | None = None
    #: "zh_Hans", "en", "zh_Hant"; None: the chain's LOOPDESK_DEFAULT_LOCALE.
    default_language: str | None = None


@dataclass(frozen=True)
class CodeValues:
    label: str
    is_kiosk: bool
    questionnaire_id: int | None


# --- Branches --------------------------------------------------------------------


@functools.cache
def _known_timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def known_timezone(name: str) -> bool:
    return name in _known_timezones()


def branch_problems(values: BranchValues, branch: Branch | None = None) -> dict[str, object]:
    """What keeps ``values`` from making a branch the SLA clocks and the posters can use, by field."""
    problems: dict[str, object] = {}
    taken = select(Branch.id).where(Branch.code == values.code)
    if branch is not None and branch.id is not None:
        taken = taken.where(Branch.id != branch.id)
    if db.session.scalar(taken.limit(1)) is not None:
        problems["code"] = _l("Another branch already has this code.")
    if not known_timezone(values.timezone):
        problems["timezone"] = _l("Unknown time zone: choose one from the list.")
    if values.default_language and values.default_language not in SUPPORTED_LOCALES:
        problems["default_language"] = _l("Choose a language from the list.")
    if values.holiday_region and not known_holiday_region(values.holiday_region):
        problems["holiday_region"] = _l("Unknown holiday region: choose one from the list.")
    for key, problem in calendars.opening_hours_problems(values.opening_hours).items():
        problems[key] = HOURS_MESSAGES[problem]
    return problems


def check_branch(values: BranchValues, branch: Branch | None = None) -> None:
    problems = branch_problems(values, branch)
    if problems:
        raise Refused(problems)


def create_branch(actor: User, values: BranchValues, first_code_label: str) -> Branch:
    """A new active branch with its first QR code."""
    check_branch(values)
    branch = Branch(
        code=values.code, name=values.name, region=values.region, timezone=values.timezone,
        opening_hours=values.opening_hours, holiday_region=values.holiday_region or None,
        open_on_public_holidays=values.open_on_public_holidays, kiosk_restart_seconds=values.kiosk_restart_seconds,
        default_language=values.default_language, active=True,
    )
    db.session.add(branch)
    audit.record(actor, "create", branch, after=audit.values(branch, BRANCH_FIELDS))
    add_code(actor, branch, CodeValues(label=first_code_label, is_kiosk=False, questionnaire_id=None))
    return branch


def update_branch(actor: User, branch: Branch, values: BranchValues) -> bool:
    """Change a branch's details and hours. True when its calendar changed (``CALENDAR_FIELDS``)."""
    check_branch(values, branch)
    before = audit.values(branch, BRANCH_FIELDS)
    branch.code, branch.name, branch.region = values.code, values.name, values.region
    branch.timezone, branch.opening_hours = values.timezone, values.opening_hours
    branch.holiday_region = values.holiday_region or None
    branch.open_on_public_holidays = values.open_on_public_holidays
    branch.kiosk_restart_seconds = values.kiosk_restart_seconds
    branch.default_language = values.default_language
    after = audit.values(branch, BRANCH_FIELDS)
    audit.record(actor, "update", branch, before=before, after=after)
    db.session.flush()
    return any(before[name] != after[name] for name in CALENDAR_FIELDS)


BURST_FIELDS = ("burst_min_negative", "burst_min_share_percent", "burst_window_minutes")


def set_burst_rule(
    actor: User, branch: Branch, min_negative: int | None, min_share_percent: int | None, window_minutes: int | None
) -> None:
    """The branch's own real-time alert (app/services/insight/alerts.py); None takes the chain's setting."""
    before = audit.values(branch, BURST_FIELDS)
    branch.burst_min_negative, branch.burst_min_share_percent = min_negative, min_share_percent
    branch.burst_window_minutes = window_minutes
    after = audit.values(branch, BURST_FIELDS)
    if before != after:
        audit.record(actor, "update", branch, before=before, after=after)
    db.session.flush()


def set_active(actor: User, branch: Branch, active: bool) -> None:
    """Deactivate (its codes then show "closed") or reactivate a branch; nothing else changes."""
    if branch.active == active:
        return
    branch.active = active
    audit.record(actor, "activate" if active else "deactivate", branch,
                 before={"active": not active}, after={"active": active})
    db.session.flush()


@dataclass(frozen=True)
class BranchRow:
    branch: Branch
    codes_in_use: int
    scans: int
    responses: int


def branch_rows(active: bool | None = None, text: str | None = None) -> list[BranchRow]:
    """Branches by code with their codes in use and the scans and responses of all their codes."""
    query = (
        select(
            Branch,
            func.coalesce(func.sum(case((QrCode.id.is_not(None) & QrCode.revoked_at.is_(None), 1), else_=0)), 0),
            func.coalesce(func.sum(QrCode.scan_count), 0),
            func.coalesce(func.sum(QrCode.response_count), 0),
        )
        .outerjoin(QrCode, QrCode.branch_id == Branch.id)
        .group_by(Branch.id)
        .order_by(Branch.code)
    )
    if active is not None:
        query = query.where(Branch.active.is_(active))
    if text:
        query = query.where(or_(*(column.icontains(text, autoescape=True)
                                  for column in (Branch.code, Branch.name, Branch.region))))
    return [BranchRow(branch, codes, scans, responses) for branch, codes, scans, responses in db.session.execute(query)]


def regions() -> list[str]:
    """Regions in use, for the region field's suggestions."""
    return list(db.session.scalars(select(Branch.region).where(Branch.region != "").distinct().order_by(Branch.region)))


def active_branches() -> list[Branch]:
    return list(db.session.scalars(select(Branch).where(Branch.active.is_(True)).order_by(Branch.code)))


def all_branches() -> list[Branch]:
    return list(db.session.scalars(select(Branch).order_by(Branch.code)))


# --- QR codes --------------------------------------------------------------------


def pinnable_questionnaires(keep_id: int | None = None) -> list[Questionnaire]:
    """Questionnaires a code may be pinned to: those not archived, and the one it is pinned to now."""
    condition = Questionnaire.archived_at.is_(None)
    if keep_id:
        condition = condition | (Questionnaire.id == keep_id)
    return list(db.session.scalars(select(Questionnaire).where(condition).order_by(Questionnaire.code)))


def _refuse_if_revoked(qr: QrCode) -> None:
    if qr.revoked:
        raise Refused({GENERAL: _l("This QR code is no longer in use and cannot be changed.")})


def _check_code(values: CodeValues, qr: QrCode | None = None) -> None:
    if qr is not None:
        _refuse_if_revoked(qr)
    if values.questionnaire_id is not None:
        keep = qr.questionnaire_id if qr is not None else None
        if values.questionnaire_id not in {q.id for q in pinnable_questionnaires(keep)}:
            raise Refused({"questionnaire_id": _l("Choose a questionnaire from the list.")})


def _code_label(branch: Branch, qr: QrCode) -> str:
    return f"{branch.code} {qr.label}".strip()


def add_code(actor: User, branch: Branch, values: CodeValues) -> QrCode:
    _check_code(values)
    qr = QrCode(label=values.label, is_kiosk=values.is_kiosk, questionnaire_id=values.questionnaire_id)
    branch.qr_codes.append(qr)
    db.session.flush()
    audit.record(actor, "create", qr, after=audit.values(qr, CODE_FIELDS), label=_code_label(branch, qr))
    return qr


def update_code(actor: User, qr: QrCode, values: CodeValues) -> None:
    """Relabel a code, make it a kiosk or not, pin it to a questionnaire or unpin it."""
    _check_code(values, qr)
    before = audit.values(qr, CODE_FIELDS)
    qr.label, qr.is_kiosk, qr.questionnaire_id = values.label, values.is_kiosk, values.questionnaire_id
    audit.record(actor, "update", qr, before=before, after=audit.values(qr, CODE_FIELDS),
                 label=_code_label(qr.branch, qr))
    db.session.flush()


def revoke_code(actor: User, qr: QrCode) -> None:
    """Withdraw a code: scanning it shows "no longer in use"; its counts stay."""
    _refuse_if_revoked(qr)
    qr.revoked_at = utcnow()
    audit.record(actor, "revoke", qr, before={"revoked_at": None}, after={"revoked_at": qr.revoked_at},
                 label=_code_label(qr.branch, qr))
    db.session.flush()


def rotate_code(actor: User, qr: QrCode) -> QrCode:
    """Replace a code by a new token with the same label, kiosk setting and pin; the old one is revoked."""
    _refuse_if_revoked(qr)
    qr.revoked_at = utcnow()
    replacement = QrCode(branch=qr.branch, label=qr.label, is_kiosk=qr.is_kiosk, questionnaire_id=qr.questionnaire_id)
    db.session.add(replacement)
    db.session.flush()
    audit.record(actor, "rotate", qr, before={"revoked_at": None},
                 after={"revoked_at": qr.revoked_at, "replaced_by": replacement.id}, label=_code_label(qr.branch, qr))
    audit.record(actor, "create", replacement, after={**audit.values(replacement, CODE_FIELDS), "replaces": qr.id},
                 label=_code_label(qr.branch, replacement))
    return replacement


# --- Holidays --------------------------------------------------------------------


def _holiday_label(holiday: Holiday) -> str:
    return f"{holiday.day.isoformat()} {holiday.name}".strip()


def add_holiday(actor: User, branch: Branch | None, day: date, name: str) -> Holiday:
    """A custom closed day for ``branch`` (None: every branch)."""
    branch_id = branch.id if branch is not None else None
    same_day = db.session.scalars(
        select(Holiday).where(Holiday.day == day, or_(Holiday.branch_id.is_(None), Holiday.branch_id == branch_id))
    ).all()
    if any(h.branch_id is None for h in same_day):
        raise Refused({"day": _l("This day is already a holiday for every branch.")})
    if same_day:
        raise Refused({"day": _l("This day is already a holiday for this branch.")})
    holiday = Holiday(branch_id=branch_id, day=day, name=name)
    db.session.add(holiday)
    db.session.flush()
    audit.record(actor, "create", holiday, after=audit.values(holiday, HOLIDAY_FIELDS), label=_holiday_label(holiday))
    return holiday


def remove_holiday(actor: User, holiday: Holiday) -> None:
    audit.record(actor, "delete", holiday, before=audit.values(holiday, HOLIDAY_FIELDS), label=_holiday_label(holiday))
    db.session.delete(holiday)
    db.session.flush()


def holidays_from(first: date | None, branch: Branch | None = None) -> list[Holiday]:
    """Custom holidays on or after ``first`` (None: all), of every branch and, with ``branch``, only those it keeps."""
    query = select(Holiday).order_by(Holiday.day, Holiday.branch_id)
    if first is not None:
        query = query.where(Holiday.day >= first)
    if branch is not None:
        query = query.where(or_(Holiday.branch_id.is_(None), Holiday.branch_id == branch.id))
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class CountryDays:
    """A holiday region's public holidays and make-up workdays, and the branches whose clocks follow them."""

    country: str
    branches: list[Branch]
    days: list[calendars.Note]
    #: The region's subdivision of ``country`` (e.g. ENG), None for the whole country.
    subdivision: str | None = None
    #: Years of the range whose schedule the holidays package only estimates (see
    #: ``app.core.calendars.announced``): only its listed dates close, breaks are not filled in.
    estimated_years: list[int] = field(default_factory=list)


def public_days_by_country(
    branches: Iterable[Branch], first: date, last: date, language: str | None = None
) -> list[CountryDays]:
    """What the SLA clocks apply from ``first`` to ``last``, per holiday region of the branches.

    Branches open on public holidays are left out. Holiday names in ``language`` (a page's
    locale, e.g. ``zh_Hans``) where the package has them.
    """
    by_region: dict[str, list[Branch]] = {}
    for branch in branches:
        if not branch.open_on_public_holidays:
            by_region.setdefault(branch_holiday_region(branch), []).append(branch)
    names_in = holiday_language(language)
    found = []
    for region, members in sorted(by_region.items()):
        country, subdivision = split_region(region)
        found.append(CountryDays(
            country,
            members,
            calendars.public_days(country, first, last, subdivision, language=names_in),
            subdivision,
            [year for year in range(first.year, last.year + 1) if not calendars.announced(country, year)],
        ))
    return found


def branch_with_codes(branch_id: int) -> Branch | None:
    return db.session.scalar(
        select(Branch).where(Branch.id == branch_id)
        .options(selectinload(Branch.qr_codes).selectinload(QrCode.questionnaire))
    )
