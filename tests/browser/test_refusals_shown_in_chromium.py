"""With JavaScript on, a refused change is never silent: its message shows in place and what was typed stays."""
from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from app.extensions import db
from app.models import Response, Role, Ticket, User
from app.services import tickets as ticket_service
from tests.browser.signing_in import sign_in
from tests.integration.tickets.test_ticket_pages import complain

pytestmark = pytest.mark.browser

TABLET = {"viewport": {"width": 1024, "height": 768}, "locale": "en-US"}
NOTE = "客户说排队四十分钟，已致电道歉"


@pytest.fixture
def tablet(browser: Browser):
    context = browser.new_context(**TABLET, java_script_enabled=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda error: page.errors.append(str(error)))  # type: ignore[attr-defined]
    yield page
    context.close()


def open_ticket(page: Page, live_server) -> int:
    complain(live_server.app.test_client(), token_of(live_server, "SH-PEOPLE"))
    with live_server.app.app_context():
        ticket_id = db.session.scalar(select(Ticket.id).order_by(Ticket.id.desc()))
    sign_in(page, live_server.url, "staff")
    page.goto(f"{live_server.url}/staff/tickets/{ticket_id}")
    return ticket_id


def token_of(live_server, branch_code: str) -> str:
    from app.models import Branch, QrCode

    with live_server.app.app_context():
        return db.session.scalar(
            select(QrCode.token).join(Branch).where(Branch.code == branch_code, QrCode.is_kiosk.is_(False))
        )


def note_box(page: Page):
    return page.get_by_label("Reply to the customer, internal note, or what was said on the phone")


def test_a_stale_edit_shows_what_changed_and_keeps_the_note(tablet: Page, live_server):
    ticket_id = open_ticket(tablet, live_server)
    with live_server.app.app_context():  # a colleague claims it meanwhile
        ticket = db.session.get(Ticket, ticket_id)
        supervisor = db.session.scalar(select(User).where(User.username == "supervisor"))
        ticket_service.claim(ticket, supervisor, seen_version=ticket_service.page_version(ticket))
        db.session.commit()
    note_box(tablet).fill(NOTE)
    tablet.get_by_role("button", name="Add internal note").click()
    expect(tablet.get_by_text("Someone else changed this ticket since you opened it.")).to_be_visible()
    expect(note_box(tablet)).to_have_value(NOTE)
    assert not tablet.errors  # type: ignore[attr-defined]


def test_an_expired_session_says_so_in_place_and_keeps_the_note(tablet: Page, live_server):
    ticket_id = open_ticket(tablet, live_server)
    tablet.context.clear_cookies()  # the session ended (a day later, or signed out in another tab)
    note_box(tablet).fill(NOTE)
    tablet.get_by_role("button", name="Add internal note").click()
    alert = tablet.locator("#request-error")
    expect(alert).to_contain_text("This page has expired")
    expect(alert.get_by_role("link", name="Sign in again (in a new tab)")).to_be_visible()
    expect(note_box(tablet)).to_have_value(NOTE)
    assert tablet.url.endswith(f"/staff/tickets/{ticket_id}")  # still on the ticket


def test_signed_out_elsewhere_the_polls_do_not_take_the_page_away(tablet: Page, live_server):
    ticket_id = open_ticket(tablet, live_server)
    with live_server.app.app_context():
        db.session.scalar(select(User).where(User.username == "staff")).active = False  # switched off by an admin
        db.session.commit()
    note_box(tablet).fill(NOTE)
    tablet.get_by_role("button", name="Add internal note").click()
    expect(tablet.locator("#request-error")).to_contain_text("You were signed out")
    expect(note_box(tablet)).to_have_value(NOTE)
    assert tablet.url.endswith(f"/staff/tickets/{ticket_id}")


def test_a_forbidden_change_says_so_in_place(tablet: Page, live_server):
    with live_server.app.app_context():
        response = db.session.scalar(select(Response).where(Response.submitted_at.is_not(None)).order_by(Response.id))
        response.quality_flags = ["too_fast"]
        db.session.commit()
    sign_in(tablet, live_server.url, "supervisor")
    tablet.goto(f"{live_server.url}/quality/")
    confirm = tablet.get_by_role("button", name="Confirm", exact=True).first
    expect(confirm).to_be_visible()
    with live_server.app.app_context():  # no longer a supervisor while the page is open
        db.session.scalar(select(User).where(User.username == "supervisor")).role = Role.STAFF
        db.session.commit()
    confirm.click()
    expect(tablet.locator("#request-error")).to_contain_text("Not allowed")
    expect(confirm).to_be_visible()  # the list is still there


def test_a_survey_answer_refused_as_invalid_keeps_what_the_customer_typed(tablet: Page, live_server):
    from tests.browser.test_phone_survey import COMMENT, ENVIRONMENT, NPS, PRODUCT, SERVICE, SERVICE_PROBLEM

    page = tablet
    page.goto(f"{live_server.url}/s/{token_of(live_server, 'HZ-WESTLAKE')}")
    page.get_by_role("group", name=PRODUCT).get_by_role("button", name="Dissatisfied", exact=True).click()
    page.get_by_role("group", name=SERVICE).get_by_role("button", name="Very dissatisfied", exact=True).click()
    page.get_by_role("group", name=SERVICE_PROBLEM).get_by_role("checkbox", name="Waiting time was too long").check()
    page.get_by_role("button", name="Next", exact=True).click()
    page.get_by_role("group", name=ENVIRONMENT).get_by_role("button", name="Dissatisfied", exact=True).click()
    page.get_by_role("group", name=NPS).get_by_role("button", name="2", exact=True).click()
    page.get_by_role("group", name=COMMENT).get_by_role("textbox").fill("排队等了四十分钟")
    page.get_by_label("Phone").fill("13912345678")  # but the consent box is not ticked
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.get_by_text("Tick the box")).to_be_visible()
    expect(page.get_by_label("Phone")).to_have_value("13912345678")
    expect(page.get_by_role("group", name=COMMENT).get_by_role("textbox")).to_have_value("排队等了四十分钟")
