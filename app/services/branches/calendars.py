"""A branch's calendar from its stored opening hours and holidays (decisions: app.services.sla.clocks).

A branch's **holiday region** is a country ("CN") or a country's subdivision ("GB-ENG") of the
``holidays`` package. Unset, it follows the time zone: the zone's country (tzdata's zone.tab),
and for a zone whose country's holidays differ by region, the region the zone's city is in
(``ZONE_SUBDIVISIONS``: Europe/London is England and Wales' bank holidays, GB-ENG). A branch
**open on public holidays** keeps its weekly hours on them and on make-up workdays: the
state's calendar does not apply to it; its custom holidays still close it.
"""
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

from app.core import calendars, sla
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


#: The subdivision a zone stands for, where the country's public holidays differ by region (a
#: country-wide calendar would leave out e.g. Easter Monday in England). Only zones that name
#: one region are here: Europe/Berlin or America/New_York span many regions, so a branch there
#: gets the country-wide holidays until an admin chooses its region. Europe/London is the
#: whole United Kingdom's zone; England (and Wales, the same bank holidays) is where most of
#: it lives: a branch in Scotland or Northern Ireland chooses GB-SCT or GB-NIR.
ZONE_SUBDIVISIONS = {
    "Europe/London": "ENG",
    "Australia/Sydney": "NSW",
    "Australia/Melbourne": "VIC",
    "Australia/Brisbane": "QLD",
    "Australia/Adelaide": "SA",
    "Australia/Perth": "WA",
    "Australia/Hobart": "TAS",
    "Australia/Darwin": "NT",
}


def split_region(region: str) -> tuple[str, str | None]:
    """"GB-ENG" → ("GB", "ENG"); "CN" → ("CN", None)."""
    country, _dash, subdivision = region.partition("-")
    return country, subdivision or None


def known_holiday_region(region: str) -> bool:
    """Whether ``region`` is written exactly as one of ``holiday_regions``."""
    return region in _known_regions()


@functools.cache
def _known_regions() -> frozenset[str]:
    return frozenset(holiday_regions())


@functools.cache
def default_holiday_region(timezone: str) -> str:
    """The holiday region a branch in ``timezone`` follows unless it says otherwise."""
    country = holiday_country(timezone)
    subdivision = ZONE_SUBDIVISIONS.get(timezone)
    region = f"{country}-{subdivision}" if subdivision else country
    return region if known_holiday_region(region) else country


def holiday_region(branch: Branch) -> str:
    """The branch's own holiday region, else its time zone's."""
    return branch.holiday_region or default_holiday_region(branch.timezone)


@functools.cache
def holiday_regions() -> tuple[str, ...]:
    """Every country and subdivision the ``holidays`` package knows, as region codes, by code."""
    found = []
    for country, subdivisions in sorted(holidays.list_supported_countries().items()):
        if len(country) == 2:
            found.append(country)
            found += [f"{country}-{subdivision}" for subdivision in subdivisions]
    return tuple(found)


@functools.cache
def subdivision_names(country: str) -> dict[str, str]:
    """Subdivision code → its English name, where the package has one (e.g. ENG → England)."""
    aliases = getattr(holidays.country_holidays(country), "subdivisions_aliases", {}) or {}
    names: dict[str, str] = {}
    for name, code in aliases.items():
        names.setdefault(code, name)
    return names


def holiday_language(locale: object | None) -> str | None:
    """The ``holidays`` package's language for a page locale (``zh_Hans`` → ``zh_CN``), None if unknown."""
    return calendars.HOLIDAY_LANGUAGES.get(str(locale)) if locale is not None else None


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
    region = None if branch.open_on_public_holidays else holiday_region(branch)
    if region is not None and not known_holiday_region(region):  # checked on edit; an old row must not stop clocks
        log.error("branch %s: unknown holiday region %r; following its time zone", branch.id, region)
        region = default_holiday_region(branch.timezone)
    key = (branch.timezone, hours, tuple(sorted(extra.items())), always_open, region)
    with _calendars_lock:
        calendar = _calendars.get(key)
    if calendar is None:
        calendar = _new_calendar(branch, hours, extra, always_open, region)
        with _calendars_lock:
            _calendars[key] = calendar
    return calendar


def _new_calendar(
    branch: Branch, hours: tuple, extra: Mapping[date, str], always_open: bool, region: str | None
) -> sla.Calendar:
    country, subdivision = split_region(region) if region else (None, None)
    try:
        return sla.Calendar(
            timezone=branch.timezone,
            weekly_hours=dict(hours),
            holiday_country=country,
            holiday_subdivision=subdivision,
            extra_holidays=dict(extra),
            always_open=always_open,
        )
    except ValueError as error:
        # Hours and regions are checked when a branch is edited; one bad old row must not stop every clock.
        log.error("branch %s: calendar %s %r %s is invalid (%s); counting around the clock",
                  branch.id, branch.timezone, hours, region, error)
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
