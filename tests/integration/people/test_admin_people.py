"""Departments and users under /admin/people/: invite, set a password by link, scope, deactivate, reset."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Branch, Department, OutboxEmail, Role, RoutingRule, Ticket, User
from app.services import routing as routing_rules, tickets
from app.services.people import admin as people_admin
from app.services.routing import stored
from app.services.tickets import opening
from tests.conftest import csrf_token, login

LINK_RE = re.compile(r"http://localhost(/password/[\w.\-]+)")


def admin_client(client, demo):
    login(client, "admin", demo["passwords"]["admin"])
    return client


def token(client) -> str:
    return csrf_token(client.get("/me/notifications").get_data(as_text=True))


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def ids(model, *codes: str) -> list[int]:
    return list(db.session.scalars(select(model.id).where(model.code.in_(codes))))


def audit_actions(entity_type: str, entity_id: int) -> list[str]:
    return list(db.session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == entity_id)
        .order_by(AuditEntry.id)
    ))


def invite(client, app, **fields):
    with app.app_context():
        data = {
            "username": "wei", "display_name": "张伟 Wei", "email": "wei@example.com", "role": "staff",
            "locale": "zh_Hans", "branch_ids": ids(Branch, "SH-PEOPLE"), "department_ids": ids(Department, "service"),
        }
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    return client.post("/admin/people/users/new", data={**data, "csrf_token": token(client)})


def last_email(app) -> OutboxEmail:
    with app.app_context():
        email = db.session.scalar(select(OutboxEmail).order_by(OutboxEmail.id.desc()))
        db.session.expunge(email)
        return email


def link_in(text: str) -> str:
    match = LINK_RE.search(text)
    assert match, text
    return match.group(1)


def set_password(client, path: str, password: str, confirm: str | None = None):
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return client.post(path, data={
        "password": password, "confirm": password if confirm is None else confirm,
        "csrf_token": csrf_token(page.get_data(as_text=True)),
    })


def sign_out(client):
    client.post("/logout", data={"csrf_token": token(client)})


# --- Inviting and the set-password link ----------------------------------------------------------


def test_the_invitation_is_written_in_the_invited_persons_language(app, client, demo):
    admin_client(client, demo)
    assert invite(client, app, locale="zh_Hans").status_code == 303
    email = last_email(app)
    assert "邀" in email.subject and "您的用户名：wei" in email.body


def test_an_invited_user_gets_an_email_link_chooses_a_password_and_signs_in(app, client, demo):
    admin_client(client, demo)
    response = invite(client, app, locale="en")  # the e-mail is in the invited person's language
    assert response.status_code == 303
    email = last_email(app)
    assert email.to == "wei@example.com"
    assert "invited" in email.subject.lower() and "Your username: wei" in email.body
    path = link_in(email.body)
    with app.app_context():
        wei = user("wei")
        assert wei.role == Role.STAFF and [b.code for b in wei.branches] == ["SH-PEOPLE"]
        assert people_admin.password_pending(wei) and not wei.check_password("")
        assert audit_actions("user", wei.id) == ["invite"]
    sign_out(client)
    done = set_password(client, path, "tea and biscuits")
    assert done.status_code == 303 and done.headers["Location"].endswith("/home")
    assert client.get("/staff/queue").status_code == 200  # signed in as wei
    sign_out(client)
    assert login(client, "Wei", "tea and biscuits").status_code == 302


def test_a_password_link_works_once(app, client, demo):
    admin_client(client, demo)
    invite(client, app)
    path = link_in(last_email(app).body)
    sign_out(client)
    set_password(client, path, "tea and biscuits")
    sign_out(client)
    again = client.get(path)
    assert again.status_code == 410
    assert "used already" in again.get_data(as_text=True)


def test_a_password_link_expires_after_seven_days(app, client, demo, monkeypatch):
    admin_client(client, demo)
    invite(client, app)
    sign_out(client)
    eight_days_ago = int(time.time()) - 8 * 24 * 3600
    with app.test_request_context():
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: eight_days_ago)
        old_link = people_admin.password_link(user("wei"))
        monkeypatch.undo()
    assert client.get(link_in(last_email(app).body)).status_code == 200  # the one sent today still works
    page = client.get(link_in(old_link))
    assert page.status_code == 410
    assert "expired" in page.get_data(as_text=True)


def test_a_forged_or_garbled_link_does_not_work(client, demo):
    assert client.get("/password/not-a-token").status_code == 410
    assert client.get("/password/MQ.abc.def").status_code == 410


def test_a_short_or_mistyped_password_is_refused_at_the_field(app, client, demo):
    admin_client(client, demo)
    invite(client, app)
    path = link_in(last_email(app).body)
    sign_out(client)
    short = set_password(client, path, "short")
    assert short.status_code == 422
    assert re.search(r'name="password".*?<p class="error" role="alert">Use at least 10 characters', short.get_data(as_text=True), re.S)
    differ = set_password(client, path, "tea and biscuits", confirm="tea and biscuit")
    assert differ.status_code == 422 and "The two passwords differ." in differ.get_data(as_text=True)
    same_as_name = set_password(client, path, "wei")
    assert same_as_name.status_code == 422
    assert client.get(path).status_code == 200  # nothing was set: the link still works


def test_an_invitation_without_email_is_handed_over_as_a_link_shown_once(app, client, demo):
    admin_client(client, demo)
    response = invite(client, app, email="")
    assert response.status_code == 303
    user_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "No e-mail address" in user_page
    with app.app_context():
        wei_id = user("wei").id
    shown = client.post(f"/admin/people/users/{wei_id}/password-link", data={"how": "show", "csrf_token": token(client)})
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == "no-store"
    path = link_in(shown.get_data(as_text=True))
    with app.app_context():
        assert audit_actions("user", wei_id) == ["invite", "invite"]
    sign_out(client)
    assert set_password(client, path, "tea and biscuits").status_code == 303


def test_invite_refuses_a_taken_username_and_staff_without_scope_at_the_fields(app, client, demo):
    admin_client(client, demo)
    taken = invite(client, app, username="STAFF")
    assert taken.status_code == 422
    assert "Somebody has this username already" in taken.get_data(as_text=True)
    unscoped = invite(client, app, branch_ids=[], department_ids=[])
    page = unscoped.get_data(as_text=True)
    assert unscoped.status_code == 422
    assert "Choose the branches this person works for" in page
    assert "Choose at least one department" in page
    assert 'value="wei"' in page  # what was typed is kept
    with app.app_context():
        assert user("wei") is None


def test_an_admin_needs_no_scope(app, client, demo):
    admin_client(client, demo)
    assert invite(client, app, role="admin", branch_ids=[], department_ids=[]).status_code == 303


# --- Resetting a password ------------------------------------------------------------------------


def test_admin_reset_locks_the_old_password_out_and_emails_a_link(app, client, demo):
    with app.app_context():
        staff = user("staff")
        staff.email = "li@example.com"
        db.session.commit()
        staff_id = staff.id
    admin_client(client, demo)
    response = client.post(f"/admin/people/users/{staff_id}/password-link", data={"how": "email", "csrf_token": token(client)})
    assert response.status_code == 303
    email = last_email(app)
    assert email.to == "li@example.com" and "reset" in email.body
    with app.app_context():
        assert audit_actions("user", staff_id) == ["reset_password"]
    sign_out(client)
    assert login(client, "staff", demo["passwords"]["staff"]).status_code == 422
    assert set_password(client, link_in(email.body), "a brand new password").status_code == 303
    sign_out(client)
    assert login(client, "staff", "a brand new password").status_code == 302


def test_a_newer_link_replaces_the_older_one(app, client, demo):
    admin_client(client, demo)
    invite(client, app)
    first = link_in(last_email(app).body)
    with app.app_context():
        wei_id = user("wei").id
    client.post(f"/admin/people/users/{wei_id}/password-link", data={"how": "email", "csrf_token": token(client)})
    second = link_in(last_email(app).body)
    sign_out(client)
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200


def test_emailing_a_link_to_a_user_without_address_is_refused(app, client, demo):
    admin_client(client, demo)
    with app.app_context():
        staff_id = user("staff").id
    response = client.post(f"/admin/people/users/{staff_id}/password-link", data={"how": "email", "csrf_token": token(client)},
                           follow_redirects=True)
    assert "has no e-mail address" in response.get_data(as_text=True)
    assert login(client.application.test_client(), "staff", demo["passwords"]["staff"]).status_code == 302


# --- Role, scope, deactivation -------------------------------------------------------------------


def test_editing_scope_changes_what_staff_see_in_their_queue(app, client, demo):
    with app.app_context():
        operations_ticket = opening.create_ticket(
            user("admin"), branch_id=ids(Branch, "SH-PEOPLE")[0], department_id=ids(Department, "operations")[0],
            category="environment", priority="normal", subject="Dirty washroom", source="phone",
        )
        db.session.commit()
        reference = operations_ticket.reference_code
        staff_id = user("staff").id
    staff_client = client.application.test_client()
    login(staff_client, "staff", demo["passwords"]["staff"])
    assert reference not in staff_client.get("/staff/queue?view=all").get_data(as_text=True)

    admin_client(client, demo)
    with app.app_context():
        data = {
            "username": "staff", "display_name": "李客服 Li (service)", "email": "", "role": "staff", "locale": "",
            "branch_ids": ids(Branch, "SH-PEOPLE"), "department_ids": ids(Department, "service", "operations"),
        }
    assert client.post(f"/admin/people/users/{staff_id}", data={**data, "csrf_token": token(client)}).status_code == 303
    assert reference in staff_client.get("/staff/queue?view=all").get_data(as_text=True)
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity_id == staff_id, AuditEntry.action == "update"))
        assert entry.before == {"departments": ["service"]}
        assert entry.after == {"departments": ["operations", "service"]}


def test_a_deactivated_user_cannot_sign_in_and_keeps_their_name_on_ticket_events(app, client, demo):
    with app.app_context():
        ticket = opening.create_ticket(
            user("admin"), branch_id=ids(Branch, "SH-PEOPLE")[0], department_id=ids(Department, "service")[0],
            category="service", priority="normal", subject="Rude on the phone", source="phone",
        )
        tickets.add_note(ticket, user("staff"), "Called the shop", tickets.page_version(ticket))
        db.session.commit()
        ticket_id, staff_id = ticket.id, user("staff").id
    staff_client = client.application.test_client()
    login(staff_client, "staff", demo["passwords"]["staff"])
    admin_client(client, demo)
    response = client.post(f"/admin/people/users/{staff_id}/deactivate", data={"csrf_token": token(client)})
    assert response.status_code == 303

    assert staff_client.get("/staff/queue").status_code == 302  # their open session ends too
    assert login(client.application.test_client(), "staff", demo["passwords"]["staff"]).status_code == 422
    assert "李客服 Li (service)" in client.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)
    with app.app_context():
        assert user("staff") is not None and not user("staff").active
        assert audit_actions("user", staff_id) == ["deactivate"]
    listed = client.get("/admin/people/?status=inactive").get_data(as_text=True)
    assert "李客服 Li (service)" in listed and "deactivated" in listed

    client.post(f"/admin/people/users/{staff_id}/activate", data={"csrf_token": token(client)})
    assert login(client.application.test_client(), "staff", demo["passwords"]["staff"]).status_code == 302


def test_an_admin_cannot_deactivate_or_demote_themselves(app, client, demo):
    admin_client(client, demo)
    with app.app_context():
        admin_id = user("admin").id
        data = {"username": "admin", "display_name": "Admin", "email": "", "role": "staff", "locale": "",
                "all_branches": "y", "department_ids": ids(Department, "service")}
    refused = client.post(f"/admin/people/users/{admin_id}/deactivate", data={"csrf_token": token(client)}, follow_redirects=True)
    assert "You cannot deactivate yourself" in refused.get_data(as_text=True)
    demoted = client.post(f"/admin/people/users/{admin_id}", data={**data, "csrf_token": token(client)})
    assert demoted.status_code == 422
    assert "You cannot take away your own admin role" in demoted.get_data(as_text=True)
    with app.app_context():
        admin = user("admin")
        assert admin.active and admin.role == Role.ADMIN
        assert audit_actions("user", admin_id) == []


def test_the_last_active_admin_cannot_be_deactivated_or_demoted(app, demo):
    with app.test_request_context():
        admin, supervisor = user("admin"), user("supervisor")
        with pytest.raises(people_admin.PeopleError, match="last active admin"):
            people_admin.set_user_active(supervisor, admin, False)
        fields = people_admin.UserFields("admin", "Admin", None, Role.STAFF, None, True, [], ids(Department, "service"))
        with pytest.raises(people_admin.PeopleError, match="last active admin"):
            people_admin.update_user(supervisor, admin, fields)
        supervisor.role = Role.ADMIN  # with a second admin, either may go
        people_admin.set_user_active(supervisor, admin, False)
        assert not admin.active
        db.session.rollback()


def test_user_list_filters_by_role_status_and_branch(client, demo):
    admin_client(client, demo)
    staff_only = client.get("/admin/people/?role=staff").get_data(as_text=True)
    assert "staff.london" in staff_only and "王主管" not in staff_only
    london = client.get(f"/admin/people/?branch={branch_id(client, 'LDN-SOHO')}").get_data(as_text=True)
    assert "staff.london" in london and "李客服" not in london
    assert "管理员 Admin" in london  # every branch includes London
    assert "Nobody matches" in client.get("/admin/people/?status=inactive").get_data(as_text=True)


def branch_id(client, code: str) -> int:
    with client.application.app_context():
        return ids(Branch, code)[0]


# --- Departments ---------------------------------------------------------------------------------


def test_creating_a_triage_department_takes_the_flag_from_the_old_one(app, client, demo):
    admin_client(client, demo)
    response = client.post("/admin/people/departments/new", data={
        "code": "quality", "name": "品质部 Quality", "is_triage": "y", "csrf_token": token(client),
    })
    assert response.status_code == 303
    with app.app_context():
        triage = list(db.session.scalars(select(Department.code).where(Department.is_triage.is_(True))))
        assert triage == ["quality"]
        quality, old = (db.session.scalar(select(Department).where(Department.code == c)) for c in ("quality", "triage"))
        assert audit_actions("department", quality.id) == ["create"]
        assert audit_actions("department", old.id) == ["update"]
        assert routing_rules.triage_department().code == "quality"


def test_department_code_must_be_unique_and_triage_cannot_just_be_switched_off(app, client, demo):
    admin_client(client, demo)
    with app.app_context():
        triage_id = ids(Department, "triage")[0]
    taken = client.post("/admin/people/departments/new", data={"code": "Service", "name": "Again", "csrf_token": token(client)})
    assert taken.status_code == 422 and "Another department has this code." in taken.get_data(as_text=True)
    unflagged = client.post(f"/admin/people/departments/{triage_id}", data={
        "code": "triage", "name": "分诊 Triage", "csrf_token": token(client),
    })
    assert unflagged.status_code == 422
    assert "make another department triage first" in unflagged.get_data(as_text=True)
    refused = client.post(f"/admin/people/departments/{triage_id}/deactivate", data={"csrf_token": token(client)},
                          follow_redirects=True)
    assert "make another department triage first" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Department, triage_id).active


def test_deactivating_a_department_warns_with_its_open_tickets_and_rules(app, client, demo):
    admin_client(client, demo)
    with app.app_context():
        operations = db.session.scalar(select(Department).where(Department.code == "operations"))
        open_tickets = db.session.scalar(
            select(db.func.count(Ticket.id)).where(Ticket.department_id == operations.id, Ticket.status.in_(("new", "in_progress", "waiting_on_customer")))
        )
        rules = db.session.scalar(select(db.func.count(RoutingRule.id)).where(RoutingRule.department_id == operations.id))
        operations_id = operations.id
    page = client.get(f"/admin/people/departments/{operations_id}").get_data(as_text=True)
    assert f"{open_tickets} open tickets wait in this department and {rules} active routing rules" in page
    response = client.post(f"/admin/people/departments/{operations_id}/deactivate", data={"csrf_token": token(client)},
                           follow_redirects=True)
    assert f"{open_tickets} open tickets still wait in it" in response.get_data(as_text=True)
    with app.app_context():
        assert not db.session.get(Department, operations_id).active
        assert "operations" not in {rule.department for rule in stored.active_rules()}
        assert audit_actions("department", operations_id) == ["deactivate"]
    client.post(f"/admin/people/departments/{operations_id}/activate", data={"csrf_token": token(client)})
    with app.app_context():
        assert db.session.get(Department, operations_id).active


# --- The first admin from the command line -------------------------------------------------------


def test_create_admin_on_an_empty_migrated_database_then_sign_in(tmp_path):
    database = f"sqlite:///{tmp_path}/production.db"
    env = dict(os.environ, FLASK_APP="wsgi", DATABASE_URL=database, SECRET_KEY="production-secret")
    env.pop("SMTP_HOST", None)
    env.pop("REDIS_URL", None)

    def flask(*args):
        return subprocess.run([sys.executable, "-m", "flask", *args], env=env, capture_output=True, text=True, timeout=120)

    assert flask("db", "upgrade").returncode == 0
    weak = flask("create-admin", "root", "--password", "short")
    assert weak.returncode != 0 and "at least 10 characters" in weak.stderr
    made = flask("create-admin", "root", "--password", "correct horse battery", "--email", "root@example.com")
    assert made.returncode == 0, made.stderr
    assert "created admin root" in made.stdout
    assert flask("create-admin", "ROOT", "--password", "correct horse battery").returncode != 0

    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": database, "SECRET_KEY": "t", "RATELIMIT_ENABLED": False,
                      "LOOPDESK_DEFAULT_LOCALE": "en"})
    client = app.test_client()
    assert login(client, "root", "correct horse battery").status_code == 302
    assert client.get("/admin/people/").status_code == 200
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry))
        assert (entry.action, entry.entity_type, entry.user_id, entry.label) == ("create", "user", None, "root")
        db.engine.dispose()
