"""Who may use the API: a key in the Authorization header, never a session; revoked and rotated keys stop at once."""
from __future__ import annotations

import hashlib

import pytest

from app.extensions import db
from app.models import ApiKey, AuditEntry
from tests.conftest import csrf_token, login


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status and body["type"] == "about:blank" and body["title"] and body["detail"]
    return body


def test_a_request_without_a_key_is_401_with_a_bearer_challenge(client, make_key):
    response = client.get("/api/v1/branches")
    _problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", [
    "Bearer ld_00000000_" + "a" * 43,  # well-formed, unknown
    "Bearer not-a-key",
    "Basic YWRtaW46bG9vcGRlc2stYWRtaW4=",
    "Bearer ",
])
def test_a_bad_key_is_401(client, make_key, header):
    make_key()
    _problem(client.get("/api/v1/branches", headers={"Authorization": header}), 401)


def test_a_key_with_a_wrong_secret_is_401(client, make_key):
    _key_id, token = make_key()
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    _problem(client.get("/api/v1/branches", headers=bearer(wrong)), 401)


def test_a_valid_key_reads_and_its_last_use_is_recorded(app, client, make_key):
    key_id, token = make_key()
    response = client.get("/api/v1/branches", headers=bearer(token))
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert {b["code"] for b in response.get_json()["items"]} == {"SH-PEOPLE", "HZ-WESTLAKE", "LDN-SOHO"}
    assert "Set-Cookie" not in response.headers
    with app.app_context():
        assert db.session.get(ApiKey, key_id).last_used_at is not None


def test_a_revoked_key_is_401_at_once(app, client, make_key):
    from app.models import User
    from app.services.integrations import keys

    key_id, token = make_key()
    assert client.get("/api/v1/branches", headers=bearer(token)).status_code == 200
    with app.app_context():
        admin = db.session.scalar(db.select(User).where(User.username == "admin"))
        keys.revoke(admin, db.session.get(ApiKey, key_id))
        db.session.commit()
    _problem(client.get("/api/v1/branches", headers=bearer(token)), 401)


def test_a_rotated_key_answers_only_to_its_new_secret(app, client, make_key):
    from app.models import User
    from app.services.integrations import keys

    key_id, old = make_key()
    with app.app_context():
        admin = db.session.scalar(db.select(User).where(User.username == "admin"))
        new = keys.rotate(admin, db.session.get(ApiKey, key_id))
        db.session.commit()
    _problem(client.get("/api/v1/branches", headers=bearer(old)), 401)
    assert client.get("/api/v1/branches", headers=bearer(new)).status_code == 200


def test_a_signed_in_session_alone_does_not_open_the_api(client, demo):
    assert login(client, "admin", demo["passwords"]["admin"]).status_code in (302, 303)
    assert client.get("/staff/responses").status_code == 200  # the session works for the pages
    _problem(client.get("/api/v1/branches"), 401)
    _problem(client.get("/api/v1/responses"), 401)


def test_a_key_without_the_scope_is_403(client, make_key):
    _key_id, token = make_key(scopes=("tickets:read",))
    body = _problem(client.get("/api/v1/responses", headers=bearer(token)), 403)
    assert "responses:read" in body["detail"]
    assert client.get("/api/v1/branches", headers=bearer(token)).status_code == 200  # any key reads branches


def test_csrf_does_not_apply_and_a_wrong_method_is_a_405_problem(client, make_key):
    _key_id, token = make_key()
    response = client.post("/api/v1/branches", headers=bearer(token), json={})
    _problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_errors_of_input_are_problems_never_500(client, make_key):
    _key_id, token = make_key()
    body = _problem(client.get("/api/v1/responses?limit=0", headers=bearer(token)), 422)
    assert body["errors"] == [{"in": "query", "field": "limit", "detail": body["errors"][0]["detail"]}]
    _problem(client.get("/api/v1/responses?limit=abc&date_from=2026-13-45", headers=bearer(token)), 422)
    _problem(client.get("/api/v1/responses?updated_since=yesterday", headers=bearer(token)), 422)
    _problem(client.get("/api/v1/responses?updated_since=2026-01-01T00:00:00", headers=bearer(token)), 422)  # no offset
    _problem(client.get("/api/v1/responses?date_from=2026-02-01&date_to=2026-01-01", headers=bearer(token)), 422)
    _problem(client.get("/api/v1/responses?cursor=not-a-cursor", headers=bearer(token)), 400)
    _problem(client.get("/api/v1/responses?cursor=WzFd", headers=bearer(token)), 400)  # [1]: not this list's key
    _problem(client.get("/api/v1/responses/99999999999", headers=bearer(token)), 404)
    _problem(client.get("/api/v1/nothing-here", headers=bearer(token)), 404)


def test_each_key_has_its_rate_limit_with_ratelimit_headers(database_url, tmp_path, _schema_ready):
    from app.demo import seed_demo
    from app.models import User
    from app.services.integrations import keys
    from tests.conftest import make_app

    app = make_app(database_url, tmp_path, _schema_ready, RATELIMIT_ENABLED=True, LOOPDESK_API_RATE_LIMIT="3 per minute")
    with app.app_context():
        seed_demo(responses=0, worked_tickets=False)
        admin = db.session.scalar(db.select(User).where(User.username == "admin"))
        _one, first = keys.create(admin, "one", ["responses:read"], True, [])
        _two, second = keys.create(admin, "two", ["responses:read"], True, [])
        db.session.commit()
    client = app.test_client()
    answers = [client.get("/api/v1/branches", headers=bearer(first)) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["RateLimit-Limit"] == "3"
    assert [a.headers["RateLimit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
    assert 0 < int(answers[0].headers["RateLimit-Reset"]) <= 60
    _problem(answers[3], 429)
    assert 1 <= int(answers[3].headers["Retry-After"]) <= 60
    assert client.get("/api/v1/branches", headers=bearer(second)).status_code == 200  # per key
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# --- the admin page ----------------------------------------------------------------------------------------------


def test_the_keys_page_is_for_admins_only(client, demo):
    assert client.get("/admin/api-keys/").status_code in (302, 401)
    login(client, "supervisor", demo["passwords"]["supervisor"])
    assert client.get("/admin/api-keys/").status_code == 403
    assert client.post("/admin/api-keys/", data={"name": "x"}).status_code in (400, 403)


def test_an_admin_creates_a_key_whose_secret_is_shown_once_and_stored_hashed(app, client, demo):
    login(client, "admin", demo["passwords"]["admin"])
    page = client.get("/admin/api-keys/").get_data(as_text=True)
    with app.app_context():
        shanghai = db.session.scalar(db.select(db.text("id FROM branches WHERE code = 'SH-PEOPLE'")))
    created = client.post("/admin/api-keys/", data={
        "csrf_token": csrf_token(page), "name": "Call centre", "scopes": ["responses:read", "tickets:read"],
        "branch_ids": [shanghai],
    })
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    html = created.get_data(as_text=True)
    import re

    token = re.search(r'<code class="secret">(ld_[0-9a-f]{8}_[A-Za-z0-9_-]{43})</code>', html).group(1)
    with app.app_context():
        key = db.session.scalar(db.select(ApiKey).where(ApiKey.name == "Call centre"))
        assert key.secret_hash == hashlib.sha256(token.encode()).hexdigest() and token not in key.secret_hash
        assert key.scopes == ["responses:read", "tickets:read"] and not key.all_branches
        assert [b.code for b in key.branches] == ["SH-PEOPLE"]
        entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.entity_type == "api_key"))
        assert entry.action == "create" and entry.user.username == "admin" and token not in str(entry.after)
    later = client.get("/admin/api-keys/").get_data(as_text=True)
    assert token not in later and token[:11] in later  # the prefix identifies it; the secret is gone
    assert client.get("/api/v1/branches", headers=bearer(token)).get_json()["items"][0]["code"] == "SH-PEOPLE"


def test_the_page_rotates_and_revokes(app, client, demo, make_key):
    import re

    key_id, old = make_key(name="App")
    login(client, "admin", demo["passwords"]["admin"])
    page = client.get("/admin/api-keys/").get_data(as_text=True)
    rotated = client.post(f"/admin/api-keys/{key_id}/rotate", data={"csrf_token": csrf_token(page)})
    assert rotated.status_code == 200 and rotated.headers["Cache-Control"] == "no-store"
    new = re.search(r'<code class="secret">([^<]+)</code>', rotated.get_data(as_text=True)).group(1)
    assert new != old
    assert client.get("/api/v1/branches", headers=bearer(old)).status_code == 401
    assert client.get("/api/v1/branches", headers=bearer(new)).status_code == 200
    revoked = client.post(f"/admin/api-keys/{key_id}/revoke", data={"csrf_token": csrf_token(page)})
    assert revoked.status_code == 303
    assert client.get("/api/v1/branches", headers=bearer(new)).status_code == 401
    with app.app_context():
        actions = list(db.session.scalars(
            db.select(AuditEntry.action).where(AuditEntry.entity_type == "api_key", AuditEntry.entity_id == key_id)
            .order_by(AuditEntry.id)
        ))
        assert actions == ["create", "rotate", "revoke"]


def test_a_change_made_with_a_key_is_in_the_audit_log_as_the_key(app, client, demo, make_key):
    """api-write's writes call audit.record with the key as the actor; the log and its page name the key."""
    from app.models import Response
    from app.services import audit

    key_id, _token = make_key(name="Kiosk vendor")
    with app.app_context():
        key = db.session.get(ApiKey, key_id)
        response = db.session.scalar(db.select(Response).limit(1))
        entry = audit.record(key, "update", response, before={"language": "en"}, after={"language": "zh_Hans"})
        db.session.commit()
        assert entry.api_key_id == key_id and entry.user_id is None
    login(client, "admin", demo["passwords"]["admin"])
    page = client.get(f"/admin/audit/?api_key_id={key_id}").get_data(as_text=True)
    assert "API key Kiosk vendor" in page
