"""The year-end count: numbers entered on the phone page, differences, corrections, report."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.test_registers_support import Registry, asset, pdf_text
from tests.test_registers_support import registry as registry


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_two_missing_one_extra_one_misplaced_then_corrected(registry: Registry,
                                                            tmp_path: Path) -> None:
    from gis_core.models import Asset, AssetTransition
    from modules.registers.models import StockCount

    office, police = registry.office, registry.police
    # the register of the hall (active assets): DB-0001, DB-0002 (office), DB-0010 (police)
    # and the four below but DB-0014 (away in repair): six
    asset("DB-0011", room=police, department="zabita")           # will be missing
    asset("DB-0012", room=office, department="fen_isleri")       # will be missing
    asset("DB-0013", room=police, department="zabita", category="ip_phone")  # in the office
    asset("DB-0014", room=office, department="fen_isleri", status="in_repair_vendor")  # away
    tech = _client(registry.tech)

    started = tech.post(reverse("registers:count_list"), {"building": registry.hall.pk})
    count = StockCount.objects.get()
    assert started.status_code == 302 and count.building == registry.hall and count.room is None
    scan = reverse("registers:count_scan", args=[count.pk])
    # office: two of its own, the phone registered in the police room, one typed in lower case
    for number in ("DB-0001\n", "DB-0013", " db-0002 "):
        assert tech.post(scan, {"room": office.pk, "number": number}).status_code == 302
    # police: its monitor and a device nobody registered; a second scan changes nothing
    for number in ("DB-0010", "YENI-777", "DB-0010"):
        tech.post(scan, {"room": police.pk, "number": number})
    assert sorted(count.items.values_list("inventory_number", flat=True)) == [
        "DB-0001", "DB-0002", "DB-0010", "DB-0013", "YENI-777"]
    # a number without a room is refused with a message, not counted
    page = tech.post(scan, {"number": "DB-0099"}, follow=True)
    assert "Sayım yaptığınız odayı seçin." in page.content.decode()
    assert "Choose the room you are counting in." not in page.content.decode()  # one language
    assert not count.items.filter(inventory_number="DB-0099").exists()

    from modules.registers.count_report import count_report
    from modules.registers.services import differences

    diffs = [(d.kind, d.inventory_number, d.counted_room) for d in differences(count)]
    assert diffs == [("missing", "DB-0011", None), ("missing", "DB-0012", None),
                     ("extra", "YENI-777", police), ("misplaced", "DB-0013", office)]
    before = count_report(count).totals
    assert (before.registered, before.counted, before.in_place, before.missing, before.extra,
            before.misplaced) == (6, 5, 3, 2, 1, 1)
    assert not before.balanced
    html = tech.get(reverse("registers:count_differences", args=[count.pk])).content.decode()
    assert "DB-0011" in html and "YENI-777" in html and "Yanlış odada" in html

    phone_history = Asset.objects.get(inventory_number="DB-0013").history.count()
    corrected = tech.post(reverse("registers:count_differences", args=[count.pk]),
                          {"action": "correct"})
    assert corrected.status_code == 302
    assert count.corrections.count() == 4

    # the register now says what was counted, and the history says who changed it
    phone = Asset.objects.get(inventory_number="DB-0013")
    assert phone.room == office and phone.history.count() == phone_history + 1
    assert phone.history.first().history_user == registry.tech
    for number in ("DB-0011", "DB-0012"):
        lost = Asset.objects.get(inventory_number=number)
        assert lost.room is None and lost.building is None and lost.status == "in_stock"
        step = AssetTransition.objects.filter(asset=lost).latest("id")
        assert step.to_status == "in_stock" and "sayım" in step.reason
        assert step.user == registry.tech
    found = Asset.objects.get(inventory_number="YENI-777")
    assert found.room == police and found.status == "in_service"
    assert AssetTransition.objects.filter(asset=found, from_status="").exists()
    assert Asset.objects.get(inventory_number="DB-0014").room == office  # in repair: untouched

    # the corrections on the page, in the reader's language only
    page = tech.get(reverse("registers:count_differences", args=[count.pk])).content.decode()
    assert "DB-0013: oda düzeltildi: şimdi 101 Fen İşleri Ofisi" in page
    assert "DB-0011: bulunamadı: bina ve oda kaydı kaldırıldı" in page
    assert "YENI-777: yeni demirbaş olarak kaydedildi" in page and "room corrected" not in page
    tech.cookies["django_language"] = "en"
    page = tech.get(reverse("registers:count_differences", args=[count.pk])).content.decode()
    assert "DB-0013: room corrected: now in 101 Fen İşleri Ofisi" in page
    assert "oda düzeltildi" not in page and "bulunamadı" not in page
    tech.cookies["django_language"] = "tr"

    assert differences(count) == []
    after = count_report(count).totals
    assert after.balanced and (after.registered, after.counted, after.corrections) == (5, 5, 4)

    # the count report (sayım tutanağı) as PDF and XLSX carries the same totals
    pdf = tech.get(reverse("registers:count_report", args=[count.pk, "pdf"]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content, tmp_path)
    assert "TAŞINIR SAYIM TUTANAĞI" in text and "Sayım Kurulu Başkanı" in text
    def total(label: str) -> int:
        found = re.search(rf"{re.escape(label)}\s+(\d+)", text)
        assert found, (label, text)
        return int(found.group(1))

    assert total("Kayıtlı taşınır / Registered") == total("Sayılan taşınır / Counted") == 5
    assert total("Eksik / Missing") == total("Fazla / Extra") == 0
    assert total("Uygulanan düzeltme / Corrections applied") == 4
    assert "DB-0011" in text and "bulunamadı" in text  # the corrections are listed

    from openpyxl import load_workbook

    xlsx = tech.get(reverse("registers:count_report", args=[count.pk, "xlsx"]))
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))
    totals = {row[0]: row[1] for row in book["Sayım tutanağı"].iter_rows(values_only=True)
              if row and row[0] and len(row) > 1}
    assert totals["Kayıtlı taşınır / Registered"] == totals["Sayılan taşınır / Counted"] == 5
    fixes = list(book["Düzeltmeler"].iter_rows(min_row=2, values_only=True))
    assert sorted(row[0] for row in fixes) == ["DB-0011", "DB-0012", "DB-0013", "YENI-777"]

    # a closed count takes no more numbers
    tech.post(reverse("registers:count_differences", args=[count.pk]), {"action": "close"})
    tech.post(scan, {"room": office.pk, "number": "DB-0012"})
    assert not count.items.filter(inventory_number="DB-0012").exists()


@pytest.mark.django_db
def test_room_count_and_who_may_count(registry: Registry) -> None:
    from modules.registers.services import differences, record_counted, start_count

    count = start_count(building=registry.hall, room=registry.office, year=2026)
    record_counted(count=count, inventory_number="DB-0001")   # the room is the count's
    record_counted(count=count, inventory_number="DB-0010")   # the police monitor, found here
    assert [(d.kind, d.inventory_number) for d in differences(count)] == [
        ("missing", "DB-0002"), ("misplaced", "DB-0010")]
    from gis_core.errors import KentCBSError

    with pytest.raises(KentCBSError) as refused:
        record_counted(count=count, inventory_number="DB-0002", room=registry.police)
    assert refused.value.code == "REGISTERS_ROOM_NOT_IN_COUNT"

    for outsider in (registry.fen_viewer, registry.zabita_viewer):
        client = _client(outsider)
        assert client.get(reverse("registers:count_list")).status_code == 403
        assert client.get(reverse("registers:count_report",
                                  args=[count.pk, "pdf"])).status_code == 403
    listing = _client(registry.tech).get(reverse("registers:count_list")).content.decode()
    assert "Belediye Hizmet Binası · 101 Fen İşleri Ofisi" in listing
    assert reverse("registers:year_end_summary", args=[2026, "xlsx"]) in listing or (
        "/registers/summary/" in listing)
    page = _client(registry.tech).get(reverse("registers:count_scan", args=[count.pk]))
    assert page.status_code == 200
    assert b'name="number"' in page.content and b"autofocus" in page.content
