"""Charts as inline SVG: no script, no font or image to fetch, readable in black and white.

Every bar and point carries its value as text, so the chart still says
everything when printed in grey or read by a screen reader (each chart has
a <title>). The SVG is written inside the HTML page, where it needs no
namespace declaration: the page refers to no outside address at all.
"""

from __future__ import annotations

import math
from html import escape

from cmclaims.report.display import money, number, percent
from cmclaims.report.model import Chart

WIDTH = 760
LABEL_WIDTH = 300
VALUE_WIDTH = 120
ROW = 24
BAR_FILL = "#4a6fa5"
BAR_EDGE = "#1f3b63"
INK = "#1a1a1a"
GRID = "#bbbbbb"


def _value_text(value: float, unit: str) -> str:
    return money(value) if unit == "money" else percent(value) if unit == "percent" else number(value)


def _clip(label: str, limit: int = 44) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _empty(chart: Chart) -> str:
    return (f'<svg role="img" width="{WIDTH}" height="48" viewBox="0 0 {WIDTH} 48">'
            f"<title>{escape(chart.title)}</title>"
            f'<text x="0" y="28" fill="{INK}" font-size="14">nothing to show</text></svg>')


def bar_chart(chart: Chart) -> str:
    """Horizontal bars, one per label, longest value = full width; the value written beside each bar."""
    if not chart.values or not any(v > 0 for v in chart.values):
        return _empty(chart)
    top = 1.0 if chart.unit == "percent" else max(chart.values)  # a share is drawn against 100%, not its peak
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = len(chart.values) * ROW + 8
    parts = [f'<svg role="img" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
             f'font-family="Helvetica, Arial, sans-serif" font-size="13">', f"<title>{escape(chart.title)}</title>"]
    for i, (label, value) in enumerate(zip(chart.labels, chart.values, strict=True)):
        y = 4 + i * ROW
        length = 0.0 if top <= 0 else max(0.0, value) / top * span
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{y + 16}" text-anchor="end" fill="{INK}">'
                     f"<title>{escape(label)}</title>{escape(_clip(label))}</text>")
        parts.append(f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{length:.1f}" height="{ROW - 8}" '
                     f'fill="{BAR_FILL}" stroke="{BAR_EDGE}" stroke-width="1"/>')
        parts.append(f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{y + 16}" fill="{INK}">'
                     f"{escape(_value_text(value, chart.unit))}</text>")
    parts.append("</svg>")
    return "".join(parts)


def line_chart(chart: Chart) -> str:
    """A share (0 to 1) over time: gridlines at every 25%, each point labelled when there is room."""
    values = [v for v in chart.values if not math.isnan(v)]
    if not values:
        return _empty(chart)
    height, left, right, top, bottom = 280, 56, 24, 16, 56
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    n = len(chart.values)
    step = plot_w / max(1, n - 1)

    def x(i: int) -> float:
        return left + (i * step if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + (1 - max(0.0, min(1.0, v))) * plot_h

    parts = [f'<svg role="img" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
             f'font-family="Helvetica, Arial, sans-serif" font-size="12">', f"<title>{escape(chart.title)}</title>"]
    for share in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line x1="{left}" x2="{WIDTH - right}" y1="{y(share):.1f}" y2="{y(share):.1f}" '
                     f'stroke="{GRID}" stroke-width="1"/>')
        parts.append(f'<text x="{left - 6}" y="{y(share) + 4:.1f}" text-anchor="end" fill="{INK}">{share:.0%}</text>')
    points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(chart.values) if not math.isnan(v))
    parts.append(f'<polyline points="{points}" fill="none" stroke="{BAR_EDGE}" stroke-width="2"/>')
    every = max(1, math.ceil(n / 12))  # at most about twelve date labels under the axis
    for i, (label, value) in enumerate(zip(chart.labels, chart.values, strict=True)):
        if math.isnan(value):
            continue
        parts.append(f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="3.5" fill="{BAR_FILL}" stroke="{BAR_EDGE}">'
                     f"<title>{escape(label)}: {percent(value)}</title></circle>")
        if n <= 24:
            # The first and last labels lean inwards, clear of the axis labels and the edge.
            anchor = "start" if i == 0 and n > 1 else "end" if i == n - 1 and n > 1 else "middle"
            shift = {"start": 6, "end": -6, "middle": 0}[anchor]
            parts.append(f'<text x="{x(i) + shift:.1f}" y="{y(value) - 8:.1f}" text-anchor="{anchor}" '
                         f'fill="{INK}">{percent(value)}</text>')
        if i % every == 0 or i == n - 1:
            parts.append(f'<text x="{x(i):.1f}" y="{height - bottom + 18}" text-anchor="end" fill="{INK}" '
                         f'transform="rotate(-35 {x(i):.1f} {height - bottom + 18})">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def chart_svg(chart: Chart) -> str:
    """The chart as inline SVG markup; a line of fewer than two points is drawn as labelled bars instead."""
    points = sum(1 for v in chart.values if not math.isnan(v))
    return line_chart(chart) if chart.kind == "line" and points >= 2 else bar_chart(chart)
