"""Server-rendered SVG charts for the dashboard (no JavaScript, nothing fetched).

Each chart draws exactly the numbers of the table next to it (the same rows), every row
a link to the list behind it. Written by hand: two small functions, no plotting library
is needed for bars.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape

Row = tuple[str, float, str]


def _number(value: float) -> str:
    """The value as data (``69.2``), for ``data-value`` attributes."""
    return f"{value:g}" if value != int(value) else str(int(value))


def _shown(value: float) -> str:
    """The value as the page shows it (``69,2`` in Turkish), like the table beside it."""
    from django.utils.formats import number_format

    return str(number_format(value if value != int(value) else int(value)))


def percent(value: float) -> str:
    """``69,2 %`` / ``100 %`` in the page's locale."""
    return f"{_shown(value)} %"


def bar_chart(rows: Sequence[Row], *, title: str, colour: str = "#1f4e79",
              width: int = 360) -> str:
    """Horizontal bars, one per row (label, value, url).

    Examples
    --------
    >>> svg = bar_chart([("Ağ", 3, "/a"), ("Yazılım", 0, "/b")], title="Açık")
    >>> svg.count("<rect") == 2 and 'href="/a"' in svg
    True
    """
    bar, gap, top, label_width = 16, 5, 4, 150
    height = top + len(rows) * (bar + gap) + 2
    maximum = max((value for _label, value, _url in rows), default=0) or 1
    scale = (width - label_width - 50) / maximum
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" class="dashboard-chart bar">'
             f"<title>{escape(title)}</title>"]
    for index, (label, value, url) in enumerate(rows):
        y = top + index * (bar + gap)
        length = max(0.0, value * scale)
        # About 6.8 px a letter at 12 px: 20 letters fit the 144 px before the bar (a longer
        # name was cut at its start); the whole name is the row's tooltip.
        text = escape(label if len(label) <= 20 else label[:19].rstrip() + "…")
        parts.append(
            f'<a href="{escape(url)}"><title>{escape(label)}: {_shown(value)}</title>'
            f'<text x="{label_width - 6}" y="{y + bar - 5}" '
            f'text-anchor="end" font-size="12" fill="#222">{text}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar}" '
            f'fill="{colour}" data-value="{_number(value)}"/>'
            f'<text x="{label_width + length + 4:.1f}" y="{y + bar - 5}" font-size="12" '
            f'fill="#222">{_shown(value)}</text></a>')
    parts.append("</svg>")
    return "".join(parts)


def _axis_label(label: str, centre: float, base: float) -> str:
    """A month ``YYYY-MM`` as two lines (month, year); anything else as one."""
    first, _sep, second = label.partition("-")
    lines = [second, first] if second else [label]
    return "".join(f'<text x="{centre:.1f}" y="{base + 12 + 11 * i}" text-anchor="middle" '
                   f'font-size="10" fill="#444">{escape(line)}</text>'
                   for i, line in enumerate(lines))


def column_chart(rows: Sequence[Row], *, title: str, colour: str = "#1b9e77",
                 width: int = 360, height: int = 190) -> str:
    """Columns for a time series (every row drawn, a 0 as an empty column with its 0 label).

    Examples
    --------
    >>> svg = column_chart([("2026-01", 0, "/a"), ("2026-02", 5.5, "/b")], title="Saat")
    >>> svg.count("<rect") == 2 and ">0<" in svg and ">5.5<" in svg
    True
    """
    left, bottom, top = 4, 34, 16
    count = max(len(rows), 1)
    step = (width - left) / count
    column = max(4.0, step * 0.7)
    maximum = max((value for _label, value, _url in rows), default=0) or 1
    scale = (height - bottom - top) / maximum
    base = height - bottom
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" class="dashboard-chart column">'
             f"<title>{escape(title)}</title>"
             f'<line x1="0" y1="{base}" x2="{width}" y2="{base}" stroke="#999"/>']
    for index, (label, value, url) in enumerate(rows):
        x = left + index * step + (step - column) / 2
        length = max(0.0, value * scale)
        centre = x + column / 2
        parts.append(
            f'<a href="{escape(url)}"><rect x="{x:.1f}" y="{base - length:.1f}" '
            f'width="{column:.1f}" height="{length:.1f}" fill="{colour}" '
            f'data-value="{_number(value)}"/>'
            f'<text x="{centre:.1f}" y="{base - length - 3:.1f}" text-anchor="middle" '
            f'font-size="10" fill="#222">{_shown(value)}</text>'
            f'{_axis_label(label, centre, base)}</a>')
    parts.append("</svg>")
    return "".join(parts)
