"""Dashboards for supervisors and admins: scores, trends, league tables, key issues, SLA against the targets."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app import labels
from app.core.clock import utcnow
from app.core.insight import Grain
from app.extensions import db, talisman
from app.i18n import current_locale
from app.models import Role
from app.permissions import role_required
from app.services import dashboard
from app.services.dashboard import (
    charts,
    figures as dashboard_figures,
    selection as dashboard_selection,
    tickets as dashboard_tickets,
)
from app.services.insight import open_answers
from app.services.insight.filters import InsightFilter

bp = Blueprint("insight", __name__, url_prefix="/insight")

#: A chart is an SVG image styled by its own <style> element and running no script.
CHART_POLICY = {"default-src": "'none'", "style-src": "'unsafe-inline'", "frame-ancestors": "'none'"}
GRAIN_LABELS = {Grain.DAY: _l("Day"), Grain.WEEK: _l("Week"), Grain.MONTH: _l("Month")}
TARGET_LABELS = {
    "first_response": _l("First response in time (each ticket's SLA)"),
    "resolution": _l("Resolved in time (each ticket's SLA)"),
    "negative_rate": _l("Negative feedback rate"),
    "actions_completed": _l("Improvement actions completed"),
}
LEVEL_LABELS = {"first": _l("first-level"), "key": _l("key issue")}


def _selection() -> dashboard_selection.Selection:
    wanted = InsightFilter.from_args(request.args)
    return dashboard_selection.resolve(current_user, wanted, dashboard.home_today(), request.args.get("grain"))


@bp.get("/")
@role_required(Role.SUPERVISOR)
def index():
    selection = _selection()
    if dashboard.refresh_if_few(selection):
        db.session.commit()
    figures = dashboard.build(selection, dashboard.home_today())
    as_of, waiting = dashboard.figures_as_of(selection, utcnow())
    args = dashboard.filter_args(selection)
    visible = dashboard_selection.visible_branches(current_user)
    # The language is in each chart's address: a browser keeps a chart a minute, and the same address
    # would show the charts of the language just left.
    chart_args = {**args, "grain": selection.grain.value, "lang": current_locale()}

    def responses_url(**extra) -> str:
        return url_for("staff.responses", **dashboard.filter_args(selection, **extra))

    def period_responses_url(point) -> str:
        return url_for("staff.responses", **{**args, "date_from": point.start.isoformat(),
                                             "date_to": point.end.isoformat()})

    def branch_responses_url(branch_id: int, **extra) -> str:
        return url_for("staff.responses", **{**args, "branch_ids": [branch_id], **extra})

    def tickets_url(**extra) -> str:
        ticket_args = {k: v for k, v in args.items() if k != "include_flagged"}
        return url_for("tickets.queue", **{"view": "all", "status": "any", **ticket_args, **extra})

    return render_template(
        "insight/dashboard.html",
        d=figures,
        written_issues=open_answers.written_key_issues(selection, figures.headline.responses),
        written_url=lambda category: url_for(
            "words.answers", **open_answers.WordsSelection(selection).args(theme=category)),
        selection=selection,
        as_of=as_of,
        waiting=waiting,
        home_zone=current_app.config["LOOPDESK_HOME_TIMEZONE"],
        actions_url=url_for("actions.index") if "actions.index" in current_app.view_functions else None,
        branches=visible,
        regions=sorted({b.region for b in visible if b.region}),
        versions=dashboard.versions_in_scope(selection),
        grain_labels=GRAIN_LABELS,
        target_labels=TARGET_LABELS,
        level_labels=LEVEL_LABELS,
        category_labels=labels.CATEGORY_LABELS,
        chart_url=lambda name: url_for("insight.chart", name=name, **chart_args),
        chart_sizes=charts.sizes(len(figures.branches)),
        responses_url=responses_url,
        period_responses_url=period_responses_url,
        branch_responses_url=branch_responses_url,
        tickets_url=tickets_url,
    )


def _trend_chart(selection: dashboard_selection.Selection) -> bytes:
    return charts.trend_svg(dashboard_figures.trend(selection), selection.grain)


def _dimensions_chart(selection: dashboard_selection.Selection) -> bytes:
    _headline, rows = dashboard_figures.headline_and_dimensions(selection)
    return charts.dimensions_svg(rows)


def _branches_chart(selection: dashboard_selection.Selection) -> bytes:
    return charts.branches_svg(dashboard_figures.branch_league(selection))


def _categories_chart(selection: dashboard_selection.Selection) -> bytes:
    return charts.categories_svg(dashboard_tickets.ticket_sums(selection, utcnow()).categories)


CHARTS = {
    "trend": _trend_chart,
    "dimensions": _dimensions_chart,
    "branches": _branches_chart,
    "categories": _categories_chart,
}


@bp.get("/chart/<name>.svg")
@role_required(Role.SUPERVISOR)
@talisman(content_security_policy=CHART_POLICY)
def chart(name: str):
    draw = CHARTS.get(name)
    if draw is None:
        abort(404)
    response = Response(draw(_selection()), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, max-age=60"
    return response
