"""The dashboard's charts as SVG documents, drawn on the server by pygal (no JavaScript).

Each chart is served as its own image: pygal styles its SVG with a <style> element, which the
pages' policy (style-src 'self') would refuse inline; an image URL gets a policy of its own. The
<script> pygal adds for its tooltips is removed: an image runs no script, and none is wanted.
Every number a chart shows is also in the table beside it (links, screen readers, copying).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from math import ceil, cos, pi, sin, sqrt

import pygal
from flask_babel import gettext as _
from pygal.style import Style

from app import labels
from app.core.insight import Grain
from app.core.scoring import CSAT_MAX, WEAK_DIMENSION_THRESHOLD
from app.i18n import text

FONT = 'system-ui, -apple-system, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif'
STYLE_SETTINGS = dict(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1d2433",
    foreground_strong="#1d2433",
    foreground_subtle="#5b6472",
    opacity=".75",
    opacity_hover=".95",
    colors=("#1f5fbf", "#e08a00", "#2e8b57", "#b3261e", "#7a5ab8", "#5b6472"),
    font_family=FONT,
    label_font_family=FONT,
    major_label_font_family=FONT,
    value_font_family=FONT,
    value_label_font_family=FONT,
    tooltip_font_family=FONT,
    title_font_family=FONT,
    legend_font_family=FONT,
    no_data_font_family=FONT,
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=14,
    value_font_size=13,
    no_data_font_size=20,
)
STYLE = Style(**STYLE_SETTINGS)
#: The radar's scale (0…5 up its first spoke) stays legible under a light fill.
RADAR_STYLE = Style(**{**STYLE_SETTINGS, "opacity": ".3"})
#: A chart across the page (trend, branches) and one in a column of two (dimensions, categories): each is
#: drawn at about the width it is shown at on a laptop (1366 px) and a tablet in landscape (1024 px), so its
#: 13 px labels stay 12–14 px on screen (the <img> scales with the page).
WIDTH = 800
COLUMN_WIDTH = 480
#: Where a label's width is estimated: pygal counts 0.6 em a character, but a Chinese character is a
#: whole em, so a branch or dimension named in Chinese overran the room pygal left for it.
WIDE_GLYPH_EM = 1.0
CAPITAL_EM = 0.7
NARROW_EM = 0.56
SPACE_EM = 0.35
ELLIPSIS = "…"
#: The widest a branch's name is drawn left of its bars (about 27 Chinese characters, 45 Latin letters).
BRANCH_LABEL_WIDTH = 360
#: The widest line of a dimension's name beside the radar (about 9 Chinese characters).
DIMENSION_LINE_WIDTH = 120


def label_width(label: str, font_size: float) -> float:
    """A generous estimate of ``label``'s width in px: Chinese 1 em, Latin capitals and digits 0.7 em, other
    letters 0.56 em (a little wider than DejaVu Sans, a wide font), spaces and stops 0.35 em."""
    width = 0.0
    for char in label:
        if unicodedata.east_asian_width(char) in ("W", "F"):
            width += WIDE_GLYPH_EM
        elif char.isupper() or char.isdigit():
            width += CAPITAL_EM
        elif char.isspace() or char in ",.;:'|!()-":
            width += SPACE_EM
        else:
            width += NARROW_EM
    return width * font_size


def fit_label(label: str, max_width: float, font_size: float) -> str:
    """``label`` whole when it fits, else cut to fit with "…" (the table beside the chart has it whole)."""
    if label_width(label, font_size) <= max_width:
        return label
    cut = label
    while cut and label_width(cut.rstrip() + ELLIPSIS, font_size) > max_width:
        cut = cut[:-1]
    return cut.rstrip() + ELLIPSIS


def _greedy_lines(label: str, max_width: float, font_size: float) -> list[str]:
    lines: list[str] = []
    line = ""
    for piece in re.findall(r"[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+\s*|\S\s*|\s+", label):
        if line and label_width((line + piece).rstrip(), font_size) > max_width:
            lines.append(line.rstrip())
            line = piece.lstrip()
        else:
            line += piece
    if line.strip():
        lines.append(line.rstrip())
    return lines


def wrap_label(label: str, max_width: float, font_size: float, max_lines: int) -> list[str]:
    """``label`` in lines of at most ``max_width`` px, as even as they come (Latin words kept whole,
    Chinese broken anywhere); the last line cut with "…" when it still does not fit."""
    lines = _greedy_lines(label, max_width, font_size)
    if 1 < len(lines) <= max_lines:
        even = label_width(label, font_size) / len(lines)
        while even < max_width:  # 售后服务与退换货 / 流程, not 售后服务与退换货流 / 程
            balanced = _greedy_lines(label, even, font_size)
            if len(balanced) == len(lines):
                return balanced
            even += font_size / 2
    if len(lines) > max_lines:
        rest = lines[max_lines - 1]
        for following in lines[max_lines:]:  # words were parted by a space; Chinese by nothing
            rest += (" " if rest[-1:].isascii() and following[:1].isascii() else "") + following
        lines = lines[: max_lines - 1] + [rest]
    return [fit_label(line, max_width, font_size) for line in lines]


class _MeasuredLabels:
    """Room for the labels as wide as they are drawn (``label_width``), not pygal's 0.6 em a character:
    the margin left of the y labels, and as many legend columns at the bottom as fit side by side."""

    def _compute_margin(self):
        super()._compute_margin()
        self._add_label_room()
        self._fit_legend_columns()

    def _add_label_room(self) -> None:
        if self.show_y_labels and self._y_labels:
            labels = [str(label) for label, _position in self._y_labels]
            pygal_width = max(map(len, labels)) * 0.6 * self.style.label_font_size
            drawn = max(label_width(label, self.style.label_font_size) for label in labels)
            self.margin_box.left += max(0.0, drawn - pygal_width)

    def _fit_legend_columns(self) -> None:
        if not (self.show_legend and self.legend_at_bottom and self.series):
            return
        size = self.style.legend_font_size
        titles = [(s.title.get("title") if isinstance(s.title, dict) else s.title) or "" for s in self.series]
        entry = max(label_width(str(title), size) for title in titles) + self.legend_box_size + 5 + self.spacing
        # pygal's own reckoning of the rows it left room for; one legend lies in a column view.width / columns wide
        chosen = self.legend_at_bottom_columns
        rows_before = self._order // chosen if chosen else ceil(sqrt(self._order)) or 1
        columns = max(1, min(self._order, int((self.width - self.margin_box.x) // entry)))
        self.margin_box.bottom += (ceil(self._order / columns) - rows_before) * 1.5 * max(self.legend_box_size, size)
        self.legend_at_bottom_columns = columns


class Line(_MeasuredLabels, pygal.Line):
    """pygal's line chart, its labels and legend given the room they take."""


class Pie(_MeasuredLabels, pygal.Pie):
    """pygal's pie, its legend given the room it takes."""


class HorizontalBar(_MeasuredLabels, pygal.HorizontalBar):
    """Bars for categories with long names (branches): each name read across, left of its bars, and cut
    with "…" past ``label_room`` px: whole in the label's <title> and in the table beside the chart."""

    def __init__(self, *args, label_room: float = BRANCH_LABEL_WIDTH, **kwargs):
        self._label_room = label_room
        super().__init__(*args, **kwargs)

    def _post_compute(self):
        super()._post_compute()  # the categories' names are the y labels from here on
        size = self.style.label_font_size
        self._whole_names = {}
        fitted = []
        for name, position in self._y_labels:
            label = fit_label(name, self._label_room, size)
            self._whole_names.setdefault(label, name)
            fitted.append((label, position))
        self._y_labels = fitted

    def _y_axis(self):
        super()._y_axis()
        for guides in self.nodes["plot"].iter("g"):
            text, title = guides.find("text"), guides.find("title")
            if text is not None and title is not None and text.text in self._whole_names:
                title.text = self._whole_names[text.text]  # pygal's title there is the bar's position


class Radar(_MeasuredLabels, pygal.Radar):
    """pygal's radar with its labels written level, outside the web, on as many lines as they need.

    pygal turns each label along its spoke and leaves it the room of 0.6 em a character inside the
    chart: names of a few words, or in Chinese, ran over the edge or over the scale's numbers.
    Here every label lies level beyond the end of its spoke, anchored on the side it points to, and
    the margins are made as wide as the labels (``label_lines``, set before drawing).
    """

    LINE_HEIGHT = 1.25
    GAP = 12

    def __init__(self, *args, label_lines: Sequence[Sequence[str]] = (), **kwargs):
        self._label_lines = [list(lines) for lines in label_lines]
        super().__init__(*args, **kwargs)

    def _placement(self, theta: float) -> tuple[str, str]:
        """(horizontal, vertical) side of its spoke's end a label at ``theta`` lies on."""
        across, up = cos(theta), sin(theta)
        horizontal = "start" if across > 0.2 else "end" if across < -0.2 else "middle"
        vertical = "above" if up > 0.5 and horizontal == "middle" else "below" if up < -0.5 and horizontal == "middle" else "level"
        return horizontal, vertical

    def _add_label_room(self) -> None:
        super()._add_label_room()
        self.margin_box.bottom -= self._x_labels_height  # pygal's room for labels under a line chart
        size = self.style.label_font_size
        room = {"left": 0.0, "right": 0.0, "above": 0.0, "below": 0.0}
        delta = 2 * pi / max(1, len(self._label_lines))
        for index, lines in enumerate(self._label_lines):
            horizontal, vertical = self._placement(pi / 2 + index * delta)
            width = max((label_width(line, size) for line in lines), default=0) + self.GAP
            height = len(lines) * size * self.LINE_HEIGHT + self.GAP
            if horizontal == "end":
                room["left"] = max(room["left"], width)
            elif horizontal == "start":
                room["right"] = max(room["right"], width)
            if vertical == "above":
                room["above"] = max(room["above"], height)
            elif vertical == "below":
                room["below"] = max(room["below"], height)
            else:
                room["above"] = max(room["above"], height / 2)
                room["below"] = max(room["below"], height / 2)
        self.margin_box.left += room["left"]
        self.margin_box.right += room["right"]
        self.margin_box.top += room["above"]
        self.margin_box.bottom += room["below"]
        self._x_labels_height = room["below"]  # pygal sets the legend this far below the plot

    def _x_axis(self, draw_axes=True):
        if not self._x_labels or not self.show_x_labels:
            return
        axis = self.svg.node(self.nodes["plot"], class_="axis x web")
        center = self.view((0, 0))
        size = self.style.label_font_size
        for index, (label, theta) in enumerate(self._x_labels):
            guides = self.svg.node(axis, class_="guides")
            end = self.view((self._rmax, theta))
            self.svg.node(guides, "path", d="M%f %f L%f %f" % (*center, *end), class_="line")
            lines = self._label_lines[index] if index < len(self._label_lines) else [label]
            horizontal, vertical = self._placement(theta)
            x = end[0] + {"start": self.GAP, "end": -self.GAP, "middle": 0}[horizontal]
            line_height = size * self.LINE_HEIGHT
            block = len(lines) * line_height
            top = {"above": end[1] - self.GAP - block, "below": end[1] + self.GAP, "level": end[1] - block / 2}[vertical]
            text = self.svg.node(guides, "text", x=x, y=top, class_="major")
            text.attrib["style"] = f"text-anchor:{horizontal}"  # pygal's style sheet centres axis labels
            for number, line in enumerate(lines):
                span = self.svg.node(text, "tspan", x=x, y=top + line_height * number + size * 0.9)
                span.text = line
            self.svg.node(guides, "title").text = label


def _no_scripts(root):
    for parent in list(root.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return root


def _chart(kind, width: int = WIDTH, style: Style = STYLE, **config):
    """A pygal chart in the dashboard's style; labels are never cut by pygal (they are fitted here)."""
    chart = kind(
        style=style, js=[], width=width, explicit_size=True, no_data_text=_("No data in this selection"),
        legend_at_bottom=True, truncate_legend=-1, truncate_label=-1, **config,
    )
    chart.add_xml_filter(_no_scripts)
    return chart


TREND_HEIGHT = 340
DIMENSIONS_HEIGHT = 400
CATEGORIES_HEIGHT = 340


def branches_height(count: int) -> int:
    return max(220, 90 + 34 * count)


def sizes(branches: int) -> dict[str, tuple[int, int]]:
    """Each chart's (width, height), for the page's <img> (its box before the image arrives)."""
    return {
        "trend": (WIDTH, TREND_HEIGHT),
        "dimensions": (COLUMN_WIDTH, DIMENSIONS_HEIGHT),
        "branches": (WIDTH, branches_height(branches)),
        "categories": (COLUMN_WIDTH, CATEGORIES_HEIGHT),
    }


def period_label(start, grain: Grain) -> str:
    return start.strftime("%Y-%m") if grain == Grain.MONTH else start.strftime("%m-%d")


def trend_svg(points: Sequence, grain: Grain) -> bytes:
    """CSAT (%), NPS and the index (% of its scale) per period, on one −100…100 axis."""
    chart = _chart(Line, height=TREND_HEIGHT, range=(-100, 100), include_x_axis=True, show_minor_x_labels=False,
                   x_label_rotation=0 if len(points) <= 14 else 30)
    chart.title = _("Trend")
    chart.x_labels = [period_label(p.start, grain) for p in points]
    if len(points) > 14:
        chart.x_labels_major = chart.x_labels[:: max(1, len(points) // 12)]
    chart.add(_("CSAT %"), [p.scores.csat for p in points])
    chart.add(_("NPS"), [p.scores.nps for p in points])
    chart.add(_("Index (%(unit)s of scale)", unit="%"), [p.scores.index_percent for p in points])
    return chart.render()


def dimensions_svg(rows: Sequence) -> bytes:
    """The mean rating (1–5) per dimension, with the weak-spot line at 3.5 (the radar of the brief).

    A dimension's name is written level on up to three lines of at most ``DIMENSION_LINE_WIDTH`` px.
    """
    names = [text(r.name) or r.key for r in rows]
    size = STYLE.label_font_size
    chart = _chart(Radar, width=COLUMN_WIDTH, height=DIMENSIONS_HEIGHT, range=(0, CSAT_MAX), fill=True, style=RADAR_STYLE,
                   label_lines=[wrap_label(name, DIMENSION_LINE_WIDTH, size, max_lines=3) for name in names])
    chart.title = _("Dimensions (mean rating 1–5)")
    chart.x_labels = names
    chart.add(_("Mean rating"), [r.mean for r in rows])
    chart.add(_("Weak below %(threshold)s", threshold=WEAK_DIMENSION_THRESHOLD),
              [WEAK_DIMENSION_THRESHOLD for _row in rows], fill=False, show_dots=False)
    return chart.render()


def branches_svg(rows: Sequence) -> bytes:
    """Index (% of scale) and CSAT per branch, best first, top to bottom.

    A name wider than ``BRANCH_LABEL_WIDTH`` is cut with "…": the league table under the chart has it whole.
    """
    shown = list(rows)
    chart = _chart(HorizontalBar, height=branches_height(len(shown)), range=(0, 100))
    chart.title = _("Branches")
    ordered = list(reversed(shown))  # pygal draws the first label at the bottom
    chart.x_labels = [r.branch.name for r in ordered]
    chart.add(_("Index (%(unit)s of scale)", unit="%"), [r.scores.index_percent for r in ordered])
    chart.add(_("CSAT %"), [r.scores.csat for r in ordered])
    return chart.render()


def categories_svg(rows: Sequence) -> bytes:
    """Tickets by category (problem distribution)."""
    chart = _chart(Pie, width=COLUMN_WIDTH, height=CATEGORIES_HEIGHT, inner_radius=0.45)
    chart.title = _("Problems by category")
    for row in rows:
        name = str(labels.CATEGORY_LABELS.get(row.category, _("Uncategorised"))) if row.category else _("Uncategorised")
        chart.add(name, [{"value": row.tickets, "label": f"{row.share:.1f} %"}])
    return chart.render()
