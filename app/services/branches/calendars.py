"""A branch's calendar from its stored opening hours and holidays (decisions: app.services.sla.clocks)."""
from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from importlib import resources

import holidays
from cachetools import LRUCache
from sqlalchemy import select

from app.core import sla
from app.extensions import db
from app.models import Branch, Holiday, SlaPolicy

log = logging.getLogger(__name__)

DEFAULT_HOLIDAY_COUNTRY = "CN"


@functools.cache
def _zone_countries() -> Mapping[str, str]:
    """Time zone → ISO country code, from tzdata's zone.tab (one country per zone)."""
    table = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    countries = {}
    for line in table.splitlines():
        if line and not line.startswith("#"):
            country, _coordinates, zone, *_comment = line.split("\t")
            countries[zone] = country
    return countries


@functools.cache
def holiday_country(timezone: str) -> str:
    """Whose public holidays close a branch in ``timezone`` (CN when it cannot be told)."""
    country = _zone_countries().get(timezone)
    return country if country in holidays.list_supported_countries() else DEFAULT_HOLIDAY_COUNTRY


#: The ``holidays`` package's language for a page's locale (its names, e.g. 春节 or Spring Festival).
_HOLIDAY_LANGUAGES = {"zh_Hans": "zh_CN", "en": "en_US"}


def holiday_language(locale: object | None) -> str | None:
    """The ``holidays`` package's language for a page locale (``zh_Hans`` → ``zh_CN``), None if unknown."""
    return _HOLIDAY_LANGUAGES.get(str(locale)) if locale is not None else None


#: Calendars keep the days they have worked out, so one calendar serves many tickets and sweeps.
#: Keyed by everything that makes them, so an edit of hours or holidays makes a new one.
_calendars: LRUCache = LRUCache(maxsize=512)
_calendars_lock = threading.Lock()


def _frozen_hours(opening_hours: Mapping[str, Sequence[Sequence[str]]] | None) -> tuple:
    return tuple(sorted((day, tuple(tuple(pair) for pair in pairs)) for day, pairs in (opening_hours or {}).items()))


def branch_calendar(
    branch: Branch, holidays_by_branch: Mapping[int | None, Mapping[date, str]], business_hours: bool = True
) -> sla.Calendar:
    """The branch's calendar with the custom holidays of ``holidays_by_branch`` (see ``custom_holidays``)."""
    extra = {**holidays_by_branch.get(None, {}), **holidays_by_branch.get(branch.id, {})}
    hours = _frozen_hours(branch.opening_hours)
    always_open = not business_hours or not any(pairs for _day, pairs in hours)
    key = (branch.timezone, hours, tuple(sorted(extra.items())), always_open)
    with _calendars_lock:
        calendar = _calendars.get(key)
    if calendar is None:
        calendar = _new_calendar(branch, hours, extra, always_open)
        with _calendars_lock:
            _calendars[key] = calendar
    return calendar


def _new_calendar(branch: Branch, hours: tuple, extra: Mapping[date, str], always_open: bool) -> sla.Calendar:
    try:
        return sla.Calendar(
            timezone=branch.timezone,
            weekly_hours=dict(hours),
            holiday_country=holiday_country(branch.timezone),
            extra_holidays=dict(extra),
            always_open=always_open,
        )
    except ValueError as error:
        # Hours are checked when a branch is edited; one bad old row must not stop every clock.
        log.error("branch %s: calendar %s %r is invalid (%s); counting around the clock",
                  branch.id, branch.timezone, hours, error)
    try:
        return sla.Calendar(timezone=branch.timezone, holiday_country=None, always_open=True)
    except ValueError:
        return sla.Calendar(timezone="UTC", holiday_country=None, always_open=True)


def next_opening(calendar: sla.Calendar, now: datetime) -> datetime:
    """``now`` while the calendar is open, else the moment it opens next."""
    for opens, _closes in sla.open_intervals(calendar, now, now + timedelta(days=400)):
        return opens
    return now


def custom_holidays(branch_ids: Iterable[int] | None = None) -> dict[int | None, dict[date, str]]:
    """Custom closed days by branch id (None: every branch), for the given branches or all."""
    query = select(Holiday.branch_id, Holiday.day, Holiday.name)
    if branch_ids is not None:
        query = query.where((Holiday.branch_id.is_(None)) | Holiday.branch_id.in_(list(branch_ids)))
    found: dict[int | None, dict[date, str]] = {}
    for branch_id, day, name in db.session.execute(query):
        found.setdefault(branch_id, {})[day] = name
    return found


def calendar_for(branch: Branch, policy: SlaPolicy | sla.SlaPolicy | None = None) -> sla.Calendar:
    """The calendar a policy's clocks run on at ``branch``: its hours and holidays, or 24x7.

    Without a policy: the branch's business calendar (when notifications are delivered).
    """
    business_hours = policy is None or policy.business_hours
    return branch_calendar(branch, custom_holidays([branch.id]), business_hours)
