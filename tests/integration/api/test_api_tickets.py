"""/api/v1/tickets: read in the key's branch scope, worked through the page's services with the page's conflict rule."""
from __future__ import annotations

from sqlalchemy import select

from app.core.clock import utcnow
from app.extensions import db
from app.models import AuditEntry, Branch, Ticket, TicketEvent, TicketStatus, User
from app.services import tickets as ticket_service
from app.services.sla import clocks


def _auth(token):
    return {"Authorization": f"Bearer {token}"}


def _tickets_of(app, code):
    with app.app_context():
        return list(db.session.scalars(
            select(Ticket.id).join(Branch).where(Branch.code == code).order_by(Ticket.id)
        ))


def _all_pages(client, token, url):
    items, pages = [], 0
    while url:
        page = client.get(url, headers=_auth(token)).get_json()
        items += page["items"]
        url, pages = page["next"], pages + 1
    return items, pages


def test_a_one_branch_key_lists_and_reads_only_its_branchs_tickets(app, client, make_key):
    _key_id, token = make_key(scopes=("tickets:read",), branches=("SH-PEOPLE",))
    shanghai, london = _tickets_of(app, "SH-PEOPLE"), _tickets_of(app, "LDN-SOHO")
    assert shanghai and london
    items, pages = _all_pages(client, token, "/api/v1/tickets?limit=2")
    assert sorted(t["id"] for t in items) == shanghai and pages >= 2
    with app.app_context():
        london_branch = db.session.scalar(select(Branch.id).where(Branch.code == "LDN-SOHO"))
    assert client.get(f"/api/v1/tickets?branch_id={london_branch}", headers=_auth(token)).get_json()["items"] == []
    assert client.get(f"/api/v1/tickets/{london[0]}", headers=_auth(token)).status_code == 404
    new = client.get("/api/v1/tickets?status=new", headers=_auth(token)).get_json()["items"]
    assert new and {t["status"] for t in new} == {"new"}


def test_one_ticket_has_its_events_and_the_pages_sla_clocks(app, client, make_key):
    _key_id, token = make_key(scopes=("tickets:read",))
    ticket_id = _tickets_of(app, "SH-PEOPLE")[0]
    answer = client.get(f"/api/v1/tickets/{ticket_id}", headers=_auth(token))
    assert answer.status_code == 200
    shown = answer.get_json()
    assert answer.headers["ETag"] == f'"{shown["version"]}"'
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        clock = clocks.clock_for(ticket, utcnow())
        assert shown["version"] == ticket_service.page_version(ticket)
        assert shown["sla"]["first_response"]["state"] == str(clock.first_response.state)
        due = clock.first_response.due_at
        assert shown["sla"]["first_response"]["due_at"] == (due.isoformat() if due else None)
        assert [e["id"] for e in shown["events"]] == [e.id for e in ticket.events]
    assert shown["events"][0]["kind"] == "created" and shown["events"][0]["label"]


def test_a_status_change_needs_the_current_etag_and_is_in_the_history_and_audit_log_as_the_key(app, client, make_key, demo):
    key_id, token = make_key(scopes=("tickets:read", "tickets:write"), branches=("SH-PEOPLE",), name="CRM")
    ticket_id = _tickets_of(app, "SH-PEOPLE")[0]
    url = f"/api/v1/tickets/{ticket_id}"
    etag = client.get(url, headers=_auth(token)).headers["ETag"]
    assert client.patch(url, json={"status": "in_progress"}, headers=_auth(token)).status_code == 428
    # Someone on the ticket page changes it meanwhile: the key's version is stale.
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        ticket_service.add_note(ticket, admin, "Called the branch", seen_version=ticket_service.page_version(ticket))
        db.session.commit()
    stale = client.patch(url, json={"status": "in_progress"}, headers={**_auth(token), "If-Match": etag})
    assert stale.status_code == 412 and stale.mimetype == "application/problem+json"
    assert "changed since" in stale.get_json()["detail"]
    etag = client.get(url, headers=_auth(token)).headers["ETag"]
    changed = client.patch(url, json={"status": "in_progress"}, headers={**_auth(token), "If-Match": etag})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["status"] == "in_progress" and changed.headers["ETag"] != etag
    last = changed.get_json()["events"][-1]
    assert (last["kind"], last["actor_type"], last["actor_name"]) == ("status", "integration", "CRM")
    refused = client.patch(url, json={"status": "closed"}, headers={**_auth(token), "If-Match": changed.headers["ETag"]})
    assert refused.status_code == 409  # in progress cannot be closed: as on the page
    with app.app_context():
        assert db.session.get(Ticket, ticket_id).status == TicketStatus.IN_PROGRESS
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.api_key_id == key_id, AuditEntry.entity_type == "ticket"))
        assert entry is not None and entry.entity_id == ticket_id


def test_a_reply_reaches_the_customer_and_a_note_does_not(app, client, make_key):
    _key_id, token = make_key(scopes=("tickets:read", "tickets:write"))
    ticket_id = _tickets_of(app, "SH-PEOPLE")[0]
    url = f"/api/v1/tickets/{ticket_id}"
    etag = client.get(url, headers=_auth(token)).headers["ETag"]
    replied = client.post(f"{url}/messages", json={"kind": "reply", "body": "We are sorry: the manager will call."},
                          headers={**_auth(token), "If-Match": etag})
    assert replied.status_code == 201, replied.get_json()
    noted = client.post(f"{url}/messages", json={"kind": "note", "body": "Refund approved"},
                        headers={**_auth(token), "If-Match": replied.headers["ETag"]})
    assert noted.status_code == 201
    assert client.post(f"{url}/messages", json={"kind": "note", "body": ""},
                       headers={**_auth(token), "If-Match": noted.headers["ETag"]}).status_code == 422
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.first_response_at is not None
        events = {e.body: e for e in db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id))}
        assert events["We are sorry: the manager will call."].visible_to_customer
        assert not events["Refund approved"].visible_to_customer
        assert events["Refund approved"].api_key_id is not None and events["Refund approved"].actor_id is None


def test_assignment_only_to_someone_who_works_on_the_ticket(app, client, make_key):
    _key_id, token = make_key(scopes=("tickets:read", "tickets:write"))
    with app.app_context():
        from app.services.tickets import queries
        ticket = next(t for t in db.session.scalars(select(Ticket).join(Branch).where(Branch.code == "SH-PEOPLE"))
                      if any(u.role != "admin" for u in queries.assignable_users(t)))
        worker = next(u.id for u in queries.assignable_users(ticket) if u.role != "admin")
        outsider = db.session.scalar(select(User.id).where(User.username == "staff.london"))
        ticket_id = ticket.id
    url = f"/api/v1/tickets/{ticket_id}"
    etag = client.get(url, headers=_auth(token)).headers["ETag"]
    refused = client.patch(url, json={"assignee_id": outsider}, headers={**_auth(token), "If-Match": etag})
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "assignee_id"
    given = client.patch(url, json={"assignee_id": worker}, headers={**_auth(token), "If-Match": etag})
    assert given.status_code == 200 and given.get_json()["assignee"]["id"] == worker
    gone = client.patch(url, json={"assignee_id": None}, headers={**_auth(token), "If-Match": given.headers["ETag"]})
    assert gone.status_code == 200 and gone.get_json()["assignee"] is None


def test_another_branchs_ticket_cannot_be_written_and_reading_is_not_writing(app, client, make_key):
    _key_id, token = make_key(scopes=("tickets:read", "tickets:write"), branches=("SH-PEOPLE",))
    _reader_id, reader = make_key(scopes=("tickets:read",))
    london = _tickets_of(app, "LDN-SOHO")[0]
    with app.app_context():
        before = ticket_service.page_version(db.session.get(Ticket, london))
    headers = {**_auth(token), "If-Match": f'"{before}"'}
    assert client.patch(f"/api/v1/tickets/{london}", json={"status": "in_progress"}, headers=headers).status_code == 404
    assert client.post(f"/api/v1/tickets/{london}/messages", json={"kind": "note", "body": "x"},
                       headers=headers).status_code == 404
    assert client.patch(f"/api/v1/tickets/{london}", json={"status": "in_progress"},
                        headers={**_auth(reader), "If-Match": f'"{before}"'}).status_code == 403
    with app.app_context():
        assert ticket_service.page_version(db.session.get(Ticket, london)) == before
