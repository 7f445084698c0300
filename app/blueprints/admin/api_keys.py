"""API keys for integrations: list, create, rotate, revoke. A new or rotated secret is shown once, on the answer
to the POST that made it (never in a redirect, a flash or a log), with Cache-Control: no-store."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.forms.admin_integrations import SCOPE_LABELS, ApiKeyForm
from app.models import ApiKey, Branch
from app.services.integrations import keys
from app.services.integrations.keys import ApiKeyError

bp = Blueprint("api_keys", __name__, url_prefix="/api-keys")

_SECRET_HEADERS = {"Cache-Control": "no-store"}


def _form() -> ApiKeyForm:
    form = ApiKeyForm()
    form.fill_choices(list(db.session.scalars(db.select(Branch).order_by(Branch.name))))
    return form


def _index(form: ApiKeyForm, status: int = 200, shown: tuple[ApiKey, str] | None = None):
    return render_template(
        "admin/api_keys/index.html", form=form, keys=keys.keys(), scope_labels=SCOPE_LABELS, shown=shown,
    ), status, (_SECRET_HEADERS if shown else {})


def _key_or_404(key_id: int) -> ApiKey:
    key = db.session.get(ApiKey, key_id)
    if key is None:
        abort(404)
    return key


@bp.get("/")
def index():
    return _index(_form())


@bp.post("/")
def create():
    form = _form()
    if form.validate_on_submit():
        try:
            key, token = keys.create(current_user, form.name.data or "", form.scopes.data or [],
                                     bool(form.all_branches.data), form.branch_ids.data or [])
        except ApiKeyError as error:
            for name, message in error.errors.items():
                field = getattr(form, name, None)
                field.errors = [*field.errors, message] if field is not None else [message]
        else:
            db.session.commit()
            return _index(_form(), 201, shown=(key, token))
    return _index(form, 422)


@bp.post("/<id:key_id>/rotate")
def rotate(key_id: int):
    key = _key_or_404(key_id)
    try:
        token = keys.rotate(current_user, key)
    except ApiKeyError as error:
        for message in error.errors.values():
            flash(message, "error")
        return redirect(url_for(".index"), 303)
    db.session.commit()
    return _index(_form(), 200, shown=(key, token))


@bp.post("/<id:key_id>/revoke")
def revoke(key_id: int):
    key = _key_or_404(key_id)
    keys.revoke(current_user, key)
    db.session.commit()
    flash(_("Key %(name)s is revoked: it stops working at once.", name=key.name))
    return redirect(url_for(".index"), 303)
