"""Year-end summary tables: figures equal the ones counted by hand, in PDF and XLSX."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.test_registers_support import Registry, asset, pdf_text
from tests.test_registers_support import registry as registry


@pytest.mark.django_db
def test_year_end_summary_by_category(registry: Registry, tmp_path: Path) -> None:
    from gis_core.models import Asset
    from gis_core.services import decide_scrapping, propose_scrapping
    from modules.registers.summary import year_end_summary

    # hand count, desktops: DB-0001 in service, DB-0020 scrapped this year, DB-0003 hurda
    # before (no record), DB-0030 in stock bought this year, DB-0031 in repair bought 2025
    asset("DB-0030", room=registry.office, department="fen_isleri", status="in_stock",
          purchase_date=dt.date(2026, 3, 1))
    asset("DB-0031", room=registry.office, department="fen_isleri",
          status="in_repair_internal", purchase_date=dt.date(2025, 3, 1))
    record = propose_scrapping(asset=Asset.objects.get(inventory_number="DB-0020"),
                               reason="onarım ekonomik değil")
    decide_scrapping(record=record, approve=True, decision_number="K-2026/3")
    year = record.decided_at.year
    rows = {r.category: r for r in year_end_summary(year=year)}
    desktop = rows["desktop"]
    assert (desktop.in_service, desktop.in_stock, desktop.in_repair, desktop.active,
            desktop.scrapped) == (1, 1, 1, 3, 1)
    assert desktop.acquired == (1 if year == 2026 else 0)
    assert (rows["printer"].active, rows["monitor"].active) == (1, 1)
    total = rows["total"]
    assert (total.in_service, total.active, total.scrapped) == (3, 5, 1)
    assert "laptop" not in rows

    tech = Client()
    tech.force_login(registry.tech)
    pdf = tech.get(reverse("registers:year_end_summary", args=[year, "pdf"]))
    text = pdf_text(pdf.content, tmp_path)
    assert "YIL SONU ÖZET TABLOSU" in text and "Masaüstü bilgisayar" in text
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(tech.get(reverse(
        "registers:year_end_summary", args=[year, "xlsx"])).content))
    sheet = book.active
    table = {row[0]: row[1:] for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert table["Toplam"] == (3, 1, 1, 5, total.acquired, 1)
    outsider = Client()
    outsider.force_login(registry.fen_viewer)
    assert outsider.get(reverse("registers:year_end_summary",
                                args=[year, "xlsx"])).status_code == 403
