"""Traditional Chinese (issue 11 item 10): a zh-TW / zh-HK phone reads the pages' chrome in Traditional
Chinese, the questionnaire's zh_Hant texts where its version has them (else its Simplified ones), and the
replies to its complaint come in Traditional Chinese too."""
import re

from sqlalchemy import select

from app.extensions import db
from app.models import OutboxEmail, Response, Ticket, User
from app.services import tickets as ticket_service
from tests.conftest import SurveyWalker
from tests.traditional import serve_traditional_chinese_at

TAIWAN = {"Accept-Language": "zh-TW,zh;q=0.9,en;q=0.8"}
HONG_KONG = {"Accept-Language": "zh-HK"}
MAINLAND = {"Accept-Language": "zh-CN,zh;q=0.9"}


def page(client, token, headers) -> str:
    return client.get(f"/s/{token}", headers=headers).get_data(as_text=True)


def test_a_taiwan_phone_gets_traditional_chrome_and_the_simplified_texts_of_a_version_without_traditional(app, demo):
    html = page(app.test_client(), demo["tokens"]["SH-PEOPLE"], TAIWAN)
    assert '<html lang="zh-Hant"' in html
    assert "非常不滿意" in html and "非常不满意" not in html  # the rating words: the chrome
    assert "您对我们的产品满意吗？" in html  # the question: the version has no zh_Hant, so zh_Hans, not English
    assert 'lang="zh-Hans">中文</a>' in html and 'lang="en">English</a>' in html


def test_a_version_with_traditional_texts_speaks_traditional_to_hong_kong_and_simplified_to_shanghai(app, demo):
    with app.app_context():
        serve_traditional_chinese_at("SH-PEOPLE")
    token = demo["tokens"]["SH-PEOPLE"]
    hong_kong = page(app.test_client(), token, HONG_KONG)
    assert "您對我們的產品滿意嗎？" in hong_kong and "您對本次體驗滿意嗎？" in hong_kong
    mainland = page(app.test_client(), token, MAINLAND)
    assert "您对我们的产品满意吗？" in mainland and "滿意嗎" not in mainland
    english = page(app.test_client(), token, {"Accept-Language": "en-GB"})
    assert "How satisfied are you with our products?" in english
    # the language links offer it too, and remember the choice
    client = app.test_client()
    chosen = client.get(f"/s/{token}?lang=zh_Hant", headers=MAINLAND).get_data(as_text=True)
    assert "您對我們的產品滿意嗎？" in chosen
    assert "您對我們的產品滿意嗎？" in page(client, token, MAINLAND)


def test_a_hong_kong_customer_is_answered_in_traditional_chinese_to_the_end(app, demo):
    with app.app_context():
        serve_traditional_chinese_at("SH-PEOPLE")
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-HK"
    walker = SurveyWalker(client, demo["tokens"]["SH-PEOPLE"])
    walker.open()
    walker.answer(product=4)
    walker.answer(service=1)
    assert "服務的哪些方面讓您失望？" in walker.page and "等待時間太長" in walker.page
    walker.answer(service_problem=["waiting"])
    walker.answer(environment=3)
    walker.answer(nps=2)
    walker.answer(comment="排隊等了很久", q_contact_email="chan@example.com", q_contact_consent="y")
    assert "感謝您的反饋！" in walker.page
    code = re.search(r"LD-[0-9A-Z]+", walker.page).group(0)
    with app.app_context():
        response = db.session.scalar(select(Response).order_by(Response.id.desc()))
        ticket = db.session.scalar(select(Ticket).where(Ticket.reference_code == code))
        assert response.language == "zh_Hant" and ticket.language == "zh_Hant"
        supervisor = db.session.scalar(select(User).where(User.username == "supervisor"))
        ticket_service.reply(ticket, supervisor, "非常抱歉，已安排專人處理", ticket_service.page_version(ticket))
        db.session.commit()
        secret = ticket.customer_secret
        email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to == "chan@example.com"))
        assert "您的反饋" in email.subject and "在這裡檢視您的反饋並回覆我們" in email.body, (email.subject, email.body)
    status = client.get(f"/t/{code}?s={secret}").get_data(as_text=True)
    assert '<html lang="zh-Hant"' in status and "非常抱歉，已安排專人處理" in status


def test_the_language_links_offer_traditional_chinese_only_where_the_version_is_written_in_it(app, demo):
    token = demo["tokens"]["SH-PEOPLE"]
    without = page(app.test_client(), token, MAINLAND)
    assert 'lang="en">English</a>' in without and "繁體中文</a>" not in without
    with app.app_context():
        serve_traditional_chinese_at("SH-PEOPLE")
    with_traditional = page(app.test_client(), token, MAINLAND)
    assert 'lang="zh-Hant">繁體中文</a>' in with_traditional and 'lang="en">English</a>' in with_traditional
