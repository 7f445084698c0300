"""A customer's submit reaches the server but the reply never reaches the phone; they tap Submit again."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Route, expect
from sqlalchemy import select

from app.extensions import db
from app.models import QrCode, Response
from tests.browser.test_phone_survey import COMMENT, PHONE, PRODUCT, SERVICE, SERVICE_PROBLEM, ENVIRONMENT, NPS, THANKS

pytestmark = pytest.mark.browser


def test_resubmitting_after_a_lost_reply_shows_the_reference_code(browser: Browser, live_server):
    with live_server.app.app_context():
        token = db.session.scalar(select(QrCode.token).where(QrCode.is_kiosk.is_(False)).order_by(QrCode.id))
    context = browser.new_context(**PHONE, java_script_enabled=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    handled: list[int] = []

    def lose_the_submit_reply(route: Route) -> None:
        request = route.request
        if request.method == "POST" and "q_comment" in (request.post_data or "") and not handled:
            reply = route.fetch()  # the server handles the submit ...
            handled.append(reply.status)
            route.abort("connectionreset")  # ... and the phone never hears back
        else:
            route.continue_()

    page.route(re.compile(rf"/s/{re.escape(token)}(\?.*)?$"), lose_the_submit_reply)
    try:
        page.goto(f"{live_server.url}/s/{token}")
        page.get_by_role("group", name=PRODUCT).get_by_role("button", name="Dissatisfied", exact=True).tap()
        page.get_by_role("group", name=SERVICE).get_by_role("button", name="Very dissatisfied", exact=True).tap()
        page.get_by_role("group", name=SERVICE_PROBLEM).get_by_role("checkbox", name="Waiting time was too long").tap()
        page.get_by_role("button", name="Next", exact=True).tap()
        page.get_by_role("group", name=ENVIRONMENT).get_by_role("button", name="Dissatisfied", exact=True).tap()
        page.get_by_role("group", name=NPS).get_by_role("button", name="2", exact=True).tap()
        page.get_by_role("group", name=COMMENT).get_by_role("textbox").fill("排队等了四十分钟")
        page.get_by_role("checkbox", name=re.compile("you may contact me")).check()
        page.get_by_label("Phone").fill("13912345678")
        submit = page.get_by_role("button", name="Submit", exact=True)
        submit.tap()
        for _ in range(100):
            if handled:
                break
            page.wait_for_timeout(100)
        assert handled == [200]  # stored, and the reply dropped: the step is still on screen
        expect(submit).to_be_visible()

        submit.tap()  # the customer tries again
        expect(page.get_by_role("heading", name=THANKS)).to_be_visible()
        with live_server.app.app_context():
            stored = db.session.scalars(
                select(Response).where(Response.qr_code_id.is_not(None), Response.contact_phone == "13912345678")
            ).all()
        assert len(stored) == 1 and stored[0].submitted_at is not None and stored[0].reference_code
        expect(page.locator(".reference")).to_have_text(stored[0].reference_code)
        assert not errors, "\n".join(errors)
    finally:
        context.close()
