"""The statistics page's bar charts, drawn as inline SVG at build time: no script, no
chart library. The template draws them; this module lays them out."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from kbsite.site.pages import Link


@dataclasses.dataclass(frozen=True, slots=True)
class Bar:
    """One bar of a chart, in the chart's own units (pixels of its viewBox)."""

    href: str
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    text_x: float
    text_y: float
    text: str
    """What is written beside the bar: the label, shortened where space is short."""


@dataclasses.dataclass(frozen=True, slots=True)
class Chart:
    """A bar chart drawn as inline SVG at build time: no script, no chart library."""

    caption: str
    width: int
    height: int
    bars: list[Bar]


COLUMN_WIDTH = 36
ROW_HEIGHT = 24
CHART_HEIGHT = 200
BAR_AREA = 360
"""Width of the longest bar in a horizontal chart; its labels go to the right of it."""


def column_chart(links: Sequence[Link], caption: str) -> Chart:
    """Vertical bars, left to right (years): the label under each bar, every fifth when many."""
    top = max((link.count or 0 for link in links), default=0) or 1
    every = 1 if len(links) <= 30 else 5
    bars = []
    for n, link in enumerate(links):
        value = link.count or 0
        height = CHART_HEIGHT * value / top
        x = n * COLUMN_WIDTH
        shown = link.text if n % every == 0 or n == len(links) - 1 else ""
        bars.append(
            Bar(link.href, link.text, value, x + 2, CHART_HEIGHT - height, COLUMN_WIDTH - 4,
                height, x + COLUMN_WIDTH / 2, CHART_HEIGHT + 16, shown)
        )  # fmt: skip
    return Chart(caption, max(len(links) * COLUMN_WIDTH, COLUMN_WIDTH), CHART_HEIGHT + 24, bars)


def bar_chart(links: Sequence[Link], caption: str, label_chars: int = 60) -> Chart:
    """Horizontal bars, top to bottom, each with its label and value to its right."""
    top = max((link.count or 0 for link in links), default=0) or 1
    bars = []
    for n, link in enumerate(links):
        value = link.count or 0
        width = max(BAR_AREA * value / top, 1)
        label = link.text if len(link.text) <= label_chars else link.text[: label_chars - 1] + "…"
        y = n * ROW_HEIGHT
        bars.append(
            Bar(link.href, link.text, value, 0, y + 3, width, ROW_HEIGHT - 6, width + 6,
                y + ROW_HEIGHT / 2 + 5, f"{label} ({value:,})")
        )  # fmt: skip
    return Chart(caption, BAR_AREA + 8 * label_chars, max(len(links), 1) * ROW_HEIGHT, bars)
