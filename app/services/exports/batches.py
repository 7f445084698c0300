"""What both export tables read with: rows in batches by key (memory stays flat), branches, branch time."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select

from app.extensions import db
from app.models import Branch

#: Rows read (and answers fetched) per query.
BATCH_SIZE = 2000


def spreadsheet_time(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A UTC moment as the wall-clock time of ``zone``, without zone (spreadsheets have none)."""
    if moment is None:
        return None
    return moment.astimezone(zone).replace(tzinfo=None, microsecond=0)


def keyset_batches(query: Select, id_column, last_id: int | None) -> Iterator[list]:
    """The query's rows up to ``last_id`` (the newest when the export started), BATCH_SIZE at a time, by id.

    Each batch is its own query (id > the last one seen), so nothing holds a cursor open while
    the job commits its progress, and the database never builds the whole result.
    """
    last = 0
    while last_id is not None:
        rows = db.session.execute(
            query.where(id_column > last, id_column <= last_id).order_by(id_column).limit(BATCH_SIZE)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        yield rows


@dataclass(frozen=True)
class BranchFacts:
    code: str
    name: str
    region: str
    timezone: str
    zone: ZoneInfo


def branch_facts() -> dict[int, BranchFacts]:
    """Every branch, as plain values (commits for progress must not make them reload)."""
    return {
        b.id: BranchFacts(b.code, b.name, b.region, b.timezone, ZoneInfo(b.timezone))
        for b in db.session.scalars(select(Branch))
    }
