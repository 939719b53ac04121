"""Charts drawn on the server as SVG (issue 14, point 4): no JavaScript, the same on a phone,
a projector and paper. Each chart comes with its table and a CSV of that table, so the
numbers are one click away and can be taken into Excel. The template tags are in
organizations/templatetags/charts.py; any page (progress, board, the role homes) uses them.

Bars carry their value as text and a pattern-free fill dark enough to print in grey.
"""

import csv
import io
from dataclasses import dataclass, field
from urllib.parse import quote

from django.utils.html import escape
from django.utils.safestring import mark_safe

from config.renderers import template_text

TONES = {"": "#2f6f4f", "green": "#2f6f4f", "red": "#b42318", "grey": "#9aa3ad", "blue": "#1d4ed8"}
LABEL_WIDTH = 150
BAR_HEIGHT = 18
ROW_GAP = 8
WIDTH = 640


@dataclass
class Chart:
    """What a chart's figure shows: the SVG, a table (headers, rows) and the table as CSV."""

    title: str
    svg: str
    headers: list
    rows: list
    name: str = "chart"
    links: list = field(default_factory=list)  # one link per table row, or empty

    @property
    def csv_href(self):
        """The table as a CSV data URI (with a byte-order mark, which Excel needs for Chinese)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(self.headers)
        writer.writerows([[_plain(cell) for cell in row] for row in self.rows])
        return "data:text/csv;charset=utf-8," + quote("\ufeff" + buffer.getvalue())

    @property
    def table_rows(self):
        links = self.links or [None] * len(self.rows)
        return list(zip(self.rows, links, strict=True))

    @property
    def table_body(self):
        """The table's rows as HTML: the first cell linked where the row has a link, the others
        right-aligned; each cell shown as {{ cell }} shows it. Written here, not by nested loops
        in the template, which took 1.3 ms for a chart of 14 rows on the board."""
        return mark_safe("".join(_table_row(row, link) for row, link in self.table_rows))


def _table_row(row, link):
    cells = []
    for index, cell in enumerate(row):
        shown = template_text(cell)
        if index == 0:
            cells.append(f'<td><a href="{escape(link)}">{shown}</a></td>' if link else f"<td>{shown}</td>")
        else:
            cells.append(f'<td class="right">{shown}</td>')
    return f"<tr>{''.join(cells)}</tr>"


def _plain(value):
    return "" if value is None else str(value)


def _text(x, y, content, *, anchor="start", size=12, weight="normal", fill="#1f2328"):
    return (
        f'<text x="{x}" y="{y}" font-size="{size}" text-anchor="{anchor}" font-weight="{weight}" '
        f'fill="{fill}">{escape(content)}</text>'
    )


def _shorten(label, limit=11):
    label = str(label)
    return label if len(label) <= limit else label[: limit - 1] + "…"


def bar_svg(bars, *, maximum=None, title=""):
    """Horizontal bars: [(label, value or None, text shown, tone)]; None draws no bar (e.g.
    nothing due yet). `maximum` fixes the scale (100 for a rate)."""
    values = [value for _, value, _, _ in bars if value is not None]
    top = maximum or max(values or [0]) or 1
    height = len(bars) * (BAR_HEIGHT + ROW_GAP) + ROW_GAP
    plot = WIDTH - LABEL_WIDTH - 90
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" class="chart-svg">'
    ]
    for index, (label, value, shown, tone) in enumerate(bars):
        y = ROW_GAP + index * (BAR_HEIGHT + ROW_GAP)
        middle = y + BAR_HEIGHT / 2 + 4
        parts.append(_text(LABEL_WIDTH - 6, middle, _shorten(label), anchor="end"))
        parts.append(f'<rect x="{LABEL_WIDTH}" y="{y}" width="{plot}" height="{BAR_HEIGHT}" fill="#eef0f3"/>')
        width = 0
        if value:
            width = max(1, round(plot * min(float(value), float(top)) / float(top)))
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width}" height="{BAR_HEIGHT}" fill="{TONES[tone]}"/>'
            )
        parts.append(_text(LABEL_WIDTH + plot + 6, middle, shown, weight="bold"))
    parts.append("</svg>")
    return mark_safe("".join(parts))


def columns_svg(categories, series, *, title=""):
    """Grouped columns per category (e.g. months): series = [(name, [values], tone)]."""
    height, bottom, left = 236, 190, 30
    slot = (WIDTH - left) / max(len(categories), 1)
    width = max(3, (slot - 8) / max(len(series), 1))
    top = max([value for _, values, _ in series for value in values] or [0]) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" class="chart-svg">',
        f'<line x1="{left}" y1="{bottom}" x2="{WIDTH}" y2="{bottom}" stroke="#1f2328"/>',
        _text(left - 4, 20, str(top), anchor="end", size=10),
    ]
    for index, category in enumerate(categories):
        x0 = left + index * slot + 4
        for number, (_, values, tone) in enumerate(series):
            value = values[index]
            bar = round((bottom - 30) * value / top)
            x = x0 + number * width
            if bar:
                fill = TONES[tone]
                parts.append(
                    f'<rect x="{x:.1f}" y="{bottom - bar}" width="{width - 1:.1f}" height="{bar}" fill="{fill}"/>'
                )
            if value:
                parts.append(_text(round(x + width / 2, 1), bottom - bar - 3, str(value), anchor="middle", size=9))
        parts.append(_text(round(x0 + slot / 2 - 4, 1), bottom + 16, category, anchor="middle", size=11))
    legend_x = left
    for name, _, tone in series:
        parts.append(f'<rect x="{legend_x}" y="{height - 12}" width="10" height="10" fill="{TONES[tone]}"/>')
        parts.append(_text(legend_x + 14, height - 3, name, size=11))
        legend_x += 14 + 14 * len(str(name)) + 20
    parts.append("</svg>")
    return mark_safe("".join(parts))
