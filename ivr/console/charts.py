"""Bar charts drawn on the server as SVG: no script, no library, nothing fetched.

A statistics page must read the same figures as `ivr report`, suppression included, on a
machine that may have no internet; an inline SVG of horizontal bars does that in a few
hundred bytes, and prints. A hidden cell gets no bar, only its mark (`<5` or `x`), so a chart
never shows what the table hides. Colours come from presentation attributes (the console's
Content-Security-Policy allows no inline styles).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

BAR_HEIGHT, GAP, LABEL_WIDTH, BAR_WIDTH, VALUE_WIDTH = 18, 6, 190, 320, 70
# A 13px character, generously: a long label (a category in Kazakh, a region's name) widens
# the labels' column instead of being cut off at its left.
CHARACTER_WIDTH = 9


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: hidden
    text: str  # what is written after the bar: the figure, or the mark of a hidden cell


def bar_chart(title: str, bars: Sequence[Bar]) -> Markup:
    """Horizontal bars scaled to the largest shown value, with their labels and figures."""
    largest = max((bar.value for bar in bars if bar.value is not None), default=0.0) or 1.0
    height = len(bars) * (BAR_HEIGHT + GAP) + GAP
    label_width = max([LABEL_WIDTH, *(8 + CHARACTER_WIDTH * len(bar.label) for bar in bars)])
    width = label_width + BAR_WIDTH + VALUE_WIDTH
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
             f"<title>{escape(title)}</title>"]
    for n, bar in enumerate(bars):
        y = GAP + n * (BAR_HEIGHT + GAP)
        middle = y + BAR_HEIGHT * 0.7
        parts.append(f'<text x="{label_width - 8}" y="{middle:.1f}" text-anchor="end" '
                     f'font-size="13" fill="#222">{escape(bar.label)}</text>')
        length = 0.0
        if bar.value is not None and bar.value > 0:
            length = max(1.0, BAR_WIDTH * bar.value / largest)
            parts.append(f'<rect x="{label_width}" y="{y}" width="{length:.1f}" '
                         f'height="{BAR_HEIGHT}" fill="#2f6f9f"/>')
        parts.append(f'<text x="{label_width + length + 6:.1f}" y="{middle:.1f}" '
                     f'font-size="13" fill="#222">{escape(bar.text)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped
