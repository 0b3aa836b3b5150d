"""Year-end summary tables (yıl sonu özet tabloları) of the IT assets, by category (SQL)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q

from gis_core.choices import REPAIR_STATUSES, AssetCategoryChoices, AssetStatusChoices


@dataclass(frozen=True)
class SummaryRow:
    category: str
    label: str
    in_service: int
    in_stock: int
    in_repair: int
    active: int          # everything but hurda, at the time of the report
    acquired: int        # purchase date in the year
    scrapped: int        # scrapping approved in the year

    def values(self) -> list[Any]:
        return [self.label, self.in_service, self.in_stock, self.in_repair, self.active,
                self.acquired, self.scrapped]


HEAD = ["Kategori", "Kullanımda", "Depoda", "Onarımda", "Toplam (hurda hariç)",
        "Yıl içinde alınan", "Yıl içinde hurdaya ayrılan"]


def year_end_summary(*, year: int) -> list[SummaryRow]:
    """One row per asset category with any asset, and a total row last."""
    from gis_core.models import Asset

    rows = {r["category"]: r for r in Asset.objects.values("category").annotate(
        in_service=Count("id", filter=Q(status=AssetStatusChoices.IN_SERVICE)),
        in_stock=Count("id", filter=Q(status=AssetStatusChoices.IN_STOCK)),
        in_repair=Count("id", filter=Q(status__in=REPAIR_STATUSES)),
        active=Count("id", filter=~Q(status=AssetStatusChoices.SCRAPPED)),
        acquired=Count("id", filter=Q(purchase_date__year=year)),
        scrapped=Count("id", filter=Q(scrapping__status="approved",
                                      scrapping__decided_at__year=year)),
    )}
    out = [SummaryRow(code, str(label).split(" / ")[0], r["in_service"], r["in_stock"],
                      r["in_repair"], r["active"], r["acquired"], r["scrapped"])
           for code, label in AssetCategoryChoices.choices if (r := rows.get(code))]
    total = SummaryRow("total", "Toplam", *(sum(getattr(r, f) for r in out) for f in (
        "in_service", "in_stock", "in_repair", "active", "acquired", "scrapped")))
    return [*out, total]


def summary_xlsx(rows: list[SummaryRow], *, year: int) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = f"Özet {year}"
    sheet.append([f"{year} YILI TAŞINIR (BT VARLIKLARI) YIL SONU ÖZET TABLOSU"])
    sheet["A1"].font = Font(bold=True)
    sheet.append(HEAD)
    for row in rows:
        sheet.append(row.values())
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def summary_pdf(rows: list[SummaryRow], *, year: int) -> bytes:
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    from modules.registers.pdf import _grid, _p, _styles, build_pdf, municipality_name

    styles = _styles()
    table = [[_p(h, styles["head"]) for h in HEAD]]
    table += [[_p(v, styles["cell"]) for v in row.values()] for row in rows]
    story = [_p(f"{year} YILI TAŞINIR YIL SONU ÖZET TABLOSU", styles["title"]),
             _p(municipality_name(), styles["text"]), Spacer(1, 4 * mm),
             _grid(table, [40 * mm, 22 * mm, 20 * mm, 20 * mm, 26 * mm, 26 * mm, 26 * mm])]
    return build_pdf([story], title=f"Yıl sonu özet tablosu {year}")
