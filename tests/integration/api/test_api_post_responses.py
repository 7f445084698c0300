"""POST /api/v1/responses: a complete response through the phone survey's pipeline, once per Idempotency-Key."""
from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from app.core.clock import utcnow
from app.extensions import db
from app.models import Branch, Channel, Response, Ticket
from tests.conftest import SurveyWalker, login

COMPLAINT = {"product": 2, "service": 1, "service_problem": ["waiting", "attitude"], "environment": 3, "nps": 2,
             "comment": "Waited forty minutes and the staff were rude"}


def _ids(app, code="SH-PEOPLE"):
    with app.app_context():
        branch_id = db.session.scalar(select(Branch.id).where(Branch.code == code))
        version_id = db.session.scalar(select(Response.version_id).limit(1))
    return branch_id, version_id


def _body(app, answers, code="SH-PEOPLE", **extra):
    branch_id, version_id = _ids(app, code)
    return {"branch_id": branch_id, "version_id": version_id, "language": "en",
            "started_at": (utcnow() - timedelta(seconds=95)).isoformat(), "answers": answers, **extra}


def _post(client, token, body, key=None, **headers):
    headers = {"Authorization": f"Bearer {token}", **headers}
    if key is not False:
        headers["Idempotency-Key"] = key or str(uuid.uuid4())
    return client.post("/api/v1/responses", json=body, headers=headers)


def _phone(app, answers) -> int:
    walker = SurveyWalker(app.test_client(), _token(app))
    walker.open(lang="en")
    for key, value in answers.items():
        walker.answer(**{key: value})
    assert "Thank you for your feedback" in walker.page
    with app.app_context():
        return db.session.scalar(select(func.max(Response.id)))


def _token(app):
    from app.models import QrCode
    with app.app_context():
        return db.session.scalar(select(QrCode.token).join(Branch).where(Branch.code == "SH-PEOPLE",
                                                                          QrCode.is_kiosk.is_(False)))


def _ticket_of(app, response_id):
    with app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.response_id == response_id))
        assert ticket is not None
        return {"department": ticket.department_id, "priority": str(ticket.priority), "category": ticket.category,
                "routing": ticket.routing, "subject": ticket.subject, "description": ticket.description,
                "branch": ticket.branch_id}


def test_a_low_score_posted_through_the_api_opens_a_ticket_routed_exactly_like_the_phone_surveys(app, client, make_key):
    _key_id, token = make_key(scopes=("responses:write", "responses:read"), name="Call centre")
    phone_id = _phone(app, COMPLAINT)
    # Answered as fast as the test's phone (the quality flags, which routing keeps, must be the same too).
    answer = _post(client, token, _body(app, COMPLAINT, started_at=utcnow().isoformat()))
    assert answer.status_code == 201, answer.get_json()
    posted = answer.get_json()
    assert posted["channel"] == "api" and posted["integration"] == "Call centre"
    assert posted["reference_code"]  # the customer can follow it, as the phone's thank-you page says
    assert _ticket_of(app, posted["id"]) == _ticket_of(app, phone_id)
    with app.app_context():
        phone, api = db.session.get(Response, phone_id), db.session.get(Response, posted["id"])
        assert api.channel == Channel.API and api.api_key.name == "Call centre" and api.qr_code_id is None
        assert api.processed_at is not None and api.quality_flags == phone.quality_flags == ["too_fast"]
        assert {a.question_id: a.value for a in api.answers} == {a.question_id: a.value for a in phone.answers}
    fetched = client.get(f"/api/v1/responses/{posted['id']}", headers={"Authorization": f"Bearer {token}"})
    assert fetched.get_json()["ticket"]["reference_code"]


def test_a_retry_with_the_same_idempotency_key_stores_one_response_and_answers_the_same(app, client, make_key):
    _key_id, token = make_key(scopes=("responses:write",))
    body = _body(app, COMPLAINT)
    with app.app_context():
        before = db.session.scalar(select(func.count(Response.id)))
    first = _post(client, token, body, key="order-1234")
    again = _post(client, token, dict(reversed(list(body.items()))), key="order-1234")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id))) == before + 1
        assert db.session.scalar(select(func.count(Ticket.id)).where(Ticket.response_id == first.get_json()["id"])) == 1
    other = _post(client, token, {**body, "answers": {**COMPLAINT, "nps": 9}}, key="order-1234")
    assert other.status_code == 422 and other.mimetype == "application/problem+json"
    assert other.get_json()["errors"][0]["field"] == "Idempotency-Key"
    # Another integration's same key is its own.
    _other_id, other_token = make_key(scopes=("responses:write",), name="App")
    assert _post(client, other_token, body, key="order-1234").status_code == 201


def test_the_survey_checks_refuse_bad_answers_with_field_errors(app, client, make_key):
    _key_id, token = make_key(scopes=("responses:write",))
    with app.app_context():
        before = db.session.scalar(select(func.count(Response.id)))
    cases = {
        "answers.product": {**COMPLAINT, "product": 7},
        "answers.nps": {**COMPLAINT, "nps": "ten"},
        "answers.service_problem": {**COMPLAINT, "service_problem": ["teleportation"]},
        "answers.colour": {**COMPLAINT, "colour": "blue"},
        "answers.service": {k: v for k, v in COMPLAINT.items() if k != "service"},
    }
    for field, answers in cases.items():
        refused = _post(client, token, _body(app, answers))
        assert refused.status_code == 422, (field, refused.get_json())
        assert refused.mimetype == "application/problem+json"
        assert field in {e["field"] for e in refused.get_json()["errors"]}, (field, refused.get_json())
    assert _post(client, token, _body(app, COMPLAINT, language="fr")).status_code == 422
    assert _post(client, token, {"answers": {}}).status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id))) == before


def test_a_hidden_question_is_dropped_as_on_the_phone(app, client, make_key):
    _key_id, token = make_key(scopes=("responses:write",))
    happy = {"product": 5, "service": 5, "service_problem": ["waiting"], "environment": 5, "nps": 10}
    answer = _post(client, token, _body(app, happy))
    assert answer.status_code == 201
    assert "service_problem" not in {a["question_key"] for a in answer.get_json()["answers"]}


def test_without_the_header_scope_or_branch_it_is_refused(app, client, make_key):
    _key_id, token = make_key(scopes=("responses:write",), branches=("LDN-SOHO",))
    assert _post(client, token, _body(app, COMPLAINT, code="LDN-SOHO"), key=False).status_code == 400
    refused = _post(client, token, _body(app, COMPLAINT))  # Shanghai: outside the key's branches
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "branch_id"
    _read_id, reader = make_key(scopes=("responses:read",))
    assert _post(client, reader, _body(app, COMPLAINT)).status_code == 403


def test_the_pages_name_the_integration(app, client, make_key, demo):
    _key_id, token = make_key(scopes=("responses:write",), name="WeChat mini program")
    posted = _post(client, token, _body(app, COMPLAINT)).get_json()
    login(client, "admin", demo["passwords"]["admin"])
    page = client.get(f"/staff/responses/{posted['id']}?lang=en").get_data(as_text=True)
    assert "Integration (API) · WeChat mini program" in page


def test_contact_details_with_consent_are_kept_and_checked_as_on_the_phone(app, client, make_key):
    _key_id, token = make_key(scopes=("responses:write",))
    kept = _post(client, token, _body(app, COMPLAINT, contact={"consent": True, "phone": "13800000000"}))
    assert kept.status_code == 201, kept.get_json()
    refused = _post(client, token, _body(app, COMPLAINT, contact={"consent": True, "phone": "call me"}))
    assert refused.status_code == 422 and "contact.phone" in {e["field"] for e in refused.get_json()["errors"]}
    no_consent = _post(client, token, _body(app, COMPLAINT, contact={"consent": False, "phone": "13800000000"}))
    assert no_consent.status_code == 422  # the phone's rule: tick the box or leave the fields empty
    with app.app_context():
        response = db.session.get(Response, kept.get_json()["id"])
        assert response.contact_consent and response.contact_phone == "13800000000"
        ticket = db.session.scalar(select(Ticket).where(Ticket.response_id == response.id))
        assert ticket.contact_phone == "13800000000" and ticket.callback_due_at is not None
