"""Staff on the phone type what the customer reads out into the queue's search box: results as they type."""
from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from app.extensions import db
from app.models import Branch, Department, User
from app.services.tickets import opening
from tests.browser.signing_in import sign_in

pytestmark = pytest.mark.browser


def phone_ticket(app, branch_code: str, department_code: str, phone: str, subject: str) -> str:
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        ticket = opening.create_ticket(
            admin,
            branch_id=db.session.scalar(select(Branch.id).where(Branch.code == branch_code)),
            department_id=db.session.scalar(select(Department.id).where(Department.code == department_code)),
            category=None, priority="normal", subject=subject, contact_consent=True, contact_phone=phone,
        )
        db.session.commit()
        return ticket.reference_code


def test_the_search_box_finds_as_staff_type_and_the_address_keeps_the_search(browser: Browser, live_server, artifacts):
    ours = phone_ticket(live_server.app, "SH-PEOPLE", "service", "186 2222 3333", "发票开错了")
    london = phone_ticket(live_server.app, "LDN-SOHO", "operations", "+44 7700 900555", "Wrong invoice")
    context = browser.new_context(viewport={"width": 1024, "height": 768}, java_script_enabled=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        sign_in(page, live_server.url, "staff")
        page.goto(f"{live_server.url}/staff/queue?lang=en")
        box = page.get_by_role("searchbox")
        box.press_sequentially(ours[3:].lower(), delay=30)  # read out without "LD-", in lower case
        rows = page.locator("#queue-rows")
        expect(rows.get_by_text(ours)).to_be_visible()
        expect(rows).to_contain_text("Tickets found for")
        assert f"q={ours[3:].lower()}" in page.url  # pushed: a reload or the back button shows the same
        page.screenshot(path=str(artifacts / "find-a-ticket-code.png"))

        box.fill("")
        box.press_sequentially("+86 186 2222 3333", delay=20)
        expect(rows.get_by_text(ours)).to_be_visible()
        box.fill("发票")
        box.dispatch_event("input")
        expect(rows.locator("mark", has_text="发票")).to_be_visible()

        box.fill("")
        box.press_sequentially("7700 900555", delay=20)  # London's ticket: outside this staff's scope
        expect(rows).to_contain_text("No ticket of yours matches")
        expect(rows.get_by_text(london)).to_have_count(0)

        page.reload()
        expect(page.get_by_role("searchbox")).to_have_value("7700 900555")
        assert errors == []
    finally:
        context.close()
