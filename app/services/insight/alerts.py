"""Alerts (预警): a branch whose satisfaction drops sharply, or whose negative feedback is too high.

``evaluate(now)`` looks at every active branch, each on its own calendar (its time zone):

- the last 7 local days (today included) against the 28 days before them;
- CSAT (share of 4–5) and the weighted index (as a share of its 1–5 scale, so a drop from 4.6
  to 2.3 reads as the drop it is) each alert when the recent figure is lower than the baseline
  by more than ``LOOPDESK_ALERT_DROP_SHARE`` (0.5) and both periods hold at least
  ``LOOPDESK_ALERT_MIN_SAMPLE`` (20) counted responses;
- the negative feedback rate (responses that opened a ticket) of the last 7 days alerts above
  5 % with the same minimum of responses.

Figures come from the daily roll-ups, counted responses only (flagged and not cleared are left
out), through the dashboard's own scoring, so the figures in an alert are the dashboard's. The
job rebuilds dirty roll-ups first.

An alert is an episode (``AlertEpisode``): it opens, and its receivers are notified, when a
condition starts to hold; it stays open, silently, while it holds; it closes when it no longer
does (a smaller sample included). A relapse opens a new episode and notifies again. The unique
partial index on open episodes (branch, kind) makes this race-safe: an episode is opened with
INSERT … ON CONFLICT DO NOTHING, and only the sweep whose insert made the row notifies.

The real-time alert (``after_response``, called by the response job as each response is processed): at
least N negative responses (that opened a ticket), at least X % of the branch's counted responses, within M
minutes ending at the response's submission (defaults 3, 50 %, 15 minutes; ``LOOPDESK_BURST_*``, or the
branch's own). It opens a ``negative_burst`` episode and notifies at once; the episode stays open while
responses keep the condition true and closes once it has not held for a whole window (hysteresis: a burst
that pauses for a minute is one episode, not two). The hourly sweep closes episodes whose branch went quiet.

Hysteresis of the drop and negative-rate alerts: an open episode stays open until its figure is back past
80 % of the threshold (``app/core/insight.RELEASE_SHARE``), so a figure hovering at 50 % does not open and
close an episode every hour.

Receivers: the active supervisors whose scope holds the branch (every branch, or assigned);
when a branch has none, the active admins, so an alert is never heard by nobody. Each gets the
notification (inbox, and e-mail when they have an address) in their own language; webhooks get
an ``alert.raised`` event.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale, gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload
from werkzeug.routing import BuildError

from app.core import insight
from app.core.insight import BASELINE_DAYS, RECENT_DAYS, Sample
from app.core.scoring import index_percent
from app.extensions import db
from app.models import AlertEpisode, AnswerRollup, Branch, Response, ResponseRollup, Role, Ticket, User
from app.models.upsert import insert_on_conflict
from app.services import notifications
from app.services.dashboard import scores as dashboard_scores
from app.services.insight import rollups
from app.services.insight.filters import counted_in_scores
from app.services.webhooks import events as webhook_events

log = logging.getLogger(__name__)

CSAT_DROP, INDEX_DROP, NEGATIVE_RATE = "csat_drop", "index_drop", "negative_rate"
NEGATIVE_BURST = "negative_burst"
KINDS = (CSAT_DROP, INDEX_DROP, NEGATIVE_RATE, NEGATIVE_BURST)
NOTIFICATION_KIND = "alert"
WEBHOOK_EVENT = "alert.raised"


# --- The figures of a branch -----------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    responses: int = 0
    negative: int = 0
    csat: float | None = None
    #: The weighted index as a share of its scale (0–100), and on it (1–5).
    index_percent: float | None = None
    index: float | None = None

    def as_details(self) -> dict[str, Any]:
        return {
            "first": self.first.isoformat(), "last": self.last.isoformat(), "responses": self.responses,
            "negative": self.negative, "csat": self.csat, "index": self.index, "index_percent": self.index_percent,
        }


@dataclass(frozen=True)
class BranchFigures:
    branch_id: int
    recent: Period
    baseline: Period


def periods(today: date) -> tuple[tuple[date, date], tuple[date, date]]:
    """(recent, baseline) as (first, last) days: the last 7 days with today, the 28 days before them."""
    recent_first = today - timedelta(days=RECENT_DAYS - 1)
    baseline_last = recent_first - timedelta(days=1)
    return (recent_first, today), (baseline_last - timedelta(days=BASELINE_DAYS - 1), baseline_last)


def branch_figures(branches: list[tuple[int, str]], now: datetime) -> dict[int, BranchFigures]:
    """Each branch's recent and baseline figures, from the counted roll-ups (few queries per time zone)."""
    by_zone: dict[str, list[int]] = defaultdict(list)
    for branch_id, timezone in branches:
        by_zone[timezone].append(branch_id)
    sums: dict[tuple[int, str], dict[int, dashboard_scores.RatingSums]] = defaultdict(
        lambda: defaultdict(dashboard_scores.RatingSums)
    )
    counts: dict[tuple[int, str], tuple[int, int]] = {}
    ranges: dict[int, dict[str, tuple[date, date]]] = {}
    for timezone, ids in by_zone.items():
        recent, baseline = periods(rollups.local_day(now, timezone))
        for name, (first, last) in (("recent", recent), ("baseline", baseline)):
            for branch_id in ids:
                ranges.setdefault(branch_id, {})[name] = (first, last)
            _add_sums(sums, counts, ids, name, first, last)
    info = dashboard_scores.questions(question_id for per_question in sums.values() for question_id in per_question)
    weights_of: dict[frozenset[int], dict[str, float]] = {}
    figures = {}
    for branch_id, named in ranges.items():
        versions = frozenset(
            info[q].version_id for name in named for q in sums.get((branch_id, name), {}) if q in info
        )
        if versions not in weights_of:
            weights_of[versions] = {k: d.weight for k, d in dashboard_scores.dimension_weights(versions).items()}
        made = {}
        for name, (first, last) in named.items():
            scores = dashboard_scores.scores(list(sums.get((branch_id, name), {}).items()), info, weights_of[versions])
            responses, negative = counts.get((branch_id, name), (0, 0))
            made[name] = Period(
                first, last, responses, negative, scores.csat, index_percent(scores.index), scores.index
            )
        figures[branch_id] = BranchFigures(branch_id, made["recent"], made["baseline"])
    return figures


def _add_sums(sums, counts, branch_ids: list[int], name: str, first: date, last: date) -> None:
    a = AnswerRollup
    for branch_id, question_id, *values in db.session.execute(
        select(a.branch_id, a.question_id, func.sum(a.n), func.sum(a.total), func.sum(a.satisfied),
               func.sum(a.promoters), func.sum(a.detractors))
        .where(a.branch_id.in_(branch_ids), a.day >= first, a.day <= last, a.counted.is_(True))
        .group_by(a.branch_id, a.question_id)
    ):
        sums[(branch_id, name)][question_id].add(*values)
    r = ResponseRollup
    for branch_id, responses, negative in db.session.execute(
        select(r.branch_id, func.sum(r.responses), func.sum(r.negative))
        .where(r.branch_id.in_(branch_ids), r.day >= first, r.day <= last, r.counted.is_(True))
        .group_by(r.branch_id)
    ):
        counts[(branch_id, name)] = (int(responses or 0), int(negative or 0))


# --- The rules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    kind: str
    holds: bool
    details: dict[str, Any]


def findings(
    figures: BranchFigures, max_drop: float, min_sample: int, open_kinds: frozenset[str] = frozenset()
) -> list[Finding]:
    """Whether each alert condition holds for the branch, with the figures it rests on (an open episode's with
    the release threshold)."""
    recent, baseline = figures.recent, figures.baseline
    details = {"recent": recent.as_details(), "baseline": baseline.as_details()}
    found = []
    for kind, attribute in ((CSAT_DROP, "csat"), (INDEX_DROP, "index_percent")):
        now_sample = Sample(getattr(recent, attribute), recent.responses)
        before_sample = Sample(getattr(baseline, attribute), baseline.responses)
        holds = insight.drop_alert(now_sample, before_sample, max_drop, min_sample, is_open=kind in open_kinds)
        found.append(Finding(kind, holds, {**details, "drop": insight.relative_drop(now_sample, before_sample)}))
    holds = insight.negative_rate_alert(
        recent.negative, recent.responses, min_sample, is_open=NEGATIVE_RATE in open_kinds
    )
    rate = insight.negative_rate(recent.negative, recent.responses)
    found.append(Finding(NEGATIVE_RATE, holds, {**details, "rate": rate}))
    return found


# --- Episodes and notifications --------------------------------------------------------------


@dataclass
class EvaluateResult:
    branches: int = 0
    opened: list[int] = field(default_factory=list)
    closed: int = 0
    notifications: int = 0


def evaluate(now: datetime) -> EvaluateResult:
    """Open, keep or close every active branch's alert episodes; notify for the ones opened. Flushes, no commit."""
    config = current_app.config
    max_drop, min_sample = config["LOOPDESK_ALERT_DROP_SHARE"], config["LOOPDESK_ALERT_MIN_SAMPLE"]
    branches = list(db.session.scalars(select(Branch).where(Branch.active.is_(True)).order_by(Branch.id)))
    figures = branch_figures([(b.id, b.timezone) for b in branches], now)
    open_now = {
        (branch_id, kind) for branch_id, kind in db.session.execute(
            select(AlertEpisode.branch_id, AlertEpisode.kind).where(AlertEpisode.closed_at.is_(None))
        )
    }
    result = EvaluateResult(branches=len(branches))
    notices = _Notices(now)
    evaluated = set()
    for branch in branches:
        open_kinds = frozenset(kind for branch_id, kind in open_now if branch_id == branch.id)
        for finding in findings(figures[branch.id], max_drop, min_sample, open_kinds):
            key = (branch.id, finding.kind)
            evaluated.add(key)
            if finding.holds and key not in open_now:
                episode_id = _open(branch.id, finding, now)
                if episode_id is not None:
                    result.opened.append(episode_id)
                    notices.add(branch, finding, episode_id)
            elif not finding.holds and key in open_now:
                result.closed += _close(branch.id, finding.kind, now)
    for branch_id, kind in open_now - evaluated:  # a branch closed meanwhile; bursts below
        if kind != NEGATIVE_BURST:
            result.closed += _close(branch_id, kind, now)
    result.closed += _close_quiet_bursts({b.id: b for b in branches}, now)
    result.notifications = notices.send()
    return result


# --- The real-time alert ---------------------------------------------------------------------


def burst_rule(branch: Branch) -> insight.BurstRule:
    """The branch's own setting where it has one, else the chain's."""
    config = current_app.config
    share = branch.burst_min_share_percent
    return insight.BurstRule(
        min_negative=branch.burst_min_negative or config["LOOPDESK_BURST_MIN_NEGATIVE"],
        min_share=(share if share is not None else config["LOOPDESK_BURST_MIN_SHARE_PERCENT"]) / 100,
        window_minutes=branch.burst_window_minutes or config["LOOPDESK_BURST_WINDOW_MINUTES"],
    )


def burst_figures(branch_id: int, end: datetime, rule: insight.BurstRule) -> tuple[int, int, datetime]:
    """(negative, responses, first) of the branch's counted responses submitted in (end − window, end]."""
    start = end - rule.window
    rows = db.session.execute(
        select(Response.id, Response.submitted_at, Ticket.id)
        .outerjoin(Ticket, Ticket.response_id == Response.id)
        .where(Response.branch_id == branch_id, Response.submitted_at > start, Response.submitted_at <= end,
               counted_in_scores())
    ).all()
    negative = len({response_id for response_id, _at, ticket_id in rows if ticket_id is not None})
    responses = len({response_id for response_id, _at, _ticket in rows})
    return negative, responses, start


def after_response(response_id: int, now: datetime) -> EvaluateResult:
    """The real-time alert after a processed response (see the module's docstring). Flushes, no commit."""
    result = EvaluateResult()
    response = db.session.get(Response, response_id)
    if response is None or response.submitted_at is None:
        return result
    branch = response.branch
    rule = burst_rule(branch)
    at = response.submitted_at
    negative, responses, start = burst_figures(branch.id, at, rule)
    holds = insight.burst_alert(negative, responses, rule)
    episode = db.session.scalar(
        select(AlertEpisode).where(AlertEpisode.branch_id == branch.id, AlertEpisode.kind == NEGATIVE_BURST,
                                   AlertEpisode.closed_at.is_(None))
    )
    if episode is not None:
        if holds:
            episode.last_held_at = max(episode.last_held_at or at, at)
        elif insight.burst_over(episode.last_held_at or episode.opened_at, at, rule):
            episode.closed_at = at
            result.closed = 1
        db.session.flush()
        return result
    if not holds:
        return result
    finding = Finding(NEGATIVE_BURST, True, {
        "negative": negative, "responses": responses, "minutes": rule.window_minutes,
        "from": start.isoformat(), "to": at.isoformat(),
        "rule": {"min_negative": rule.min_negative, "min_share": rule.min_share},
    })
    episode_id = _open(branch.id, finding, now, last_held_at=at)
    if episode_id is not None:
        result.opened.append(episode_id)
        notices = _Notices(now)
        notices.add(branch, finding, episode_id)
        result.notifications = notices.send()
    return result


def _close_quiet_bursts(branches: dict[int, Branch], now: datetime) -> int:
    """Close the burst episodes whose branch has been quiet (or gone) for a whole window."""
    closed = 0
    for episode in db.session.scalars(
        select(AlertEpisode).where(AlertEpisode.kind == NEGATIVE_BURST, AlertEpisode.closed_at.is_(None))
    ):
        branch = branches.get(episode.branch_id)
        if branch is None or insight.burst_over(episode.last_held_at or episode.opened_at, now, burst_rule(branch)):
            episode.closed_at = now
            closed += 1
    db.session.flush()
    return closed


def _open(branch_id: int, finding: Finding, now: datetime, last_held_at: datetime | None = None) -> int | None:
    """The new episode's id, or None when another sweep opened it first (the unique index decides)."""
    statement = (
        insert_on_conflict(AlertEpisode)
        .values(branch_id=branch_id, kind=finding.kind, opened_at=now, closed_at=None, details=finding.details,
                last_held_at=last_held_at)
        .on_conflict_do_nothing(index_elements=["branch_id", "kind"], index_where=AlertEpisode.closed_at.is_(None))
        .returning(AlertEpisode.id)
    )
    return db.session.scalar(statement)


def _close(branch_id: int, kind: str, now: datetime) -> int:
    return db.session.execute(
        update(AlertEpisode)
        .where(AlertEpisode.branch_id == branch_id, AlertEpisode.kind == kind, AlertEpisode.closed_at.is_(None))
        .values(closed_at=now),
        execution_options={"synchronize_session": False},
    ).rowcount


def open_episodes(branch_ids: list[int] | None = None) -> list[AlertEpisode]:
    """Episodes open now (of these branches), oldest first."""
    query = select(AlertEpisode).where(AlertEpisode.closed_at.is_(None)).order_by(AlertEpisode.opened_at)
    if branch_ids is not None:
        query = query.where(AlertEpisode.branch_id.in_(branch_ids or [-1]))
    return list(db.session.scalars(query))


class _Notices:
    """The notifications and webhook events of one evaluation, receivers read once."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.messages: list[notifications.Message] = []
        self.events: list[dict] = []
        self._users: dict[Role, list[User]] = {}

    def _active(self, role: Role) -> list[User]:
        if role not in self._users:
            self._users[role] = list(db.session.scalars(
                select(User).where(User.role == role, User.active.is_(True))
                .options(selectinload(User.branches)).order_by(User.id)
            ))
        return self._users[role]

    def receivers(self, branch_id: int) -> list[User]:
        supervisors = [
            user for user in self._active(Role.SUPERVISOR)
            if user.all_branches or any(b.id == branch_id for b in user.branches)
        ]
        return supervisors or self._active(Role.ADMIN)

    def add(self, branch: Branch, finding: Finding, episode_id: int) -> None:
        burst = finding.kind == NEGATIVE_BURST
        url = responses_url(branch, finding) if burst else dashboard_url(branch.id, finding)
        receivers = self.receivers(branch.id)
        for user in receivers:
            to_responses = burst and user.role == Role.SUPERVISOR  # admins have no responses page
            link = url if to_responses or not burst else burst_dashboard_url(branch, finding)
            with force_locale(notifications.locale_of(user)):
                title, body = message(finding, branch.name, link, to_responses)
            self.messages.append(notifications.Message(user, None, NOTIFICATION_KIND, title, body))
        self.events.append({
            "branch_id": branch.id, "episode_id": episode_id, "kind": finding.kind, "branch": branch.code, "branch_name": branch.name,
            "opened_at": self.now, "url": url, "figures": finding.details,
            "receivers": [user.id for user in receivers],
        })
        log.info("alert %s opened for branch %s; notified %d", finding.kind, branch.code, len(receivers))

    def send(self) -> int:
        """Write the notifications and the webhook events; returns how many notifications."""
        sent = notifications.notify_many(self.messages, self.now)
        if self.events:
            endpoints = webhook_events.active_endpoints()
            for event in self.events:
                alert = {name: value for name, value in event.items() if name != "branch_id"}
                webhook_events.emit(WEBHOOK_EVENT, {"alert": alert}, event["branch_id"], self.now, endpoints)
            db.session.flush()
        return sent


def dashboard_url(branch_id: int, finding: Finding) -> str | None:
    """The branch's dashboard over both periods, absolute (it leaves the app in e-mails and webhooks)."""
    args = {
        "branch_ids": branch_id,
        "date_from": finding.details["baseline"]["first"],
        "date_to": finding.details["recent"]["last"],
    }
    try:
        path = current_app.url_map.bind("localhost").build("insight.index", args)
    except BuildError:
        return None
    return current_app.config["LOOPDESK_BASE_URL"] + path


def responses_url(branch: Branch, finding: Finding) -> str | None:
    """The branch's negative responses of the burst's local day(s), absolute (the supervisor's responses page)."""
    first = rollups.local_day(datetime.fromisoformat(finding.details["from"]), branch.timezone)
    last = rollups.local_day(datetime.fromisoformat(finding.details["to"]), branch.timezone)
    args = {"branch_ids": branch.id, "negative": "1", "date_from": first.isoformat(), "date_to": last.isoformat()}
    try:
        path = current_app.url_map.bind("localhost").build("staff.responses", args)
    except BuildError:
        return None
    return current_app.config["LOOPDESK_BASE_URL"] + path


def burst_dashboard_url(branch: Branch, finding: Finding) -> str | None:
    """For an admin (who has no responses page): the branch's dashboard on the burst's day."""
    day = rollups.local_day(datetime.fromisoformat(finding.details["to"]), branch.timezone).isoformat()
    try:
        path = current_app.url_map.bind("localhost").build(
            "insight.index", {"branch_ids": branch.id, "date_from": day, "date_to": day}
        )
    except BuildError:
        return None
    return current_app.config["LOOPDESK_BASE_URL"] + path


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} %"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def message(finding: Finding, branch_name: str, url: str | None, to_responses: bool = False) -> tuple[str, str]:
    """(title, body) of an alert in the current language: the branch, the figures before and after, the samples."""
    details = finding.details
    recent, baseline = details.get("recent", {}), details.get("baseline", {})
    drop = _percent(100 * details["drop"]) if details.get("drop") is not None else "—"
    if finding.kind == NEGATIVE_BURST:
        title = _("Alert: %(negative)d unhappy customers in %(minutes)d minutes at %(branch)s",
                  negative=details["negative"], minutes=details["minutes"], branch=branch_name)
        body = _(
            "%(negative)d of %(responses)d responses of the last %(minutes)d minutes opened a ticket. "
            "Look at them now: the customers may still be in the branch.",
            negative=details["negative"], responses=details["responses"], minutes=details["minutes"],
        )
    elif finding.kind == CSAT_DROP:
        title = _("Alert: CSAT fell sharply at %(branch)s", branch=branch_name)
        body = _(
            "CSAT of the last 7 days: %(recent)s (%(recent_n)d responses); of the 28 days before: "
            "%(baseline)s (%(baseline_n)d responses). It is %(drop)s lower.",
            recent=_percent(recent["csat"]), recent_n=recent["responses"],
            baseline=_percent(baseline["csat"]), baseline_n=baseline["responses"], drop=drop,
        )
    elif finding.kind == INDEX_DROP:
        title = _("Alert: the satisfaction index fell sharply at %(branch)s", branch=branch_name)
        body = _(
            "Satisfaction index of the last 7 days: %(recent)s of 5, %(recent_share)s of the scale "
            "(%(recent_n)d responses); of the 28 days before: %(baseline)s of 5, %(baseline_share)s of the scale "
            "(%(baseline_n)d responses). It is %(drop)s lower.",
            recent=_number(recent["index"]), recent_share=_percent(recent["index_percent"]),
            recent_n=recent["responses"], baseline=_number(baseline["index"]),
            baseline_share=_percent(baseline["index_percent"]), baseline_n=baseline["responses"], drop=drop,
        )
    else:
        title = _("Alert: negative feedback above 5 %% at %(branch)s", branch=branch_name)
        body = _(
            "%(negative)d of %(responses)d responses of the last 7 days opened a ticket: %(rate)s "
            "(the target is below 5 %%). The 28 days before: %(before_negative)d of %(before_responses)d.",
            negative=recent["negative"], responses=recent["responses"],
            rate=_percent(100 * finding.details["rate"]),
            before_negative=baseline["negative"], before_responses=baseline["responses"],
        )
    if url:
        body += "\n" + (_("Responses: %(url)s", url=url) if to_responses else _("Dashboard: %(url)s", url=url))
    return title, body
