"""Room fixture lists (Dayanıklı Taşınırlar Listesi) as A4 PDF, read back with pdftotext."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.test_registers_support import Registry, pdf_fonts, pdf_text
from tests.test_registers_support import registry as registry

NUMBER = re.compile(r"DB-\d{4}")


def _get(user, url: str):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client.get(url)


@pytest.mark.django_db
def test_room_pdf_lists_exactly_the_room_assets_with_turkish_letters(
        registry: Registry, tmp_path: Path) -> None:
    response = _get(registry.fen_viewer,
                    reverse("registers:room_fixtures", args=[registry.office.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    body = response.content
    text = pdf_text(body, tmp_path)
    # exactly the room's assets: not the hurda one, not the next room's, not another building's
    assert set(NUMBER.findall(text)) == {"DB-0001", "DB-0002"}
    for phrase in ("DAYANIKLI TAŞINIRLAR LİSTESİ", "Belediye Hizmet Binası", "Fen İşleri Ofisi",
                   "1. kat", "253.02.04.02", "Arçelik", "Işık Öğe-Ş Ç", "Yazıcı",
                   "Masaüstü bilgisayar", "Oda Sorumlusu", "Taşınır Kayıt Yetkilisi", "İmza",
                   "Fen İşleri", "Toplam: 2 kalem"):
        assert phrase in text, phrase
    # A4 portrait (595 x 842 pt) and the DejaVu fonts embedded
    assert re.search(rb"/MediaBox \[\s*0 0 595\.2\d* 841\.8\d*", body)
    fonts = pdf_fonts(body, tmp_path)
    dejavu = [line for line in fonts.splitlines() if "DejaVuSans" in line]
    assert dejavu and all(" yes " in line for line in dejavu), fonts


@pytest.mark.django_db
def test_who_may_open_a_room_list(registry: Registry) -> None:
    url = reverse("registers:room_fixtures", args=[registry.office.pk])
    assert _get(registry.fen_viewer, url).status_code == 200   # the room's department
    assert _get(registry.tech, url).status_code == 200         # IT directorate
    assert _get(registry.zabita_viewer, url).status_code == 403
    assert _get(registry.nobody, url).status_code == 403
    assert _get(None, url).status_code == 302                   # sign in first
    missing = reverse("registers:room_fixtures", args=[987654])
    assert _get(registry.tech, missing).status_code == 404


@pytest.mark.django_db
def test_building_pdf_has_one_list_per_visible_room(registry: Registry, tmp_path: Path) -> None:
    url = reverse("registers:building_fixtures", args=[registry.hall.pk])
    tech = _get(registry.tech, url)
    assert tech.status_code == 200
    text = pdf_text(tech.content, tmp_path)
    assert set(NUMBER.findall(text)) == {"DB-0001", "DB-0002", "DB-0010"}
    assert text.count("DAYANIKLI TAŞINIRLAR LİSTESİ") == 2
    pages = text.split("\f")
    assert "Fen İşleri Ofisi" in pages[0] and "Zabıta Şube Odası" in pages[1]
    # a department user gets its own rooms only
    fen = pdf_text(_get(registry.fen_viewer, url).content, tmp_path)
    assert set(NUMBER.findall(fen)) == {"DB-0001", "DB-0002"}
    assert _get(registry.nobody, url).status_code == 403


@pytest.mark.django_db
def test_index_lists_visible_buildings_and_rooms(registry: Registry) -> None:
    page = _get(registry.zabita_viewer, reverse("registers:index"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Zabıta Şube Odası" in html and "Fen İşleri Ofisi" not in html
    assert "Çarşı Ek Binası" not in html


@pytest.mark.django_db
def test_command_writes_a_building_list(registry: Registry, tmp_path: Path) -> None:
    from django.core.management import call_command

    from gis_core.errors import KentCBSError

    out = tmp_path / "b001.pdf"
    call_command("registers", "fixtures", "--building", "B001", "--out", str(out))
    text = pdf_text(out.read_bytes(), tmp_path)
    assert set(NUMBER.findall(text)) == {"DB-0001", "DB-0002", "DB-0010"}
    with pytest.raises(KentCBSError) as unknown:
        call_command("registers", "fixtures", "--building", "YOK", "--out", str(out))
    assert unknown.value.code == "REGISTERS_BUILDING_UNKNOWN"


@pytest.mark.django_db
def test_building_panel_links_the_lists_of_visible_rooms(registry: Registry) -> None:
    from gis_core.modules import building_summaries

    def panel(user):
        return next((s for s in building_summaries(user=user, building=registry.hall)
                     if s.title_en == "Fixtures"), None)

    tech = panel(registry.tech)
    assert tech is not None and dict(tech.lines)["Oda"] == "2"
    assert dict(tech.links)["Dayanıklı taşınırlar listesi (PDF)"] == reverse(
        "registers:building_fixtures", args=[registry.hall.pk])
    assert dict(panel(registry.fen_viewer).lines)["Oda"] == "1"
    assert panel(registry.nobody) is None
