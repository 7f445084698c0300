"""Known customers' pages: who may see whose personal data, creating and editing one, consent and opt-out."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Branch, Customer, CustomerAttribute, User
from app.core.contacts import AttributeType
from tests.conftest import csrf_token, login


def add_customer(name: str, branch_code: str | None, **fields) -> int:
    customer = Customer(name=name, attributes=fields.pop("attributes", {}), **fields)
    if branch_code:
        customer.branches = [db.session.scalar(select(Branch).where(Branch.code == branch_code))]
    db.session.add(customer)
    db.session.commit()
    return customer.id


def sign_in(client, demo, username: str) -> None:
    login(client, username, demo["passwords"][username])


def test_a_supervisor_sees_their_branches_customers_and_another_branchs_by_id_is_not_found(app, client, demo):
    with app.app_context():
        shanghai = add_customer("张伟", "SH-PEOPLE", phone="+8613812345678")
        london = add_customer("Alice Smith", "LDN-SOHO", phone="+442079460018")
        nobody = add_customer("Head office's", None)
    sign_in(client, demo, "supervisor")
    listing = client.get("/customers/").get_data(as_text=True)
    assert "张伟" in listing and "Alice Smith" not in listing and "Head office" not in listing
    assert client.get(f"/customers/{shanghai}").status_code == 200
    for other in (london, nobody, 999999):
        assert client.get(f"/customers/{other}").status_code == 404
        assert client.get(f"/customers/{other}/edit").status_code == 404
        page = client.get(f"/customers/{shanghai}").get_data(as_text=True)
        assert client.post(f"/customers/{other}/consent", data={
            "csrf_token": csrf_token(page), "channel": "sms", "granted": "1"}).status_code == 404
    assert client.get("/customers/?q=Alice").get_data(as_text=True).count("Alice Smith") == 0
    # the admin pages of customers are the admins'
    assert client.get("/customers/import").status_code == 403
    assert client.get("/customers/attributes/").status_code == 403
    assert client.post(f"/customers/{shanghai}/erase", data={"confirm": "y"}).status_code in (400, 403)


def test_staff_and_anonymous_people_see_no_customer(app, client, demo):
    with app.app_context():
        shanghai = add_customer("张伟", "SH-PEOPLE")
    assert client.get("/customers/").status_code in (302, 401)
    assert client.get(f"/customers/{shanghai}").status_code in (302, 401)
    sign_in(client, demo, "staff")  # staff at the same branch: tickets, not the customer directory
    assert client.get("/customers/").status_code == 403
    assert client.get(f"/customers/{shanghai}").status_code == 403


def test_an_account_owner_sees_their_customer_at_a_branch_outside_their_scope(app, client, demo):
    with app.app_context():
        supervisor = db.session.scalar(select(User).where(User.username == "supervisor"))
        owned = add_customer("Owned in London", "LDN-SOHO", owner_id=supervisor.id)
    sign_in(client, demo, "supervisor")
    assert client.get(f"/customers/{owned}").status_code == 200


def test_an_admin_creates_a_customer_whose_local_number_is_read_in_the_branch_country(app, client, demo):
    with app.app_context():
        db.session.add(CustomerAttribute(key="tier", labels={"en": "Value tier", "zh_Hans": "价值等级"},
                                         type=AttributeType.CHOICE, choices=[{"value": "high", "labels": {"en": "High"}}]))
        db.session.commit()
        london = db.session.scalar(select(Branch.id).where(Branch.code == "LDN-SOHO"))
    sign_in(client, demo, "admin")
    page = client.get("/customers/new").get_data(as_text=True)
    response = client.post("/customers/new", data={
        "csrf_token": csrf_token(page), "name": "Alice Smith", "phone": "020 7946 0018", "email": "Alice@Example.COM",
        "language": "en", "branch_ids": [str(london)], "owner_id": "0", "attr_tier": "high", "external_id": "CRM-1",
    })
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        customer = db.session.scalar(select(Customer).where(Customer.external_id == "CRM-1"))
        assert (customer.phone, customer.email, customer.email_key) == ("+442079460018", "Alice@example.com", "alice@example.com")
        assert customer.attributes == {"tier": "high"}
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity_type == "customer"))
        assert entry.label == f"#{customer.id}" and "Alice" not in str(entry.after)  # no personal data in the log
        customer_id = customer.id
    page = client.get(f"/customers/{customer_id}").get_data(as_text=True)
    assert "+442079460018" in page and "High" in page
    # a wrong phone and e-mail are shown at their fields, in the reader's language, and nothing is saved
    edit = client.get(f"/customers/{customer_id}/edit").get_data(as_text=True)
    refused = client.post(f"/customers/{customer_id}/edit", data={
        "csrf_token": csrf_token(edit), "name": "Alice", "phone": "12345", "email": "alice@", "language": "",
        "owner_id": "0"}, headers={"Accept-Language": "zh-CN"})
    assert refused.status_code == 422
    assert "不是有效的电话号码" in refused.get_data(as_text=True)


def test_consent_and_opt_out_per_channel_with_their_source_and_time(app, client, demo):
    with app.app_context():
        customer_id = add_customer("张伟", "SH-PEOPLE", phone="+8613812345678")
    sign_in(client, demo, "supervisor")
    page = client.get(f"/customers/{customer_id}").get_data(as_text=True)
    token = csrf_token(page)
    assert client.post(f"/customers/{customer_id}/consent", data={"csrf_token": token, "channel": "sms", "granted": "1"}).status_code == 303
    with app.app_context():
        customer = db.session.get(Customer, customer_id)
        assert customer.may_contact("sms") and not customer.may_contact("email")
        assert customer.consent("sms").consent_source == "admin"
    assert client.post(f"/customers/{customer_id}/consent", data={"csrf_token": token, "channel": "sms", "granted": "0"}).status_code == 303
    with app.app_context():
        customer = db.session.get(Customer, customer_id)
        assert not customer.may_contact("sms") and customer.consent("sms").opted_out_at is not None
    assert client.post(f"/customers/{customer_id}/consent", data={"csrf_token": token, "channel": "fax", "granted": "1"}).status_code == 400


def test_the_list_finds_by_phone_digits_and_by_an_attribute_value_on_either_database(app, client, demo):
    with app.app_context():
        db.session.add(CustomerAttribute(key="tags", labels={"en": "Tags"}, type=AttributeType.TAGS))
        db.session.add(CustomerAttribute(key="tier", labels={"en": "Tier"}, type=AttributeType.TEXT))
        db.session.commit()
        add_customer("张伟", "SH-PEOPLE", phone="+8613812345678", attributes={"tier": "high", "tags": ["vip", "b2b"]})
        add_customer("李娜", "SH-PEOPLE", phone="+8613900001111", attributes={"tier": "low", "tags": ["b2b"]})
    sign_in(client, demo, "admin")
    assert "张伟" in client.get("/customers/?q=1234 5678").get_data(as_text=True)
    high = client.get("/customers/?attribute=tier&value=high").get_data(as_text=True)
    assert "张伟" in high and "李娜" not in high
    vip = client.get("/customers/?attribute=tags&value=vip").get_data(as_text=True)
    assert "张伟" in vip and "李娜" not in vip
    both = client.get("/customers/?attribute=tags&value=b2b").get_data(as_text=True)
    assert "张伟" in both and "李娜" in both
    partial = client.get("/customers/?q=李", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.get_data(as_text=True)


def test_an_admin_defines_an_attribute_with_labels_and_choices(app, client, demo):
    sign_in(client, demo, "admin")
    page = client.get("/customers/attributes/").get_data(as_text=True)
    response = client.post("/customers/attributes/", data={
        "csrf_token": csrf_token(page), "key": "tier", "type": "choice", "label_zh_Hans": "价值等级",
        "label_en": "Value tier", "choices_text": "high | 高价值 | High\nmedium | 中价值 | Medium\nlow", "position": "1"})
    assert response.status_code == 303
    again = client.post("/customers/attributes/", data={
        "csrf_token": csrf_token(page), "key": "tier", "type": "text", "label_en": "Again"})
    assert again.status_code == 422 and "Another attribute has this key" in again.get_data(as_text=True)
    with app.app_context():
        tier = db.session.scalar(select(CustomerAttribute))
        assert tier.choices[0] == {"value": "high", "labels": {"zh_Hans": "高价值", "en": "High"}}
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.entity_type == "customer_attribute")) is not None


@pytest.mark.demo_customers
def test_the_demo_seeds_customers_with_tiers_at_its_branches(app, demo):
    with app.app_context():
        customers = list(db.session.scalars(select(Customer)))
        assert {b.code for c in customers for b in c.branches} == {"SH-PEOPLE", "HZ-WESTLAKE", "LDN-SOHO"}
        assert {c.attributes["tier"] for c in customers} == {"high", "medium", "low"}
        assert all(c.phone.startswith(("+86", "+44")) and c.attributes["start_date"] for c in customers)
        assert {a.key for a in db.session.scalars(select(CustomerAttribute))} == {"tier", "size", "start_date", "tags"}
