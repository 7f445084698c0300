"""The questionnaire builder under /admin/questionnaires/, driven as plain forms (and htmx where it helps)."""
import re
from html import unescape as html_unescape

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AuditEntry,
    Branch,
    Dimension,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    Response,
    SkipRule,
)
from tests.conftest import SurveyWalker, csrf_token, hidden, login

BASE = "/admin/questionnaires"


class Admin:
    """A signed-in admin posting the builder's forms as a browser without JavaScript would."""

    def __init__(self, client, demo) -> None:
        login(client, "admin", demo["passwords"]["admin"])
        self.client = client
        self.token = csrf_token(client.get(f"{BASE}/").get_data(as_text=True))

    def get(self, url: str, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict | None = None, **kwargs):
        return self.client.post(url, data={"csrf_token": self.token, **(data or {})}, **kwargs)

    def confirmed(self, url: str, data: dict | None = None):
        """Post a form; when the answer asks to confirm which QR codes it switches, confirm that list."""
        response = self.post(url, data)
        seen = hidden(response.get_data(as_text=True), "seen")
        if response.status_code == 200 and seen:
            response = self.post(url, {**(data or {}), "seen": seen})
        return response

    def publish(self, editor: str):
        """Open the publish confirmation, then confirm what it lists."""
        page = self.get(f"{editor}/publish")
        seen = hidden(page.get_data(as_text=True), "seen")
        return self.post(f"{editor}/publish", {"seen": seen}) if page.status_code == 200 and seen else page

    def create(self, code: str, start: str = "blank", **names) -> tuple[int, int]:
        data = {"code": code, "start": start, "name_zh_Hans": names.get("zh", ""), "name_en": names.get("en", "")}
        response = self.post(f"{BASE}/new", data)
        assert response.status_code == 303, response.get_data(as_text=True)
        qid, vid = re.search(r"/questionnaires/(\d+)/versions/(\d+)", response.headers["Location"]).groups()
        return int(qid), int(vid)

    def add_question(self, editor: str, **fields) -> int:
        response = self.post(f"{editor}/questions/new", question_form(**fields))
        assert response.status_code == 303, response.get_data(as_text=True)
        return int(re.search(r"#question-(\d+)", response.headers["Location"]).group(1))


def question_form(key, step, type, zh, en, required=True, dimension=0, options=(), help_zh="", help_en=""):
    data = {"key": key, "step": step, "type": type, "prompt_zh_Hans": zh, "prompt_en": en,
            "help_zh_Hans": help_zh, "help_en": help_en, "dimension_id": dimension}
    if required:
        data["required"] = "y"
    for index, (value, label_zh, label_en) in enumerate(options):
        data.update({f"options-{index}-value": value, f"options-{index}-label_zh_Hans": label_zh,
                     f"options-{index}-label_en": label_en})
    return data


def error_at(html: str, field_id: str) -> list[str]:
    """The error messages shown right after the input with this id (within its label, hint and errors)."""
    match = re.search(
        rf'id="{re.escape(field_id)}"[^>]*>.*?</label>(?:<p class="help"[^>]*>.*?</p>)?((?:<p class="error" role="alert">.*?</p>)*)',
        html, re.S,
    )
    assert match, f"no field {field_id}"
    return [html_unescape(m) for m in re.findall(r'<p class="error" role="alert">(.*?)</p>', match.group(1), re.S)]


def audit_actions(entity_type: str) -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == entity_type)))


@pytest.fixture
def admin(client, demo):
    return Admin(client, demo)


def _dimensions(rows):
    data = {}
    for index, (dim_id, key, zh, en, weight) in enumerate(rows):
        data.update({f"dimensions-{index}-id": dim_id or "", f"dimensions-{index}-key": key,
                     f"dimensions-{index}-name_zh_Hans": zh, f"dimensions-{index}-name_en": en,
                     f"dimensions-{index}-weight": weight})
    return data


def _texts(**overrides):
    data = {"languages": ["zh_Hans", "en"], "title_zh_Hans": "到店体验", "title_en": "Your visit",
            "intro_zh_Hans": "只需一分钟。", "intro_en": "One minute.", "thanks_zh_Hans": "谢谢！", "thanks_en": "Thank you!"}
    data.update(overrides)
    return data


SIX_QUESTIONS = [
    dict(key="service", step=1, type="csat", zh="您对服务满意吗？", en="How was our service?"),
    dict(key="problem", step=2, type="multiple", zh="哪里让您失望？", en="What went wrong?", required=False,
         options=[("waiting", "等待太久", "Waiting"), ("attitude", "态度", "Attitude")]),
    dict(key="visit", step=3, type="single", zh="您是第几次来？", en="Is this your first visit?",
         options=[("first", "第一次", "First visit"), ("again", "常来", "I come often")]),
    dict(key="recommend", step=4, type="nps", zh="您会推荐我们吗？", en="Would you recommend us?"),
    dict(key="comment", step=5, type="text", zh="还有什么想说的？", en="Anything else?", required=False),
    dict(key="contact", step=5, type="contact", zh="需要我们联系您吗？", en="May we call you back?", required=False,
         help_zh="选填。", help_en="Optional."),
]


def _build_six_question_questionnaire(app, admin) -> tuple[int, int, str, dict[str, int]]:
    qid, vid = admin.create("visit", zh="到店调查", en="Visit survey")
    editor = f"{BASE}/{qid}/versions/{vid}"
    assert admin.post(f"{editor}/texts", _texts()).status_code == 303
    assert admin.post(f"{editor}/dimensions", _dimensions([
        (None, "service", "服务", "Service", 60), (None, "product", "产品", "Product", 40),
    ])).status_code == 303
    with app.app_context():
        service_dim = db.session.scalar(select(Dimension.id).where(Dimension.version_id == vid, Dimension.key == "service"))
    ids = {}
    for fields in SIX_QUESTIONS:
        if fields["key"] == "service":
            fields = {**fields, "dimension": service_dim}
        ids[fields["key"]] = admin.add_question(editor, **fields)
    response = admin.post(f"{editor}/rules", {"source_id": ids["service"], "operator": "lte", "value": "3",
                                              "action": "show", "target_id": ids["problem"]})
    assert response.status_code == 303, response.get_data(as_text=True)
    return qid, vid, editor, ids


def test_admin_builds_publishes_and_targets_a_questionnaire_that_customers_then_answer(app, client, demo, admin):
    qid, vid, editor, ids = _build_six_question_questionnaire(app, admin)
    page = admin.get(editor).get_data(as_text=True)
    assert "If <strong>service</strong> is at most (≤) <strong>3</strong>" in page
    assert admin.get(f"{editor}/preview").status_code == 200

    response = admin.publish(editor)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"{BASE}/{qid}")
    with app.app_context():
        sh = db.session.scalar(select(Branch).where(Branch.code == "SH-PEOPLE"))
        sh_id = sh.id
    assert admin.confirmed(f"{BASE}/{qid}/targeting", {"branch_ids": [sh_id]}).status_code == 303

    with app.app_context():
        questionnaire = db.session.get(Questionnaire, qid)
        assert questionnaire.current_version_id == vid
        assert questionnaire.current_version.published_at is not None
        assert [b.code for b in questionnaire.target_branches] == ["SH-PEOPLE"]
        version = questionnaire.current_version
        assert [q.key for q in version.questions] == ["service", "problem", "visit", "recommend", "comment", "contact"]
        assert {str(q.type) for q in version.questions} == {"csat", "nps", "single", "multiple", "text", "contact"}
        assert [(d.key, d.weight) for d in version.dimensions] == [("service", 60), ("product", 40)]

    unhappy = SurveyWalker(client.application.test_client(), demo["tokens"]["SH-PEOPLE"])
    unhappy.open()
    assert "How was our service?" in unhappy.page or "您对服务满意吗？" in unhappy.page
    unhappy.answer(service=2)
    assert "What went wrong?" in unhappy.page or "哪里让您失望？" in unhappy.page
    unhappy.answer(problem=["waiting"])
    unhappy.answer(visit="first")
    unhappy.answer(recommend=3)
    response = unhappy.answer(comment="Too slow")
    assert response.status_code == 200

    happy = SurveyWalker(client.application.test_client(), demo["tokens"]["SH-PEOPLE"])
    happy.open()
    happy.answer(service=5)
    assert "What went wrong?" not in happy.page and "哪里让您失望？" not in happy.page
    assert "Is this your first visit?" in happy.page or "您是第几次来？" in happy.page

    with app.app_context():
        answered = db.session.scalar(select(Response).where(Response.version_id == vid, Response.submitted_at.is_not(None)))
        assert answered is not None
        assert {a.question_id for a in answered.answers} >= {ids["service"], ids["problem"], ids["visit"]}
    london = SurveyWalker(client.application.test_client(), demo["tokens"]["LDN-SOHO"])
    london.open()
    assert "How was our service?" not in london.page  # targeted at one branch only

    with app.app_context():
        assert audit_actions("questionnaire") == ["create", "update"]
        assert audit_actions("questionnaire_version") == ["create", "update", "publish"]
        assert audit_actions("question").count("create") == 6
        assert audit_actions("dimension") == ["create", "create"]
        assert audit_actions("skip_rule") == ["create"]


def test_the_list_shows_name_version_window_targeting_and_status(admin):
    page = admin.get(f"{BASE}/").get_data(as_text=True)
    assert "顾客满意度调查" in page or "Customer satisfaction survey" in page
    assert "Version 1" in page and "Always open" in page and "Every branch" in page and "Live" in page
    admin.create("later", en="Later survey")
    page = admin.get(f"{BASE}/").get_data(as_text=True)
    assert "Later survey" in page and "Not published yet" in page and "Draft: version 1" in page


def test_a_new_questionnaire_from_the_template_is_the_default_survey_as_a_draft_in_both_languages(app, admin):
    qid, vid = admin.create("copy", start="template")
    with app.app_context():
        questionnaire = db.session.get(Questionnaire, qid)
        version = db.session.get(QuestionnaireVersion, vid)
        assert questionnaire.current_version_id is None and not version.is_published
        assert [q.key for q in version.questions][:3] == ["product", "service", "service_problem"]
        assert all(q.prompt.get("zh_Hans") and q.prompt.get("en") for q in version.questions)
        assert sum(d.weight for d in version.dimensions) == 100 and len(version.rules) == 1
    page = admin.get(f"{BASE}/{qid}/versions/{vid}/preview", query_string={"language": "en"}).get_data(as_text=True)
    assert page.count('class="preview-phone') == 7  # six steps and the thank-you screen
    assert "Which part of the service disappointed you?" in page and "Asked only if service" in page
    page = admin.get(f"{BASE}/{qid}/versions/{vid}/preview", query_string={"language": "zh_Hans"}).get_data(as_text=True)
    assert "服务的哪些方面让您失望？" in page


def test_a_blank_questionnaire_needs_a_code_not_taken_and_a_name(admin):
    response = admin.post(f"{BASE}/new", {"code": "satisfaction", "start": "blank", "name_en": "Again"})
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), "code") == ["Another questionnaire already uses this code."]
    response = admin.post(f"{BASE}/new", {"code": "Bad Code!", "start": "blank"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and error_at(page, "code") and error_at(page, "name_zh_Hans")
    assert 'value="Bad Code!"' in page  # what was typed is kept


def test_weights_that_do_not_add_up_to_100_are_refused_at_the_weight_fields(app, admin):
    qid, vid = admin.create("weights", en="Weights")
    editor = f"{BASE}/{qid}/versions/{vid}"
    response = admin.post(f"{editor}/dimensions", _dimensions([
        (None, "product", "产品", "Product", 40), (None, "service", "服务", "Service", 35),
    ]))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    message = "The weights add up to 75; they must add up to exactly 100."
    assert error_at(page, "dimensions-0-weight") == [message] and error_at(page, "dimensions-1-weight") == [message]
    assert 'value="35"' in page
    with app.app_context():
        assert db.session.scalar(select(func.count(Dimension.id)).where(Dimension.version_id == vid)) == 0
    response = admin.post(f"{editor}/dimensions", _dimensions([
        (None, "product", "产品", "Product", 40), (None, "product", "服务", "Service", 60),
    ]))
    assert error_at(response.get_data(as_text=True), "dimensions-1-key") == [
        "Another one in this version already uses this key."
    ]


def test_dimensions_can_be_renamed_reweighted_and_removed_together(app, admin):
    qid, vid = admin.create("dims", start="template")
    editor = f"{BASE}/{qid}/versions/{vid}"
    with app.app_context():
        dims = {d.key: d.id for d in db.session.get(QuestionnaireVersion, vid).dimensions}
    response = admin.post(f"{editor}/dimensions", {
        **_dimensions([
            (dims["product"], "service", "服务", "Service", 50),  # the two swap keys
            (dims["service"], "product", "产品", "Product", 50),
            (dims["environment"], "environment", "环境", "Environment", 25),
        ]),
        "dimensions-2-remove": "y",
    })
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        version = db.session.get(QuestionnaireVersion, vid)
        assert [(d.key, d.weight) for d in version.dimensions] == [("service", 50), ("product", 50)]
        environment = next(q for q in version.questions if q.key == "environment")
        assert environment.dimension_id is None
        assert sorted(audit_actions("dimension")) == ["delete", "update", "update"]


def test_a_rule_pointing_backwards_or_within_its_step_is_refused_at_the_rule_field(app, admin):
    qid, vid, editor, ids = _build_six_question_questionnaire(app, admin)
    backwards = {"source_id": ids["recommend"], "operator": "lte", "value": "6", "action": "show", "target_id": ids["service"]}
    response = admin.post(f"{editor}/rules", backwards)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert error_at(page, "target_id") == [
        "“service” must be on a later step than “recommend”: a rule only reads earlier questions, "
        "so it never points backwards or loops."
    ]
    same_step = {"source_id": ids["comment"], "operator": "answered", "value": "", "action": "skip", "target_id": ids["contact"]}
    assert error_at(admin.post(f"{editor}/rules", same_step).get_data(as_text=True), "target_id")
    wrong_value = {"source_id": ids["service"], "operator": "lte", "value": "9", "action": "show", "target_id": ids["visit"]}
    assert error_at(admin.post(f"{editor}/rules", wrong_value).get_data(as_text=True), "value") == [
        "Give a whole number from 1 to 5."
    ]
    wrong_operator = {"source_id": ids["problem"], "operator": "lte", "value": "2", "action": "show", "target_id": ids["visit"]}
    assert error_at(admin.post(f"{editor}/rules", wrong_operator).get_data(as_text=True), "operator")
    with app.app_context():
        assert db.session.scalar(select(func.count(SkipRule.id)).where(SkipRule.version_id == vid)) == 1


def test_a_question_change_that_would_break_a_rule_is_refused_at_its_field(app, admin):
    qid, vid, editor, ids = _build_six_question_questionnaire(app, admin)
    moved_early = question_form(**{**SIX_QUESTIONS[1], "step": 1})
    response = admin.post(f"{editor}/questions/{ids['problem']}", moved_early)
    assert response.status_code == 422
    assert "Change or remove the rule first." in error_at(response.get_data(as_text=True), "step")[0]
    to_text = question_form(**{**SIX_QUESTIONS[0], "type": "text"})
    response = admin.post(f"{editor}/questions/{ids['service']}", to_text)
    assert error_at(response.get_data(as_text=True), "type")
    response = admin.post(f"{editor}/questions/{ids['problem']}/move", {"direction": "up"})
    assert response.status_code == 303
    assert "Not moved" in admin.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Question, ids["problem"]).step == 2


def test_question_keys_options_and_prompts_are_checked_at_their_fields(app, admin):
    qid, vid, editor, ids = _build_six_question_questionnaire(app, admin)
    response = admin.post(f"{editor}/questions/new", question_form("service", 6, "csat", "", ""))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert error_at(page, "key") == ["Another one in this version already uses this key."]
    assert error_at(page, "prompt_zh_Hans") == ["Write the question in at least one language."]
    one_option = question_form("pick", 6, "single", "选", "Pick", options=[("only", "唯一", "Only")])
    assert error_at(admin.post(f"{editor}/questions/new", one_option).get_data(as_text=True), "options-0-value") == []
    page = admin.post(f"{editor}/questions/new", one_option).get_data(as_text=True)
    assert "A choice question needs at least two options." in page
    unlabelled_value = question_form("pick", 6, "single", "选", "Pick", options=[("", "一", "One"), ("two", "二", "Two")])
    page = admin.post(f"{editor}/questions/new", unlabelled_value).get_data(as_text=True)
    assert error_at(page, "options-0-value") == ["Give this option a value."]
    bad_key = admin.post(f"{editor}/questions/new", question_form("Bad Key", 6, "csat", "问", "Q"))
    assert error_at(bad_key.get_data(as_text=True), "key")
    with app.app_context():
        assert db.session.scalar(select(func.count(Question.id)).where(Question.version_id == vid)) == 6


def test_publishing_refuses_missing_texts_and_no_questions_showing_each_at_its_field(app, admin):
    qid, vid = admin.create("empty", en="Empty")
    editor = f"{BASE}/{qid}/versions/{vid}"
    response = admin.post(f"{editor}/publish")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Add at least one question before publishing." in page
    assert error_at(page, "title_zh_Hans") == ["Missing in 中文, which this version is offered in."]
    question_id = admin.add_question(editor, key="only", step=1, type="single", zh="", en="Pick one",
                                     options=[("a", "", "A"), ("b", "乙", "B")])
    page = admin.post(f"{editor}/publish").get_data(as_text=True)
    row = page[page.index(f'id="question-{question_id}"'):page.index('id="rules"')]
    assert "Missing in 中文, which this version is offered in." in row
    assert "Option “a” has no label in 中文." in row
    admin.post(f"{editor}/texts", _texts(languages=["en"]))
    assert admin.publish(editor).status_code == 303  # English only: nothing is missing
    with app.app_context():
        assert db.session.get(QuestionnaireVersion, vid).is_published


def test_window_is_entered_in_head_office_time_and_end_must_follow_start(app, admin):
    response = admin.post(f"{BASE}/1/settings", {"name_zh_Hans": "满意度", "name_en": "Satisfaction",
                                                 "starts_at": "2030-01-02T09:00", "ends_at": "2030-01-01T09:00"})
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), "ends_at") == ["The end must be after the start."]
    response = admin.confirmed(f"{BASE}/1/settings", {"name_zh_Hans": "满意度", "name_en": "Satisfaction",
                                                      "starts_at": "2030-01-01T09:00", "ends_at": ""})
    assert response.status_code == 303
    with app.app_context():
        questionnaire = db.session.get(Questionnaire, 1)
        assert questionnaire.starts_at.isoformat() == "2030-01-01T01:00:00+00:00"  # Asia/Shanghai is UTC+8
        assert questionnaire.ends_at is None
    page = admin.get(f"{BASE}/1").get_data(as_text=True)
    assert 'value="2030-01-01T09:00"' in page and "Scheduled" in page


def test_a_questionnaire_not_open_yet_is_not_offered(client, demo, admin):
    admin.confirmed(f"{BASE}/1/settings", {"name_en": "Satisfaction", "starts_at": "2099-01-01T00:00"})
    walker = SurveyWalker(client.application.test_client(), demo["tokens"]["SH-PEOPLE"])
    assert walker.open().status_code == 410


def test_targeting_by_region_offers_it_only_in_that_region(app, client, demo, admin):
    qid, vid = admin.create("east", start="template")
    admin.post(f"{BASE}/{qid}/versions/{vid}/texts", _texts(title_en="East only", title_zh_Hans="华东专属"))
    assert admin.publish(f"{BASE}/{qid}/versions/{vid}").status_code == 303
    assert admin.confirmed(f"{BASE}/{qid}/targeting", {"regions": ["华东 East China"]}).status_code == 303
    response = admin.post(f"{BASE}/{qid}/targeting", {"regions": ["Atlantis"]})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(Questionnaire, qid).target_regions == ["华东 East China"]
    east = SurveyWalker(client.application.test_client(), demo["tokens"]["HZ-WESTLAKE"])
    east.open(lang="en")
    assert "East only" in east.page
    london = SurveyWalker(client.application.test_client(), demo["tokens"]["LDN-SOHO"])
    london.open(lang="en")
    assert "East only" not in london.page and "How was your visit?" in london.page


def _snapshot(version_id: int) -> tuple:
    version = db.session.get(QuestionnaireVersion, version_id)
    db.session.refresh(version)
    return (
        version.status, version.languages, version.title, version.intro, version.thanks,
        [(d.key, d.name, d.weight, d.position) for d in version.dimensions],
        [(q.id, q.key, q.step, q.position, q.type, q.required, q.prompt, q.options) for q in version.questions],
        [(r.id, r.source_question_id, r.operator, r.value, r.action, r.target_question_id) for r in version.rules],
    )


def test_a_published_version_cannot_be_changed_by_any_route(app, admin):
    with app.app_context():
        version = db.session.get(Questionnaire, 1).current_version
        vid, question_id, rule_id = version.id, version.questions[1].id, version.rules[0].id
        before = _snapshot(vid)
        entries = db.session.scalar(select(func.count(AuditEntry.id)))
    editor = f"{BASE}/1/versions/{vid}"
    attempts = [
        ("post", f"{editor}/texts", _texts(title_en="Changed")),
        ("post", f"{editor}/dimensions", _dimensions([(None, "all", "全部", "All", 100)])),
        ("post", f"{editor}/publish", {}),
        ("get", f"{editor}/questions/new", None),
        ("post", f"{editor}/questions/new", question_form("extra", 7, "text", "多", "Extra")),
        ("get", f"{editor}/questions/{question_id}", None),
        ("post", f"{editor}/questions/{question_id}", question_form("service", 2, "csat", "改", "Changed")),
        ("post", f"{editor}/questions/{question_id}/move", {"direction": "down"}),
        ("post", f"{editor}/questions/{question_id}/delete", {}),
        ("post", f"{editor}/rules", {"source_id": question_id, "operator": "lte", "value": "2", "action": "skip",
                                     "target_id": version.questions[3].id}),
        ("get", f"{editor}/rules/{rule_id}", None),
        ("post", f"{editor}/rules/{rule_id}", {"source_id": question_id, "operator": "lte", "value": "1",
                                               "action": "show", "target_id": version.questions[2].id}),
        ("post", f"{editor}/rules/{rule_id}/delete", {}),
    ]
    for method, url, data in attempts:
        response = admin.post(url, data) if method == "post" else admin.get(url)
        assert response.status_code == 303, (method, url, response.status_code)
        assert response.headers["Location"].endswith(editor), url
        page = admin.get(editor).get_data(as_text=True)
        assert "This version is published and cannot change; make a new draft from it." in page, url
    htmx = admin.post(f"{editor}/questions/{question_id}/move", {"direction": "down"}, headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and htmx.headers["HX-Redirect"].endswith(editor)
    with app.app_context():
        assert _snapshot(vid) == before
        assert db.session.scalar(select(func.count(AuditEntry.id))) == entries
    page = admin.get(editor).get_data(as_text=True)
    assert "<fieldset class=\"plain\" disabled>" in page and "Save texts" not in page and "Add rule" not in page


def test_a_published_version_changed_behind_the_page_is_refused_not_a_server_error(app, admin, monkeypatch):
    """The flush guard is the backstop: a route that slipped past the check still answers with the message."""
    from app.models import PublishedVersionError
    from app.services.questionnaires import versions

    qid, vid = admin.create("race", start="template")

    def published_meanwhile(*args, **kwargs):
        raise PublishedVersionError("published by someone else a moment ago")

    monkeypatch.setattr(versions, "update_texts", published_meanwhile)
    response = admin.post(f"{BASE}/{qid}/versions/{vid}/texts", _texts())
    assert response.status_code == 303
    assert "cannot change" in admin.get(response.headers["Location"]).get_data(as_text=True)


def test_a_new_draft_from_version_1_becomes_version_2_while_old_responses_keep_version_1(app, client, demo, admin):
    with app.app_context():
        v1 = db.session.get(Questionnaire, 1).current_version
        v1_id, v1_keys = v1.id, [q.key for q in v1.questions]
        old_responses = db.session.scalar(select(func.count(Response.id)).where(Response.version_id == v1_id))
    assert old_responses > 0
    response = admin.post(f"{BASE}/1/versions/{v1_id}/new-draft")
    assert response.status_code == 303
    v2_id = int(re.search(r"/versions/(\d+)", response.headers["Location"]).group(1))
    again = admin.post(f"{BASE}/1/versions/{v1_id}/new-draft")
    assert again.headers["Location"].endswith(f"/versions/{v2_id}")  # one open draft at a time
    with app.app_context():
        v2 = db.session.get(QuestionnaireVersion, v2_id)
        assert v2.number == 2 and not v2.is_published
        assert [q.key for q in v2.questions] == v1_keys and len(v2.rules) == 1 and len(v2.dimensions) == 3
        assert v2.rules[0].source.key == "service" and v2.rules[0].target.version_id == v2_id
        product_id = v2.questions[0].id
        assert db.session.scalar(select(func.count(QuestionnaireVersion.id)).where(QuestionnaireVersion.questionnaire_id == 1)) == 2
    changed = question_form("product", 1, "csat", "您喜欢我们的新品吗？", "Do you like our new products?", dimension=0)
    assert admin.post(f"{BASE}/1/versions/{v2_id}/questions/{product_id}", changed).status_code == 303
    assert admin.publish(f"{BASE}/1/versions/{v2_id}").status_code == 303
    with app.app_context():
        assert db.session.get(Questionnaire, 1).current_version_id == v2_id
        assert db.session.scalar(select(func.count(Response.id)).where(Response.version_id == v1_id)) == old_responses
        assert db.session.get(QuestionnaireVersion, v1_id).questions[0].prompt["en"] == "How satisfied are you with our products?"
    walker = SurveyWalker(client.application.test_client(), demo["tokens"]["SH-PEOPLE"])
    walker.open(lang="en")
    assert "Do you like our new products?" in walker.page
    page = admin.get(f"{BASE}/1").get_data(as_text=True)
    assert "New draft from version 2" in page and "New draft from version 1" in page


def test_an_archived_questionnaire_is_no_longer_offered_until_restored(app, client, demo, admin):
    assert admin.post(f"{BASE}/1/archive").status_code == 303
    walker = SurveyWalker(client.application.test_client(), demo["tokens"]["SH-PEOPLE"])
    assert walker.open().status_code == 410
    assert "Satisfaction" not in admin.get(f"{BASE}/").get_data(as_text=True)
    archived = admin.get(f"{BASE}/", query_string={"archived": "1"}).get_data(as_text=True)
    assert "Customer satisfaction survey" in archived and "Archived" in archived
    assert admin.post(f"{BASE}/1/restore").status_code == 303
    assert walker.open().status_code == 200
    with app.app_context():
        assert audit_actions("questionnaire") == ["archive", "restore"]


def test_questions_move_up_and_down_as_plain_forms_and_with_htmx(app, admin):
    qid, vid, editor, ids = _build_six_question_questionnaire(app, admin)
    response = admin.post(f"{editor}/questions/{ids['recommend']}/move", {"direction": "up"})
    assert response.status_code == 303
    with app.app_context():
        version = db.session.get(QuestionnaireVersion, vid)
        assert [(q.key, q.step) for q in version.questions][2:4] == [("recommend", 3), ("visit", 4)]
    response = admin.post(f"{editor}/questions/{ids['recommend']}/move", {"direction": "down"},
                          headers={"HX-Request": "true"})
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in fragment
    assert fragment.lstrip().startswith('<section class="card" id="questions">') and "Moved “recommend”." in fragment
    assert "HX-Request" in response.headers["Vary"]
    with app.app_context():
        version = db.session.get(QuestionnaireVersion, vid)
        assert [q.key for q in version.questions][2:4] == ["visit", "recommend"]
        assert audit_actions("question").count("reorder") == 4


def test_removing_a_question_removes_the_rules_that_used_it(app, admin):
    qid, vid, editor, ids = _build_six_question_questionnaire(app, admin)
    response = admin.post(f"{editor}/questions/{ids['problem']}/delete")
    assert response.status_code == 303
    assert "1 skip rule(s) that used it were removed too." in admin.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        version = db.session.get(QuestionnaireVersion, vid)
        assert [q.key for q in version.questions] == ["service", "visit", "recommend", "comment", "contact"]
        assert version.rules == []
        assert audit_actions("skip_rule") == ["create", "delete"] and "delete" in audit_actions("question")


def test_a_rule_can_be_edited_from_its_own_page(app, admin):
    qid, vid, editor, ids = _build_six_question_questionnaire(app, admin)
    with app.app_context():
        rule_id = db.session.scalar(select(SkipRule.id).where(SkipRule.version_id == vid))
    page = admin.get(f"{editor}/rules/{rule_id}").get_data(as_text=True)
    assert '<option selected value="lte">' in page
    response = admin.post(f"{editor}/rules/{rule_id}", {"source_id": ids["service"], "operator": "lt", "value": "3",
                                                        "action": "show", "target_id": ids["problem"]})
    assert response.status_code == 303
    response = admin.post(f"{editor}/rules/{rule_id}", {"source_id": ids["visit"], "operator": "eq", "value": "third",
                                                        "action": "show", "target_id": ids["recommend"]})
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), "value") == ["Give one of the question's option values: first, again."]
    with app.app_context():
        rule = db.session.get(SkipRule, rule_id)
        assert (rule.operator, rule.value) == ("lt", "3")
        assert audit_actions("skip_rule") == ["create", "update"]


def test_unknown_ids_are_404_not_errors(admin):
    assert admin.get(f"{BASE}/999").status_code == 404
    assert admin.get(f"{BASE}/1/versions/999").status_code == 404
    assert admin.post(f"{BASE}/1/versions/999/texts", _texts()).status_code == 404
