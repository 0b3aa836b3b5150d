"""An XLSX template (issue 18 §3) filled with 100 rows loads 100 features: a polygon layer
filled with WKT in the layer's CRS, and a point layer filled with longitude and latitude,
each as a clerk fills the downloaded workbook (its drop-downs' values, its column names)."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
import shapely
from django.db import connection
from pyproj import Transformer

from etl.mapping import suggest_for_file
from etl.services import ingest
from etl.testing import ensure_departments
from layers.file_templates import DATA_SHEET, xlsx_template
from layers.registry import registry

pytestmark = pytest.mark.django_db  # the test's transaction rolls the layer tables back

N = 100
X0, Y0 = Transformer.from_crs(4326, 5254, always_xy=True).transform(30.52, 39.77)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    from layers.codelists import load_codelists

    settings.MEDIA_ROOT = str(tmp_path / "media")
    load_codelists()
    ensure_departments()


def fill(layer_code: str, path: Path, **per_row) -> Path:
    """The layer's template with ``N`` rows: ``per_row[name](i)`` in column ``name``."""
    book = openpyxl.load_workbook(io.BytesIO(xlsx_template(registry.get(layer_code))))
    sheet = book[DATA_SHEET]
    header = [cell.value for cell in sheet[1]]
    assert set(per_row) <= set(header), set(per_row) - set(header)
    for i in range(N):
        for column, name in enumerate(header, start=1):
            if name in per_row:
                sheet.cell(row=2 + i, column=column, value=per_row[name](i))
    book.save(path)
    return path


def by_rule(batch) -> list:
    """The batch's problems per rule (the assertion's explanation)."""
    import json

    return json.loads(Path(batch.report_json).read_text(encoding="utf-8"))["counts"]["by_rule"]


def codes(list_name: str) -> list[str]:
    from layers.codelists import codelist

    return [entry.code for entry in codelist(list_name)]


def test_filled_building_template_loads_every_row(tmp_path) -> None:
    names = codes("mahalle")
    uses = codes("bina_kullanim")
    path = fill(
        "bina", tmp_path / "bina-sablon.xlsx",
        uavt_bina_kodu=lambda i: str(9_810_000_000 + i), bina_adi=lambda i: f"Bina {i}",
        ada_no=lambda i: 100 + i, parsel_no=lambda i: i + 1,
        mahalle_adi=lambda i: names[i % len(names)], kat_sayisi=lambda i: 1 + i % 8,
        bodrum_kat_sayisi=lambda i: i % 2, kullanim=lambda i: uses[i % len(uses)],
        yapim_yili=lambda i: 1960 + i % 60, ruhsat_no=lambda i: f"R-{i}",
        wkt=lambda i: shapely.box(X0 + (i % 10) * 30, Y0 + (i // 10) * 30,
                                  X0 + (i % 10) * 30 + 20, Y0 + (i // 10) * 30 + 15).wkt)
    layer = registry.get("bina")
    assert suggest_for_file(path, layer, department="imar_sehircilik",
                            workdir=tmp_path).exact  # no mapping step

    batch = ingest(layer="bina", path=path, department="imar_sehircilik")

    assert (batch.status, batch.count_read, batch.count_loaded, batch.count_rejected) == (
        "loaded", N, N, 0), (batch.message, by_rule(batch))
    with connection.cursor() as cur:
        cur.execute("SELECT count(*), min(uavt_bina_kodu), max(uavt_bina_kodu), "
                    "round(sum(ST_Area(geom))::numeric), count(DISTINCT mahalle_adi) "
                    "FROM cbs.bina WHERE uavt_bina_kodu LIKE '981%'")
        assert cur.fetchone() == (N, "9810000000", "9810000099", 300 * N,
                                  min(N, len(names)))
        cur.execute("SELECT kat_sayisi, bodrum_kat_sayisi, yapim_yili, ruhsat_no FROM cbs.bina "
                    "WHERE uavt_bina_kodu = '9810000042'")
        assert cur.fetchone() == (1 + 42 % 8, 0, 1960 + 42, "R-42")


def test_filled_point_template_with_longitude_and_latitude_loads_every_row(tmp_path) -> None:
    layer = registry.get("aydinlatma")
    to_lonlat = Transformer.from_crs(5254, 4326, always_xy=True)
    required = {f.name: f for f in layer.fields if f.required and not f.computed}
    values: dict[str, object] = {}
    for name, fdef in required.items():  # the required fields, each with a valid value
        if fdef.codelist:
            first = codes(fdef.codelist)[0]
            values[name] = lambda i, v=first: v
        elif fdef.enum:
            values[name] = lambda i, v=fdef.enum[0]: v
        elif fdef.type == "integer":
            values[name] = lambda i, lo=int(fdef.min or 1): lo + i % 3
        elif fdef.type in ("decimal", "float", "number"):
            values[name] = lambda i, lo=float(fdef.min or 1): lo + 0.5
        else:
            values[name] = lambda i, n=name: f"AY-{n[:3].upper()}-{i:03d}"
    path = fill("aydinlatma", tmp_path / "aydinlatma-sablon.xlsx", **values,
                boylam=lambda i: round(to_lonlat.transform(X0 + i * 15, Y0 + 500)[0], 7),
                enlem=lambda i: round(to_lonlat.transform(X0 + i * 15, Y0 + 500)[1], 7))
    assert suggest_for_file(path, layer, department="fen_isleri", workdir=tmp_path).exact

    batch = ingest(layer="aydinlatma", path=path, department="fen_isleri")

    assert (batch.status, batch.count_read, batch.count_loaded, batch.count_rejected) == (
        "loaded", N, N, 0), (batch.message, by_rule(batch))
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {layer.backing.table} WHERE batch_id = %s",
                    [batch.pk])
        assert cur.fetchone() == (N,)
