"""The dashboard's response figures, from the roll-ups: headline, dimensions, trend, branch league, channels,
key issues."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from app.core import insight
from app.core.insight import IssueLevel
from app.core.scoring import weak_dimensions
from app.models import Channel, QuestionType
from app.models.types import Texts
from app.services.dashboard.scores import (
    answer_sums,
    Context,
    context_for,
    group_sums,
    option_sums,
    questions,
    RatingSums,
    response_sums,
    Scores,
    scores,
)
from app.services.dashboard.selection import BranchRef, Selection


def negative_percent(negative: int, responses: int) -> float | None:
    """Negative feedback as a percentage of the responses (None without responses)."""
    rate = insight.negative_rate(negative, responses)
    return None if rate is None else 100 * rate


@dataclass(frozen=True)
class Headline:
    """Responses, those that opened a ticket, and their scores: the selection's, or a part's (a row)."""

    responses: int
    negative: int
    scores: Scores

    @property
    def negative_rate(self) -> float | None:
        return negative_percent(self.negative, self.responses)


@dataclass(frozen=True)
class DimensionRow:
    key: str
    name: Texts
    weight: float
    mean: float | None
    ratings: int
    weak: bool
    question_key: str | None


@dataclass(frozen=True)
class TrendPoint:
    start: date
    end: date
    responses: int
    scores: Scores


@dataclass(frozen=True)
class BranchRow(Headline):
    branch: BranchRef


@dataclass(frozen=True)
class ChannelRow(Headline):
    channel: Channel


@dataclass(frozen=True)
class IssueRow:
    question_key: str
    option: str
    prompt: Texts
    label: Texts
    customers: int
    share: float
    level: IssueLevel


@dataclass(frozen=True)
class DaySums:
    """The selection's roll-ups summed per day: ratings per question, and (responses, negative).

    One scan of the answer roll-ups serves the headline, the dimensions and the trend. By month, a
    whole month inside the selection is one key (its first day), read from the monthly roll-ups.
    """

    ratings: dict[date, dict[int, RatingSums]]
    responses: dict[date, tuple[int, int]]
    context: Context


def day_sums(selection: Selection) -> DaySums:
    by_month = selection.grain == insight.Grain.MONTH
    ratings = group_sums(answer_sums(selection, "period", whole_months=by_month), 1)
    responses = {day: (int(n or 0), int(neg or 0))
                 for day, n, neg in response_sums(selection, "period", whole_months=by_month)}
    return DaySums(ratings, responses, context_for(q for sums in ratings.values() for q in sums))


def _merged(groups: Iterable[dict[int, RatingSums]]) -> dict[int, RatingSums]:
    merged: dict[int, RatingSums] = defaultdict(RatingSums)
    for sums in groups:
        for question_id, s in sums.items():
            merged[question_id].add(s.n, s.total, s.satisfied, s.promoters, s.detractors)
    return merged


def headline_and_dimensions(selection: Selection, days: DaySums | None = None) -> tuple[Headline, list[DimensionRow]]:
    days = days or day_sums(selection)
    result = scores(_merged(days.ratings.values()).items(), days.context.questions, days.context.weights)
    responses = sum(n for n, _ in days.responses.values())
    negative = sum(neg for _, neg in days.responses.values())
    return Headline(responses, negative, result), dimension_rows(result, days.context)


def dimension_rows(result: Scores, context: Context) -> list[DimensionRow]:
    weak = set(weak_dimensions(result.means))
    rated_keys: dict[str, str] = {}
    for q in sorted(context.questions.values(), key=lambda q: (-q.version_id, q.id)):
        if q.type == QuestionType.CSAT and q.dimension and q.dimension not in rated_keys:
            rated_keys[q.dimension] = q.key
    return [
        DimensionRow(
            key=d.key, name=d.name, weight=d.weight, mean=result.means.get(d.key),
            ratings=result.ratings_by_dimension.get(d.key, 0), weak=d.key in weak,
            question_key=rated_keys.get(d.key),
        )
        for d in context.dimensions.values()
    ]


def trend(selection: Selection, days: DaySums | None = None) -> list[TrendPoint]:
    """One point per period (day, week or month) of the selection, empty periods included."""
    days = days or day_sums(selection)
    by_period: dict[date, list[dict[int, RatingSums]]] = defaultdict(list)
    responses: dict[date, int] = defaultdict(int)
    for day, sums in days.ratings.items():
        by_period[insight.period_start(day, selection.grain)].append(sums)
    for day, (count, _negative) in days.responses.items():
        responses[insight.period_start(day, selection.grain)] += count
    starts = insight.period_starts(selection.first, selection.last, selection.grain)
    points = []
    for i, start in enumerate(starts):
        end = starts[i + 1] - timedelta(days=1) if i + 1 < len(starts) else selection.last
        sums = _merged(by_period.get(start, []))
        points.append(TrendPoint(
            start=max(start, selection.first), end=min(end, selection.last), responses=responses.get(start, 0),
            scores=scores(sums.items(), days.context.questions, days.context.weights),
        ))
    return points


def branch_league(selection: Selection, context: Context | None = None) -> list[BranchRow]:
    """Every branch of the selection, best index first (branches without ratings last)."""
    by_branch = group_sums(answer_sums(selection, "branch_id"), 1)
    context = context or context_for(q for sums in by_branch.values() for q in sums)
    counts = {branch_id: (int(n or 0), int(neg or 0)) for branch_id, n, neg in
              response_sums(selection, "branch_id")}
    rows = [
        BranchRow(
            branch=branch, responses=counts.get(branch.id, (0, 0))[0], negative=counts.get(branch.id, (0, 0))[1],
            scores=scores(by_branch.get(branch.id, {}).items(), context.questions, context.weights),
        )
        for branch in selection.branches
    ]
    return sorted(rows, key=lambda r: (r.scores.index is None, -(r.scores.index or 0), r.branch.name, r.branch.id))


def channel_split(selection: Selection, context: Context | None = None) -> list[ChannelRow]:
    """The selection per channel the responses came through (channels without responses left out), in the
    order of ``Channel``: the rows' responses and ratings add up to the headline's."""
    by_channel = group_sums(answer_sums(selection, "channel"), 1)
    context = context or context_for(q for sums in by_channel.values() for q in sums)
    counts = {Channel(channel): (int(n or 0), int(neg or 0)) for channel, n, neg in response_sums(selection, "channel")}
    return [
        ChannelRow(
            channel=channel, responses=counts[channel][0], negative=counts[channel][1],
            scores=scores(by_channel.get(channel, {}).items(), context.questions, context.weights),
        )
        for channel in Channel
        if counts.get(channel, (0, 0))[0]
    ]


def key_issues(selection: Selection, responses: int) -> list[IssueRow]:
    """Options chosen by ≥ 3 customers; first-level when ≥ 30 % of the selection's responses."""
    rows = option_sums(selection)
    info = questions(q for q, _, _ in rows)
    customers: dict[tuple[str, str], int] = defaultdict(int)
    texts: dict[tuple[str, str], tuple[Texts, Texts, int]] = {}
    for question_id, option, count in rows:
        question = info[question_id]
        key = (question.key, option)
        customers[key] += int(count or 0)
        if key not in texts or question.version_id > texts[key][2]:
            texts[key] = (question.prompt, question.options.get(option, {}), question.version_id)
    issues = insight.key_issues({_problem(*key): n for key, n in customers.items()}, responses)
    result = []
    for issue in issues:
        question_key, option = issue.problem.split("\n", 1)
        prompt, label, _version = texts[(question_key, option)]
        result.append(IssueRow(question_key, option, prompt, label, issue.customers, 100 * issue.share, issue.level))
    return result


def _problem(question_key: str, option: str) -> str:
    return f"{question_key}\n{option}"
