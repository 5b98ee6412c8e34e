"""Charts for /reports, drawn as SVG on the server by pygal and sent as data: images.

An image is its own document: the page's CSP (no inline script or style) does not reach into it, and an SVG
shown by <img> runs no script at all; pygal's script links (`js=[]`) and its config script are left out all the same. Every chart
has its numbers in a table beside it: the image's alt text says where.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from xml.etree import ElementTree

import pygal
from pygal.style import Style

STYLE = Style(
    background="#ffffff", plot_background="#ffffff", foreground="#1f2933", foreground_strong="#1f2933",
    foreground_subtle="#9aa5b1", colors=("#2563eb", "#16a34a", "#dc2626", "#9333ea", "#d97706"),
    font_family="system-ui, sans-serif", label_font_size=13, major_label_font_size=13, legend_font_size=14,
    title_font_size=16, value_font_size=12)


def _config(chart: pygal.graph.graph.Graph, labels: Sequence[str], series: dict[str, Sequence[float | None]]) -> None:
    chart.x_labels = list(labels)
    values = [v for vs in series.values() for v in vs if v is not None]
    if values and all(float(v).is_integer() for v in values):  # counts: whole-number ticks only
        top = int(max(sum(vs) for vs in zip(*[[v or 0 for v in s] for s in series.values()], strict=True))
                  if chart.__class__ is pygal.StackedBar else max(values))
        step = max(1, math.ceil(top / 8))
        chart.y_labels = list(range(0, top + step + 1, step))
    chart.show_minor_x_labels = len(labels) <= 14
    chart.x_labels_major_count = min(len(labels), 8)
    chart.truncate_label = -1


def _uri(chart: pygal.graph.graph.Graph) -> str:
    tree = chart.render_tree()
    for parent in list(tree.iter()):
        for child in [c for c in parent if str(c.tag).endswith("script")]:  # pygal's config, never run: gone
            parent.remove(child)
    svg = ElementTree.tostring(tree, encoding="utf-8")
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()


def _chart(kind: type, title: str, colours: Sequence[str] | None = None, **more: object) -> pygal.graph.graph.Graph:
    style = STYLE if colours is None else Style(**{**STYLE.to_dict(), "colors": tuple(colours)})
    return kind(style=style, title=title, js=[], disable_xml_declaration=True, width=720, height=360,
                legend_at_bottom=True, print_values=False, margin=16, **more)


def lines(title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]]) -> str:
    """A line per series over the labels (days): a data: URI of the SVG."""
    chart = _chart(pygal.Line, title, show_dots=len(labels) <= 45, fill=False, x_label_rotation=0)
    _config(chart, labels, series)
    for name, values in series.items():
        chart.add(name, list(values))
    return _uri(chart)


def bars(title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]], *,
         stacked: bool = False, colours: Sequence[str] | None = None) -> str:
    """Bars per label, side by side (or stacked): a data: URI of the SVG."""
    chart = _chart(pygal.StackedBar if stacked else pygal.Bar, title, colours)
    _config(chart, labels, series)
    for name, values in series.items():
        chart.add(name, list(values))
    return _uri(chart)
