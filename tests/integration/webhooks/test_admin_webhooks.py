"""The admin's webhook pages: only admins; add (the secret shown once), URL checks, edit, scope, disable, test,
send again, rotate, delete, each change in the audit log."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Branch, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.conftest import csrf_token, login
from tests.integration.webhooks.receiver import receiving, verify

PAGES = ["/admin/webhooks/", "/admin/webhooks/new"]


def as_admin(client, demo):
    login(client, "admin", demo["passwords"]["admin"])
    return csrf_token(client.get("/admin/webhooks/new").get_data(as_text=True))


def add(client, token, url="https://crm.example.com/loopdesk", **extra):
    data = {"csrf_token": token, "name": "CRM", "url": url, "all_branches": "y",
            "events": ["ticket.created", "ticket.resolved"]} | extra
    return client.post("/admin/webhooks/new", data=data)


def shown_secret(page: str) -> str | None:
    match = re.search(r'value="(whsec_[A-Za-z0-9+/=]+)"', page)
    return match.group(1) if match else None


@pytest.mark.parametrize("username", ["supervisor", "staff"])
def test_other_roles_are_refused_every_webhook_page_and_action(app, client, demo, username):
    with app.app_context():
        endpoint = WebhookEndpoint(name="x", url="https://crm.example.com/x", secret="whsec_c2VjcmV0")
        db.session.add(endpoint)
        db.session.commit()
        endpoint_id = endpoint.id
    login(client, username, demo["passwords"][username])
    for path in PAGES + [f"/admin/webhooks/{endpoint_id}"]:
        assert client.get(path).status_code == 403
    token = csrf_token(client.get("/staff/queue").get_data(as_text=True))
    for action in ("", "/test", "/rotate", "/disable", "/delete"):
        assert client.post(f"/admin/webhooks/{endpoint_id}{action}", data={"csrf_token": token}).status_code == 403
    assert add(client, token).status_code == 403
    with app.app_context():
        assert db.session.get(WebhookEndpoint, endpoint_id).secret == "whsec_c2VjcmV0"
        assert db.session.scalars(select(WebhookDelivery)).all() == []


def test_anonymous_visitors_are_sent_to_sign_in(client, demo):
    for path in PAGES + ["/admin/webhooks/1"]:
        reply = client.get(path)
        assert reply.status_code == 302 and "/login" in reply.headers["Location"]
    assert "/login" in client.post("/admin/webhooks/1/rotate").headers.get("Location", "/login")


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(app, client, demo):
    token = as_admin(client, demo)
    reply = add(client, token)
    page = reply.get_data(as_text=True)
    assert reply.status_code == 200
    secret = shown_secret(page)
    assert secret and "shown only this once" in page
    assert reply.headers["Cache-Control"] == "no-store"
    with app.app_context():
        endpoint = db.session.scalar(select(WebhookEndpoint))
        assert (endpoint.name, endpoint.url, endpoint.events, endpoint.all_branches) == (
            "CRM", "https://crm.example.com/loopdesk", ["ticket.created", "ticket.resolved"], True)
        assert endpoint.secret == secret
        [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "webhook_endpoint")).all()
        assert entry.action == "create" and secret not in str(entry.after)
    again = client.get(f"/admin/webhooks/{endpoint.id}").get_data(as_text=True)
    assert secret not in again and shown_secret(again) is None
    assert "CRM" in client.get("/admin/webhooks/").get_data(as_text=True)


@pytest.mark.parametrize("url", [
    "ftp://crm.example.com/x", "file:///etc/passwd", "javascript:alert(1)", "crm.example.com/x", "https://",
    "http://127.0.0.1/hook", "http://localhost:8080/hook", "http://10.0.0.5/hook", "http://169.254.169.254/latest",
    "http://[::1]/hook", "http://192.168.1.20/hook",
])
def test_a_url_that_is_not_public_http_is_refused_at_the_field(app, client, demo, url):
    token = as_admin(client, demo)
    reply = add(client, token, url=url)
    assert reply.status_code == 422
    assert 'class="field invalid"' in reply.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(WebhookEndpoint)).all() == []


def test_an_internal_host_the_installation_allows_is_accepted(app, client, demo):
    app.config["LOOPDESK_OUTGOING_ALLOWED_HOSTS"] = ["10.0.0.5"]
    token = as_admin(client, demo)
    assert add(client, token, url="http://10.0.0.5/hook").status_code == 200


def test_no_event_or_no_branch_is_refused(app, client, demo):
    token = as_admin(client, demo)
    assert add(client, token, events=[]).status_code == 422
    assert add(client, token, all_branches="").status_code == 422


def test_edit_scope_disable_enable_and_delete_are_audited(app, client, demo):
    token = as_admin(client, demo)
    add(client, token)
    with app.app_context():
        endpoint_id = db.session.scalar(select(WebhookEndpoint.id))
        hangzhou = db.session.scalar(select(Branch.id).where(Branch.code == "HZ-WESTLAKE"))
    reply = client.post(f"/admin/webhooks/{endpoint_id}", data={
        "csrf_token": token, "name": "CRM east", "url": "https://crm.example.com/east",
        "events": ["ticket.created"], "branch_ids": [str(hangzhou)],
    })
    assert reply.status_code == 303
    assert client.post(f"/admin/webhooks/{endpoint_id}/disable", data={"csrf_token": token}).status_code == 303
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        assert (endpoint.name, endpoint.events, endpoint.all_branches, [b.code for b in endpoint.branches],
                endpoint.active) == ("CRM east", ["ticket.created"], False, ["HZ-WESTLAKE"], False)
    assert "disabled" in client.get(f"/admin/webhooks/{endpoint_id}").get_data(as_text=True)
    assert client.post(f"/admin/webhooks/{endpoint_id}/enable", data={"csrf_token": token}).status_code == 303
    assert client.post(f"/admin/webhooks/{endpoint_id}/delete", data={"csrf_token": token}).status_code == 303
    with app.app_context():
        assert db.session.get(WebhookEndpoint, endpoint_id) is None
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "webhook_endpoint")
                                     .order_by(AuditEntry.id)).all()
        assert actions == ["create", "update", "deactivate", "activate", "delete"]
    assert client.get(f"/admin/webhooks/{endpoint_id}").status_code == 404


def test_a_post_without_the_csrf_token_is_refused(app, client, demo):
    as_admin(client, demo)
    assert add(client, "not-the-token").status_code in (400, 422)
    with app.app_context():
        assert db.session.scalars(select(WebhookEndpoint)).all() == []


def test_test_event_send_again_and_rotation_from_the_page(app, client, demo):
    app.config["LOOPDESK_OUTGOING_ALLOWED_HOSTS"] = ["127.0.0.1"]
    with receiving(500, 200) as receiver:
        token = as_admin(client, demo)
        secret = shown_secret(add(client, token, url=receiver.url).get_data(as_text=True))
        with app.app_context():
            endpoint_id = db.session.scalar(select(WebhookEndpoint.id))

        assert client.post(f"/admin/webhooks/{endpoint_id}/test", data={"csrf_token": token}).status_code == 303
        [(headers, body)] = receiver.requests  # sent after the request's commit (in process: no Redis here)
        first = verify(secret, headers, body)
        assert first["type"] == "webhook.test"
        page = client.get(f"/admin/webhooks/{endpoint_id}").get_data(as_text=True)
        assert first["id"] in page and "500" in page and "HTTP 500" in page

        with app.app_context():
            delivery_id = db.session.scalar(select(WebhookDelivery.id))
        reply = client.post(f"/admin/webhooks/{endpoint_id}/deliveries/{delivery_id}/again", data={"csrf_token": token})
        assert reply.status_code == 303
        assert verify(secret, *receiver.requests[1])["id"] == first["id"]  # the same event, once more
        with app.app_context():
            delivery = db.session.get(WebhookDelivery, delivery_id)
            assert delivery.delivered_at is not None
            assert [a.status_code for a in db.session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id))] == [
                500, 200]

        rotated = client.post(f"/admin/webhooks/{endpoint_id}/rotate", data={"csrf_token": token})
        new_secret = shown_secret(rotated.get_data(as_text=True))
        assert new_secret and new_secret != secret
        with app.app_context():
            assert db.session.get(WebhookEndpoint, endpoint_id).secret == new_secret
            assert db.session.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc())) == "rotate"
        assert client.post(f"/admin/webhooks/{endpoint_id}/deliveries/999999/again",
                           data={"csrf_token": token}).status_code == 404
