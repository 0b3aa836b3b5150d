"""Server-rendered SVG charts (no JavaScript, nothing fetched)."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape


def bar_chart(items: Sequence[tuple[str, float]], *, title: str, width: int = 640,
              bar_height: int = 18, colour: str = "#d94801") -> str:
    """A horizontal bar chart as an inline ``<svg>`` string.

    Examples
    --------
    >>> svg = bar_chart([("Ocak", 3), ("Şubat", 5)], title="Talepler")
    >>> svg.startswith("<svg") and "Şubat" in svg
    True
    """
    label_width, gap, top = 200, 4, 24
    height = top + len(items) * (bar_height + gap) + 4
    maximum = max((value for _label, value in items), default=0) or 1
    scale = (width - label_width - 60) / maximum
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" class="helpdesk-chart"><title>{escape(title)}</title>',
        f'<text x="0" y="14" font-weight="bold" font-size="13">{escape(title)}</text>',
    ]
    for index, (label, value) in enumerate(items):
        y = top + index * (bar_height + gap)
        length = max(0.0, value * scale)
        parts.append(
            f'<text x="{label_width - 6}" y="{y + bar_height - 5}" text-anchor="end" '
            f'font-size="12">{escape(label[:32])}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" '
            f'fill="{colour}"/>'
            f'<text x="{label_width + length + 4:.1f}" y="{y + bar_height - 5}" '
            f'font-size="12">{value:g}</text>')
    parts.append("</svg>")
    return "".join(parts)
