"""The dashboard's charts as SVG documents, drawn on the server by pygal (no JavaScript).

Each chart is served as its own image: pygal styles its SVG with a <style> element, which the
pages' policy (style-src 'self') would refuse inline; an image URL gets a policy of its own. The
<script> pygal adds for its tooltips is removed: an image runs no script, and none is wanted.
Every number a chart shows is also in the table beside it (links, screen readers, copying).
"""
from __future__ import annotations

from collections.abc import Sequence

import pygal
from flask_babel import gettext as _
from pygal.style import Style

from app import labels
from app.core.insight import Grain
from app.core.scoring import CSAT_MAX, WEAK_DIMENSION_THRESHOLD
from app.i18n import text

FONT = 'system-ui, -apple-system, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif'
STYLE = Style(
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
WIDTH = 800


def _no_scripts(root):
    for parent in list(root.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return root


def _chart(kind, **config):
    chart = kind(
        style=STYLE, js=[], width=WIDTH, explicit_size=True, no_data_text=_("No data in this selection"),
        legend_at_bottom=True, truncate_legend=40, truncate_label=30, **config,
    )
    chart.add_xml_filter(_no_scripts)
    return chart


def period_label(start, grain: Grain) -> str:
    return start.strftime("%Y-%m") if grain == Grain.MONTH else start.strftime("%m-%d")


def trend_svg(points: Sequence, grain: Grain) -> bytes:
    """CSAT (%), NPS and the index (% of its scale) per period, on one −100…100 axis."""
    chart = _chart(pygal.Line, height=340, range=(-100, 100), include_x_axis=True, show_minor_x_labels=False,
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
    """The mean rating (1–5) per dimension, with the weak-spot line at 3.5."""
    chart = _chart(pygal.Radar, height=380, range=(0, CSAT_MAX), fill=True)
    chart.title = _("Dimensions (mean rating 1–5)")
    chart.x_labels = [text(r.name) or r.key for r in rows]
    chart.add(_("Mean rating"), [r.mean for r in rows])
    chart.add(_("Weak below %(threshold)s", threshold=WEAK_DIMENSION_THRESHOLD),
              [WEAK_DIMENSION_THRESHOLD for _row in rows], fill=False, show_dots=False)
    return chart.render()


def branches_svg(rows: Sequence) -> bytes:
    """Index (% of scale) and CSAT per branch, best first, top to bottom."""
    shown = list(rows)
    chart = _chart(pygal.HorizontalBar, height=max(220, 90 + 34 * len(shown)), range=(0, 100))
    chart.title = _("Branches")
    ordered = list(reversed(shown))  # pygal draws the first label at the bottom
    chart.x_labels = [r.branch.name for r in ordered]
    chart.add(_("Index (%(unit)s of scale)", unit="%"), [r.scores.index_percent for r in ordered])
    chart.add(_("CSAT %"), [r.scores.csat for r in ordered])
    return chart.render()


def categories_svg(rows: Sequence) -> bytes:
    """Tickets by category (problem distribution)."""
    chart = _chart(pygal.Pie, height=340, inner_radius=0.45)
    chart.title = _("Problems by category")
    for row in rows:
        name = str(labels.CATEGORY_LABELS.get(row.category, _("Uncategorised"))) if row.category else _("Uncategorised")
        chart.add(name, [{"value": row.tickets, "label": f"{row.share:.1f} %"}])
    return chart.render()
