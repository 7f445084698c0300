"""The questionnaire editor offers Traditional Chinese as a third language (issue 11 item 10): a version
can add it, its fields show then, publishing asks for its texts as for the others, a Taiwan phone reads
them, and a copy keeps them."""
import re

from sqlalchemy import select

from app.extensions import db
from app.models import Question, Questionnaire, QuestionnaireVersion
from tests.conftest import SurveyWalker
from tests.integration.questionnaires.test_admin_questionnaires import BASE, _texts, admin, error_at, question_form  # noqa: F401
from tests.traditional import serve_traditional_chinese_at

HANT_TEXTS = {"title_zh_Hant": "到店體驗", "intro_zh_Hant": "只需一分鐘。", "thanks_zh_Hant": "謝謝！"}


def test_a_version_adds_traditional_chinese_and_publishing_asks_for_its_texts(app, admin):
    qid, vid = admin.create("hk-visit", zh="香港到店", en="Hong Kong visit")
    editor = f"{BASE}/{qid}/versions/{vid}"
    page = admin.get(editor).get_data(as_text=True)
    assert 'value="zh_Hant"' in page and "繁體中文" in page  # offered
    assert 'id="title_zh_Hant"' not in page  # but its fields only once a version offers it
    question_id = admin.add_question(editor, key="service", step=1, type="single", zh="服务怎么样？", en="Service?",
                                     options=[("good", "好", "Good"), ("bad", "差", "Bad")])
    assert admin.post(f"{editor}/texts", _texts(languages=["zh_Hans", "en", "zh_Hant"])).status_code == 303
    page = admin.get(editor).get_data(as_text=True)
    assert 'id="title_zh_Hant"' in page and 'id="thanks_zh_Hant"' in page
    page = admin.post(f"{editor}/publish").get_data(as_text=True)
    assert error_at(page, "title_zh_Hant") == ["Missing in 繁體中文, which this version is offered in."]
    row = page[page.index(f'id="question-{question_id}"'):page.index('id="rules"')]
    assert "Missing in 繁體中文, which this version is offered in." in row
    assert "Option “good” has no label in 繁體中文." in row

    assert admin.post(f"{editor}/texts", _texts(languages=["zh_Hans", "en", "zh_Hant"], **HANT_TEXTS)).status_code == 303
    form_page = admin.get(f"{editor}/questions/{question_id}").get_data(as_text=True)
    assert 'id="prompt_zh_Hant"' in form_page and 'id="options-0-label_zh_Hant"' in form_page
    data = question_form(key="service", step=1, type="single", zh="服务怎么样？", en="Service?",
                         options=[("good", "好", "Good"), ("bad", "差", "Bad")])
    data.update({"prompt_zh_Hant": "服務怎麼樣？", "options-0-label_zh_Hant": "好", "options-1-label_zh_Hant": "差"})
    assert admin.post(f"{editor}/questions/{question_id}", data).status_code == 303
    preview = admin.get(f"{editor}/preview?language=zh_Hant").get_data(as_text=True)
    assert 'lang="zh-Hant"' in preview and "服務怎麼樣？" in preview and "到店體驗" in preview
    assert admin.publish(editor).status_code == 303
    with app.app_context():
        version = db.session.get(QuestionnaireVersion, vid)
        assert version.is_published and version.languages == ["zh_Hans", "en", "zh_Hant"]
        assert version.title == {"zh_Hans": "到店体验", "en": "Your visit", "zh_Hant": "到店體驗"}
        question = db.session.get(Question, question_id)
        assert question.prompt["zh_Hant"] == "服務怎麼樣？"
        assert [o["label"]["zh_Hant"] for o in question.options] == ["好", "差"]


def test_a_version_without_traditional_chinese_keeps_its_texts_as_they_were(app, admin):
    qid, vid = admin.create("sh-visit", zh="上海到店", en="Shanghai visit")
    editor = f"{BASE}/{qid}/versions/{vid}"
    assert admin.post(f"{editor}/texts", _texts()).status_code == 303
    question_id = admin.add_question(editor, key="q", step=1, type="text", zh="说说看", en="Tell us")
    with app.app_context():
        assert db.session.get(QuestionnaireVersion, vid).title == {"zh_Hans": "到店体验", "en": "Your visit"}
        assert db.session.get(Question, question_id).prompt == {"zh_Hans": "说说看", "en": "Tell us"}


def test_a_copy_keeps_the_traditional_chinese_texts(app, admin, demo):
    with app.app_context():
        served = serve_traditional_chinese_at("SH-PEOPLE")
        qid = served.questionnaire_id
    response = admin.post(f"{BASE}/{qid}/copy", {"code": "hk-2027", "name_zh_Hans": "香港 2027", "name_en": "HK 2027"})
    assert response.status_code == 303, response.get_data(as_text=True)
    copy_vid = int(re.search(r"/versions/(\d+)", response.headers["Location"]).group(1))
    with app.app_context():
        copy = db.session.get(QuestionnaireVersion, copy_vid)
        assert copy.languages == ["zh_Hans", "en", "zh_Hant"]
        assert copy.title["zh_Hant"] == "您對本次體驗滿意嗎？"
        assert {q.key: q.prompt.get("zh_Hant") for q in copy.questions}["product"] == "您對我們的產品滿意嗎？"
        assert db.session.scalar(select(Questionnaire).where(Questionnaire.code == "hk-2027")) is not None
    # and a Taiwan phone reads the served version's texts
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-TW"
    walker = SurveyWalker(client, demo["tokens"]["SH-PEOPLE"])
    walker.open()
    assert "您對我們的產品滿意嗎？" in walker.page
