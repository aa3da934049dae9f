"""Charts as inline SVG drawn on the server, so web pages and PDF reports show the same picture.

Every label is escaped; every number is printed next to its bar or point, so the chart reads
without colour too.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

from reviews.scores import percent

HIGH = "#c62828"
MEDIUM = "#e69500"
SCORE = "#1f5fbf"
INK = "#1d2433"
MUTED = "#5b6475"
GRID = "#dde2ea"
FONT = 'font-family="DejaVu Sans, system-ui, sans-serif"'
# What fits in the bar chart's label column at 12 px (DejaVu Sans averages about 7 px a letter):
# longer labels wrap onto more lines rather than being cut, up to LABEL_LINES lines.
LABEL_CHARS = 30
LABEL_LINES = 3
LINE_HEIGHT = 14
# A value label is 11 px high: two closer than this at one point would overprint each other.
VALUE_LABEL_GAP = 13


@dataclass
class Bar:
    label: str
    high: int
    medium: int


@dataclass
class Point:
    label: str
    high: int
    medium: int
    # The score in percent (reviews.scores), drawn on its own 0–100 axis when a point has one.
    score: float | None = None


def _svg(width: int, height: int, title: str, body: list[str]) -> SafeString:
    # Safe: every text interpolated below goes through escape().
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}" {FONT} font-size="12">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def risk_bars(bars: list[Bar], *, title: str = "High and medium risks per pillar") -> SafeString:
    """Horizontal bars: one row per pillar, high risks then medium risks, counts printed.

    Labels are never cut short in the middle of a name: they wrap onto up to three lines, and
    only what would not fit in those ends with an ellipsis.
    """
    label_width, bar_width, top = 230, 420, 30
    width = label_width + bar_width + 170  # room for the "13 high · 5 medium" label
    largest = max([bar.high + bar.medium for bar in bars] + [1])
    scale = bar_width / largest
    body = [
        f'<rect x="{label_width}" y="6" width="12" height="12" fill="{HIGH}"/>'
        f'<text x="{label_width + 18}" y="16" fill="{INK}">High</text>'
        f'<rect x="{label_width + 70}" y="6" width="12" height="12" fill="{MEDIUM}"/>'
        f'<text x="{label_width + 88}" y="16" fill="{INK}">Medium</text>'
    ]
    y = top
    for bar in bars:
        lines = _wrap(bar.label)
        row = max(30, len(lines) * LINE_HEIGHT + 10)
        bar_top = y + (row - 10 - 20) / 2
        first_line = bar_top + 10 + 5 - (len(lines) - 1) * LINE_HEIGHT / 2
        high_width = bar.high * scale
        medium_width = bar.medium * scale
        body.append(
            f'<text x="{label_width - 10}" y="{first_line:.1f}" text-anchor="end" fill="{INK}">'
            + "".join(
                f'<tspan x="{label_width - 10}" dy="{0 if n == 0 else LINE_HEIGHT}">'
                f"{escape(line)}</tspan>"
                for n, line in enumerate(lines)
            )
            + "</text>"
        )
        if high_width:
            body.append(
                f'<rect x="{label_width}" y="{bar_top:.1f}" width="{high_width:.1f}" '
                f'height="20" fill="{HIGH}"><title>{bar.high} high</title></rect>'
            )
        if medium_width:
            body.append(
                f'<rect x="{label_width + high_width:.1f}" y="{bar_top:.1f}" '
                f'width="{medium_width:.1f}" height="20" fill="{MEDIUM}">'
                f"<title>{bar.medium} medium</title></rect>"
            )
        body.append(
            f'<text x="{label_width + high_width + medium_width + 6:.1f}" y="{bar_top + 15:.1f}" '
            f'fill="{MUTED}">{bar.high} high · {bar.medium} medium</text>'
        )
        y += row
    height = max(y, top + 30) + 10
    return _svg(width, int(height), title, body)


def trend_lines(points: list[Point], *, title: str = "Risk trend") -> SafeString:
    """High and medium risk counts over a series of states (milestones, then now), and the
    score where the points have one."""
    scored = any(p.score is not None for p in points)
    width, height = 690, 280
    left, right, top, bottom = 50, 50 if scored else 30, 50, 50
    plot_width = width - left - right
    plot_height = height - top - bottom
    largest = max([max(p.high, p.medium) for p in points] + [1])
    step = plot_width / max(len(points) - 1, 1)

    def x(index: int) -> float:
        return left + (index * step if len(points) > 1 else plot_width / 2)

    def y(value: int) -> float:
        return top + plot_height - value / largest * plot_height

    body = [
        f'<rect x="{left}" y="6" width="12" height="12" fill="{HIGH}"/>'
        f'<text x="{left + 18}" y="16" fill="{INK}">High</text>'
        f'<rect x="{left + 70}" y="6" width="12" height="12" fill="{MEDIUM}"/>'
        f'<text x="{left + 88}" y="16" fill="{INK}">Medium</text>'
    ]
    if scored:
        # Where the counts' dots and value labels are at each point, for the score's labels
        # to keep clear of.
        taken = [
            [
                spot
                for name in ("high", "medium")
                for spot in (
                    y(getattr(p, name)),  # the dot
                    y(getattr(p, name)) + _label_offset(p, name, y) - 4,  # its label's middle
                )
            ]
            for p in points
        ]
        body.append(_score_series(points, x, top, plot_height, width - right, taken))
    for tick in sorted({0, largest // 2, largest}):
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="{GRID}"/><text x="{left - 8}" y="{y(tick) + 4:.1f}" text-anchor="end" '
            f'fill="{MUTED}">{tick}</text>'
        )
    # The medium dot is the smaller one, drawn last, so at equal values both dots show.
    series = (("high", HIGH, "", 5), ("medium", MEDIUM, ' stroke-dasharray="6 4"', 3.5))
    for name, colour, dash, radius in series:
        coords = " ".join(f"{x(i):.1f},{y(getattr(p, name)):.1f}" for i, p in enumerate(points))
        if len(points) > 1:
            body.append(
                f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2.5"'
                f"{dash}/>"
            )
        for i, p in enumerate(points):
            value = getattr(p, name)
            body.append(
                f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="{radius}" fill="{colour}"/>'
                f'<text x="{x(i):.1f}" y="{y(value) + _label_offset(p, name, y):.1f}" '
                f'text-anchor="middle" fill="{colour}" font-size="11">{value}</text>'
            )
    for i, p in enumerate(points):
        body.append(
            f'<text x="{x(i):.1f}" y="{height - bottom + 30}" text-anchor="middle" '
            f'fill="{INK}">{escape(_shorten(p.label, 16))}</text>'
        )
    if not points:
        body.append(
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="{MUTED}">'
            "No milestones yet</text>"
        )
    return _svg(width, height, title, body)


def _score_series(
    points: list[Point],
    x: Callable[[int], float],
    top: int,
    plot_height: int,
    axis: int,
    taken: list[list[float]],
) -> str:
    """The score as a line of squares on a 0–100% axis at the right, with its own legend.

    Squares and a dotted line, so it reads apart from the risk counts without colour. Its value
    labels go below the points, or above them where a count's dot or label is in the way (the
    y positions in `taken`, per point); the first point's label starts right of its square,
    clear of the left axis's numbers.
    """

    def y(score: float) -> float:
        return top + plot_height - score / 100 * plot_height

    parts = [
        f'<rect x="{axis - 170}" y="6" width="12" height="12" fill="{SCORE}"/>'
        f'<text x="{axis - 152}" y="16" fill="{INK}">Score (right axis, %)</text>'
    ]
    for tick in (0, 50, 100):
        parts.append(f'<text x="{axis + 8}" y="{y(tick) + 4:.1f}" fill="{SCORE}">{tick}%</text>')
    scored = [(i, p.score) for i, p in enumerate(points) if p.score is not None]
    if len(scored) > 1:
        coords = " ".join(f"{x(i):.1f},{y(score):.1f}" for i, score in scored)
        parts.append(
            f'<polyline points="{coords}" fill="none" stroke="{SCORE}" stroke-width="2"'
            ' stroke-dasharray="2 4" stroke-linecap="round"/>'
        )
    for i, score in scored:
        below, above = y(score) + 17, y(score) - 9

        def crowded(baseline: float, i: int = i) -> bool:
            return any(abs(baseline - 4 - other) < VALUE_LABEL_GAP for other in taken[i])

        baseline = below
        if below > top + plot_height + 12 or (crowded(below) and not crowded(above)):
            baseline = above
        if i == 0 and len(points) > 1:
            anchor = f'x="{x(i) + 6:.1f}" text-anchor="start"'
        else:
            anchor = f'x="{x(i):.1f}" text-anchor="middle"'
        parts.append(
            f'<rect x="{x(i) - 4:.1f}" y="{y(score) - 4:.1f}" width="8" height="8" '
            f'fill="{SCORE}"/><text {anchor} y="{baseline:.1f}" '
            f'fill="{SCORE}" font-size="11">{percent(score)}</text>'
        )
    return "".join(parts)


def _label_offset(point: Point, series: str, y: Callable[[int], float]) -> int:
    """Where a value label sits from its point: above it, unless the other series is so close
    that the two labels would overprint; then the lower value's label goes below its point (at
    equal values, the medium one)."""
    if abs(y(point.high) - y(point.medium)) >= VALUE_LABEL_GAP:
        return -8
    lower = "high" if point.high < point.medium else "medium"
    return 16 if series == lower else -8


def _wrap(text: str) -> list[str]:
    return textwrap.wrap(
        text, LABEL_CHARS, max_lines=LABEL_LINES, placeholder=" …", break_on_hyphens=False
    ) or [""]


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
