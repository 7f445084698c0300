"""Responses through the API: scoped by the key's branches (by id, by filter, by a crafted cursor), paged by cursor."""
from __future__ import annotations

from datetime import timedelta

from app.core import cursors
from app.extensions import db
from app.models import Branch, Response


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _ids(app, code: str) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(
            db.select(Response.id).join(Branch).where(Branch.code == code, Response.submitted_at.is_not(None))
            .order_by(Response.id)
        ))


def _walk(client, token: str, url: str) -> list[dict]:
    items: list[dict] = []
    while url:
        page = client.get(url, headers=bearer(token))
        assert page.status_code == 200, page.get_data(as_text=True)
        body = page.get_json()
        items += body["items"]
        url = body["next"]
    return items


def test_a_key_for_one_branch_lists_only_that_branchs_responses_in_pages(app, client, make_key):
    _key_id, token = make_key(branches=("SH-PEOPLE",))
    shanghai = _ids(app, "SH-PEOPLE")
    assert shanghai and _ids(app, "LDN-SOHO")
    items = _walk(client, token, "/api/v1/responses?limit=7")
    assert sorted(i["id"] for i in items) == shanghai and len(items) == len({i["id"] for i in items})
    assert {i["branch_code"] for i in items} == {"SH-PEOPLE"}
    keys = [(i["updated_at"], i["id"]) for i in items]
    assert keys == sorted(keys)


def test_another_branchs_response_by_id_is_404_as_if_it_did_not_exist(app, client, make_key):
    _key_id, token = make_key(branches=("SH-PEOPLE",))
    london = _ids(app, "LDN-SOHO")[0]
    answer = client.get(f"/api/v1/responses/{london}", headers=bearer(token))
    assert answer.status_code == 404 and answer.mimetype == "application/problem+json"
    assert client.get(f"/api/v1/responses/{_ids(app, 'SH-PEOPLE')[0]}", headers=bearer(token)).status_code == 200
    _all_key, every = make_key(branches=None)
    assert client.get(f"/api/v1/responses/{london}", headers=bearer(every)).status_code == 200


def test_a_filter_on_another_branch_finds_nothing(app, client, make_key):
    _key_id, token = make_key(branches=("SH-PEOPLE",))
    with app.app_context():
        london = db.session.scalar(db.select(Branch.id).where(Branch.code == "LDN-SOHO"))
    body = client.get(f"/api/v1/responses?branch_id={london}", headers=bearer(token)).get_json()
    assert body == {"items": [], "next_cursor": None, "next": None}


def test_a_crafted_cursor_only_moves_along_the_keys_own_responses(app, client, make_key):
    _key_id, token = make_key(branches=("SH-PEOPLE",))
    with app.app_context():
        london = db.session.scalar(
            db.select(Response).join(Branch).where(Branch.code == "LDN-SOHO").order_by(Response.id).limit(1)
        )
        crafted = cursors.encode([london.updated_at - timedelta(microseconds=1), london.id - 1])
        start = cursors.encode([london.updated_at - timedelta(days=3650), 0])
    items = _walk(client, token, f"/api/v1/responses?cursor={crafted}")
    assert items and {i["branch_code"] for i in items} == {"SH-PEOPLE"}
    assert sorted(i["id"] for i in _walk(client, token, f"/api/v1/responses?cursor={start}")) == _ids(app, "SH-PEOPLE")


def test_a_response_carries_answers_scores_flags_and_its_ticket(app, client, make_key):
    from app.models import Ticket

    _key_id, token = make_key()
    with app.app_context():
        ticket = db.session.scalar(db.select(Ticket).where(Ticket.response_id.is_not(None)).limit(1))
        response_id, reference = ticket.response_id, ticket.reference_code
    body = client.get(f"/api/v1/responses/{response_id}", headers=bearer(token)).get_json()
    assert body["ticket"]["reference_code"] == reference and body["status"] == "processed"
    assert body["answers"] and {"question_id", "question_key", "type", "value"} <= set(body["answers"][0])
    ratings = [a["value"] for a in body["answers"] if a["type"] == "csat" and a["value"] is not None]
    assert body["scores"]["csat"] == round(sum(ratings) / len(ratings), 2)
    assert isinstance(body["quality_flags"], list) and body["counts_in_scores"] in (True, False)


def test_updated_since_returns_what_changed_since(app, client, make_key):
    from app.core.clock import utcnow
    from app.services.insight import quality_review  # noqa: F401 - the page's own review would move it too

    _key_id, token = make_key()
    since = utcnow()
    assert client.get(f"/api/v1/responses?updated_since={since.isoformat()}".replace("+", "%2B"),
                      headers=bearer(token)).get_json()["items"] == []
    with app.app_context():
        response = db.session.scalar(db.select(Response).where(Response.submitted_at.is_not(None)).limit(1))
        response.quality_review = "confirmed"
        db.session.commit()
        changed = response.id
    items = client.get(f"/api/v1/responses?updated_since={since.isoformat()}".replace("+", "%2B"),
                       headers=bearer(token)).get_json()["items"]
    assert [i["id"] for i in items] == [changed]


def test_filters_by_questionnaire_date_status_and_quality(app, client, make_key):
    _key_id, token = make_key()
    everything = _walk(client, token, "/api/v1/responses?limit=500")
    questionnaire = everything[0]["questionnaire_id"]
    assert len(_walk(client, token, f"/api/v1/responses?questionnaire_id={questionnaire}")) == len(everything)
    assert _walk(client, token, f"/api/v1/responses?questionnaire_id={questionnaire + 1000}") == []
    assert _walk(client, token, "/api/v1/responses?date_from=2999-01-01") == []
    assert len(_walk(client, token, "/api/v1/responses?date_to=2999-01-01&status=processed")) == len(
        [i for i in everything if i["status"] == "processed"])
    clean = _walk(client, token, "/api/v1/responses?quality=clean")
    assert all(i["quality_flags"] == [] for i in clean)
