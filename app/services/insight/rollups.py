"""Daily and monthly roll-ups of responses for the dashboard, rebuilt by a job from the raw rows.

Whatever changes what a branch's day counts (a response processed, a quality verdict) marks that
(branch, local day) dirty with ``mark_dirty``; the roll-up job rebuilds dirty days with
``rebuild_dirty``. A rebuild always starts from the raw rows of the whole day, so running it twice,
or after a crash half way, leaves the same rows.

A day is the branch's calendar day (its time zone): the day its customers lived. Date ranges on
roll-ups therefore mean "these days in each branch's own time zone"; ``local_days_condition`` is
the same rule for queries on raw rows (the lists the dashboard links to).

Beside each daily table is a monthly one (the branch's calendar month, keyed by its first day), so a
year reads a dozen rows per branch instead of 365. Months are never computed from the raw rows: every
rebuild of days sums the months they fall in again from the daily rows (``_resum_months``), so a
month is always exactly the sum of its days, and whatever keeps the days right keeps the months right.
"""
from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Date, and_, delete, exists, false, func, insert, literal, or_, select

from app.core.clock import utcnow
from app.core.scoring import NpsCategory, nps_category
from app.extensions import db
from app.models import (
    Answer,
    AnswerRollup,
    Branch,
    MonthlyAnswerRollup,
    MonthlyOptionRollup,
    MonthlyResponseRollup,
    OptionRollup,
    Question,
    QuestionType,
    Response,
    ResponseRollup,
    RollupDirty,
    Ticket,
)
from app.models.upsert import insert_on_conflict
from app.services.insight.filters import counted_in_scores

#: CSAT counts ratings of 4 and 5 as satisfied (the brief: "CSAT (% of 4–5)").
CSAT_SATISFIED_FROM = 4
RATED_TYPES = (QuestionType.CSAT, QuestionType.NPS)
CHOICE_TYPES = (QuestionType.SINGLE, QuestionType.MULTIPLE)
ROLLUP_MODELS = (ResponseRollup, AnswerRollup, OptionRollup)
#: Each daily table's monthly twin, with the columns that tell its rows apart beyond (month, branch,
#: version, counted, channel) and the columns summed.
MONTHLY = (
    (ResponseRollup, MonthlyResponseRollup, (), ("responses", "negative", "duration_sum")),
    (AnswerRollup, MonthlyAnswerRollup, ("question_id",), ("n", "total", "satisfied", "promoters", "detractors")),
    (OptionRollup, MonthlyOptionRollup, ("question_id", "option"), ("customers",)),
)
MONTHLY_MODELS = tuple(monthly for _daily, monthly, _keys, _sums in MONTHLY)


def local_day(moment: datetime, timezone: str) -> date:
    """The branch's calendar day of a UTC moment: roll-ups are by the day the customer lived."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def day_bounds(first: date, last: date, timezone: str) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the days ``first``…``last`` in ``timezone``."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(first, time(), zone)
    end = datetime.combine(last + timedelta(days=1), time(), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    """The first day of the month after ``day``'s."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def mark_dirty(branch_id: int, day: date) -> None:
    """Ask for (branch, day) to be rebuilt; idempotent, cheap, part of the caller's transaction."""
    db.session.execute(
        insert_on_conflict(RollupDirty)
        .values(branch_id=branch_id, day=day, marked_at=utcnow())
        .on_conflict_do_update(index_elements=["branch_id", "day"], set_={"marked_at": utcnow()})
    )


# --- Rebuilding -----------------------------------------------------------------------------


def rebuild(branch_id: int, day: date) -> None:
    """Rebuild one branch's day from its raw responses, answers and tickets (flushes, no commit)."""
    rebuild_days(branch_id, day, day)


def rebuild_days(branch_id: int, first: date, last: date) -> int:
    """Rebuild the branch's days ``first``…``last``; returns how many submitted responses they hold."""
    timezone = db.session.scalar(select(Branch.timezone).where(Branch.id == branch_id))
    if timezone is None:
        return 0
    for model in ROLLUP_MODELS:
        db.session.execute(
            delete(model).where(model.branch_id == branch_id, model.day >= first, model.day <= last)
        )
    start, end = day_bounds(first, last, timezone)
    in_range = and_(
        Response.branch_id == branch_id,
        Response.submitted_at.is_not(None),
        Response.submitted_at >= start,
        Response.submitted_at < end,
    )
    counted = counted_in_scores().label("counted")
    day_of = _day_finder(first, last, timezone)

    responses: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    negative = exists().where(Ticket.response_id == Response.id)
    for submitted_at, version_id, is_counted, channel, duration, is_negative in db.session.execute(
        select(
            Response.submitted_at, Response.version_id, counted, Response.channel, Response.duration_seconds, negative,
        ).where(in_range)
    ):
        sums = responses[(day_of(submitted_at), version_id, bool(is_counted), channel)]
        sums[0] += 1
        sums[1] += 1 if is_negative else 0
        sums[2] += duration or 0

    ratings: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    options: Counter[tuple] = Counter()
    answers = (
        select(
            Response.submitted_at, Response.version_id, counted, Response.channel, Answer.question_id, Question.type,
            Answer.value_int, Answer.value_choices,
        )
        .join(Answer, Answer.response_id == Response.id)
        .join(Question, Question.id == Answer.question_id)
        .where(in_range, Question.type.in_(RATED_TYPES + CHOICE_TYPES))
    )
    for submitted_at, version_id, is_counted, channel, question_id, kind, value, choices in db.session.execute(answers):
        key = (day_of(submitted_at), version_id, bool(is_counted), channel, question_id)
        if kind in CHOICE_TYPES:
            for option in set(choices or ()):
                options[key + (str(option),)] += 1
        elif value is not None:
            sums = ratings[key]
            sums[0] += 1
            sums[1] += value
            if kind == QuestionType.CSAT:
                sums[2] += 1 if value >= CSAT_SATISFIED_FROM else 0
            else:
                category = nps_category(value)
                sums[3] += 1 if category == NpsCategory.PROMOTER else 0
                sums[4] += 1 if category == NpsCategory.DETRACTOR else 0

    common = ("day", "version_id", "counted", "channel")
    _insert(ResponseRollup, branch_id, [
        dict(zip(common + ("responses", "negative", "duration_sum"), key + tuple(sums)))
        for key, sums in responses.items()
    ])
    _insert(AnswerRollup, branch_id, [
        dict(zip(common + ("question_id", "n", "total", "satisfied", "promoters", "detractors"), key + tuple(sums)))
        for key, sums in ratings.items()
    ])
    _insert(OptionRollup, branch_id, [
        dict(zip(common + ("question_id", "option", "customers"), key + (customers,)))
        for key, customers in options.items()
    ])
    _resum_months(branch_id, first, last)
    return sum(sums[0] for sums in responses.values())


def _resum_months(branch_id: int, first: date, last: date) -> None:
    """Sum again, from the daily rows, the branch's months that hold any of the days first…last."""
    month = month_start(first)
    while month <= last:
        after = next_month(month)
        for daily, monthly, keys, sums in MONTHLY:
            db.session.execute(delete(monthly).where(monthly.branch_id == branch_id, monthly.month == month))
            group = [daily.version_id, daily.counted, daily.channel, *(getattr(daily, k) for k in keys)]
            source = (
                select(literal(month, Date), literal(branch_id), *group,
                       *(func.sum(getattr(daily, c)) for c in sums))
                .where(daily.branch_id == branch_id, daily.day >= month, daily.day < after)
                .group_by(*group)
            )
            db.session.execute(insert(monthly).from_select(
                ["month", "branch_id", "version_id", "counted", "channel", *keys, *sums], source
            ))
        month = after


def _day_finder(first: date, last: date, timezone: str):
    """``local_day`` for moments between first and last, by bisecting the days' UTC starts (faster per row)."""
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    starts = [day_bounds(day, day, timezone)[0] for day in days]

    def day_of(moment: datetime) -> date:
        return days[bisect_right(starts, moment) - 1]

    return day_of


def _insert(model, branch_id: int, rows: list[dict]) -> None:
    if rows:
        db.session.execute(insert(model.__table__), [{"branch_id": branch_id, **row} for row in rows])


def rebuild_dirty(limit: int = 200) -> int:
    """Rebuild up to ``limit`` dirty days, oldest mark first; returns how many this call rebuilt.

    Each day is claimed by deleting its mark before its raw rows are read: a response arriving
    meanwhile marks the day again (the next sweep takes it), and of two sweeps at once only the
    one whose delete removed the row rebuilds it. The caller commits.
    """
    marked = db.session.execute(
        select(RollupDirty.branch_id, RollupDirty.day).order_by(RollupDirty.marked_at).limit(limit)
    ).all()
    return _rebuild_claimed(marked)


def rebuild_dirty_of(branch_ids: Iterable[int], limit: int) -> int:
    """Rebuild the dirty days of these branches when there are at most ``limit`` of them (else none)."""
    ids = list(branch_ids)
    if not ids:
        return 0
    marked = db.session.execute(
        select(RollupDirty.branch_id, RollupDirty.day).where(RollupDirty.branch_id.in_(ids)).limit(limit + 1)
    ).all()
    if not marked or len(marked) > limit:
        return 0
    return _rebuild_claimed(marked)


def _rebuild_claimed(marked) -> int:
    done = 0
    for branch_id, day in marked:
        claimed = db.session.execute(
            delete(RollupDirty).where(RollupDirty.branch_id == branch_id, RollupDirty.day == day)
        ).rowcount
        if claimed:
            rebuild(branch_id, day)
            done += 1
    return done


def rebuild_all(branch_ids: Iterable[int] | None = None, progress=None) -> int:
    """Rebuild every day that has responses (all branches, or these), and clear their marks.

    For the data generator and after a repair; flushes, the caller commits. Returns the number of
    submitted responses rolled up.
    """
    query = select(Branch.id, Branch.timezone).order_by(Branch.id)
    if branch_ids is not None:
        query = query.where(Branch.id.in_(list(branch_ids)))
    total = 0
    for branch_id, timezone in db.session.execute(query).all():
        first_at, last_at = db.session.execute(
            select(func.min(Response.submitted_at), func.max(Response.submitted_at)).where(
                Response.branch_id == branch_id, Response.submitted_at.is_not(None)
            )
        ).one()
        db.session.execute(delete(RollupDirty).where(RollupDirty.branch_id == branch_id))
        for model in ROLLUP_MODELS + MONTHLY_MODELS:
            db.session.execute(delete(model).where(model.branch_id == branch_id))
        if first_at is None:
            continue
        day, last = local_day(first_at, timezone), local_day(last_at, timezone)
        while day <= last:  # a calendar month at a time: bounded memory, and each month summed once
            chunk_end = min(last, next_month(day) - timedelta(days=1))
            total += rebuild_days(branch_id, day, chunk_end)
            day = chunk_end + timedelta(days=1)
        if progress is not None:
            progress(branch_id, total)
    return total


# --- Reading the state ----------------------------------------------------------------------


def pending(branch_ids: Iterable[int]) -> tuple[int, datetime | None]:
    """How many days of these branches wait for a rebuild, and the oldest mark among them."""
    ids = list(branch_ids)
    if not ids:
        return 0, None
    count, oldest = db.session.execute(
        select(func.count(), func.min(RollupDirty.marked_at)).where(RollupDirty.branch_id.in_(ids))
    ).one()
    return int(count), oldest


def local_days_condition(
    moment: ColumnElement, branch_column: ColumnElement, first: date | None, last: date | None,
    branches: Iterable[tuple[int, str]],
) -> ColumnElement[bool]:
    """SQL for "``moment`` falls on one of the days first…last of its branch's own calendar".

    ``branches``: (id, time zone) of the branches in question; one range per time zone, so the
    condition stays small whatever the number of branches.
    """
    by_zone: dict[str, list[int]] = defaultdict(list)
    for branch_id, timezone in branches:
        by_zone[timezone].append(branch_id)
    if not by_zone:
        return false()
    parts = []
    for timezone, ids in sorted(by_zone.items()):
        start, end = day_bounds(first or date(1970, 1, 2), last or date(2999, 12, 30), timezone)
        clauses = [branch_column.in_(ids)]
        if first is not None:
            clauses.append(moment >= start)
        if last is not None:
            clauses.append(moment < end)
        parts.append(and_(*clauses))
    return or_(*parts)
