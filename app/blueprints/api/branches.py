"""/api/v1/branches: the branches in the key's branch scope."""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from sqlalchemy import select

from app.blueprints.api import auth, pagination, problems
from app.extensions import db
from app.models import Branch
from app.permissions import branch_scope

bp = Blueprint("api_branches", __name__, url_prefix="/api/v1/branches", description="Branches (read)")


class BranchSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    region = ma.fields.String(required=True)
    timezone = ma.fields.String(required=True, metadata={"description": "IANA zone of its business hours"})
    default_language = ma.fields.String(required=True, allow_none=True)
    active = ma.fields.Boolean(required=True)
    created_at = ma.fields.AwareDateTime(required=True)


def _in_scope():
    query = select(Branch)
    branch_ids = branch_scope(auth.current_key())
    return query if branch_ids is None else query.where(Branch.id.in_(branch_ids))


@bp.route("")
@auth.requires(None)
@bp.arguments(pagination.ListArgs, location="query")
@bp.response(200, pagination.page_schema(BranchSchema))
@problems.documented(400)
def list_branches(args):
    """The branches this key may read, by id."""
    return pagination.page(_in_scope(), (Branch.id,), args)


@bp.route("/<int:branch_id>")
@auth.requires(None)
@bp.response(200, BranchSchema)
@problems.documented(404)
def get_branch(branch_id: int):
    """One branch (404 outside the key's branch scope)."""
    branch = db.session.scalar(_in_scope().where(Branch.id == branch_id))
    if branch is None:
        problems.abort(404, "No branch with this id in this key's scope.")
    return branch
