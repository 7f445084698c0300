"""个人信息保护法: an admin erases a customer (the person goes, the figures stay), and the retention sweep."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.clock import utcnow
from app.extensions import db
from app.jobs.customers import sweep_customer_retention
from app.models import AuditEntry, Branch, Customer, Response, Ticket, User
from app.services import dashboard
from app.services.customers import privacy, records
from app.services.dashboard import selection as dashboard_selection
from app.services.insight.filters import InsightFilter
from tests.conftest import csrf_token, login
from tests.oracles.dashboard_naive import figures


def dashboard_figures() -> dict:
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    today = dashboard.home_today()
    selection = dashboard_selection.resolve(admin, InsightFilter(date_from=today - timedelta(days=60), date_to=today), today)
    dashboard.refresh_if_few(selection, limit=10_000)
    return figures(dashboard.build(selection, today, utcnow()))


def known_customer_with_history() -> int:
    """A customer whose demo responses (and the ticket one opened) carry their contact details."""
    branch = db.session.scalar(select(Branch).where(Branch.code == "SH-PEOPLE"))
    customer = Customer(name="张伟", company="上海某公司", phone="+8613812345678", email="zhang@example.cn",
                        email_key="zhang@example.cn", external_id="C001", attributes={"tier": "high"}, branches=[branch])
    db.session.add(customer)
    db.session.flush()
    records.set_consent(customer, "sms", True, "import")
    ticket = db.session.scalar(select(Ticket).where(Ticket.branch_id == branch.id, Ticket.response_id.is_not(None)).limit(1))
    assert ticket is not None, "the demo opens tickets at Shanghai"
    responses = list(db.session.scalars(
        select(Response).where(Response.branch_id == branch.id, Response.submitted_at.is_not(None)).limit(3)))
    for response in [*responses, ticket.response]:
        response.customer_id, response.contact_phone, response.contact_name = customer.id, "13812345678", "张伟"
    ticket.customer_id, ticket.contact_phone, ticket.contact_name = customer.id, "13812345678", "张伟"
    from app.services.tickets.search import refresh

    refresh(ticket)
    db.session.commit()
    return customer.id


def test_erasure_keeps_the_dashboard_figures_and_removes_the_person(app, client, demo):
    with app.app_context():
        customer_id = known_customer_with_history()
        before = dashboard_figures()
        answered = sorted(db.session.scalars(select(Response.id).where(Response.customer_id == customer_id)))
    login(client, "admin", demo["passwords"]["admin"])
    page = client.get(f"/customers/{customer_id}").get_data(as_text=True)
    assert "张伟" in page
    refused = client.post(f"/customers/{customer_id}/erase", data={"csrf_token": csrf_token(page)})
    assert refused.status_code == 303
    with app.app_context():
        assert db.session.get(Customer, customer_id).erased_at is None  # the box was not ticked
    erased = client.post(f"/customers/{customer_id}/erase", data={"csrf_token": csrf_token(page), "confirm": "y"})
    assert erased.status_code == 303
    with app.app_context():
        customer = db.session.get(Customer, customer_id)
        assert customer.erased_at is not None
        assert (customer.name, customer.company, customer.phone, customer.email, customer.external_id) == (None,) * 5
        assert customer.attributes == {} and customer.consents == [] and not customer.may_contact("sms")
        assert [b.code for b in customer.branches] == ["SH-PEOPLE"]
        assert sorted(db.session.scalars(select(Response.id).where(Response.customer_id == customer_id))) == answered
        for row in [*db.session.scalars(select(Response).where(Response.customer_id == customer_id)),
                    *db.session.scalars(select(Ticket).where(Ticket.customer_id == customer_id))]:
            assert (row.contact_name, row.contact_phone, row.contact_email) == (None, None, None)
        ticket = db.session.scalar(select(Ticket).where(Ticket.customer_id == customer_id))
        assert "13812345678" not in (ticket.search_text or "") and "张伟" not in (ticket.search_text or "")
        assert dashboard_figures() == before
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "erase"))
        assert entry.entity_id == customer_id and entry.label == f"#{customer_id}" and entry.after == {"reason": "admin"}
    page = client.get(f"/customers/{customer_id}").get_data(as_text=True)
    assert "张伟" not in page and "13812345678" not in page
    assert "张伟" not in client.get("/customers/?erased=1").get_data(as_text=True)


def test_a_supervisor_may_not_erase(app, client, demo):
    with app.app_context():
        customer_id = known_customer_with_history()
    login(client, "supervisor", demo["passwords"]["supervisor"])
    page = client.get(f"/customers/{customer_id}").get_data(as_text=True)
    assert "Erase this customer" not in page
    assert client.post(f"/customers/{customer_id}/erase", data={"csrf_token": csrf_token(page), "confirm": "y"}).status_code == 403


@pytest.mark.parametrize("app", [{"LOOPDESK_CUSTOMER_RETENTION_DAYS": 365}], indirect=True)
def test_the_retention_sweep_erases_customers_inactive_past_its_days_once(app, demo):
    with app.app_context():
        old = Customer(name="Old", phone="+8613800000001", attributes={}, last_activity_at=utcnow() - timedelta(days=366))
        recent = Customer(name="Recent", phone="+8613800000002", attributes={}, last_activity_at=utcnow() - timedelta(days=364))
        db.session.add_all([old, recent])
        db.session.commit()
        assert sweep_customer_retention() == 1
        assert sweep_customer_retention() == 0
        assert db.session.get(Customer, old.id).phone is None and db.session.get(Customer, recent.id).phone
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "erase")).after == {"reason": "retention"}


def test_without_a_retention_period_nobody_is_swept(app, demo):
    with app.app_context():
        db.session.add(Customer(name="Old", attributes={}, last_activity_at=utcnow() - timedelta(days=5000)))
        db.session.commit()
        assert privacy.retention_days() == 0 and sweep_customer_retention() == 0
