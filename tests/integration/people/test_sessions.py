"""Sessions and sign-in: a reset, a new password, a deactivation or "sign out everywhere" ends every
session and remember-me cookie of that user; remember-me lasts 30 days; an unknown username costs
as much as a wrong password; sign-in is limited per account as well as per address."""
from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select

from app.config import Config
from app.extensions import db
from app.models import AuditEntry, Role, User
from app.services.people import admin as people_admin
from tests.conftest import csrf_token, login

REMEMBER = "remember_token"


def _sign_in(app, username: str, password: str, remember: bool = True, address: str = "127.0.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": csrf_token(page),
                                           **({"remember": "y"} if remember else {})})
    return client, response


def _only_the_remember_cookie(app, client):
    """Another browser that kept only the remember-me cookie (its session cookie expired)."""
    cookie = client.get_cookie(REMEMBER)
    assert cookie is not None
    other = app.test_client()
    other.set_cookie(REMEMBER, cookie.value)
    return other


def _reaches(client, path: str) -> bool:
    response = client.get(path)
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
        return False
    assert response.status_code == 200, response.status_code
    return True


@pytest.fixture
def admin(app, demo):
    client, response = _sign_in(app, "admin", demo["passwords"]["admin"], remember=False)
    assert response.status_code == 302
    return client


def _user_id(username: str) -> int:
    return db.session.scalar(select(User.id).where(User.username == username))


def _post_as(client, path: str, **data):
    page = client.get("/home", follow_redirects=True).get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_token(page), **data})


def test_a_reset_ends_the_old_session_and_the_remember_cookie(app, demo, admin):
    """The issue's case: after a reset, neither the old session nor a remember cookie reaches /admin/."""
    with app.app_context():
        second = User(username="admin2", display_name="Second", role=Role.ADMIN, all_branches=True)
        second.set_password("second-admin-pw")
        db.session.add(second)
        db.session.commit()
        second_id = second.id
    old, response = _sign_in(app, "admin2", "second-admin-pw")
    assert response.status_code == 302
    remembered = _only_the_remember_cookie(app, old)
    assert _reaches(old, "/admin/") and _reaches(remembered, "/admin/")

    assert _post_as(admin, f"/admin/people/users/{second_id}/password-link", how="show").status_code == 200
    assert not _reaches(old, "/admin/")
    assert not _reaches(remembered, "/admin/")
    assert _reaches(admin, "/admin/")  # the admin who reset stays signed in


def test_choosing_a_new_password_ends_the_other_sessions(app, demo, admin):
    old, _ = _sign_in(app, "staff", demo["passwords"]["staff"])
    remembered = _only_the_remember_cookie(app, old)
    assert _reaches(old, "/staff/queue")
    with app.test_request_context():
        staff = db.session.get(User, _user_id("staff"))
        link = people_admin.password_link(staff).removeprefix("http://localhost")
    fresh = app.test_client()
    page = fresh.get(link).get_data(as_text=True)
    done = fresh.post(link, data={"password": "a-brand-new-pw", "confirm": "a-brand-new-pw", "csrf_token": csrf_token(page)})
    assert done.status_code == 303
    assert _reaches(fresh, "/staff/queue")  # the browser that chose it is signed in with the new version
    assert not _reaches(old, "/staff/queue") and not _reaches(remembered, "/staff/queue")
    _, again = _sign_in(app, "staff", demo["passwords"]["staff"])
    assert again.status_code == 422  # and the old password is gone


def test_deactivating_a_user_ends_their_sessions_and_reactivating_does_not_revive_them(app, demo, admin):
    old, _ = _sign_in(app, "staff", demo["passwords"]["staff"])
    remembered = _only_the_remember_cookie(app, old)
    with app.app_context():
        staff_id = _user_id("staff")
    assert _post_as(admin, f"/admin/people/users/{staff_id}/deactivate").status_code == 303
    assert not _reaches(old, "/staff/queue") and not _reaches(remembered, "/staff/queue")
    assert _post_as(admin, f"/admin/people/users/{staff_id}/activate").status_code == 303
    assert not _reaches(old, "/staff/queue") and not _reaches(remembered, "/staff/queue")
    signed_in, _ = _sign_in(app, "staff", demo["passwords"]["staff"])
    assert _reaches(signed_in, "/staff/queue")


def test_an_admin_signs_a_user_out_everywhere(app, demo, admin):
    tablet, _ = _sign_in(app, "staff", demo["passwords"]["staff"])
    phone, _ = _sign_in(app, "staff", demo["passwords"]["staff"], remember=False)
    remembered = _only_the_remember_cookie(app, tablet)
    other, _ = _sign_in(app, "supervisor", demo["passwords"]["supervisor"])
    with app.app_context():
        staff_id = _user_id("staff")
    page = admin.get(f"/admin/people/users/{staff_id}").get_data(as_text=True)
    assert f"/admin/people/users/{staff_id}/sign-out" in page and "Sign out everywhere" in page
    assert _post_as(admin, f"/admin/people/users/{staff_id}/sign-out").status_code == 303
    for client in (tablet, phone, remembered):
        assert not _reaches(client, "/staff/queue")
    assert _reaches(other, "/supervisor/board")  # only that user
    with app.app_context():
        assert db.session.scalar(select(AuditEntry.action).where(
            AuditEntry.entity_type == "user", AuditEntry.entity_id == staff_id).order_by(AuditEntry.id.desc())
        ) == "sign_out_everywhere"
    signed_in, _ = _sign_in(app, "staff", demo["passwords"]["staff"])
    assert _reaches(signed_in, "/staff/queue")


def test_only_an_admin_may_sign_someone_out_everywhere(app, demo):
    supervisor, _ = _sign_in(app, "supervisor", demo["passwords"]["supervisor"])
    staff, _ = _sign_in(app, "staff", demo["passwords"]["staff"])
    with app.app_context():
        staff_id = _user_id("staff")
    for client in (supervisor, staff):
        assert _post_as(client, f"/admin/people/users/{staff_id}/sign-out").status_code == 403
    anonymous = app.test_client()
    page = anonymous.get("/login").get_data(as_text=True)
    response = anonymous.post(f"/admin/people/users/{staff_id}/sign-out", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert _reaches(staff, "/staff/queue")


def test_a_session_from_before_the_version_was_bound_is_signed_out(app, demo):
    """A cookie holding only the user id (the old format) no longer signs anybody in."""
    client = app.test_client()
    with app.app_context():
        staff_id = _user_id("staff")
    with client.session_transaction() as session:
        session["_user_id"] = str(staff_id)
        session["_fresh"] = True
    assert not _reaches(client, "/staff/queue")


def test_remember_me_lasts_30_days_by_default_and_is_configurable(app, demo, monkeypatch):
    client, response = _sign_in(app, "staff", demo["passwords"]["staff"])
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith(REMEMBER + "="))
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))
    assert abs(expires - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=5)
    assert "HttpOnly" in cookie
    monkeypatch.setenv("LOOPDESK_REMEMBER_DAYS", "7")
    assert Config().REMEMBER_COOKIE_DURATION == timedelta(days=7)


def test_an_unknown_username_costs_a_password_hash_like_a_wrong_password(app, demo, monkeypatch):
    """Counted (one hash check each way), then timed: the quickest of several tries, so load spikes do not decide."""
    import werkzeug.security

    calls = []
    real = werkzeug.security.check_password_hash

    def counting(pwhash, password):
        calls.append(pwhash[:6])
        return real(pwhash, password)

    monkeypatch.setattr("app.services.people.admin.check_password_hash", counting)
    monkeypatch.setattr("app.models.people.check_password_hash", counting)
    with app.app_context():
        assert people_admin.authenticate("nobody-here", "whatever-pw") is None
        assert people_admin.authenticate("staff", "wrong-password") is None
        invited = User(username="invited", role=Role.STAFF)
        invited.password_hash = people_admin.UNUSABLE_PREFIX + "x"
        db.session.add(invited)
        db.session.commit()
        assert people_admin.authenticate("invited", "whatever-pw") is None
        assert people_admin.authenticate("staff", demo["passwords"]["staff"]) is not None
    assert len(calls) == 4 and calls[0][:6] == calls[1][:6]  # the same method (scrypt) for the unknown and the known

    def timed(username: str) -> float:
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        started = time.perf_counter()
        assert client.post("/login", data={"username": username, "password": "wrong-password",
                                           "csrf_token": csrf_token(page)}).status_code == 422
        return time.perf_counter() - started

    # Interleaved, so both see the same load; the quickest of each, so a load spike does not decide.
    tries = [(timed("nobody-here"), timed("staff")) for _ in range(6)]
    unknown, wrong = min(t[0] for t in tries), min(t[1] for t in tries)
    assert unknown > 0.5 * wrong, (unknown, wrong)


@pytest.mark.parametrize("app", [{"RATELIMIT_ENABLED": True, "LOOPDESK_LOGIN_ACCOUNT_LIMIT": "3/minute",
                                  "LOOPDESK_LOGIN_LIMIT": "100/minute"}], indirect=True)
def test_sign_in_is_limited_per_account_from_any_address(app, demo):
    statuses = [_sign_in(app, "staff", "wrong", address=f"10.0.0.{i}")[1].status_code for i in range(1, 6)]
    assert statuses == [422, 422, 422, 429, 429]  # guessing one account from many addresses is slowed
    assert _sign_in(app, "staff", demo["passwords"]["staff"], address="10.0.0.9")[1].status_code == 429
    # One person's typos do not lock out the branch behind the same address.
    _, colleague = _sign_in(app, "supervisor", demo["passwords"]["supervisor"], address="10.0.0.1")
    assert colleague.status_code == 302
    _, other = _sign_in(app, "STAFF.london", "wrong", address="10.0.0.1")
    assert other.status_code == 422
