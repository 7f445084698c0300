"""Administration under /admin/: one parent blueprint that refuses everyone but admins, one child per area.

The check lives here once, in ``before_request``: Flask runs a parent's request hooks for every
child blueprint, so no admin route can forget it.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from flask_login import current_user

from app import labels
from app.blueprints.admin import api_keys, audit_log, branches, people, questionnaires, routing, sla, webhooks
from app.extensions import login_manager
from app.models import Role

bp = Blueprint("admin", __name__, url_prefix="/admin")
for area in (questionnaires, branches, people, routing, sla, api_keys, webhooks, audit_log):
    bp.register_blueprint(area.bp)


@bp.before_request
def admins_only():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role != Role.ADMIN:
        abort(403)
    return None


@bp.context_processor
def admin_labels() -> dict:
    return {
        "audit_entity_labels": labels.AUDIT_ENTITY_LABELS,
        "audit_action_labels": labels.AUDIT_ACTION_LABELS,
        "home_zone": current_app.config["LOOPDESK_HOME_TIMEZONE"],
    }


@bp.get("/")
def home():
    return render_template("admin/home.html")

