"""Shared registers test data: a building with two rooms on a floor, assets and people.

Built through the core models like ``tests/test_helpdesk_support.build_world``.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.test_helpdesk_support import square, user


@dataclass
class Registry:
    hall: Any
    annex: Any
    office: Any        # 101 Fen İşleri Ofisi (fen_isleri)
    police: Any        # 102 Zabıta Şube Odası (zabita)
    assets: dict[str, Any]
    fen_viewer: Any    # fen_isleri viewer
    zabita_viewer: Any  # zabita viewer
    tech: Any          # teknik_destek technician
    nobody: Any        # no memberships


def asset(number: str, *, room: Any, department: str, category: str = "desktop",
          status: str = "in_service", **fields: Any) -> Any:
    from gis_core.models import Asset, Department

    return Asset.objects.create(inventory_number=number, category=category, status=status,
                                department=Department.objects.get(code=department),
                                building=room.building, room=room,
                                location=room.building.footprint.point_on_surface, **fields)


def build_registry() -> Registry:
    from gis_core.models import Building, Floor, Room

    hall = Building.objects.create(name="Belediye Hizmet Binası", code="B001",
                                   footprint=square(30.512, 39.772))
    annex = Building.objects.create(name="Çarşı Ek Binası", code="B002",
                                    footprint=square(30.532, 39.782))
    floor = Floor.objects.create(building=hall, number=1, name="1. kat")
    office = Room.objects.create(building=hall, floor=floor, code="101",
                                 name="Fen İşleri Ofisi")
    police = Room.objects.create(building=hall, floor=floor, code="102",
                                 name="Zabıta Şube Odası")
    annex_room = Room.objects.create(building=annex, code="1", name="Giriş")
    assets = {
        "DB-0001": asset("DB-0001", room=office, department="fen_isleri",
                         tasinir_code="253.02.01.01", brand="Dell", model="OptiPlex 7090"),
        "DB-0002": asset("DB-0002", room=office, department="fen_isleri", category="printer",
                         tasinir_code="253.02.04.02", brand="Arçelik",
                         model="Işık Öğe-Ş Ç"),
        "DB-0003": asset("DB-0003", room=office, department="fen_isleri", status="scrapped",
                         brand="Dell", model="OptiPlex 3010"),
        "DB-0010": asset("DB-0010", room=police, department="zabita", category="monitor",
                         brand="Samsung", model="S24"),
        "DB-0020": asset("DB-0020", room=annex_room, department="fen_isleri"),
    }
    return Registry(
        hall=hall, annex=annex, office=office, police=police, assets=assets,
        fen_viewer=user("ayse", ("fen_isleri", "viewer")),
        zabita_viewer=user("zeynep", ("zabita", "viewer")),
        tech=user("tekin", ("teknik_destek", "technician")),
        nobody=user("yabanci"),
    )


@pytest.fixture
def registry(db: None) -> Registry:
    return build_registry()


def pdf_text(body: bytes, tmp_path: Path) -> str:
    """The text of a PDF as poppler's ``pdftotext`` reads it (layout kept)."""
    assert body.startswith(b"%PDF"), body[:60]
    tool = shutil.which("pdftotext")
    assert tool, "pdftotext (poppler-utils) is missing: ./bootstrap.sh test installs it"
    source = tmp_path / "in.pdf"
    source.write_bytes(body)
    return subprocess.run([tool, "-layout", "-enc", "UTF-8", str(source), "-"],
                          check=True, capture_output=True, text=True).stdout


def pdf_fonts(body: bytes, tmp_path: Path) -> str:
    tool = shutil.which("pdffonts")
    assert tool
    source = tmp_path / "fonts.pdf"
    source.write_bytes(body)
    return subprocess.run([tool, str(source)], check=True, capture_output=True,
                          text=True).stdout
