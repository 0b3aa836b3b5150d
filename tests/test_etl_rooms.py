"""Rooms carry the department that uses them (issue 17 §2): the room importer maps a
department column given as a code or a name (Turkish case folding), and names an unknown
one as the row's reason. Files go through ``etl.services.ingest`` as any upload."""

from __future__ import annotations

from typing import Any

import pytest

from etl.services import ingest
from gis_core.models import Department, Room
from tests.test_etl_inventory import DEPARTMENT, reasons, write_xlsx
from tests.test_etl_inventory import estate as estate  # the service buildings fixture

pytestmark = pytest.mark.django_db(transaction=True)


def test_rooms_take_their_department_by_code_or_name(estate: dict[str, Any], tmp_path) -> None:
    rows = [
        ["B1", 0, "D-1", "Sunucu odası", "bilgi_islem"],          # a code
        ["B1", 0, "D-2", "Evrak", "YAZI İŞLERİ MÜDÜRLÜĞÜ"],     # a name, Turkish upper case
        ["B1", 1, "D-3", "Muhasebe", "mali hizmetler müdürlüğü"],  # a name, lower case
        ["B1", 1, "D-4", "Koridor", None],                         # none: no department
        ["B1", 1, "D-5", "Depo", "Uzay Araştırmaları Müdürlüğü"],  # no such department
    ]
    path = write_xlsx(tmp_path / "odalar.xlsx", ["Bina Kodu", "Kat", "Oda No", "Oda Adı",
                                                 "Birim"], rows)
    batch = ingest(layer="oda", path=path, department=DEPARTMENT)
    assert batch.status == "loaded", batch.message
    assert (batch.count_loaded, batch.count_rejected) == (4, 1)
    assert reasons(batch) == {4: {"DEPARTMENT_UNKNOWN"}}
    got = {r.code: (r.department.code if r.department else None)
           for r in Room.objects.filter(building__code="B1", code__startswith="D-")}
    assert got == {"D-1": "bilgi_islem", "D-2": "yazi_isleri", "D-3": "mali_hizmetler",
                   "D-4": None}

    # The same file again changes nothing; a file without the column keeps what is there.
    again = ingest(layer="oda", path=path, department=DEPARTMENT)
    assert again.count_unchanged == 4 and again.count_rejected == 1
    plain = write_xlsx(tmp_path / "odalar_adlar.xlsx", ["bina_kodu", "kod", "ad"],
                       [["B1", "D-1", "Sistem odası"]])
    renamed = ingest(layer="oda", path=plain, department=DEPARTMENT)
    assert renamed.count_updated == 1, renamed.message
    room = Room.objects.get(building__code="B1", code="D-1")
    assert room.name == "Sistem odası"
    assert room.department == Department.objects.get(code="bilgi_islem")


def test_the_room_layer_serves_the_department(estate: dict[str, Any]) -> None:
    """The ``oda`` layer's fields birim_kodu and birim_adi read the room's department."""
    from django.db import connection

    from layers.registry import registry

    room = Room.objects.get(building__code="B2", code="R201")
    room.department = Department.objects.get(code="destek_hizmetleri")
    room.save()
    layer = registry.get("oda")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT birim_kodu, birim_adi FROM {layer.backing.table} "
                       "WHERE bina_kodu = 'B2' AND kod = 'R201'")
        assert cursor.fetchone() == ("destek_hizmetleri", "Destek Hizmetleri Müdürlüğü")
