"""Inline SVG bar charts, drawn on the server: no script, no library, allowed by the CSP.

Why bars in plain SVG: the dashboard and the reconciliation trend each need one small chart,
which a few ``rect`` elements draw exactly; each bar carries a ``<title>`` (the browser's tooltip
and what a screen reader reads) with its label and value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH = 720
HEIGHT = 160
AXIS = 18  # room under the bars for the first and last labels
GAP = 2


@dataclass(frozen=True)
class Bar:
    """One bar: its value, the short label under the axis and its tooltip."""

    value: float
    label: str
    title: str
    css_class: str = "bar"


def bar_chart(element_id: str, bars: Sequence[Bar], *, caption: str) -> Markup:
    """An ``<svg id=element_id>`` with one ``rect`` per bar, scaled to the tallest bar."""
    plot = HEIGHT - AXIS
    peak = max((bar.value for bar in bars), default=0) or 1
    slot = WIDTH / max(1, len(bars))
    parts = [
        f'<svg id="{escape(element_id)}" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(caption)}" preserveAspectRatio="none">',
        f"<title>{escape(caption)}</title>",
        f'<line class="axis" x1="0" y1="{plot}" x2="{WIDTH}" y2="{plot}"/>',
    ]
    for index, bar in enumerate(bars):
        height = plot * max(0.0, bar.value) / peak
        x = index * slot + GAP / 2
        parts.append(
            f'<rect class="{escape(bar.css_class)}" x="{x:.1f}" y="{plot - height:.1f}" '
            f'width="{max(1.0, slot - GAP):.1f}" height="{height:.1f}" '
            f'data-value="{bar.value:g}"><title>{escape(bar.title)}</title></rect>'
        )
    if bars:
        parts.append(_label(bars[0].label, 0, "start"))
        parts.append(_label(bars[-1].label, WIDTH, "end"))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above


def _label(text: str, x: float, anchor: str) -> str:
    position = f'x="{x:.0f}" y="{HEIGHT - 4}" text-anchor="{anchor}"'
    return f'<text class="label" {position}>{escape(text)}</text>'
