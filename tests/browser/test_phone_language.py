"""Language fallback per branch and Traditional Chinese in Chromium (issue 11 item 10), JavaScript on and
off: a French phone at London Soho reads English; a Hong Kong phone at a branch whose questionnaire has
Traditional Chinese texts answers it in Traditional Chinese to the thank-you page; a French phone at a
branch set to Traditional Chinese reads Traditional Chinese."""
from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from app.extensions import db
from app.models import Branch, QrCode, Response
from app.services.survey.entries import forget_cached_codes
from tests.browser.test_phone_survey import PHONE, PRODUCT
from tests.traditional import serve_traditional_chinese_at

pytestmark = pytest.mark.browser

HANT = {
    "product": "您對我們的產品滿意嗎？",
    "service": "您對我們的服務滿意嗎？",
    "problem": "服務的哪些方面讓您失望？",
    "environment": "您對門店環境滿意嗎？",
    "nps": "您有多大可能向朋友推薦我們？",
    "comment": "還有什麼想告訴我們的嗎？",
}


def _token(app, branch_code: str) -> str:
    with app.app_context():
        return db.session.scalar(
            select(QrCode.token).join(Branch).where(Branch.code == branch_code, QrCode.is_kiosk.is_(False))
        )


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_each_phone_reads_its_language_or_the_branch_one(browser: Browser, live_server, javascript):
    app = live_server.app
    with app.app_context():
        serve_traditional_chinese_at("HZ-WESTLAKE")  # the chain's questionnaire, now also in zh_Hant
        db.session.scalar(select(Branch).where(Branch.code == "HZ-WESTLAKE")).default_language = "zh_Hant"
        db.session.commit()
        forget_cached_codes()

    def phone(locale: str):
        context = browser.new_context(**{**PHONE, "locale": locale}, java_script_enabled=javascript)
        context.set_default_timeout(10_000)
        return context, context.new_page()

    # a French phone at London Soho: English, the branch's language
    context, page = phone("fr-FR")
    try:
        page.goto(f"{live_server.url}/s/{_token(app, 'LDN-SOHO')}")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("group", name=PRODUCT)).to_be_visible()
    finally:
        context.close()

    # a Hong Kong phone: Traditional Chinese texts and chrome through the whole survey
    context, page = phone("zh-HK")
    try:
        page.goto(f"{live_server.url}/s/{_token(app, 'SH-PEOPLE')}")
        expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
        expect(page.get_by_role("heading", level=1).first).to_have_text("您對本次體驗滿意嗎？")

        def choose(prompt: str, name: str) -> None:
            page.get_by_role("group", name=HANT[prompt]).get_by_role("button", name=name, exact=True).tap()

        choose("product", "滿意")
        choose("service", "不滿意")
        page.get_by_role("group", name=HANT["problem"]).get_by_role("checkbox", name="等待時間太長").check()
        page.get_by_role("button", name="下一步", exact=True).click()
        choose("environment", "非常滿意")
        choose("nps", "8")
        page.get_by_role("group", name=HANT["comment"]).get_by_role("textbox").fill("排隊有點久")
        page.get_by_role("button", name="提交", exact=True).click()
        expect(page.get_by_role("heading", name="感謝您的反饋！")).to_be_visible(timeout=15_000)
        with app.app_context():
            response = db.session.scalar(select(Response).order_by(Response.id.desc()))
            assert response.submitted_at is not None and response.language == "zh_Hant"
    finally:
        context.close()

    # a French phone at a branch set to Traditional Chinese
    context, page = phone("fr-FR")
    try:
        page.goto(f"{live_server.url}/s/{_token(app, 'HZ-WESTLAKE')}")
        expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
        expect(page.get_by_role("group", name=HANT["product"])).to_be_visible()
    finally:
        context.close()
