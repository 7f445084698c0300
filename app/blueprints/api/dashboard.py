"""/api/v1/dashboard: the dashboard's figures for a filter, from the very service the /insight/ page uses
(app.services.dashboard.build on a selection resolved for the key), so the numbers are the page's.

Scope responses:read. Ticket figures (departments, categories, SLA targets) cover the key's branches (a key has
no departments). Texts (dimension names, key issues' labels) come in every language, as stored.
"""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint

from app.blueprints.api import auth, problems
from app.core.ids import MAX_ID
from app.core.insight import Grain
from app.extensions import db
from app.models import Channel
from app.services import dashboard
from app.services.dashboard import selection as dashboard_selection
from app.services.insight.filters import MAX_BRANCH_IDS, MIN_DATE, MAX_DATE, REGION_MAX_LENGTH, InsightFilter

bp = Blueprint("api_dashboard", __name__, url_prefix="/api/v1/dashboard", description="Dashboard figures (read)")

_DATE = ma.validate.Range(min=MIN_DATE, max=MAX_DATE)


class DashboardArgs(ma.Schema):
    date_from = ma.fields.Date(validate=_DATE, metadata={"description": "first day (branch-local days); default: 30 days to date_to"})
    date_to = ma.fields.Date(validate=_DATE, metadata={"description": "last day; default today (head office)"})
    branch_ids = ma.fields.List(ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID)),
                                validate=ma.validate.Length(max=MAX_BRANCH_IDS),
                                metadata={"description": "repeat the argument: branch_ids=1&branch_ids=2"})
    region = ma.fields.String(validate=ma.validate.Length(min=1, max=REGION_MAX_LENGTH))
    version_id = ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID))
    channel = ma.fields.String(validate=ma.validate.OneOf([c.value for c in Channel]))
    include_flagged = ma.fields.Boolean(load_default=False)
    grain = ma.fields.String(validate=ma.validate.OneOf([g.value for g in Grain]))

    @ma.validates_schema
    def _dates_in_order(self, data, **_kwargs):
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ma.ValidationError("date_from is after date_to.", "date_from")


def _texts() -> ma.fields.Dict:
    return ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True)


def _number(**kwargs) -> ma.fields.Float:
    return ma.fields.Float(required=True, allow_none=True, **kwargs)


class FiguresSchema(ma.Schema):
    responses = ma.fields.Integer(required=True)
    negative = ma.fields.Integer(required=True, metadata={"description": "responses that opened a ticket"})
    negative_rate = _number(metadata={"description": "percent"})
    csat = _number(attribute="scores.csat", metadata={"description": "percent satisfied (4–5)"})
    csat_ratings = ma.fields.Integer(attribute="scores.csat_ratings", required=True)
    nps = _number(attribute="scores.nps")
    nps_answers = ma.fields.Integer(attribute="scores.nps_answers", required=True)
    index = _number(attribute="scores.index", metadata={"description": "weighted index, 1–5"})
    index_percent = _number(attribute="scores.index_percent", metadata={"description": "weighted index, 0–100"})


class BranchFiguresSchema(FiguresSchema):
    branch_id = ma.fields.Integer(attribute="branch.id", required=True)
    branch_code = ma.fields.String(attribute="branch.code", required=True)


class ChannelFiguresSchema(FiguresSchema):
    channel = ma.fields.String(required=True)


class DimensionFiguresSchema(ma.Schema):
    key = ma.fields.String(required=True)
    name = _texts()
    weight = ma.fields.Float(required=True)
    mean = _number()
    ratings = ma.fields.Integer(required=True)
    weak = ma.fields.Boolean(required=True)


class TrendPointSchema(ma.Schema):
    start = ma.fields.Date(required=True)
    end = ma.fields.Date(required=True)
    responses = ma.fields.Integer(required=True)
    csat = _number(attribute="scores.csat")
    nps = _number(attribute="scores.nps")
    index = _number(attribute="scores.index")


class KeyIssueSchema(ma.Schema):
    question_key = ma.fields.String(required=True)
    option = ma.fields.String(required=True)
    prompt = _texts()
    label = _texts()
    customers = ma.fields.Integer(required=True)
    share = ma.fields.Float(required=True)
    level = ma.fields.String(required=True)


class TallySchema(ma.Schema):
    met = ma.fields.Integer(required=True)
    missed = ma.fields.Integer(required=True)
    running = ma.fields.Integer(required=True)


class DepartmentFiguresSchema(ma.Schema):
    id = ma.fields.Integer(required=True, allow_none=True)
    name = ma.fields.String(required=True)
    tickets = ma.fields.Integer(required=True)
    open = ma.fields.Integer(required=True)
    breached = ma.fields.Integer(required=True)
    resolved = ma.fields.Integer(required=True)
    first_response = ma.fields.Nested(TallySchema, required=True)


class CategoryFiguresSchema(ma.Schema):
    category = ma.fields.String(required=True, allow_none=True)
    tickets = ma.fields.Integer(required=True)
    share = ma.fields.Float(required=True)


class TargetSchema(ma.Schema):
    key = ma.fields.String(required=True)
    value = _number()
    target = ma.fields.Float(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "min: reach it; max: stay below it"})
    count = ma.fields.Integer(required=True)
    of = ma.fields.Integer(required=True)
    met = ma.fields.Boolean(required=True, allow_none=True)


class DashboardSchema(ma.Schema):
    date_from = ma.fields.Date(attribute="selection.first", required=True)
    date_to = ma.fields.Date(attribute="selection.last", required=True)
    grain = ma.fields.String(attribute="selection.grain", required=True)
    branch_ids = ma.fields.List(ma.fields.Integer(), attribute="selection.branch_ids", required=True)
    headline = ma.fields.Nested(FiguresSchema, required=True)
    dimensions = ma.fields.List(ma.fields.Nested(DimensionFiguresSchema), required=True)
    trend = ma.fields.List(ma.fields.Nested(TrendPointSchema), required=True)
    branches = ma.fields.List(ma.fields.Nested(BranchFiguresSchema), required=True)
    channels = ma.fields.List(ma.fields.Nested(ChannelFiguresSchema), required=True)
    key_issues = ma.fields.List(ma.fields.Nested(KeyIssueSchema), required=True)
    departments = ma.fields.List(ma.fields.Nested(DepartmentFiguresSchema), required=True)
    categories = ma.fields.List(ma.fields.Nested(CategoryFiguresSchema), required=True)
    targets = ma.fields.List(ma.fields.Nested(TargetSchema), required=True)


def figures_for(key, args: dict) -> dashboard.Dashboard:
    wanted = InsightFilter(
        date_from=args.get("date_from"), date_to=args.get("date_to"), branch_ids=tuple(args.get("branch_ids") or ()),
        region=args.get("region"), version_id=args.get("version_id"), include_flagged=args["include_flagged"],
        channel=Channel(args["channel"]) if args.get("channel") else None,
    )
    selection = dashboard_selection.resolve(key, wanted, dashboard.home_today(), args.get("grain"))
    if dashboard.refresh_if_few(selection):  # as the page does: its few dirty days rebuilt first
        db.session.commit()
    return dashboard.build(selection, dashboard.home_today())


@bp.route("")
@auth.requires("responses:read")
@bp.arguments(DashboardArgs, location="query")
@bp.response(200, DashboardSchema)
def get_dashboard(args):
    """The /insight/ dashboard's figures for a filter, inside the key's branch scope (the last 30 days by default)."""
    return figures_for(auth.current_key(), args)
