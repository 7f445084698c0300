"""Publishing, retargeting or moving a window says which QR codes switch questionnaire, and waits for a yes (issue 11 item 7)."""
import re
from datetime import timedelta

from sqlalchemy import select

from app.core.clock import utcnow
from app.extensions import db
from app.models import AuditEntry, Branch, QrCode, Questionnaire, QuestionnaireVersion
from app.services.questionnaires import serving
from app.services.questionnaires.templates import create_default_questionnaire, publish_version
from app.services.survey.entries import open_survey
from tests.conftest import csrf_token, hidden, login
from tests.integration.questionnaires.test_admin_questionnaires import BASE, Admin

ALL_CODES = ["HZ-WESTLAKE", "LDN-SOHO", "SH-PEOPLE", "SH-PEOPLE"]


def _draft(app, code="winter") -> tuple[int, int]:
    """A second questionnaire for every branch (the default scope), ready to publish."""
    with app.app_context():
        questionnaire = create_default_questionnaire(code=code, publish=False)
        questionnaire.name = {"zh_Hans": "冬季调查", "en": "Winter survey"}
        db.session.commit()
        return questionnaire.id, questionnaire.versions[0].id


def test_the_preview_of_a_publish_lists_every_code_the_new_questionnaire_takes_over_without_http(app, demo):
    qid, vid = _draft(app)
    with app.app_context():
        preview = serving.publish_preview(db.session.get(QuestionnaireVersion, vid))
        assert sorted(s.code.branch_code for s in preview.switches) == sorted(ALL_CODES)
        assert {(s.before.code, s.before.version_number, s.after.code, s.after.version_number) for s in preview.switches} == {
            ("satisfaction", 1, "winter", 1)
        }
        assert any(s.code.is_kiosk for s in preview.switches)
        # A revoked code and an inactive branch open nothing either way: not listed.
        london = db.session.scalar(select(Branch).where(Branch.code == "LDN-SOHO"))
        london.active = False
        kiosk = db.session.scalar(select(QrCode).where(QrCode.is_kiosk.is_(True)))
        kiosk.revoked_at = kiosk.created_at
        db.session.flush()
        again = serving.publish_preview(db.session.get(QuestionnaireVersion, vid))
        assert sorted(s.code.branch_code for s in again.switches) == ["HZ-WESTLAKE", "SH-PEOPLE"]
        assert again.fingerprint != preview.fingerprint
        db.session.rollback()


def test_a_questionnaire_whose_window_opens_next_week_switches_its_codes_next_week(app, demo):
    qid, vid = _draft(app, code="east")
    with app.app_context():
        questionnaire = db.session.get(Questionnaire, qid)
        opens = utcnow().replace(microsecond=0) + timedelta(days=7)
        questionnaire.target_regions = ["华东 East China"]
        questionnaire.starts_at, questionnaire.ends_at = opens, opens + timedelta(days=7)
        db.session.flush()
        preview = serving.publish_preview(db.session.get(QuestionnaireVersion, vid))
        assert sorted(s.code.branch_code for s in preview.switches) == ["HZ-WESTLAKE", "SH-PEOPLE", "SH-PEOPLE"]
        assert {(s.at, s.before.code, s.after.code) for s in preview.switches} == {(opens, "satisfaction", "east")}
        assert serving.switch_lines(preview)[0].endswith(f"satisfaction v1 → east v1 ({opens.isoformat()})")
        db.session.rollback()


def test_the_preview_agrees_with_what_the_survey_opens_after_the_change(app, demo):
    qid, vid = _draft(app)
    with app.app_context():
        sh = db.session.scalar(select(Branch).where(Branch.code == "SH-PEOPLE"))
        questionnaire = db.session.get(Questionnaire, qid)
        preview = serving.targeting_preview(questionnaire, [sh.id], [])
        assert preview.switches == []  # not published yet: offered nowhere, before or after
        publish_version(questionnaire.versions[0])
        db.session.commit()
        app.config["LOOPDESK_SURVEY_CACHE_SECONDS"] = 0
        now = {code.qr_id: code.served for code in serving.serving_now()}
        for qr in db.session.scalars(select(QrCode)):
            entry = open_survey(qr.token)
            assert now[qr.id].questionnaire_id == qid and entry.version_id == vid
        preview = serving.targeting_preview(db.session.get(Questionnaire, qid), [sh.id], [])
        assert sorted(s.code.branch_code for s in preview.switches) == ["HZ-WESTLAKE", "LDN-SOHO"]
        assert {s.after.code for s in preview.switches} == {"satisfaction"}


def test_publishing_shows_the_switch_list_and_publishes_only_once_that_list_is_confirmed(app, client, demo):
    admin = Admin(client, demo)
    qid, vid = _draft(app)
    editor = f"{BASE}/{qid}/versions/{vid}"
    assert 'action="' + editor + '/publish"' in admin.get(editor).get_data(as_text=True)

    page = admin.get(f"{editor}/publish")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "4 changes to what QR codes open:" in html
    assert html.count("Customer satisfaction survey, version 1") == 4 and html.count("Winter survey, version 1") == 4
    assert "上海人民广场店" in html and "London Soho" in html and "Kiosk" in html
    seen = hidden(html, "seen")
    assert seen

    unconfirmed = admin.post(f"{editor}/publish")  # the old one-click publish now only asks
    assert unconfirmed.status_code == 200 and hidden(unconfirmed.get_data(as_text=True), "seen") == seen
    stale = admin.post(f"{editor}/publish", {"seen": "0" * 20})
    assert stale.status_code == 409 and "Check the list again." in stale.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Questionnaire, qid).current_version_id is None

    done = admin.post(f"{editor}/publish", {"seen": seen})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"{BASE}/{qid}")
    with app.app_context():
        assert db.session.get(Questionnaire, qid).current_version_id == vid
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "publish"))
        assert entry.entity_id == vid and entry.label == "winter v1" and entry.user.username == "admin"
        assert len(entry.after["switched"]) == 4 and "LDN-SOHO/入口 Entrance: satisfaction v1 → winter v1" in entry.after["switched"]


def test_the_list_shows_per_branch_what_each_code_serves_now(app, client, demo):
    admin = Admin(client, demo)
    page = admin.get(f"{BASE}/").get_data(as_text=True)
    serving_now = page[page.index('id="serving-now"'):]
    assert serving_now.count("Customer satisfaction survey, version 1") == 4
    qid, vid = _draft(app)
    assert admin.publish(f"{BASE}/{qid}/versions/{vid}").status_code == 303
    page = admin.get(f"{BASE}/").get_data(as_text=True)
    serving_now = page[page.index('id="serving-now"'):]
    assert serving_now.count("Winter survey, version 1") == 4 and "Customer satisfaction survey, version 1" not in serving_now
    default_row = page[page.index("Customer satisfaction survey"):page.index("</tr>", page.index("Customer satisfaction survey"))]
    assert "Live" in default_row and "Nowhere right now" in default_row  # live, but every branch serves the newer one
    winter_row = page[page.index("Winter survey"):page.index("</tr>", page.index("Winter survey"))]
    assert "London Soho" in winter_row and "上海人民广场店" in winter_row


def test_targeting_that_switches_codes_asks_first_and_targeting_that_switches_none_saves_at_once(app, client, demo):
    admin = Admin(client, demo)
    with app.app_context():
        sh = db.session.scalar(select(Branch.id).where(Branch.code == "SH-PEOPLE"))
    response = admin.post(f"{BASE}/1/targeting", {"branch_ids": [sh]})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "2 changes to what QR codes open:" in html
    assert "Nothing: a scan says the survey is closed" in html and 'name="branch_ids" value="%d"' % sh in html
    with app.app_context():
        assert db.session.get(Questionnaire, 1).target_branches == []
    response = admin.post(f"{BASE}/1/targeting", {"branch_ids": [sh], "seen": hidden(html, "seen")})
    assert response.status_code == 303
    with app.app_context():
        assert [b.code for b in db.session.get(Questionnaire, 1).target_branches] == ["SH-PEOPLE"]
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity_type == "questionnaire"))
        assert entry.action == "update" and entry.after["target_branches"] == [sh]
        assert sorted(entry.after["switched"]) == ["HZ-WESTLAKE/入口 Entrance: satisfaction v1 → -",
                                                   "LDN-SOHO/入口 Entrance: satisfaction v1 → -"]
    qid, vid = _draft(app, code="draft-only")
    assert admin.post(f"{BASE}/{qid}/targeting", {"branch_ids": [sh]}).status_code == 303  # not published: switches nothing


def test_a_window_that_closes_the_survey_now_asks_first_and_htmx_gets_the_list_in_place(app, client, demo):
    admin = Admin(client, demo)
    data = {"name_zh_Hans": "满意度", "name_en": "Satisfaction", "starts_at": "2099-01-01T00:00", "ends_at": ""}
    response = admin.post(f"{BASE}/1/settings", data, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="confirm-settings"' in html and "4 changes to what QR codes open:" in html
    assert 'hx-post="/admin/questionnaires/1/settings"' in html
    response = admin.post(f"{BASE}/1/settings", {**data, "seen": hidden(html, "seen")}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.headers["HX-Redirect"].endswith(f"{BASE}/1")
    with app.app_context():
        assert db.session.get(Questionnaire, 1).starts_at is not None
    renamed = admin.post(f"{BASE}/1/settings", {**data, "name_en": "Renamed"})
    assert renamed.status_code == 303  # the same window: nothing switches, nothing to confirm


def test_htmx_publish_asks_in_place_and_confirms_with_a_redirect(app, client, demo):
    admin = Admin(client, demo)
    qid, vid = _draft(app)
    editor = f"{BASE}/{qid}/versions/{vid}"
    page = admin.get(editor).get_data(as_text=True)
    assert f'hx-get="{editor}/publish" hx-target="#publish" hx-select="#publish"' in page
    asked = admin.get(f"{editor}/publish", headers={"HX-Request": "true"})
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'id="confirm-publish"' in html
    done = admin.post(f"{editor}/publish", {"seen": hidden(html, "seen")}, headers={"HX-Request": "true"})
    assert done.status_code == 200 and done.headers["HX-Redirect"].endswith(f"{BASE}/{qid}")
    empty_qid, empty_vid = admin.create("empty", en="Empty")
    refused = admin.get(f"{BASE}/{empty_qid}/versions/{empty_vid}/publish", headers={"HX-Request": "true"})
    assert refused.status_code == 422 and refused.headers["HX-Retarget"] == "main"
    assert "Add at least one question before publishing." in refused.get_data(as_text=True)


def test_only_admins_see_or_confirm_what_a_change_switches(app, client, demo):
    qid, vid = _draft(app)
    editor = f"{BASE}/{qid}/versions/{vid}"
    response = client.get(f"{editor}/publish")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(client, "supervisor", demo["passwords"]["supervisor"])
    token = csrf_token(client.get("/me/notifications").get_data(as_text=True))
    assert client.get(f"{editor}/publish").status_code == 403
    assert client.post(f"{editor}/publish", data={"csrf_token": token, "seen": "x"}).status_code == 403
    assert client.post(f"{BASE}/1/targeting", data={"csrf_token": token, "regions": []}).status_code == 403
    with app.app_context():
        assert db.session.get(Questionnaire, qid).current_version_id is None
