"""Webhook endpoints under /admin/webhooks/: add, edit, disable, delete, test, rotate the secret, the delivery log.

A secret is shown once, on the page that answers the POST that made it (never in a redirect's
flash or a later page). Deliveries a POST writes (a test event, "send again") go to the jobs after
its commit (``app.jobs.notifications``' after-request hand-over).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.forms.admin_webhooks import EVENT_LABELS, EndpointForm
from app.models import Branch, WebhookEndpoint
from app.services.webhooks import endpoints as webhook_endpoints, signing
from app.services.webhooks.endpoints import EndpointError

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


def _branches() -> list[Branch]:
    return list(db.session.scalars(db.select(Branch).order_by(Branch.name)))


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    return db.get_or_404(WebhookEndpoint, endpoint_id)


@bp.get("/")
def index():
    return render_template(
        "admin/webhooks/index.html",
        endpoints=webhook_endpoints.endpoint_list(),
        failing=webhook_endpoints.failing_counts(),
    )


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = EndpointForm() if request.method == "POST" else EndpointForm.blank()
    form.fill_choices(_branches())
    if form.validate_on_submit():
        try:
            endpoint, secret = webhook_endpoints.create(current_user, form.fields())
        except EndpointError as error:
            db.session.rollback()
            form.show(error)
        else:
            db.session.commit()
            flash(_("The endpoint %(name)s is added.", name=endpoint.name))
            return _endpoint_page(endpoint, EndpointForm.of(endpoint), secret=secret)
    return render_template("admin/webhooks/endpoint.html", form=form, endpoint=None,
                           event_labels=EVENT_LABELS), 422 if form.errors else 200


def _endpoint_page(endpoint: WebhookEndpoint, form: EndpointForm, status: int = 200, secret: str | None = None):
    form.fill_choices(_branches())
    return render_template(
        "admin/webhooks/endpoint.html",
        form=form,
        endpoint=endpoint,
        secret=secret,
        deliveries=webhook_endpoints.deliveries(endpoint),
        event_labels=EVENT_LABELS,
        previous_hours=signing.PREVIOUS_SECRET_HOURS,
    ), status, ({"Cache-Control": "no-store"} if secret else {})  # a secret stays out of caches and history


@bp.route("/<id:endpoint_id>", methods=["GET", "POST"])
def edit(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    if request.method == "GET":
        return _endpoint_page(endpoint, EndpointForm.of(endpoint))
    form = EndpointForm()
    form.fill_choices(_branches())
    if form.validate_on_submit():
        try:
            changed = webhook_endpoints.update(current_user, endpoint, form.fields())
        except EndpointError as error:
            db.session.rollback()
            form.show(error)
        else:
            db.session.commit()
            flash(_("Saved.") if changed else _("Nothing changed."))
            return redirect(url_for(".edit", endpoint_id=endpoint.id), 303)
    return _endpoint_page(_endpoint(endpoint_id), form, 422)


@bp.post("/<id:endpoint_id>/enable")
def enable(endpoint_id: int):
    return _set_active(endpoint_id, True)


@bp.post("/<id:endpoint_id>/disable")
def disable(endpoint_id: int):
    return _set_active(endpoint_id, False)


def _set_active(endpoint_id: int, active: bool):
    endpoint = _endpoint(endpoint_id)
    webhook_endpoints.set_active(current_user, endpoint, active)
    db.session.commit()
    flash(_("The endpoint is enabled: it receives its events again.") if active
          else _("The endpoint is disabled: it receives no events, and its waiting retries stop."))
    return redirect(url_for(".edit", endpoint_id=endpoint.id), 303)


@bp.post("/<id:endpoint_id>/test")
def send_test(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    webhook_endpoints.send_test(endpoint, _("A test event from Loopdesk, sent by %(name)s.",
                                            name=current_user.display_name or current_user.username))
    db.session.commit()
    flash(_("A test event is on its way; its attempt shows in the delivery log below."))
    return redirect(url_for(".edit", endpoint_id=endpoint.id, _anchor="deliveries"), 303)


@bp.post("/<id:endpoint_id>/rotate")
def rotate(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    secret = webhook_endpoints.rotate_secret(current_user, endpoint)
    db.session.commit()
    return _endpoint_page(endpoint, EndpointForm.of(endpoint), secret=secret)


@bp.post("/<id:endpoint_id>/delete")
def delete(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    name = endpoint.name
    webhook_endpoints.remove(current_user, endpoint)
    db.session.commit()
    flash(_("The endpoint %(name)s and its delivery log are deleted.", name=name))
    return redirect(url_for(".index"), 303)


@bp.post("/<id:endpoint_id>/deliveries/<id:delivery_id>/again")
def send_again(endpoint_id: int, delivery_id: int):
    endpoint = _endpoint(endpoint_id)
    delivery = webhook_endpoints.delivery_of(endpoint, delivery_id)
    if delivery is None:
        abort(404)
    webhook_endpoints.send_again(delivery)
    db.session.commit()
    flash(_("Sent again, with the same event id; the new attempt shows in the log."))
    return redirect(url_for(".edit", endpoint_id=endpoint.id, _anchor=f"delivery-{delivery.id}"), 303)
