"""Charts as inline SVG drawn on the server, so web pages and PDF reports show the same picture.

Every label is escaped; every number is printed next to its bar or point, so the chart reads
without colour too.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

HIGH = "#c62828"
MEDIUM = "#e69500"
INK = "#1d2433"
MUTED = "#5b6475"
GRID = "#dde2ea"
FONT = 'font-family="DejaVu Sans, system-ui, sans-serif"'


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


def _svg(width: int, height: int, title: str, body: list[str]) -> SafeString:
    # Safe: every text interpolated below goes through escape().
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}" {FONT} font-size="12">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def risk_bars(bars: list[Bar], *, title: str = "High and medium risks per pillar") -> SafeString:
    """Horizontal bars: one row per pillar, high risks then medium risks, counts printed."""
    label_width, bar_width, row, top = 190, 420, 30, 30
    width = label_width + bar_width + 170  # room for the "13 high · 5 medium" label
    height = top + row * max(len(bars), 1) + 10
    largest = max([bar.high + bar.medium for bar in bars] + [1])
    scale = bar_width / largest
    body = [
        f'<rect x="{label_width}" y="6" width="12" height="12" fill="{HIGH}"/>'
        f'<text x="{label_width + 18}" y="16" fill="{INK}">High</text>'
        f'<rect x="{label_width + 70}" y="6" width="12" height="12" fill="{MEDIUM}"/>'
        f'<text x="{label_width + 88}" y="16" fill="{INK}">Medium</text>'
    ]
    for index, bar in enumerate(bars):
        y = top + index * row
        high_width = bar.high * scale
        medium_width = bar.medium * scale
        body.append(
            f'<text x="{label_width - 10}" y="{y + 15}" text-anchor="end" fill="{INK}">'
            f"{escape(_shorten(bar.label, 28))}</text>"
        )
        if high_width:
            body.append(
                f'<rect x="{label_width}" y="{y}" width="{high_width:.1f}" height="20" '
                f'fill="{HIGH}"><title>{bar.high} high</title></rect>'
            )
        if medium_width:
            body.append(
                f'<rect x="{label_width + high_width:.1f}" y="{y}" width="{medium_width:.1f}" '
                f'height="20" fill="{MEDIUM}"><title>{bar.medium} medium</title></rect>'
            )
        body.append(
            f'<text x="{label_width + high_width + medium_width + 6:.1f}" y="{y + 15}" '
            f'fill="{MUTED}">{bar.high} high · {bar.medium} medium</text>'
        )
    return _svg(width, height, title, body)


def trend_lines(points: list[Point], *, title: str = "Risk trend") -> SafeString:
    """High and medium risk counts over a series of states (milestones, then now)."""
    width, height = 690, 280
    left, right, top, bottom = 50, 30, 50, 50
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
    for tick in sorted({0, largest // 2, largest}):
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="{GRID}"/><text x="{left - 8}" y="{y(tick) + 4:.1f}" text-anchor="end" '
            f'fill="{MUTED}">{tick}</text>'
        )
    for series, colour, dash in (("high", HIGH, ""), ("medium", MEDIUM, ' stroke-dasharray="6 4"')):
        coords = " ".join(f"{x(i):.1f},{y(getattr(p, series)):.1f}" for i, p in enumerate(points))
        if len(points) > 1:
            body.append(
                f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2.5"'
                f"{dash}/>"
            )
        for i, p in enumerate(points):
            value = getattr(p, series)
            # Labels sit above their point; a medium point level with the high one goes below.
            offset = 16 if series == "medium" and p.medium == p.high else -8
            body.append(
                f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="4" fill="{colour}"/>'
                f'<text x="{x(i):.1f}" y="{y(value) + offset:.1f}" text-anchor="middle" '
                f'fill="{colour}" font-size="11">{value}</text>'
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


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
