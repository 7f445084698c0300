"""An admin opens the dashboard on a laptop (1366x768) and a tablet in landscape (1024x768)."""
from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.services import dashboard
from app.services.dashboard import selection
from app.services.insight.filters import InsightFilter
from tests.browser.signing_in import sign_in
from tests.integration.insight.test_dashboard import seed_history

pytestmark = pytest.mark.browser

ADMIN = "admin"


@pytest.fixture
def seeded(live_server) -> dict:
    """Fifty days of history rolled up; what the default dashboard (last 30 days) should show."""
    with live_server.app.app_context():
        today = dashboard.home_today()
        seed_history(today)
        admin = db.session.scalar(select(User).where(User.username == ADMIN))
        built = dashboard.build(selection.resolve(admin, InsightFilter(), today), today)
        return {
            "responses": built.headline.responses,
            "csat": f"{built.headline.scores.csat:.1f} %",
            "index": f"{built.headline.scores.index:.2f}",
            "branches": [(row.branch.name, str(row.responses)) for row in built.branches],
            "periods": len(built.trend),
            "issues": [(issue.label.get("en"), str(issue.customers)) for issue in built.key_issues],
            "categories": len(built.categories),
        }


@pytest.mark.parametrize("width", [1366, 1024])
def test_the_dashboard_shows_the_seeded_figures_in_its_charts_and_tables(browser: Browser, live_server, seeded, width,
                                                                          artifacts):
    context = browser.new_context(viewport={"width": width, "height": 768}, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        sign_in(page, live_server.url, ADMIN)
        page.goto(f"{live_server.url}/insight/")
        expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
        page.wait_for_load_state("networkidle")

        charts = page.locator("img.chart")
        expect(charts).to_have_count(4)
        for index in range(4):
            chart = charts.nth(index)
            chart.scroll_into_view_if_needed()
            page.wait_for_function("(img) => img.complete", arg=chart.element_handle())
            assert chart.evaluate("(img) => img.naturalWidth") > 0, chart.get_attribute("src")
            box = chart.bounding_box()
            assert box["width"] > 200 and box["x"] + box["width"] <= width

        headline = page.locator("#headline")
        expect(headline).to_contain_text(str(seeded["responses"]))
        expect(headline).to_contain_text(seeded["csat"])
        expect(headline).to_contain_text(seeded["index"])
        league = page.locator("#branches tbody tr")
        expect(league).to_have_count(len(seeded["branches"]))
        for position, (name, responses) in enumerate(seeded["branches"]):
            expect(league.nth(position).locator("th")).to_have_text(name)
            expect(league.nth(position).locator("td").nth(1)).to_have_text(responses)
        expect(page.locator("#trend tbody tr")).to_have_count(seeded["periods"])
        for label, customers in seeded["issues"]:
            row = page.locator("#key-issues tbody tr", has_text=label)
            expect(row.locator("td").first).to_have_text(customers)
        expect(page.locator("#categories tbody tr")).to_have_count(seeded["categories"])
        expect(page.locator("#targets tbody tr")).to_have_count(4)  # first response, resolution, negative rate, actions

        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow} px wider than the {width} px screen"
        page.screenshot(path=artifacts / f"dashboard-figures-{width}.jpeg", full_page=True, type="jpeg", quality=85,
                        caret="initial")
        assert not errors, "\n".join(errors)
    finally:
        context.close()
