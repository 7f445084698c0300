"""Copy a questionnaire as a new one (issue 11 item 8): every setting kept, a new draft, independent of the original."""
import re

from sqlalchemy import inspect, select

from app.extensions import db
from app.models import AuditEntry, Branch, Questionnaire, QuestionnaireVersion
from tests.conftest import csrf_token, login
from tests.integration.questionnaires.test_admin_questionnaires import BASE, Admin, question_form

#: Columns that name the row or its parent, which a copy has of its own; everything else must be equal.
OWN = {"id", "questionnaire_id", "version_id", "current_version_id", "created_at", "published_at",
       "source_question_id", "target_question_id", "dimension_id", "code", "name", "status", "number"}


def columns(obj) -> dict:
    return {c.key: getattr(obj, c.key) for c in inspect(obj).mapper.column_attrs if c.key not in OWN}


def contents(version: QuestionnaireVersion) -> dict:
    """Everything a version holds, with questions, dimensions and rules named by key instead of id."""
    keys = {q.id: q.key for q in version.questions}
    dims = {d.id: d.key for d in version.dimensions}
    return {
        "version": columns(version),
        "dimensions": [columns(d) for d in version.dimensions],
        "questions": [{**columns(q), "dimension": dims.get(q.dimension_id)} for q in version.questions],
        "rules": [{**columns(r), "source": keys[r.source_question_id], "target": keys[r.target_question_id]}
                  for r in version.rules],
    }


def _prepare_original(admin: Admin, app) -> None:
    """The demo's questionnaire with a window and targeting of its own, so every setting has a value."""
    with app.app_context():
        shanghai = db.session.scalar(select(Branch.id).where(Branch.code == "SH-PEOPLE"))
    assert admin.confirmed(f"{BASE}/1/settings", {"name_zh_Hans": "满意度", "name_en": "Satisfaction",
                                                  "starts_at": "2026-01-01T09:00", "ends_at": "2099-01-01T09:00",
                                                  }).status_code == 303
    assert admin.confirmed(f"{BASE}/1/targeting", {"branch_ids": [shanghai], "regions": ["华东 East China"]}).status_code == 303


def _copy(admin: Admin, code="satisfaction-2027", zh="满意度 2027", en="Satisfaction 2027") -> tuple[int, int]:
    response = admin.post(f"{BASE}/1/copy", {"code": code, "name_zh_Hans": zh, "name_en": en})
    assert response.status_code == 303, response.get_data(as_text=True)
    qid, vid = re.search(r"/questionnaires/(\d+)/versions/(\d+)", response.headers["Location"]).groups()
    return int(qid), int(vid)


def test_a_copy_keeps_every_setting_field_by_field_as_a_new_unpublished_draft(app, client, demo):
    admin = Admin(client, demo)
    _prepare_original(admin, app)
    page = admin.get(f"{BASE}/1/copy").get_data(as_text=True)
    assert 'value="satisfaction-copy"' in page and "Satisfaction (copy)" in page and "满意度（副本）" in page
    qid, vid = _copy(admin)
    with app.app_context():
        original = db.session.get(Questionnaire, 1)
        copy = db.session.get(Questionnaire, qid)
        assert qid != 1 and copy.code == "satisfaction-2027"
        assert copy.name == {"zh_Hans": "满意度 2027", "en": "Satisfaction 2027"}
        assert columns(copy) == columns(original)  # window, regions, archived (not)
        assert copy.starts_at == original.starts_at is not None and copy.ends_at == original.ends_at is not None
        assert [b.code for b in copy.target_branches] == [b.code for b in original.target_branches] == ["SH-PEOPLE"]
        assert copy.target_regions == ["华东 East China"]

        assert copy.current_version_id is None and [v.id for v in copy.versions] == [vid]
        draft = copy.versions[0]
        assert draft.number == 1 and not draft.is_published and draft.published_at is None
        source = original.current_version
        assert contents(draft) == contents(source)
        assert len(draft.questions) == 7 and len(draft.dimensions) == 3 and len(draft.rules) == 1
        assert {q.id for q in draft.questions}.isdisjoint(q.id for q in source.questions)
        assert all(q.dimension is None or q.dimension.version_id == vid for q in draft.questions)
        assert draft.rules[0].source.version_id == vid and draft.rules[0].target.version_id == vid
        assert set(draft.title) == set(draft.thanks) == {"zh_Hans", "en"}

        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.entity_type.in_(
            ["questionnaire", "questionnaire_version"])).order_by(AuditEntry.id)).all()
        copied = next(e for e in entries if e.action == "copy")
        assert copied.entity_id == qid and copied.after["copied_from"] == "satisfaction v1"
        assert copied.after["target_regions"] == ["华东 East China"] and copied.user.username == "admin"
        assert any(e.action == "create" and e.entity_id == vid for e in entries)
    log = admin.get("/admin/audit/").get_data(as_text=True)
    assert "Copied" in log


def test_editing_the_copy_leaves_the_original_as_it_was(app, client, demo):
    admin = Admin(client, demo)
    qid, vid = _copy(admin)
    with app.app_context():
        original = db.session.get(Questionnaire, 1)
        before = contents(original.current_version)
        before_settings = columns(original)
        draft = db.session.get(QuestionnaireVersion, vid)
        service = next(q for q in draft.questions if q.key == "service_problem")
        service_id, option_values = service.id, [(o["value"], o["label"]["zh_Hans"], o["label"]["en"]) for o in service.options]
    changed = question_form("service_problem", 3, "multiple", "哪里不好？", "What went wrong?", required=False,
                            options=[(v, zh + "！", en + "!") for v, zh, en in option_values])
    assert admin.post(f"{BASE}/{qid}/versions/{vid}/questions/{service_id}", changed).status_code == 303
    assert admin.confirmed(f"{BASE}/{qid}/settings", {"name_en": "Changed", "starts_at": "2030-01-01T00:00"}).status_code == 303
    assert admin.confirmed(f"{BASE}/{qid}/targeting", {"regions": ["华东 East China"]}).status_code == 303
    with app.app_context():
        draft = db.session.get(QuestionnaireVersion, vid)
        assert next(q for q in draft.questions if q.key == "service_problem").options[0]["label"]["en"].endswith("!")
        original = db.session.get(Questionnaire, 1)
        assert contents(original.current_version) == before
        assert columns(original) == before_settings and original.target_branches == []


def test_a_copy_needs_a_code_not_taken_and_a_name(app, client, demo):
    admin = Admin(client, demo)
    response = admin.post(f"{BASE}/1/copy", {"code": "satisfaction", "name_en": "Again"})
    assert response.status_code == 422
    assert "Another questionnaire already uses this code." in response.get_data(as_text=True)
    response = admin.post(f"{BASE}/1/copy", {"code": "fresh", "name_en": "", "name_zh_Hans": ""})
    assert response.status_code == 422
    assert "Give the questionnaire a name in at least one language." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Questionnaire.id).where(Questionnaire.code == "fresh")) is None


def test_a_questionnaire_never_published_is_copied_from_its_draft(app, client, demo):
    admin = Admin(client, demo)
    response = admin.post(f"{BASE}/new", {"code": "draft-only", "start": "template", "name_en": "Draft only"})
    original_id = int(re.search(r"/questionnaires/(\d+)/", response.headers["Location"]).group(1))
    response = admin.post(f"{BASE}/{original_id}/copy", {"code": "draft-copy", "name_en": "Draft copy"})
    assert response.status_code == 303
    with app.app_context():
        copy = db.session.scalar(select(Questionnaire).where(Questionnaire.code == "draft-copy"))
        original = db.session.get(Questionnaire, original_id)
        assert contents(copy.versions[0]) == contents(original.versions[0])


def test_only_admins_may_copy(app, client, demo):
    assert client.get(f"{BASE}/1/copy").status_code == 302  # to sign in
    login(client, "supervisor", demo["passwords"]["supervisor"])
    assert client.get(f"{BASE}/1/copy").status_code == 403
    token = csrf_token(client.get("/me/notifications").get_data(as_text=True))
    response = client.post(f"{BASE}/1/copy", data={"csrf_token": token, "code": "sneaky", "name_en": "Sneaky"})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(Questionnaire.id).where(Questionnaire.code == "sneaky")) is None
