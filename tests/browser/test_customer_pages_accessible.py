"""Every page a customer sees passes axe-core with no serious or critical violation, in Chinese and in English.

axe-core 4.14.1 (MPL-2.0, licence beside it) is vendored for the tests only, as the npm package ships it
(`npm pack axe-core@4.14.1`, its axe.min.js) in tests/browser/vendor/: the pages never load it. The one
browser context per language walks the default questionnaire step by step (htmx swaps, axe stays injected).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from app.extensions import db
from app.models import QrCode
from tests.browser.test_phone_survey import PHONE, shoot

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
#: axe-core's impacts that fail the test; "minor" and "moderate" are only printed.
FAILING_IMPACTS = ("serious", "critical")
LOCALES = {"zh_Hans": "zh-CN", "en": "en-US"}
PHONE_NUMBER = "13912345678"


def axe_violations(page: Page) -> list[dict]:
    """axe-core's violations on the page as it is now (injected through the debugger, so the CSP stays as it is)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary.replace(/\\s+/g, ' ')}`)}))"""
    )


def walk_the_survey(page: Page, check) -> None:
    """Answer every step of the default questionnaire as an unhappy customer who leaves a phone number,
    calling ``check(name)`` once each step is on screen."""
    for number in range(1, 10):
        step = page.locator("#survey-step")
        page.locator(f"#survey-step progress[value='{number}'], section.thanks").wait_for()
        if page.locator("section.thanks").count():
            return
        check(f"step {number}")
        if number == 2:
            shoot(page, f"axe-{page.locator('html').get_attribute('lang')}-step-2")
        if number == 1:
            page.evaluate("document.querySelector('#survey-step form').classList.add('htmx-request')")
            page.wait_for_timeout(400)  # the dimming's transition
            check("step 1 while its answer is on its way")
            shoot(page, f"axe-{page.locator('html').get_attribute('lang')}-step-1-sending")
            page.evaluate("document.querySelector('#survey-step form').classList.remove('htmx-request')")
        question = step.locator("fieldset").first
        kind = question.get_attribute("class")
        if "q-csat" in kind or "q-nps" in kind:
            question.locator("button[value='2']").tap()
        else:
            if "q-multiple" in kind:
                question.locator("input[type=checkbox]").first.check()
            if step.locator("textarea").count():
                step.locator("textarea").fill("排队太久 / the queue was long")
            if step.locator("input[type=tel]").count():
                step.locator(".consent input").check()
                step.locator("input[type=tel]").fill(PHONE_NUMBER)
                step.locator("input[type=email]").fill("not an address")
                step.locator("button.primary").tap()
                expect(step.locator(".error")).to_be_visible()
                check(f"step {number} with an error")
                step.locator("input[type=email]").fill("")
            step.locator("button.primary").tap()
    raise AssertionError("the survey did not end within 9 steps")


@pytest.mark.parametrize("locale", list(LOCALES))
def test_every_customer_page_has_no_serious_or_critical_axe_violation(browser: Browser, live_server, locale):
    with live_server.app.app_context():
        token = db.session.scalar(
            select(QrCode.token).where(QrCode.is_kiosk.is_(False), QrCode.revoked_at.is_(None)).order_by(QrCode.id)
        )
    context = browser.new_context(**{**PHONE, "locale": LOCALES[locale]})
    context.set_default_timeout(10_000)
    page = context.new_page()
    found: dict[str, list[dict]] = {}
    expected_lang = "zh-Hans" if locale == "zh_Hans" else "en"

    def check(name: str) -> None:
        assert page.locator("html").get_attribute("lang") == expected_lang
        found[name] = axe_violations(page)

    try:
        page.goto(f"{live_server.url}/s/{token}")
        walk_the_survey(page, check)
        check("thank-you")
        status_link = page.locator("a[href*='/t/LD-']")
        expect(status_link).to_have_count(1)
        code = re.search(r"/t/(LD-[0-9A-Z]+)", status_link.get_attribute("href")).group(1)
        status_link.click()  # the link with its secret opens the status at once
        expect(page.locator("textarea[name=body]")).to_be_visible()
        check("status")
        page.goto(f"{live_server.url}/t/{code}")  # without it: the check
        check("status look-up")
        page.locator("input[name=last4]").fill("0000")
        page.locator("button.primary").first.click()
        expect(page.locator("p.error")).to_be_visible()
        check("status look-up refused")
        page.locator("input[name=last4]").fill(PHONE_NUMBER[-4:])
        page.locator("button.primary").first.click()
        expect(page.locator(".reference")).to_be_visible()
        check("status after the check")
        page.goto(f"{live_server.url}/s/no-such-code")
        check("unavailable")
    finally:
        context.close()

    failing = {
        name: [v for v in violations if v["impact"] in FAILING_IMPACTS] for name, violations in found.items()
    }
    report = json.dumps({name: v for name, v in found.items() if v}, ensure_ascii=False, indent=1)
    print(report)
    steps = [name for name in found if name.startswith("step ") and name[5:].isdigit()]
    assert steps == [f"step {n}" for n in range(1, 7)], list(found)  # six steps: service 2 asks what went wrong
    assert {"thank-you", "status look-up", "status look-up refused", "status", "unavailable"} <= set(found)
    assert {name: v for name, v in failing.items() if v} == {}, report
