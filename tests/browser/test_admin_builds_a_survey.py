"""An admin, as a new user would: builds a questionnaire, opens a branch, prints its poster; a phone answers it.

The admin works in English on a laptop-sized window and writes every text in Chinese and English; the
phone reads Chinese. The survey URL is decoded from the QR code drawn in the downloaded poster PDF, and
the ticket the answers raise must follow the routing rule the admin wrote and the skip rule must show
its follow-up question.
"""
from __future__ import annotations

import base64
import re
import time
import zlib

import pytest
import zxingcpp
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from app.demo import USERS
from app.extensions import db
from app.models import Branch, QrCode, Response, Ticket

pytestmark = pytest.mark.browser

LAPTOP = {"viewport": {"width": 1280, "height": 800}, "locale": "en-US"}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "locale": "zh-CN"}

BRANCH_CODE = "SZ-COCO"
BRANCH_NAME = "深圳 COCO Park 店"
RULE_NAME = "Shenzhen service complaints"

QUESTIONS = [
    # key, step, type, dimension label, required, zh prompt, en prompt, options
    ("service", 1, "csat", "Service (60 %)", True, "您对我们的服务满意吗？", "How satisfied are you with our service?", []),
    ("wait_problem", 2, "multiple", "Service (60 %)", False, "哪些地方让您失望？", "What disappointed you?",
     [("queue", "排队太久", "Queue too long"), ("attitude", "态度不好", "Staff attitude")]),
    ("product", 3, "csat", "Product (40 %)", True, "您对我们的产品满意吗？", "How satisfied are you with our products?", []),
    ("nps", 4, "nps", None, True, "您有多大可能向朋友推荐我们？", "How likely are you to recommend us?", []),
    ("comment", 5, "text", None, False, "还有什么想告诉我们的吗？", "Anything else to tell us?", []),
    ("contact", 5, "contact", None, False, "需要我们联系您吗？", "Shall we call you back?", []),
]


@pytest.fixture
def laptop(browser: Browser):
    context = browser.new_context(**LAPTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page, errors
    context.close()


def sign_in(page: Page, base: str) -> None:
    password = next(p for username, _role, p, *_rest in USERS if username == "admin")
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{base}/admin/")
    expect(page.get_by_role("heading", name="Administration")).to_be_visible()


def build_questionnaire(page: Page, base: str) -> None:
    page.goto(f"{base}/admin/questionnaires/")
    page.get_by_role("link", name="New questionnaire").click()
    page.fill("#code", "visit-2027")
    page.fill("#name_zh_Hans", "到店体验调查")
    page.fill("#name_en", "Store visit survey")
    page.check("#start-0")
    page.get_by_role("button", name="Create draft").click()

    page.check("#languages-0")
    page.check("#languages-1")
    page.fill("#title_zh_Hans", "您今天的体验如何？")
    page.fill("#title_en", "How was your visit today?")
    page.get_by_role("button", name="Save texts").click()

    for row, (key, zh, en, weight) in enumerate([("service", "服务", "Service", 60), ("product", "产品", "Product", 40)]):
        page.fill(f"#dimensions-{row}-key", key)
        page.fill(f"#dimensions-{row}-name_zh_Hans", zh)
        page.fill(f"#dimensions-{row}-name_en", en)
        page.fill(f"#dimensions-{row}-weight", str(weight))
    page.get_by_role("button", name="Save dimensions").click()
    expect(page.locator(".error")).to_have_count(0)

    for key, step, kind, dimension, required, zh, en, options in QUESTIONS:
        page.locator("#add-question").click()
        page.fill("#key", key)
        page.fill("#step", str(step))
        page.select_option("#type", kind)
        if dimension:
            page.select_option("#dimension_id", label=dimension)
        page.set_checked("#required", required)
        page.fill("#prompt_zh_Hans", zh)
        page.fill("#prompt_en", en)
        for row, (value, label_zh, label_en) in enumerate(options):
            page.fill(f"#options-{row}-value", value)
            page.fill(f"#options-{row}-label_zh_Hans", label_zh)
            page.fill(f"#options-{row}-label_en", label_en)
        page.get_by_role("button", name="Add question").click()
        expect(page.locator(".error")).to_have_count(0)

    rule = page.locator("#add-rule-form")
    rule.locator("#source_id").select_option(label="1. How satisfied are you with our service? (service)")
    rule.locator("#operator").select_option("lte")
    rule.locator("#value").fill("2")
    rule.locator("#action").select_option("show")
    rule.locator("#target_id").select_option(label="2. What disappointed you? (wait_problem)")
    rule.get_by_role("button", name="Add rule").click()
    expect(page.locator(".error")).to_have_count(0)

    page.locator("#publish-form").get_by_role("button", name=re.compile(r"Publish version 1")).click()
    confirm = page.locator("#confirm-publish")
    expect(confirm.get_by_role("row")).to_have_count(5)  # every demo code takes the new questionnaire (every branch)
    confirm.get_by_role("button", name="Publish version 1").click()
    expect(page.get_by_text("Version 1 is published")).to_be_visible()
    expect(page.locator(".flash.error")).to_have_count(0)


def create_branch(page: Page, base: str) -> None:
    page.goto(f"{base}/admin/branches/")
    page.locator("#new-branch").click()
    page.get_by_label("Code", exact=True).fill(BRANCH_CODE)
    page.get_by_label("Name", exact=True).fill(BRANCH_NAME)
    page.get_by_label("Region", exact=True).fill("华南")
    page.select_option("#timezone", "Asia/Shanghai")
    page.locator("#create-branch").click()
    expect(page.get_by_role("heading", name=re.compile(BRANCH_NAME))).to_be_visible()


def assign_questionnaire(page: Page, base: str) -> None:
    page.goto(f"{base}/admin/questionnaires/")
    page.get_by_role("link", name="Store visit survey").first.click()
    page.get_by_label(f"{BRANCH_NAME} ({BRANCH_CODE})").check()
    page.get_by_role("button", name="Save targeting").click()
    page.locator("#confirm-targeting").get_by_role("button", name="Confirm and save targeting").click()
    expect(page.get_by_text("Targeting saved.")).to_be_visible()
    expect(page.get_by_label(f"{BRANCH_NAME} ({BRANCH_CODE})")).to_be_checked()


def write_routing_rule(page: Page, base: str) -> None:
    page.goto(f"{base}/admin/routing/")
    page.get_by_role("link", name="New rule").click()
    page.fill("#name", RULE_NAME)
    page.select_option("#department", label="门店运营部 Store operations")
    page.select_option("#priority", "high")
    page.fill("#conditions-0-question", "service")
    page.select_option("#conditions-0-operator", "lte")
    page.fill("#conditions-0-value", "2")
    page.get_by_label(f"{BRANCH_NAME} ({BRANCH_CODE})").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("link", name=RULE_NAME)).to_be_visible()


def download_poster(page: Page, base: str) -> bytes:
    page.goto(f"{base}/admin/branches/")
    page.get_by_role("link", name=re.compile(BRANCH_CODE)).first.click()
    with page.expect_download() as download_info:
        page.locator("[id^=poster-]").first.click()
    download = download_info.value
    assert download.suggested_filename.startswith(f"loopdesk-{BRANCH_CODE}")
    with open(download.path(), "rb") as f:
        return f.read()


def qr_url_in_poster(pdf: bytes) -> str:
    """Redraw the code's filled rectangles from the PDF's page content and let a QR reader decode them."""
    rects: list[tuple[float, float, float, float]] = []
    for match in re.finditer(rb"stream\r?\n(.*?)\s*endstream", pdf, re.S):
        data = match.group(1).strip()
        if data.endswith(b"~>"):  # reportlab's default: ASCII85, then Flate
            data = base64.a85decode(data[:-2])
        try:
            data = zlib.decompress(data)
        except zlib.error:
            pass
        for x, y, w, h in re.findall(rb"(-?[\d.]+) (-?[\d.]+) (-?[\d.]+) (-?[\d.]+) re", data):
            rects.append((float(x), float(y), float(w), float(h)))
    assert len(rects) > 100, "no QR code drawn in the poster"
    left = min(x for x, _y, _w, _h in rects)
    bottom = min(y for _x, y, _w, _h in rects)
    right = max(x + w for x, _y, w, _h in rects)
    top = max(y + h for _x, y, _w, h in rects)
    scale, margin = 4, 40
    size = (int((right - left) * scale) + 2 * margin, int((top - bottom) * scale) + 2 * margin)
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    for x, y, w, h in rects:
        x0 = margin + (x - left) * scale
        y0 = margin + (top - (y + h)) * scale
        draw.rectangle([x0, y0, x0 + w * scale - 1, y0 + h * scale - 1], fill=0)
    codes = zxingcpp.read_barcodes(image)
    assert len(codes) == 1, f"expected one QR code, found {len(codes)}"
    return codes[0].text


def answer_on_phone(browser: Browser, url: str) -> None:
    context = browser.new_context(**PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(url)
        expect(page.get_by_text("您今天的体验如何？")).to_be_visible()
        page.get_by_role("group", name="您对我们的服务满意吗？").get_by_role("button", name="不满意", exact=True).tap()
        follow_up = page.get_by_role("group", name=re.compile("哪些地方让您失望"))
        expect(follow_up).to_be_visible()  # the admin's skip rule: service ≤ 2 shows it
        follow_up.get_by_text("排队太久").tap()
        page.get_by_role("button", name="下一步", exact=True).tap()
        page.get_by_role("group", name="您对我们的产品满意吗？").get_by_role("button", name="满意", exact=True).tap()
        page.get_by_role("group", name="您有多大可能向朋友推荐我们？").get_by_role("button", name="5", exact=True).tap()
        page.get_by_role("group", name=re.compile("还有什么想告诉我们的吗")).locator("textarea").fill("排队排了四十分钟，没人招呼。")
        page.get_by_role("button", name="提交", exact=True).tap()
        expect(page.get_by_role("heading", name=re.compile("感谢"))).to_be_visible()
        assert errors == []
    finally:
        context.close()


def test_admin_builds_a_questionnaire_and_branch_and_a_phone_answers_from_the_printed_poster(browser, laptop, live_server):
    page, errors = laptop
    base = live_server.url
    sign_in(page, base)
    build_questionnaire(page, base)
    create_branch(page, base)
    assign_questionnaire(page, base)
    write_routing_rule(page, base)
    pdf = download_poster(page, base)
    assert errors == []

    url = qr_url_in_poster(pdf)
    with live_server.app.app_context():
        branch = db.session.scalar(select(Branch).where(Branch.code == BRANCH_CODE))
        token = db.session.scalar(select(QrCode.token).where(QrCode.branch_id == branch.id, QrCode.revoked_at.is_(None)))
    assert url == f"{base}/s/{token}"

    answer_on_phone(browser, url)

    with live_server.app.app_context():
        deadline = time.monotonic() + 10
        ticket = None
        while ticket is None and time.monotonic() < deadline:
            db.session.rollback()
            ticket = db.session.scalar(select(Ticket).join(Response, Ticket.response_id == Response.id)
                                       .where(Response.branch_id == branch.id))
            if ticket is None:
                time.sleep(0.2)
        assert ticket is not None, "the negative response raised no ticket"
        response = db.session.get(Response, ticket.response_id)
        assert response.version.questionnaire.code == "visit-2027"
        assert response.version.number == 1 and response.version.is_published
        answers = {a.question.key: a.value for a in response.answers}
        assert answers["service"] == 2 and answers["wait_problem"] == ["queue"] and answers["nps"] == 5
        assert ticket.department.code == "operations"
        assert ticket.priority == "high"
        assert RULE_NAME in str(ticket.routing)
