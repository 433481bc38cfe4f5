"""Server-rendered SVG charts of published rows (no script, no CDN, nothing to break
under the Content-Security-Policy). Colours come from classes in the site stylesheet.
Every chart has a text alternative; the page puts the full table under it."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from nowrongdoor.analytics.release import Cell, Row

WIDTH = 640
LABEL = 220
BAR = 22
GAP = 8
MASKED = "masked (1-10, or hidden so a small number cannot be worked out)"


def _svg(height: int, title: str, body: str) -> str:
    return (f'<svg class="nwd-chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
            f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
            f"{body}</svg>")


def bars(title: str, cells: Sequence[Cell]) -> str:
    """Horizontal bars, one per cell; a masked cell is a hatched stub labelled as masked."""
    top = max([c.value or 0 for c in cells] + [1])
    span = WIDTH - LABEL - 60
    parts = []
    for i, cell in enumerate(cells):
        y = i * (BAR + GAP)
        parts.append(f'<text class="nwd-chart-label" x="{LABEL - 8}" y="{y + BAR * 0.7:.1f}" '
                     f'text-anchor="end">{escape(cell.label)}</text>')
        if cell.value is None:
            parts.append(f'<rect class="nwd-chart-masked" x="{LABEL}" y="{y}" width="24" height="{BAR}"/>'
                         f'<text class="nwd-chart-value" x="{LABEL + 30}" y="{y + BAR * 0.7:.1f}">masked</text>')
        else:
            width = span * cell.value / top
            parts.append(f'<rect class="nwd-chart-bar" x="{LABEL}" y="{y}" width="{width:.1f}" height="{BAR}"/>'
                         f'<text class="nwd-chart-value" x="{LABEL + width + 6:.1f}" y="{y + BAR * 0.7:.1f}">'
                         f"{cell.value}</text>")
    return _svg(max(1, len(cells)) * (BAR + GAP), title, "".join(parts))


def line(title: str, cells: Sequence[Cell]) -> str:
    """Points joined by lines (months); a masked month breaks the line and shows a hollow mark."""
    height, left, bottom = 220, 40, 190
    top = max([c.value or 0 for c in cells] + [1])
    step = (WIDTH - left - 20) / max(1, len(cells) - 1)
    parts = [f'<line class="nwd-chart-axis" x1="{left}" y1="{bottom}" x2="{WIDTH - 10}" y2="{bottom}"/>',
             f'<text class="nwd-chart-value" x="{left - 6}" y="{bottom - 170 + 4}" text-anchor="end">{top}</text>',
             f'<text class="nwd-chart-value" x="{left - 6}" y="{bottom + 4}" text-anchor="end">0</text>']
    segment: list[str] = []

    def flush() -> None:
        if len(segment) > 1:
            parts.append(f'<polyline class="nwd-chart-line" points="{" ".join(segment)}"/>')
        segment.clear()

    for i, cell in enumerate(cells):
        x = left + i * step
        parts.append(f'<text class="nwd-chart-label" x="{x:.1f}" y="{bottom + 20}" text-anchor="middle">'
                     f"{escape(cell.label)}</text>")
        if cell.value is None:
            flush()
            parts.append(f'<circle class="nwd-chart-masked-point" cx="{x:.1f}" cy="{bottom - 6}" r="4"/>')
            continue
        y = bottom - 170 * cell.value / top
        segment.append(f"{x:.1f},{y:.1f}")
        parts.append(f'<circle class="nwd-chart-point" cx="{x:.1f}" cy="{y:.1f}" r="3.5"/>')
    flush()
    return _svg(height, title, "".join(parts))


def parts(title: str, row: Row, groups: dict[str, str], part_order: Sequence[str]) -> str:
    """One stacked bar of shares per group (e.g. each kind of intake: screened / not
    screened); a group with any masked part is labelled masked instead."""
    cells = {c.code: c for c in row.cells}
    span = WIDTH - LABEL - 20
    body = []
    for i, (group, label) in enumerate(groups.items()):
        y = i * (BAR + GAP)
        values = [cells[f"{group}:{p}"].value if f"{group}:{p}" in cells else 0 for p in part_order]
        body.append(f'<text class="nwd-chart-label" x="{LABEL - 8}" y="{y + BAR * 0.7:.1f}" '
                    f'text-anchor="end">{escape(label)}</text>')
        if any(v is None for v in values):
            body.append(f'<rect class="nwd-chart-masked" x="{LABEL}" y="{y}" width="24" height="{BAR}"/>'
                        f'<text class="nwd-chart-value" x="{LABEL + 30}" y="{y + BAR * 0.7:.1f}">masked</text>')
            continue
        total = sum(v for v in values if v is not None)
        x = float(LABEL)
        for k, value in enumerate(values):
            if not total or not value:
                continue
            width = span * value / total
            body.append(f'<rect class="nwd-chart-part-{k}" x="{x:.1f}" y="{y}" width="{width:.1f}" '
                        f'height="{BAR}"/>')
            x += width
        if total:
            share = 100 * (values[0] or 0) / total
            body.append(f'<text class="nwd-chart-value nwd-chart-inside" x="{LABEL + 6}" y="{y + BAR * 0.7:.1f}">'
                        f"{share:.0f}%</text>")
        else:
            body.append(f'<text class="nwd-chart-value" x="{LABEL + 6}" y="{y + BAR * 0.7:.1f}">none</text>')
    return _svg(max(1, len(groups)) * (BAR + GAP), title, "".join(body))
