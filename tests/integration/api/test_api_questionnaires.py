"""Branches and questionnaires through the API."""
from __future__ import annotations

from app.extensions import db
from app.models import Branch


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_questionnaires_come_with_their_published_versions_in_both_languages(client, make_key):
    _key_id, token = make_key(scopes=("tickets:read",))
    body = client.get("/api/v1/questionnaires", headers=bearer(token)).get_json()
    assert body["items"] and body["next"] is None
    questionnaire = body["items"][0]
    version = questionnaire["versions"][-1]
    assert version["id"] == questionnaire["current_version_id"]
    assert {"zh_Hans", "en"} <= set(version["title"])
    choice = next(q for q in version["questions"] if q["options"])
    assert {"zh_Hans", "en"} <= set(choice["prompt"]) and {"zh_Hans", "en"} <= set(choice["options"][0]["label"])
    one = client.get(f"/api/v1/questionnaires/{questionnaire['id']}", headers=bearer(token)).get_json()
    assert one == questionnaire
    assert client.get("/api/v1/questionnaires/999999", headers=bearer(token)).status_code == 404


def test_a_key_reads_only_the_branches_of_its_scope(app, client, make_key):
    _key_id, token = make_key(branches=("LDN-SOHO",))
    assert [b["code"] for b in client.get("/api/v1/branches", headers=bearer(token)).get_json()["items"]] == ["LDN-SOHO"]
    with app.app_context():
        shanghai = db.session.scalar(db.select(Branch.id).where(Branch.code == "SH-PEOPLE"))
    assert client.get(f"/api/v1/branches/{shanghai}", headers=bearer(token)).status_code == 404
