"""A customer who left no contact details follows their complaint from the thank-you page, answers the
question staff asked them and rates the outcome, on a phone in Chromium, JavaScript on and off."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from app.extensions import db
from app.models import QrCode, Ticket, TicketStatus, User
from app.services import tickets as ticket_service
from tests.browser.test_phone_survey import COMMENT, ENVIRONMENT, NPS, PHONE, PRODUCT, SERVICE, SERVICE_PROBLEM, THANKS

pytestmark = pytest.mark.browser


def _set(app, ticket_id: int, *statuses: str, reply: str | None = None) -> None:
    with app.app_context():
        supervisor = db.session.scalar(select(User).where(User.username == "supervisor"))
        ticket = db.session.get(Ticket, ticket_id)
        if reply:
            ticket_service.reply(ticket, supervisor, reply, ticket_service.page_version(ticket))
            db.session.commit()
        for status in statuses:
            ticket = db.session.get(Ticket, ticket_id)
            ticket_service.change_status(ticket, supervisor, status, ticket_service.page_version(ticket))
            db.session.commit()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_no_contact_details_still_follow_answer_and_rate(browser: Browser, live_server, javascript):
    app = live_server.app
    with app.app_context():
        token = db.session.scalar(select(QrCode.token).where(QrCode.is_kiosk.is_(False)).order_by(QrCode.id))
    context = browser.new_context(**PHONE, java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/s/{token}")

        def choose(group: str, name: str) -> None:
            page.get_by_role("group", name=group).get_by_role("button", name=name, exact=True).tap()

        choose(PRODUCT, "Dissatisfied")
        choose(SERVICE, "Very dissatisfied")
        page.get_by_role("group", name=SERVICE_PROBLEM).get_by_role("checkbox", name="Waiting time was too long").check()
        page.get_by_role("button", name="Next", exact=True).click()
        choose(ENVIRONMENT, "Dissatisfied")
        choose(NPS, "2")
        page.get_by_role("group", name=COMMENT).get_by_role("textbox").fill("排队等了四十分钟")
        page.get_by_role("button", name="Submit", exact=True).click()  # no contact details left
        expect(page.get_by_role("heading", name=THANKS)).to_be_visible()
        code = re.search(r"LD-[0-9A-Z]+", page.locator(".reference").inner_text()).group(0)
        with app.app_context():
            ticket = db.session.scalar(select(Ticket).where(Ticket.reference_code == code))
            assert ticket is not None and not ticket.contact_phone
            ticket_id = ticket.id
        _set(app, ticket_id, "in_progress", "waiting_on_customer", reply="请问您是几点到店的？")

        page.get_by_role("link", name="Follow your feedback here").click()
        expect(page.get_by_text("请问您是几点到店的？")).to_be_visible()
        page.get_by_role("textbox", name="Your answer").fill("中午十二点")
        page.get_by_role("button", name="Send", exact=True).click()
        expect(page.get_by_text("Thank you: we have your answer.")).to_be_visible()
        expect(page.get_by_text("中午十二点")).to_be_visible()
        with app.app_context():
            assert db.session.get(Ticket, ticket_id).status == TicketStatus.IN_PROGRESS

        _set(app, ticket_id, "resolved")
        page.reload()
        page.get_by_role("radio", name=re.compile(r"^★\s*1 of 5$")).check(force=True)
        page.get_by_role("textbox", name="Comment (optional)").fill("还是没解决")
        page.get_by_role("button", name="Send rating").click()
        expect(page.get_by_text("Thank you for your rating.")).to_be_visible()
        with app.app_context():
            reopened = db.session.get(Ticket, ticket_id)
            assert reopened.status == TicketStatus.IN_PROGRESS and reopened.customer_rating == 1
    finally:
        context.close()
