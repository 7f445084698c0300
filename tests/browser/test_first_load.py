"""A phone on a slow network sees the first question, styled, before htmx has arrived, and can answer it then;
a phone that comes back takes the static files from its cache."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Route, expect
from sqlalchemy import select

from app.extensions import db
from app.models import QrCode

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "locale": "en-US"}
PRODUCT = "How satisfied are you with our products?"
SERVICE = "How satisfied are you with our service?"
HTMX = re.compile(r"/static/htmx-[^/]+\.js$")


def survey_url(live_server) -> str:
    with live_server.app.app_context():
        return f"{live_server.url}/s/{db.session.scalar(select(QrCode.token).order_by(QrCode.id))}"


def test_first_question_is_shown_styled_and_answerable_while_htmx_is_still_on_its_way(browser: Browser, live_server):
    context = browser.new_context(**PHONE)
    context.set_default_timeout(10_000)
    held: list[Route] = []
    try:
        page = context.new_page()
        page.route(HTMX, lambda route: held.append(route))  # htmx never arrives
        page.goto(survey_url(live_server), wait_until="commit")

        question = page.get_by_role("group", name=PRODUCT)
        expect(question).to_be_visible()
        satisfied = question.get_by_role("button", name="Satisfied", exact=True)
        assert satisfied.bounding_box()["height"] >= 56  # the stylesheet applies: .scale .choice{min-height:56px}
        assert held and page.evaluate("typeof window.htmx") == "undefined"

        satisfied.tap()  # the plain form posts, as without JavaScript
        expect(page.get_by_role("group", name=SERVICE)).to_be_visible()
    finally:
        for route in held:
            route.abort()
        context.close()


def test_a_returning_phone_takes_every_static_file_from_its_cache(browser: Browser, live_server):
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        static_transfers = "performance.getEntriesByType('resource').filter(e => e.name.includes('/static/'))" \
                           ".map(e => [e.name, e.transferSize])"
        page.goto(survey_url(live_server))
        first = page.evaluate(static_transfers)
        page.goto(survey_url(live_server))
        again = page.evaluate(static_transfers)
    finally:
        context.close()
    assert len(first) == 1 and all(size > 0 for _name, size in first), first  # htmx; the stylesheet is inline
    assert sorted(name for name, _size in again) == sorted(name for name, _size in first)
    assert [name for name, size in again if size > 0] == []  # immutable: not even a revalidation
