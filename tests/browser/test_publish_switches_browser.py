"""An admin publishes a questionnaire for every branch: Chromium shows which QR codes switch, and publishes on a yes.

Once with htmx (the list comes in place, in the publish card) and once with JavaScript off (the same
list on its own page, a plain form): both end with every code serving the new questionnaire.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from app.extensions import db
from app.models import Questionnaire
from tests.browser.test_admin_builds_a_survey import LAPTOP, sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_admin_publishes_sees_which_codes_switch_and_confirms(browser: Browser, live_server, javascript):
    context = browser.new_context(**LAPTOP, java_script_enabled=javascript)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    base = live_server.url
    try:
        sign_in(page, base)
        page.goto(f"{base}/admin/questionnaires/new")
        page.fill("#code", "winter")
        page.fill("#name_zh_Hans", "冬季调查")
        page.fill("#name_en", "Winter survey")
        page.check("#start-1")  # the default questionnaire, both languages: ready to publish
        page.get_by_role("button", name="Create draft").click()
        editor_url = page.url.split("#")[0]

        page.get_by_role("button", name="Publish version 1…").click()
        confirm = page.locator("#confirm-publish")
        expect(confirm.get_by_text("4 changes to what QR codes open:")).to_be_visible()
        rows = confirm.locator("tbody tr")
        expect(rows).to_have_count(4)
        for branch in ("上海人民广场店", "杭州西湖店", "London Soho"):
            expect(rows.filter(has_text=branch).first).to_contain_text("Customer satisfaction survey, version 1")
            expect(rows.filter(has_text=branch).first).to_contain_text("Winter survey, version 1")
        expect(rows.filter(has_text="Kiosk")).to_have_count(1)
        if javascript:
            assert page.url.split("#")[0] == editor_url  # swapped in place: still the editor's address
        with live_server.app.app_context():
            assert db.session.scalar(select(Questionnaire.current_version_id).where(Questionnaire.code == "winter")) is None

        confirm.get_by_role("button", name="Publish version 1").click()
        expect(page.get_by_text("Version 1 is published")).to_be_visible()
        page.goto(f"{base}/admin/questionnaires/")
        serving = page.locator("#serving-now tbody tr")
        expect(serving).to_have_count(4)
        expect(serving.filter(has_text="Winter survey, version 1")).to_have_count(4)
        default_row = page.locator("table.questionnaires tr", has_text="Customer satisfaction survey")
        expect(default_row).to_contain_text("Nowhere right now")
        assert errors == []
    finally:
        context.close()
