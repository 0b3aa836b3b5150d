"""CSV and Excel (openpyxl) export of statistics rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook

from modules.helpdesk.statistics import StatRow

HEADERS = ("anahtar / key", "grup / group", "talep / tickets", "açık / open",
           "çözülen / resolved", "SLA içinde / within SLA", "SLA uyumu % / SLA compliance %",
           "ort. çözüm saati / mean hours to resolve", "harcanan dk / minutes spent",
           "zamanında ilk müdahale / responded in time")


def _values(row: StatRow) -> list[object]:
    return [row.key or "", row.label, row.tickets, row.open, row.resolved, row.sla_met,
            row.sla_compliance, row.mean_hours_to_resolve, row.minutes_spent, row.response_met]


def to_csv(rows: Sequence[StatRow]) -> str:
    """Rows as CSV text (UTF-8 with BOM is added by the view for Excel users)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    writer.writerows(_values(row) for row in rows)
    return buffer.getvalue()


def to_xlsx(rows: Sequence[StatRow], *, sheet_title: str) -> bytes:
    """Rows as an Excel workbook (one sheet)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title[:31]
    sheet.append(list(HEADERS))
    for row in rows:
        sheet.append(_values(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
