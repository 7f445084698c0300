"""Every label of the dashboard's charts can be read on a laptop (1366x768) and a tablet in landscape
(1024x768), in Chinese and in English, with branches and dimensions named at length in both.

Each chart's SVG is laid on a page of its own in Chromium and every <text> measured in the SVG's own box: it
lies inside it, apart from every other label (their turned boxes, not just the upright ones), and
drawn at 11 CSS px or more once the <img> is scaled to the page. A label cut with "…" is one the
chart abbreviates on purpose: the table beside the chart has it whole. Screenshots of each page go to
the ``artifacts`` folder (test-artifacts/, or LOOPDESK_TEST_ARTIFACTS).
"""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from playwright.sync_api import Browser
from sqlalchemy import select

from app.extensions import db
from app.models import Branch
from app.services import dashboard
from app.services.dashboard.charts import ELLIPSIS
from app.services.questionnaires import templates
from tests.browser.signing_in import sign_in
from tests.integration.insight.test_dashboard import seed_history

pytestmark = pytest.mark.browser

VIEWPORTS = (1366, 1024)
LANGUAGES = ("zh_Hans", "en")
MIN_FONT_PX = 11
#: Long names in both languages: counted in characters the English is the longest (what pygal sized its
#: margin by), drawn the Chinese are wider; the Shanghai one is wider than the chart draws whole.
BRANCH_NAMES = {
    "SH-PEOPLE": "上海市黄浦区人民广场来福士广场地下一层美食街旗舰体验中心店",
    "HZ-WESTLAKE": "杭州西湖湖滨银泰in77购物中心一楼旗舰体验店",
    "LDN-SOHO": "London Soho — Carnaby Street Flagship",
}
DIMENSION_NAMES = {
    "service": {"zh_Hans": "服务态度与专业能力", "en": "Staff attitude and product knowledge"},
    "environment": {"zh_Hans": "门店环境与卫生（含洗手间）", "en": "Store environment and cleanliness"},
}

#: In the chart's own document: each visible <text>, its corners in the SVG's user space, its font size;
#: and the chart's title.
MEASURE_TEXTS = """() => {
  const svg = document.querySelector('svg');
  const texts = [];
  for (const text of svg.querySelectorAll('text')) {
    const words = text.textContent.trim();
    const style = getComputedStyle(text);
    if (!words || style.display === 'none' || style.visibility === 'hidden') continue;
    const box = text.getBBox();
    if (!box.width || !box.height) continue;
    const m = text.getCTM();
    const corners = [[box.x, box.y], [box.x + box.width, box.y], [box.x + box.width, box.y + box.height],
                     [box.x, box.y + box.height]].map(([x, y]) => [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f]);
    texts.push({words, corners, fontSize: parseFloat(style.fontSize)});
  }
  const title = svg.querySelector('.title');
  return {width: svg.width.baseVal.value, height: svg.height.baseVal.value, texts, title: title ? title.textContent : ''};
}"""

#: On the page: each chart's address, how wide it is drawn, and the names in its section's table.
CHARTS_ON_PAGE = """() => [...document.querySelectorAll('img.chart')].map(img => ({
  src: img.src, section: img.closest('section').id, shown: img.getBoundingClientRect().width,
  loaded: img.complete && img.naturalWidth > 0,
  names: [...img.closest('section').querySelectorAll('tbody th')].map(th => th.firstChild ? th.firstChild.textContent.trim() : ''),
}))"""


def _squeezed(words: str) -> str:
    return re.sub(r"\s+", "", words)


def _overlap(a: list, b: list, tolerance: float = 1.0) -> bool:
    """Whether two turned rectangles (corners in order) overlap by more than ``tolerance`` px."""
    for shape in (a, b):
        for i in range(2):
            (x1, y1), (x2, y2) = shape[i], shape[i + 1]
            axis = (y1 - y2, x2 - x1)
            length = (axis[0] ** 2 + axis[1] ** 2) ** 0.5 or 1.0
            on_a = [(x * axis[0] + y * axis[1]) / length for x, y in a]
            on_b = [(x * axis[0] + y * axis[1]) / length for x, y in b]
            if min(max(on_a), max(on_b)) - max(min(on_a), min(on_b)) <= tolerance:
                return False
    return True


def label_problems(chart: dict, measured: dict, where: str) -> list[str]:
    """What keeps a label of ``chart`` (as the page shows it) from being read, one line each."""
    problems = []
    width, height, texts = measured["width"], measured["height"], measured["texts"]
    scale = chart["shown"] / width
    for text in texts:
        xs = [x for x, _y in text["corners"]]
        ys = [y for _x, y in text["corners"]]
        if min(xs) < -0.5 or min(ys) < -0.5 or max(xs) > width + 0.5 or max(ys) > height + 0.5:
            problems.append(f"{where}: {text['words']!r} lies outside the {width:.0f}x{height:.0f} chart "
                            f"(x {min(xs):.0f}…{max(xs):.0f}, y {min(ys):.0f}…{max(ys):.0f})")
        if text["fontSize"] * scale < MIN_FONT_PX:
            problems.append(f"{where}: {text['words']!r} is drawn at {text['fontSize'] * scale:.1f} px")
        if text["words"].endswith(ELLIPSIS):
            start = _squeezed(text["words"][:-1])
            if not any(_squeezed(name).startswith(start) for name in chart["names"]):
                problems.append(f"{where}: {text['words']!r} is cut and the table beside it has no name it starts")
    for i, first in enumerate(texts):
        for second in texts[i + 1:]:
            if _overlap(first["corners"], second["corners"]):
                problems.append(f"{where}: {first['words']!r} and {second['words']!r} overlap")
    if chart["section"] != "trend":  # the trend's table names whole periods, the chart their first days
        drawn = [_squeezed(text["words"]) for text in texts]
        for name in chart["names"]:
            whole = _squeezed(name)
            if not any(words == whole or (words.endswith(ELLIPSIS) and whole.startswith(words[:-1])) for words in drawn):
                problems.append(f"{where}: {name!r} from the table is not in the chart")
    return problems


@pytest.fixture
def long_names(live_server, monkeypatch) -> None:
    """Fifty days of history with branches named at length, and a newer questionnaire (the one the
    dashboard names dimensions after) whose dimensions are too."""
    for key, names in DIMENSION_NAMES.items():
        monkeypatch.setitem(templates.DIMENSION_NAMES, key, names)
    with live_server.app.app_context():
        seed_history(dashboard.home_today(), count=80)
        for branch in db.session.scalars(select(Branch)):
            branch.name = BRANCH_NAMES.get(branch.code, branch.name)
        db.session.commit()


def test_every_chart_label_is_inside_its_chart_whole_apart_and_legible(browser: Browser, live_server, long_names,
                                                                        artifacts):
    if not shutil.which("fc-list") or not subprocess.run(["fc-list", ":lang=zh"], capture_output=True,
                                                         text=True).stdout.strip():
        pytest.fail("no Chinese font: Chromium draws boxes for every character (scripts/test installs "
                    "Debian's fonts-wqy-microhei)")
    problems: list[str] = []
    addresses: dict[str, set[str]] = {}
    context = browser.new_context(viewport={"width": VIEWPORTS[0], "height": 768}, locale="en-US")
    context.set_default_timeout(15_000)
    page, svg = context.new_page(), context.new_page()
    try:
        sign_in(page, live_server.url, "admin")
        for language in LANGUAGES:  # switched on the page, as a manager does
            page.set_viewport_size({"width": VIEWPORTS[0], "height": 768})
            page.goto(f"{live_server.url}/insight/?lang={language}")
            page.wait_for_load_state("networkidle")
            page.wait_for_function("() => [...document.querySelectorAll('img.chart')].every(i => i.complete)")
            measured: dict[str, dict] = {}
            for width in VIEWPORTS:  # the same page, the window resized: the charts scale with it
                page.set_viewport_size({"width": width, "height": 768})
                charts = page.evaluate(CHARTS_ON_PAGE)
                # JPEG: a PNG of the whole page takes seconds to encode, more than the rest of the test.
                page.screenshot(path=artifacts / f"dashboard-{language}-{width}.jpeg", full_page=True, type="jpeg",
                                quality=85, caret="initial")
                assert [c["section"] for c in charts] == ["trend", "dimensions", "branches", "categories"]
                for chart in charts:
                    assert chart["loaded"], chart["src"]
                    where = f"{language} {width}px {chart['section']}"
                    if chart["src"] not in measured:  # the SVG the page has, alone in a page of its own
                        svg.set_content(page.evaluate("async (src) => (await fetch(src)).text()", chart["src"]))
                        measured[chart["src"]] = svg.evaluate(MEASURE_TEXTS)
                        title = measured[chart["src"]]["title"]
                        if bool(re.search(r"[\u4e00-\u9fff]", title)) != (language == "zh_Hans"):
                            problems.append(f"{where}: the chart is titled {title!r}")
                    problems += label_problems(chart, measured[chart["src"]], where)
            addresses[language] = set(measured)
    finally:
        context.close()
    # A browser keeps a chart a minute: one address for two languages shows the language just left.
    problems += [f"{address} serves both languages" for address in sorted(addresses["zh_Hans"] & addresses["en"])]
    assert not problems, "\n".join(problems)
