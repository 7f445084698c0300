"""The kiosk's thank-you page starts the survey over for the next customer, and lets this one take longer.

With JavaScript (a kiosk's normal set-up) it counts down, "I need more time" adds time as often as it is
pressed, and axe-core finds nothing serious or critical (no timed refresh the customer cannot stop); with
JavaScript off the <noscript> refresh still starts it over.
"""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from app.extensions import db
from app.models import Branch, QrCode
from app.services.survey.entries import forget_cached_codes
from tests.browser.test_customer_pages_accessible import FAILING_IMPACTS, axe_violations, walk_the_survey
from tests.browser.test_phone_survey import PHONE

pytestmark = pytest.mark.browser

#: Short times, so the test waits seconds, not the minutes of a real kiosk.
RESTART_SECONDS = 4


def _kiosk(live_server) -> str:
    app = live_server.app
    app.config["LOOPDESK_KIOSK_CODE_SECONDS"] = RESTART_SECONDS
    with app.app_context():
        qr = db.session.scalar(select(QrCode).where(QrCode.is_kiosk.is_(True)).order_by(QrCode.id))
        db.session.get(Branch, qr.branch_id).kiosk_restart_seconds = RESTART_SECONDS
        db.session.commit()
        forget_cached_codes()
        return qr.token


def _to_thanks(page, live_server, token: str) -> None:
    """A customer answers the kiosk's survey and leaves a phone number: the thank-you page with their code."""
    page.goto(f"{live_server.url}/s/{token}")
    walk_the_survey(page, lambda name: None)
    expect(page.locator(".reference")).to_be_visible()


def _starts_over(page, token: str) -> None:
    """The kiosk is back at the first step for the next customer, by itself, within the restart time."""
    page.wait_for_url(re.compile(rf"/s/{token}$"), timeout=(RESTART_SECONDS + 5) * 1000)
    expect(page.locator("#survey-step progress[value='1']")).to_be_attached()


def _countdown(page) -> int:
    return int(page.locator("[data-countdown]").inner_text())


def test_with_javascript_the_kiosk_counts_down_gives_more_time_and_starts_over(browser: Browser, live_server):
    token = _kiosk(live_server)
    context = browser.new_context(**{**PHONE, "locale": "zh-CN"}, java_script_enabled=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        _to_thanks(page, live_server, token)
        failing = [v for v in axe_violations(page) if v["impact"] in FAILING_IMPACTS]
        assert failing == [], failing
        assert page.locator("meta[http-equiv=refresh]").count() == 0  # the refresh stays text while JS runs
        more = page.get_by_role("button", name="我需要更多时间")
        expect(more).to_be_visible()
        assert 1 <= _countdown(page) <= RESTART_SECONDS
        more.click()
        more.click()
        assert _countdown(page) >= 2 * 60
        time.sleep(RESTART_SECONDS + 1.5)
        assert page.url.endswith("/thanks") and _countdown(page) > 60  # still this customer's page

        _to_thanks(page, live_server, token)  # the next customer, who takes no extra time
        _starts_over(page, token)
    finally:
        context.close()


def test_without_javascript_the_kiosk_still_starts_over(browser: Browser, live_server):
    token = _kiosk(live_server)
    context = browser.new_context(**{**PHONE, "locale": "en-GB"}, java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        _to_thanks(page, live_server, token)
        expect(page.get_by_role("button", name="I need more time")).to_be_hidden()  # it needs the script
        _starts_over(page, token)
    finally:
        context.close()
