"""A customer scans the printed QR code with a phone and answers the demo survey by tapping."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Request, expect
from sqlalchemy import select

from app.demo import USERS
from app.extensions import db
from app.models import QrCode, Response
from tests.conftest import csrf_token

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "locale": "en-US"}
#: Apple's and Google's guidelines both ask for tap targets of at least 44 CSS px.
MIN_TAP_TARGET_PX = 44
SHOTS = Path("/tmp/loopdesk-shots")
ADMIN = "admin"

PRODUCT = "How satisfied are you with our products?"
SERVICE = "How satisfied are you with our service?"
SERVICE_PROBLEM = "Which part of the service disappointed you?"
ENVIRONMENT = "How satisfied are you with the store environment?"
NPS = "How likely are you to recommend us to a friend?"
COMMENT = "Anything else you would like to tell us?"
THANKS = "Thank you for your feedback!"
COMMENT_TEXT = "The queue was long, but the tea was lovely."
EXPECTED_ANSWERS = {
    "product": 4,
    "service": 2,
    "service_problem": ["waiting"],
    "environment": 5,
    "nps": 9,
    "comment": COMMENT_TEXT,
}


@dataclass
class Phone:
    """A page in a phone-sized context, with what it asked the network for and what it logged as errors."""

    page: Page
    requests: list[Request] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def console_message(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} at {message.location['url']}")

    def device_id(self) -> str:
        return next(c["value"] for c in self.page.context.cookies() if c["name"] == "ld_device")


@pytest.fixture
def javascript() -> bool:
    return True


@pytest.fixture
def phone(browser: Browser, javascript: bool):
    context = browser.new_context(**PHONE, java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    page = context.new_page()
    phone = Phone(page)
    page.on("request", lambda request: phone.requests.append(request))
    page.on("console", phone.console_message)
    page.on("pageerror", lambda error: phone.errors.append(str(error)))
    yield phone
    context.close()


def first_demo_code(playwright: Playwright, live_server) -> tuple[bytes, str]:
    """The PNG an admin downloads for the first demo QR code, and the token it should carry."""
    with live_server.app.app_context():
        qr = db.session.scalar(select(QrCode).order_by(QrCode.id))
        qr_id, token = qr.id, qr.token
    password = next(password for username, _role, password, *_rest in USERS if username == ADMIN)
    api = playwright.request.new_context(base_url=live_server.url)
    try:
        login_page = api.get("/login").text()
        signed_in = api.post(
            "/login", form={"username": ADMIN, "password": password, "csrf_token": csrf_token(login_page)}
        )
        assert signed_in.ok, signed_in.status
        download = api.get(f"/qr/{qr_id}.png")
        assert download.ok and download.headers["content-type"] == "image/png"
        return download.body(), token
    finally:
        api.dispose()


def scanned_url(png: bytes) -> str:
    codes = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(codes) == 1
    return codes[0].text


def shoot(page: Page, name: str) -> None:
    """For a person to look at; not asserted.

    caret="initial": hiding the caret leaves style="" on the inputs, and htmx copying that attribute
    onto the next step would then break the CSP (style-src 'self') and log an error no phone ever logs.
    """
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True, caret="initial")


def complete_survey(page: Page, at_each_step=lambda number: None) -> None:
    """Tap through the demo survey as a customer whose service was disappointing (service 2).

    ``at_each_step(n)`` runs once step ``n``'s question is on screen, before it is answered.
    """
    steps = count(1)

    def question(prompt: str):
        group = page.get_by_role("group", name=prompt)
        expect(group).to_be_visible()
        at_each_step(next(steps))
        return group

    question(PRODUCT).get_by_role("button", name="Satisfied", exact=True).tap()
    question(SERVICE).get_by_role("button", name="Dissatisfied", exact=True).tap()
    problem = question(SERVICE_PROBLEM).get_by_role("checkbox", name="Waiting time was too long")
    problem.tap()
    expect(problem).to_be_checked()
    page.get_by_role("button", name="Next", exact=True).tap()
    question(ENVIRONMENT).get_by_role("button", name="Very satisfied", exact=True).tap()
    question(NPS).get_by_role("button", name="9", exact=True).tap()
    question(COMMENT).get_by_role("textbox").fill(COMMENT_TEXT)
    page.get_by_role("button", name="Submit", exact=True).tap()
    expect(page.get_by_role("heading", name=THANKS)).to_be_visible()


def saved_answers(live_server, device_id: str) -> list[dict]:
    """Each response this phone left, as {question key: value}, with None for a draft not submitted."""
    with live_server.app.app_context():
        responses = db.session.scalars(select(Response).where(Response.device_id == device_id)).all()
        return [
            {a.question.key: a.value for a in r.answers} if r.submitted_at is not None else None for r in responses
        ]


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_phone_scans_printed_code_and_finishes_survey_by_tapping(playwright, live_server, phone, javascript):
    png, token = first_demo_code(playwright, live_server)
    url = scanned_url(png)
    assert url == f"{live_server.url}/s/{token}"
    page = phone.page
    page.goto(url)
    label = "htmx" if javascript else "no-js"

    def check_step(number: int) -> None:
        if number in (1, 5):
            shoot(page, f"{label}-step-{number}")
        if not javascript:
            return
        if number == 1:
            page.evaluate("window.__loopdeskMarker = 1")
        else:
            expect(page).to_have_url(re.compile(rf"/s/{re.escape(token)}\?step={number}$"))
            # Still the document of step 1: htmx swapped the step in, no page was loaded.
            assert page.evaluate("window.__loopdeskMarker") == 1

    complete_survey(page, check_step)

    shoot(page, f"{label}-thanks")
    assert saved_answers(live_server, phone.device_id()) == [EXPECTED_ANSWERS]
    posts = [r for r in phone.requests if r.method == "POST"]
    assert posts and all((r.headers.get("hx-request") == "true") is javascript for r in posts)
    assert [r.url for r in phone.requests if not r.url.startswith(live_server.url + "/")] == []
    assert not phone.errors, "\n".join(phone.errors)


def test_every_tap_target_is_at_least_44_px_on_a_phone(live_server, phone):
    with live_server.app.app_context():
        token = db.session.scalar(select(QrCode.token).order_by(QrCode.id))
    page = phone.page
    page.goto(f"{live_server.url}/s/{token}")
    too_small = {}

    def measure(number: int) -> None:
        too_small[f"step {number}"] = small_tap_targets(page)

    complete_survey(page, measure)
    too_small["thanks"] = small_tap_targets(page)
    assert {where: found for where, found in too_small.items() if found} == {}
    assert not phone.errors, "\n".join(phone.errors)


def small_tap_targets(page: Page) -> list[str]:
    """Links, buttons, labels and bare form fields on screen smaller than MIN_TAP_TARGET_PX either way.

    A field inside a label is tapped through its label, so the label is what is measured.
    """
    return page.evaluate(
        """(minimum) => [...document.querySelectorAll(
                'a[href], button, label, summary, input:not([type=hidden]), select, textarea')]
            .filter((el) => !(el.matches('input, select, textarea') && el.closest('label')))
            .filter((el) => el.getClientRects().length > 0)
            .map((el) => [el, el.getBoundingClientRect()])
            .filter(([, box]) => box.width < minimum || box.height < minimum)
            .map(([el, box]) => `${el.outerHTML.slice(0, 60)} ${Math.round(box.width)}x${Math.round(box.height)}`)""",
        MIN_TAP_TARGET_PX,
    )
