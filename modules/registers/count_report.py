"""The count report (sayım tutanağı) of a year-end count, as figures, PDF and XLSX."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from modules.registers.choices import DifferenceKindChoices
from modules.registers.models import StockCount
from modules.registers.services import Difference, differences, expected_assets

SIGNERS = ("Sayım Kurulu Başkanı", "Sayım Kurulu Üyesi", "Taşınır Kayıt Yetkilisi")


@dataclass(frozen=True)
class CountTotals:
    registered: int       # kayıtlı: the register's assets in the count's building or room
    counted: int          # sayılan: distinct numbers entered
    in_place: int         # counted in the room the register has
    missing: int
    extra: int
    misplaced: int
    corrections: int

    @property
    def balanced(self) -> bool:
        """The register and the count agree (no differences left)."""
        return self.registered == self.counted == self.in_place


@dataclass(frozen=True)
class CountReport:
    count: StockCount
    totals: CountTotals
    differences: list[Difference]
    corrections: list[Any]


def count_report(count: StockCount) -> CountReport:
    """Figures of ``count`` as of now (after any corrections applied)."""
    diffs = differences(count)
    kinds = [d.kind for d in diffs]
    registered = expected_assets(count).count()
    counted = count.items.count()
    missing = kinds.count(DifferenceKindChoices.MISSING)
    extra = kinds.count(DifferenceKindChoices.EXTRA)
    misplaced = kinds.count(DifferenceKindChoices.MISPLACED)
    corrections = list(count.corrections.select_related("asset").order_by("at", "id"))
    return CountReport(count=count, totals=CountTotals(
        registered=registered, counted=counted, in_place=counted - extra - misplaced,
        missing=missing, extra=extra, misplaced=misplaced, corrections=len(corrections)),
        differences=diffs, corrections=corrections)


def _local(value: Any) -> Any:
    from django.utils import timezone

    return timezone.localtime(value).replace(tzinfo=None)


def _where(count: StockCount) -> str:
    return f"{count.building.name} ({count.building.code})" + (
        f" · {count.room}" if count.room_id else "")


TOTAL_LABELS = (("registered", "Kayıtlı taşınır / Registered"),
                ("counted", "Sayılan taşınır / Counted"),
                ("in_place", "Yerinde bulunan / In place"),
                ("missing", "Eksik / Missing"),
                ("extra", "Fazla / Extra"),
                ("misplaced", "Yanlış odada / In the wrong room"),
                ("corrections", "Uygulanan düzeltme / Corrections applied"))


def _diff_row(d: Difference) -> list[str]:
    asset = d.asset
    return [d.kind_label.split(" / ")[0], d.inventory_number,
            asset.tasinir_code if asset is not None else "",
            f"{asset.brand} {asset.model}".strip() if asset is not None else "",
            str(d.registered_room or "-"), str(d.counted_room or "-"), d.note]


DIFF_HEAD = ["Fark", "Sicil No", "Taşınır Kodu", "Marka / Model", "Kayıtlı oda",
             "Sayıldığı oda", "Not"]


def count_report_pdf(report: CountReport) -> bytes:
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    from modules.registers.pdf import (
        _grid,
        _p,
        _styles,
        build_pdf,
        municipality_name,
        signature_block,
    )

    styles = _styles()
    count = report.count
    story: list[Any] = [
        _p("TAŞINIR SAYIM TUTANAĞI", styles["title"]),
        _grid([[_p("Belediye", styles["head"]), _p(municipality_name(), styles["cell"])],
               [_p("Sayım yeri", styles["head"]), _p(_where(count), styles["cell"])],
               [_p("Yıl", styles["head"]), _p(count.year, styles["cell"])],
               [_p("Durum", styles["head"]), _p(count.get_status_display(), styles["cell"])]],
              [40 * mm, 140 * mm], header=False),
        Spacer(1, 5 * mm),
        _grid([[_p(label, styles["cell"]), _p(getattr(report.totals, key), styles["cell"])]
               for key, label in TOTAL_LABELS], [120 * mm, 30 * mm], header=False),
        Spacer(1, 5 * mm),
        _p("Farklar / Differences", styles["head"]),
    ]
    rows = [[_p(h, styles["head"]) for h in DIFF_HEAD]]
    rows += [[_p(v, styles["cell"]) for v in _diff_row(d)] for d in report.differences]
    if not report.differences:
        rows.append([_p("Fark yok / No differences", styles["cell"])] +
                    [_p("", styles["cell"])] * (len(DIFF_HEAD) - 1))
    story.append(_grid(rows, [20 * mm, 24 * mm, 24 * mm, 32 * mm, 28 * mm, 28 * mm, 24 * mm]))
    if report.corrections:
        story += [Spacer(1, 5 * mm), _p("Uygulanan düzeltmeler / Corrections", styles["head"])]
        crow = [[_p(h, styles["head"]) for h in ("Sicil No", "Fark", "İşlem")]]
        crow += [[_p(c.inventory_number, styles["cell"]),
                  _p(c.get_kind_display().split(" / ")[0], styles["cell"]),
                  _p(c.action, styles["cell"])] for c in report.corrections]
        story.append(_grid(crow, [30 * mm, 30 * mm, 120 * mm]))
    story += [Spacer(1, 10 * mm), signature_block(SIGNERS)]
    return build_pdf([story], title=f"Sayım tutanağı {count.year}")


def count_report_xlsx(report: CountReport) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Sayım tutanağı"
    count = report.count
    sheet.append(["TAŞINIR SAYIM TUTANAĞI"])
    sheet["A1"].font = Font(bold=True)
    sheet.append(["Sayım yeri", _where(count)])
    sheet.append(["Yıl", count.year])
    sheet.append([])
    for key, label in TOTAL_LABELS:
        sheet.append([label, getattr(report.totals, key)])
    diffs = book.create_sheet("Farklar")
    diffs.append(DIFF_HEAD)
    for d in report.differences:
        diffs.append(_diff_row(d))
    fixes = book.create_sheet("Düzeltmeler")
    fixes.append(["Sicil No", "Fark", "İşlem", "Zaman"])
    for c in report.corrections:
        fixes.append([c.inventory_number, c.get_kind_display(), c.action,
                      _local(c.at)])
    counted = book.create_sheet("Sayılanlar")
    counted.append(["Sicil No", "Sayıldığı oda", "Zaman"])
    for item in count.items.select_related("room"):
        counted.append([item.inventory_number, str(item.room or "-"),
                        _local(item.counted_at)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
