"""The dashboard charts leave their labels the room they take when drawn (Chinese a whole em a character).

Checked on the SVG text with the charts' own width estimate; tests/browser/test_dashboard_charts_readable.py
measures the same labels in Chromium.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from types import SimpleNamespace

from app.services.dashboard import charts
from app.services.dashboard.charts import ELLIPSIS, fit_label, label_width, wrap_label

SIZE = charts.STYLE.label_font_size
SVG = "{http://www.w3.org/2000/svg}"
LONG_CHINESE = "上海市黄浦区人民广场来福士广场地下一层美食街旗舰体验中心店"


def _scores(value: float) -> SimpleNamespace:
    return SimpleNamespace(csat=value, nps=0, index_percent=value)


def _translate(element: ET.Element) -> tuple[float, float]:
    x, y = re.match(r"translate\(([-\d.]+),\s*([-\d.]+)\)", element.get("transform")).groups()
    return float(x), float(y)


def test_a_chinese_character_is_a_whole_em_and_latin_letters_narrower():
    assert label_width("上海人民广场店", SIZE) == 7 * SIZE
    assert label_width("London Soho", SIZE) < 11 * SIZE * 0.6


def test_a_label_wider_than_its_room_is_cut_with_an_ellipsis_and_fits():
    assert fit_label("杭州西湖店", 200, SIZE) == "杭州西湖店"
    cut = fit_label(LONG_CHINESE, 200, SIZE)
    assert cut.endswith(ELLIPSIS) and LONG_CHINESE.startswith(cut[:-1]) and label_width(cut, SIZE) <= 200


def test_a_name_wraps_between_english_words_and_anywhere_in_chinese():
    assert wrap_label("Staff attitude and product knowledge", 120, SIZE, 3) == ["Staff attitude", "and product", "knowledge"]
    lines = wrap_label("门店环境与卫生（含洗手间）", 120, SIZE, 3)
    assert "".join(lines) == "门店环境与卫生（含洗手间）" and len(lines) == 2
    assert all(label_width(line, SIZE) <= 120 for line in lines)
    assert wrap_label(LONG_CHINESE, 120, SIZE, 2)[-1].endswith(ELLIPSIS)


def test_branch_names_in_chinese_have_the_room_they_are_drawn_in():
    rows = [SimpleNamespace(branch=SimpleNamespace(name=name), scores=_scores(60))
            for name in (LONG_CHINESE, "杭州西湖湖滨银泰in77购物中心一楼旗舰体验店", "London Soho — Carnaby Street Flagship")]
    root = ET.fromstring(charts.branches_svg(rows))
    plot = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "plot")
    left, _top = _translate(plot)
    axis = next(g for g in plot.iter(f"{SVG}g") if (g.get("class") or "").startswith("axis y"))
    titled = {g.find(f"{SVG}text").text: g.find(f"{SVG}title").text for g in axis.iter(f"{SVG}g")
              if g.find(f"{SVG}text") is not None}
    names = list(titled)
    assert set(names) >= {"杭州西湖湖滨银泰in77购物中心一楼旗舰体验店", "London Soho — Carnaby Street Flagship"}
    cut = fit_label(LONG_CHINESE, charts.BRANCH_LABEL_WIDTH, SIZE)
    assert titled[cut] == LONG_CHINESE  # and the league table under the chart has it whole
    for name in names:
        assert left - 5 - label_width(name, SIZE) >= 0, name  # pygal ends a name 5 px left of the plot


def test_dimension_names_lie_level_inside_the_radar_chart(monkeypatch):
    monkeypatch.setattr(charts, "text", lambda texts: texts["en"])  # the request's language, without a request
    names = [{"en": "Product"}, {"en": "Staff attitude and product knowledge"}, {"en": "Store environment and cleanliness"},
             {"en": "门店环境与卫生（含洗手间）"}, {"en": "Checkout"}]
    rows = [SimpleNamespace(name=name, key=f"d{i}", mean=3.0 + i / 4) for i, name in enumerate(names)]
    root = ET.fromstring(charts.dimensions_svg(rows))
    width, height = float(root.get("width")), float(root.get("height"))
    plot = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "plot")
    left, top = _translate(plot)
    web = next(g for g in plot.iter(f"{SVG}g") if g.get("class") == "axis x web")
    labels = list(web.iter(f"{SVG}text"))
    assert len(labels) == len(names)
    for label in labels:
        assert "transform" not in label.attrib  # level, not turned along its spoke
        lines = [span.text for span in label.iter(f"{SVG}tspan")]
        anchor = label.get("style").split(":")[1]
        x = left + float(label.get("x"))
        drawn = max(label_width(line, SIZE) for line in lines)
        start = {"start": x, "end": x - drawn, "middle": x - drawn / 2}[anchor]
        assert 0 <= start and start + drawn <= width, lines
        ys = [top + float(span.get("y")) for span in label.iter(f"{SVG}tspan")]
        assert min(ys) - SIZE >= 0 and max(ys) + SIZE * 0.3 <= height, lines
        assert ELLIPSIS not in "".join(lines), lines


def test_legends_at_the_bottom_take_as_many_columns_as_fit_side_by_side():
    rows = [SimpleNamespace(category=category, tickets=5, share=20.0)
            for category in ("product", "service", "communication", "environment", None)]
    root = ET.fromstring(charts.categories_svg(rows))
    legends = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "legends")
    entries = [text for text in legends.iter(f"{SVG}text") if text.text]
    assert len(entries) == 5
    by_row: dict[float, list[ET.Element]] = {}
    for entry in entries:
        by_row.setdefault(float(entry.get("y")), []).append(entry)
    assert len(by_row) == 2  # 5 short names in 480 px: three a row
    for row in by_row.values():
        row.sort(key=lambda text: float(text.get("x")))
        for this, following in zip(row, row[1:]):
            room = float(following.get("x")) - float(this.get("x"))
            assert label_width(this.text, charts.STYLE.legend_font_size) < room, this.text


def test_the_name_under_the_radar_lies_above_its_legend(monkeypatch):
    monkeypatch.setattr(charts, "text", lambda texts: texts["en"])
    names = ["Product", "Service", "Store environment and cleanliness (restrooms included)", "Waiting time"]
    rows = [SimpleNamespace(name={"en": name}, key=f"d{i}", mean=3.0) for i, name in enumerate(names)]
    root = ET.fromstring(charts.dimensions_svg(rows))
    plot = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "plot")
    _left, top = _translate(plot)
    legend_top = _translate(next(g for g in root.iter(f"{SVG}g") if g.get("class") == "legends"))[1]
    web = next(g for g in plot.iter(f"{SVG}g") if g.get("class") == "axis x web")
    lowest = max(top + float(span.get("y")) for span in web.iter(f"{SVG}tspan"))  # the third name, straight down
    assert lowest + SIZE * 0.3 < legend_top
