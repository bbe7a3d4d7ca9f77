"""Charts as plain data: labels and counts in, bars with their coordinates, round axis ticks, a
summary sentence and the same numbers as a table out. `_chart.html` draws one as inline SVG (no
script, no inline style: colours come from CSS classes in tipline.css, so the page's CSP holds).

No database here: the pages ask the stores for counts and hand them to `stacked_columns` or
`horizontal_bars`. Coordinates are in the SVG's own units (its viewBox); the picture scales to the
width of the page, phone or desk.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

# The priority levels in the order they are stacked (the most urgent at the bottom, next to the axis)
# and the CSS class that gives each its colour (the badges' colours, tipline.css).
PRIORITY_LEVELS = ("P1", "P2", "P3", "P4", "unscored")


@dataclass(frozen=True)
class Series:
    """One kind of count (a priority level, an outcome): its key in the data, its label, its CSS class."""

    key: str
    label: str
    css: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    value: int
    title: str  # shown on hover ("12 Nov: 4 P1")
    href: str | None = None  # where the bar leads (the reports behind it), if anywhere


@dataclass(frozen=True)
class Tick:
    value: int
    position: float  # y of a column chart's gridline, x of a bar chart's


@dataclass(frozen=True)
class Label:
    text: str
    x: float
    y: float
    anchor: Literal["start", "middle", "end"] = "middle"


@dataclass(frozen=True)
class Chart:
    id: str
    kind: Literal["columns", "bars"]
    summary: str  # the sentence a screen reader announces; for an empty chart, the only thing shown
    width: int = 0
    height: int = 0
    plot: tuple[float, float, float, float] = (0, 0, 0, 0)  # left, top, right, bottom
    bars: list[Bar] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)  # categories, and the value at a bar's end
    legend: list[Series] = field(default_factory=list)
    table_head: list[str] = field(default_factory=list)
    table_rows: list[list[str | int]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.bars


def priority_series() -> list[Series]:
    return [Series(level, "Unscored" if level == "unscored" else level, f"priority-{level}")
            for level in PRIORITY_LEVELS]


def nice_ticks(maximum: int, count: int = 5) -> list[int]:
    """Axis ticks from 0 to at least `maximum`, about `count` steps of 1, 2 or 5 times a power of ten
    (whole numbers: these are counts)."""
    if maximum <= 0:
        return [0, 1]
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(1, round(step))
    top = step * math.ceil(maximum / step)
    return list(range(0, top + 1, step))


def _plural(count: int, noun: tuple[str, str]) -> str:
    return f"{count} {noun[0] if count == 1 else noun[1]}"


def _joined(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _r(value: float) -> float:
    return round(value, 1)


def stacked_columns(chart_id: str, categories: Sequence[str], series: Sequence[Series],
                    values: Mapping[str, Sequence[int]], *, noun: tuple[str, str], period: str, peak_word: str,
                    empty: str, category_heading: str = "", table_labels: Sequence[str] | None = None, max_labels: int = 6,
                    width: int = 520, height: int = 230, links: Callable[[int, str], str] | None = None) -> Chart:
    """One column per category (a day), its counts stacked in the order of `series` from the axis up.

    The summary: "412 reports received in the last 30 days (P1 12, ...); most on 12 Nov (31)".
    A series with no count anywhere is left out of the legend, the table and the summary."""
    n = len(categories)
    counts = {s.key: [int(v) for v in values.get(s.key, [0] * n)] for s in series}
    shown = [s for s in series if any(counts[s.key])]
    totals = [sum(counts[s.key][i] for s in shown) for i in range(n)]
    total = sum(totals)
    if total == 0:
        return Chart(chart_id, "columns", empty)
    left, top, right, bottom = 44.0, 12.0, width - 24.0, height - 28.0
    ticks = nice_ticks(max(totals))
    scale = (bottom - top) / ticks[-1]
    slot = (right - left) / n
    bar_width = max(1.0, slot * 0.72)
    bars = []
    for i, category in enumerate(categories):
        x = left + i * slot + (slot - bar_width) / 2
        y = bottom
        for s in shown:
            value = counts[s.key][i]
            if value:
                h = value * scale
                y -= h
                bars.append(Bar(_r(x), _r(y), _r(bar_width), _r(h), s.css, value, f"{category}: {value} {s.label}",
                                links(i, s.key) if links else None))
    every = max(1, math.ceil(n / max_labels))
    labels = [Label(categories[i], _r(left + (i + 0.5) * slot), bottom + 18)
              for i in range(n - 1, -1, -every)]  # counted from the newest, which is always labelled
    peak = max(totals)
    peaks = [categories[i] for i in range(n) if totals[i] == peak]
    breakdown = ", ".join(f"{s.label} {sum(counts[s.key])}" for s in shown)
    summary = (f"{_plural(total, noun)} {period} ({breakdown}); {peak_word} "
               f"{_joined(peaks[:3])}{' and others' if len(peaks) > 3 else ''} ({peak}{' each' if len(peaks) > 1 else ''})")
    rows: list[list[str | int]] = [[(table_labels or categories)[i], *(counts[s.key][i] for s in shown), totals[i]]
                                   for i in range(n)]
    return Chart(chart_id, "columns", summary, width, height, (left, top, right, bottom), bars,
                 [Tick(t, _r(bottom - t * scale)) for t in ticks], labels, shown,
                 [category_heading, *(s.label for s in shown), "Total"], rows)


def horizontal_bars(chart_id: str, items: Sequence[tuple[Series, int]], *, noun: tuple[str, str], period: str,
                    empty: str, headings: tuple[str, str], skip_zero_in_summary: bool = False, width: int = 420) -> Chart:
    """One horizontal bar per item, labelled on the left, its count at its end.

    The summary: "7 reports waiting for review: P1 2, P2 1, P3 4, P4 0"."""
    total = sum(v for _, v in items)
    if total == 0:
        return Chart(chart_id, "bars", empty)
    row, gap = 26.0, 8.0
    longest = max(len(s.label) for s, _ in items)
    left = 16.0 + 7.5 * longest  # room for the longest label; a long one widens the picture instead
    width = max(width, int(left / 0.45))
    right, top = width - 40.0, 4.0
    bottom = top + len(items) * (row + gap)
    height = int(bottom + 24)
    ticks = nice_ticks(max(v for _, v in items))
    scale = (right - left) / ticks[-1]
    bars, labels = [], []
    for i, (s, value) in enumerate(items):
        y = top + i * (row + gap) + gap / 2
        middle = _r(y + row / 2 + 4)
        labels.append(Label(s.label, left - 8, middle, "end"))
        labels.append(Label(str(value), _r(left + value * scale + 6), middle, "start"))
        if value:
            bars.append(Bar(_r(left), _r(y), _r(value * scale), row, s.css, value, f"{s.label}: {value}"))
    listed = [f"{s.label} {v}" for s, v in items if v or not skip_zero_in_summary]
    summary = f"{_plural(total, noun)} {period}: {', '.join(listed)}"
    return Chart(chart_id, "bars", summary, width, height, (left, top, right, bottom), bars,
                 [Tick(t, _r(left + t * scale)) for t in ticks], labels, [],
                 list(headings), [[s.label, v] for s, v in items])
