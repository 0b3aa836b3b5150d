"""Inventories through the ETL's door (issue 17 §2) and spreadsheets (issue 18 §3).

Files are written by the tests (openpyxl for XLSX, pandas' odf engine for ODS, plain text
for CSV) and go through ``etl.services.ingest`` as any upload: the real reading in limited
child processes, mapping, validation, reports and the load into the core models on the
real PostGIS.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from django.conf import settings
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.db import connection
from pyproj import Transformer

from etl.models import Quarantine
from etl.services import ingest
from etl.testing import create_layer_table, ensure_departments, layer_rows, make_layer
from gis_core.models import Asset, AssetTransition, Building, Floor, Room
from gis_core.services import decide_scrapping, propose_scrapping, register_asset

SRID = settings.KENTCBS_SRID
X0, Y0 = 544_000, 4_402_000
DEPARTMENT = "bilgi_islem"
pytestmark = pytest.mark.django_db(transaction=True)


def square(x: float, y: float, size: float) -> Polygon:
    return Polygon(((x, y), (x + size, y), (x + size, y + size), (x, y + size), (x, y)),
                   srid=SRID)


@pytest.fixture
def estate() -> dict[str, Any]:
    """Five service buildings (100 m squares, 200 m apart), each with floors 0 and 1 and
    ten rooms ``R<b>0<n>`` (rooms 1-5 with outlines), one room code only in B2, and a
    scrapped asset."""
    ensure_departments()
    buildings = []
    for b in range(1, 6):
        x = X0 + (b - 1) * 200
        building = Building.objects.create(code=f"B{b}", name=f"Hizmet Binası {b}",
                                           footprint=MultiPolygon(square(x, Y0, 100)))
        floors = [Floor.objects.create(building=building, number=n) for n in (0, 1)]
        for n in range(1, 11):
            outline = square(x + (n - 1) * 10, Y0 + 10, 10) if n <= 5 else None
            Room.objects.create(building=building, floor=floors[n % 2], code=f"R{b}{n:02d}",
                                name=f"Oda {n}", outline=outline)
        buildings.append(building)
    Room.objects.create(building=buildings[1], code="ARSIV", name="Arşiv")
    for building in buildings[2:4]:  # a room code two buildings share
        Room.objects.create(building=building, code="ORTAK", name="Ortak alan")
    scrapped = register_asset(asset=Asset(inventory_number="HURDA-1", category="desktop",
                                          building=buildings[0]))
    record = propose_scrapping(asset=scrapped, reason="ekonomik ömrü doldu")
    decide_scrapping(record=record, approve=True, decision_number="K-1")
    return {"buildings": buildings}


HEADER = ["Demirbaş No", "Taşınır Kodu", "Kategori", "Marka", "Model", "Seri No", "Durum",
          "Bina Kodu", "Oda Kodu", "IP Adresi", "MAC Adresi", "Bilgisayar Adı", "X", "Y"]
CATEGORIES = ["desktop", "laptop", "printer", "monitor", "Masaüstü bilgisayar"]


def register_rows() -> tuple[list[list[Any]], dict[int, str]]:
    """2,000 asset rows, 20 of them wrong in known ways: ``{row index: reason code}``.

    The wrong rows: 3 unknown building codes (BUILDING_UNKNOWN), 3 unknown room codes
    (ROOM_UNKNOWN), 2 rooms of another building (ROOM_NOT_IN_BUILDING), 2 inventory
    numbers already used earlier in the file (UNIQUE_IN_FILE), 2 IP addresses that are none
    (IP_FORMAT), 2 MAC addresses that are none (MAC_FORMAT), 2 categories not in the code
    list (CODELIST), 2 assets whose coordinates lie outside their building
    (ASSET_OUTSIDE_BUILDING), 1 scrapped asset put back in service (ASSET_SCRAPPED) and 1
    row without an inventory number (REQUIRED).
    """
    rows: list[list[Any]] = []
    for i in range(2000):
        b = i % 5 + 1
        room = f"R{b}{i % 10 + 1:02d}" if i % 3 else ""
        x = y = None
        if i < 40:  # some rows carry their own coordinates, inside their building
            x, y = X0 + (b - 1) * 200 + 50 + i % 7, Y0 + 60
        rows.append([f"DM-{i:05d}", f"255.02.{i % 9:02d}", CATEGORIES[i % 5], "HP",
                     f"ProDesk {i % 4}", f"SN{i:06d}", "in_service" if room else "in_stock",
                     f"B{b}", room, f"10.{i // 250}.{i % 250}.{i % 7 + 1}",
                     f"00:1A:2B:{i // 65536:02X}:{i // 256 % 256:02X}:{i % 256:02X}",
                     f"pc-{i:05d}", x, y])
    wrong: dict[int, str] = {}

    def spoil(index: int, code: str, **values: Any) -> None:
        for name, value in values.items():
            rows[index][HEADER.index(name)] = value
        wrong[index] = code

    for index in (101, 102, 103):
        spoil(index, "BUILDING_UNKNOWN", **{"Bina Kodu": "B99"})
    for index in (201, 202, 203):
        spoil(index, "ROOM_UNKNOWN", **{"Oda Kodu": "R999"})
    for index in (301, 302):
        spoil(index, "ROOM_NOT_IN_BUILDING", **{"Oda Kodu": "ARSIV", "Bina Kodu": "B1"})
    for index in (401, 402):
        spoil(index, "UNIQUE_IN_FILE", **{"Demirbaş No": f"DM-{index - 100:05d}"})
    for index in (501, 502):
        spoil(index, "IP_FORMAT", **{"IP Adresi": "10.0.0.300"})
    for index in (601, 602):
        spoil(index, "MAC_FORMAT", **{"MAC Adresi": "ZZ:1A:2B:3C:4D"})
    for index in (701, 702):
        spoil(index, "CODELIST", Kategori="uzay gemisi")
    for index in (11, 12):  # coordinates inside building B1, while the row says B3
        spoil(index, "ASSET_OUTSIDE_BUILDING", X=X0 + 50, Y=Y0 + 60, **{"Bina Kodu": "B3",
                                                                           "Oda Kodu": ""})
    spoil(801, "ASSET_SCRAPPED", **{"Demirbaş No": "HURDA-1", "Bina Kodu": "B1",
                                    "Oda Kodu": "", "Durum": "in_service"})
    spoil(901, "REQUIRED", **{"Demirbaş No": None})
    return rows, wrong


def write_xlsx(path: Path, header: list[str], rows: list[list[Any]], *,
               title: str = "Demirbaş") -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def reasons(batch: Any) -> dict[int, set[str]]:
    """Rejected rows (0-based) and their reason codes, from the quarantine."""
    found: dict[int, set[str]] = {}
    for q in Quarantine.objects.filter(batch=batch):
        found[q.feature_index] = {e["code"] for e in q.errors}
    return found


def report(batch: Any) -> dict[str, Any]:
    return json.loads(Path(batch.report_json).read_text(encoding="utf-8"))


def codes(batch: Any) -> list[str]:
    return [d["code"] for d in report(batch)["diagnostics"]]


def test_asset_register_xlsx_2000_rows(estate, tmp_path):
    rows, wrong = register_rows()
    path = write_xlsx(tmp_path / "demirbas.xlsx", HEADER, rows)
    batch = ingest(layer="bt_varlik", path=path, department=DEPARTMENT)
    assert batch.status == "loaded", batch.message
    found = reasons(batch)
    assert {i: found[i] for i in set(found) - set(wrong)} == {}
    assert set(found) == set(wrong)
    assert (batch.count_read, batch.count_loaded, batch.count_rejected) == (2000, 1980, 20)
    assert batch.count_inserted == 1980
    for index, code in wrong.items():
        assert code in found[index], (index, code, found[index])
    # the same reasons in the report, in words (Turkish first)
    problems = report(batch)["problems"]
    assert {p["code"] for p in problems} >= set(wrong.values())
    assert all(p["message_tr"] and p["message_tr"] != p["code"] for p in problems)
    assert "CRS_ASSUMED" in codes(batch)
    assert batch.crs == f"EPSG:{SRID}"
    # placed: in its room's outline, else in its building; own coordinates kept
    assets = {a.inventory_number: a for a in Asset.objects.select_related("room", "building")}
    assert len(assets) == 1981  # and the scrapped one, untouched
    assert assets["HURDA-1"].status == "scrapped"
    in_room = assets["DM-00041"]  # R202 of B2 (an outline)
    assert in_room.room.code == "R202" and in_room.room.outline.covers(in_room.location)
    no_outline = assets["DM-00046"]  # room R207: no outline, placed in its building
    assert no_outline.room.code == "R207" and no_outline.room.outline is None
    assert no_outline.building.footprint.covers(no_outline.location)
    own = assets["DM-00001"]  # its own coordinates, in B2
    assert (round(own.location.x), round(own.location.y)) == (X0 + 200 + 51, Y0 + 60)
    assert in_room.category == "laptop" and assets["DM-00004"].category == "desktop"
    assert in_room.mac_address == "00:1A:2B:00:00:29" and in_room.ip_address == "10.0.41.7"
    # history: every asset was recorded, from the ETL
    assert AssetTransition.objects.filter(reason="ETL").count() == 1980
    history = Asset.history.filter(inventory_number="DM-00041")
    assert history.count() == 1 and history.first().history_source == "etl"
    from gis_core.models import BulkChange

    assert BulkChange.objects.filter(batch_id=batch.pk).exists()

    # the same file again changes nothing
    before = Asset.history.count()
    again = ingest(layer="bt_varlik", path=path, department=DEPARTMENT)
    assert again.status == "unchanged", again.message
    assert (again.count_inserted, again.count_updated, again.count_rejected) == (0, 0, 20)
    assert again.count_unchanged == 1980
    assert Asset.history.count() == before and Asset.objects.count() == 1981


def test_tasinir_export_headers_map_without_a_mapping(estate, tmp_path):
    """A Taşınır Kayıt ve Yönetim Sistemi export: no status, no building, names as text."""
    header = ["Taşınır Kodu", "Sicil No", "Adı", "Marka", "Model", "Seri No", "Oda", "Birim"]
    rows = [["255.02.01.01", "T-0001", "Masaüstü Bilgisayar", "Dell", "OptiPlex", "S1", "R101",
             "bilgi_islem"],
            ["255.02.01.04", "T-0002", "Lazer Yazıcı", "HP", "LaserJet", "S2", "R203", ""],
            ["255.02.01.02", "T-0003", "Dizüstü Bilgisayar", "Lenovo", "T14", "S3", "", ""],
            ["255.02.01.05", "T-0004", "Kesintisiz Güç Kaynağı", "APC", "1500", "S4", "R107",
             ""],
            ["255.02.01.01", "T-0005", "Masaüstü Bilgisayar", "Dell", "OptiPlex", "S5", "ORTAK",
             ""],
            ["255.02.01.01", "T-0006", "Masaüstü Bilgisayar", "Dell", "OptiPlex", "S6", "R101",
             "Uzay Ajansı"]]
    path = write_xlsx(tmp_path / "tasinir.xlsx", header, rows, title="Taşınır Listesi")
    # a dry run and a strict run report the same reasons and change nothing
    trial = ingest(layer="bt_varlik", path=path, department=DEPARTMENT, dry_run=True)
    assert (trial.status, trial.count_loaded, trial.count_rejected) == ("dry_run", 4, 2)
    strict = ingest(layer="bt_varlik", path=path, department=DEPARTMENT, strict=True)
    assert (strict.status, strict.count_loaded, strict.count_rejected) == ("rejected", 0, 6)
    assert reasons(strict) == {4: {"ROOM_AMBIGUOUS"}, 5: {"DEPARTMENT_UNKNOWN"}}
    assert not Asset.objects.filter(inventory_number__startswith="T-").exists()
    assert not AssetTransition.objects.filter(reason="ETL").exists()
    batch = ingest(layer="bt_varlik", path=path, department=DEPARTMENT)
    assert batch.status == "loaded", batch.message
    assert (batch.count_loaded, batch.count_rejected) == (4, 2)
    assert reasons(batch) == {4: {"ROOM_AMBIGUOUS"}, 5: {"DEPARTMENT_UNKNOWN"}}
    found = codes(batch)
    assert "UNKNOWN_COLUMNS" not in found
    assert {"VALUE_NORMALISED", "DEFAULT_APPLIED"} <= set(found)
    one, two, three, four = (Asset.objects.get(inventory_number=f"T-000{n}")
                             for n in range(1, 5))
    assert (one.category, one.tasinir_code, one.serial_number) == ("desktop", "255.02.01.01",
                                                                   "S1")
    assert one.department.code == "bilgi_islem"
    assert one.room.code == "R101" and one.building.code == "B1"  # the room names it
    assert one.room.outline.covers(one.location) and one.status == "in_service"
    assert (two.category, two.building.code) == ("printer", "B2")
    assert (three.category, three.status, three.building) == ("laptop", "in_stock", None)
    assert three.location is None
    assert four.category == "ups" and four.building.footprint.covers(four.location)


def test_ods_rooms_file(estate, tmp_path):
    """Floors and rooms from an ODS sheet: one outline as WKT, the others attributes only."""
    x = X0 + 600  # building B4
    frame = pd.DataFrame({
        "Bina Kodu": ["B4", "B4", "B4", "B9", "B4"],
        "Kat": [2, 2, 3, 1, 2],
        "Oda No": ["Z-1", "Z-2", "Z-3", "Z-1", "Z-1"],
        "Oda Adı": ["Sunucu odası", "Arşiv", "Toplantı", "Yok", "Tekrar"],
        "WKT": [f"POLYGON(({x + 60} {Y0 + 60}, {x + 80} {Y0 + 60}, {x + 80} {Y0 + 80}, "
                f"{x + 60} {Y0 + 80}, {x + 60} {Y0 + 60}))", "", "", "", ""],
    })
    path = tmp_path / "odalar.ods"
    frame.to_excel(path, engine="odf", index=False, sheet_name="Odalar")
    batch = ingest(layer="oda", path=path, department=DEPARTMENT, crs=f"EPSG:{SRID}")
    assert batch.status == "loaded", batch.message
    assert (batch.count_loaded, batch.count_rejected) == (3, 2)
    assert reasons(batch) == {3: {"BUILDING_UNKNOWN"}, 4: {"UNIQUE_IN_FILE"}}
    server = Room.objects.get(building__code="B4", code="Z-1")
    assert server.name == "Sunucu odası" and server.floor.number == 2
    assert server.outline is not None and round(server.outline.area) == 400
    assert Room.objects.get(building__code="B4", code="Z-3").floor.number == 3
    assert Floor.objects.filter(building__code="B4").count() == 4  # 0, 1 and the new 2, 3
    assert batch.file_format == "ods"
    again = ingest(layer="oda", path=path, department=DEPARTMENT, crs=f"EPSG:{SRID}")
    assert again.status == "unchanged" and again.count_unchanged == 3


def test_attribute_only_sheet(estate, tmp_path):
    """A sheet without coordinates loads into a layer whose geometry is optional, and is
    refused, naming the columns seen, for a layer that needs one."""
    path = write_xlsx(tmp_path / "odalar.xlsx", ["bina_kodu", "kod", "ad"],
                      [["B5", "K-1", "Kantin"], ["B5", "K-2", "Depo"]])
    batch = ingest(layer="oda", path=path, department=DEPARTMENT)
    assert batch.status == "loaded" and batch.count_inserted == 2, batch.message
    assert Room.objects.get(building__code="B5", code="K-1").outline is None
    point = make_layer("etl_inv_nokta", geometry_type="Point",
                       geometry_rules={"valid": True, "not_empty": True})
    create_layer_table(point)
    refused = ingest(layer=point, path=path, department="imar_sehircilik")
    assert (refused.status, refused.reason_code) == ("refused", "NOT_GEODATA")
    assert "bina_kodu, kod, ad" in refused.message
    assert "koordinat" in refused.message.lower()  # Turkish first


@pytest.fixture
def point_layer():
    layer = make_layer("etl_inv_nokta", geometry_type="Point",
                       geometry_rules={"valid": True, "not_empty": True})
    create_layer_table(layer)
    yield layer
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {layer.backing.table} CASCADE")


def test_coordinates_in_degrees_and_tm_metres(point_layer, tmp_path):
    to_lonlat = Transformer.from_crs(SRID, 4326, always_xy=True)
    points = [(X0 + 10 * i, Y0 + 5 * i) for i in range(5)]
    # CSV: Turkish headers, decimal commas, semicolons
    lines = ["bina_no;Boylam;Enlem"]
    for i, (x, y) in enumerate(points):
        lon, lat = to_lonlat.transform(x, y)
        lines.append(f"B-{i};{lon:.8f};{lat:.8f}".replace(".", ","))
    csv_path = tmp_path / "noktalar.csv"
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    batch = ingest(layer=point_layer, path=csv_path, department="imar_sehircilik")
    assert batch.status == "loaded" and batch.count_loaded == 5, batch.message
    assert batch.crs == "EPSG:4326"
    assumed = [d for d in report(batch)["diagnostics"] if d["code"] == "CRS_ASSUMED"]
    assert assumed and "EPSG:4326" in assumed[0]["message"]
    stored = layer_rows(point_layer)
    assert stored[0][-2].endswith(f"POINT({X0} {Y0})") or "POINT(" in stored[0][-2]
    # XLSX: TM metres, northing first as surveyors write X and Y
    rows = [[f"B-{i + 10}", y, x] for i, (x, y) in enumerate(points)]
    xlsx = write_xlsx(tmp_path / "tm.xlsx", ["bina_no", "X", "Y"], rows)
    tm = ingest(layer=point_layer, path=xlsx, department="imar_sehircilik")
    assert tm.status == "loaded" and tm.count_loaded == 5, tm.message
    assert tm.crs == f"EPSG:{SRID}"
    message = next(d["message"] for d in report(tm)["diagnostics"] if d["code"] == "CRS_ASSUMED")
    assert f"EPSG:{SRID}" in message
    with connection.cursor() as cur:
        cur.execute(f"SELECT ST_X(geom), ST_Y(geom) FROM {point_layer.backing.table} "
                    "WHERE bina_no = 'B-10'")
        x, y = cur.fetchone()
    assert (round(x), round(y)) == points[0]
    # surveyors' headers with the axis named: Y (Sağa) is the easting, X (Yukarı) northing
    named = write_xlsx(tmp_path / "saga.xlsx", ["bina_no", "X (Yukarı)", "Y (Sağa)"],
                       [[f"B-{i + 20}", y, x] for i, (x, y) in enumerate(points)])
    assert ingest(layer=point_layer, path=named, department="imar_sehircilik").count_loaded == 5
    with connection.cursor() as cur:
        cur.execute(f"SELECT ST_X(geom), ST_Y(geom) FROM {point_layer.backing.table} "
                    "WHERE bina_no = 'B-21'")
        x, y = cur.fetchone()
    assert (round(x), round(y)) == points[1]
    # a declared CRS wins, and no assumption is reported
    declared = ingest(layer=point_layer, path=xlsx, department="imar_sehircilik",
                      crs=f"EPSG:{SRID}")
    assert "CRS_ASSUMED" not in codes(declared) and declared.status == "unchanged"


def test_spreadsheet_errors_are_clear(tmp_path):
    ensure_departments()
    empty = tmp_path / "bos.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Sayfa1"
    book.create_sheet("Sayfa2").append(["sadece başlık"])
    book.save(empty)
    batch = ingest(layer="bt_varlik", path=empty, department=DEPARTMENT)
    assert (batch.status, batch.reason_code) == ("refused", "SHEET_EMPTY")
    assert "Sayfa1, Sayfa2" in batch.message

    formulas = tmp_path / "formul.xlsx"
    write_xlsx(formulas, ["demirbas_no", "kategori", "durum", "sayi"],
               [["F-1", "desktop", "in_stock", "=1+1"], ["F-2", "desktop", "in_stock", "=D2*2"]])
    batch = ingest(layer="bt_varlik", path=formulas, department=DEPARTMENT)
    assert (batch.status, batch.reason_code) == ("refused", "FORMULA_NO_VALUE")
    assert "D2, D3" in batch.message

    from msoffcrypto.format.ooxml import OOXMLFile

    plain = write_xlsx(tmp_path / "acik.xlsx", ["demirbas_no"], [["P-1"]])
    locked = tmp_path / "sifreli.xlsx"
    with open(plain, "rb") as src, open(locked, "wb") as out:
        OOXMLFile(src).encrypt("gizli", out)
    batch = ingest(layer="bt_varlik", path=locked, department=DEPARTMENT)
    assert (batch.status, batch.reason_code) == ("refused", "PASSWORD_PROTECTED")

    damaged = tmp_path / "bozuk.xlsx"
    damaged.write_bytes(plain.read_bytes()[:300])
    batch = ingest(layer="bt_varlik", path=damaged, department=DEPARTMENT)
    assert batch.status == "refused" and batch.reason_code == "ZIP_CORRUPT", (
        batch.reason_code, batch.message)
    assert "Traceback" not in batch.message
    assert Asset.objects.count() == 0


def test_web_upload_of_an_inventory(estate, tmp_path, monkeypatch):
    """The upload form offers the inventory layers and takes an XLSX (no error page)."""
    from tests.people import member, signed_in
    from web import reports as web_reports
    from web.models import UploadJob

    monkeypatch.setattr(web_reports, "_upload_thread", lambda job_id: None)
    user = member("envanter", DEPARTMENT, role="data_entry")
    client = signed_in(user)
    page = client.get("/upload/")
    assert page.status_code == 200 and "bt_varlik" in page.content.decode()
    stream = io.BytesIO()
    book = openpyxl.Workbook()
    book.active.append(["Sicil No", "Adı", "Oda"])
    book.active.append(["W-1", "Masaüstü Bilgisayar", "R301"])
    book.save(stream)
    stream.seek(0)
    stream.name = "web.xlsx"
    response = client.post("/upload/", {"layer": "bt_varlik", "file": stream})
    assert response.status_code == 302, response.content.decode()[:500]
    job = web_reports.run_upload(UploadJob.objects.get().pk)
    assert job.batch.status == "loaded", job.batch.message
    assert Asset.objects.get(inventory_number="W-1").room.code == "R301"
    assert client.get(f"/reports/{job.batch.pk}/").status_code == 200


def test_service_buildings_links_and_subscriptions(estate, tmp_path):
    """Service buildings (a footprint, or the bina layer's footprint by UAVT code), network
    links between them and line subscriptions on them; each file sent twice."""
    import geopandas as gpd
    import shapely

    from gis_core.models import NetworkLink, Subscription
    from layers.codelists import codelist

    # the bina layer holds a building with UAVT code 1234567890
    x = X0 + 2000
    mahalle = codelist("mahalle")[0].code
    bina = gpd.GeoDataFrame({
        "uavt_bina_kodu": ["1234567890", "1234567891"], "mahalle_adi": [mahalle] * 2,
        "kat_sayisi": [3, 2], "kullanim": [codelist("bina_kullanim")[0].code] * 2},
        geometry=[shapely.box(x, Y0, x + 40, Y0 + 30), shapely.box(x + 100, Y0, x + 120, Y0 + 20)],
        crs=SRID)
    bina.to_file(tmp_path / "bina.gpkg")
    assert ingest(layer="bina", path=tmp_path / "bina.gpkg",
                  department="imar_sehircilik").status == "loaded"
    # the second building's entrance in the address layer
    door = gpd.GeoDataFrame({
        "uavt_kodu": ["2000000001"], "mahalle_adi": [mahalle],
        "yol_tipi": [codelist("yol_tipi")[0].code], "sokak_adi": ["İnönü"], "kapi_no": ["12"]},
        geometry=[shapely.Point(x + 110, Y0 + 10)], crs=SRID)
    door.to_file(tmp_path / "numarataj.gpkg")
    loaded = ingest(layer="numarataj", path=tmp_path / "numarataj.gpkg",
                    department="imar_sehircilik")
    assert loaded.status == "loaded", loaded.message
    y = X0 + 3000
    rows = [["H1", "Belediye Sarayı", "", f"POLYGON(({y} {Y0}, {y + 50} {Y0}, {y + 50} {Y0 + 50}, "
             f"{y} {Y0 + 50}, {y} {Y0}))", "", "", ""],
            ["H2", "Zabıta Binası", "1234567890", "", "", "", ""],
            ["H3", "Kayıp Bina", "1111111111", "", "", "", ""],
            ["H4", "Muhtarlık", "", "", mahalle, "İNÖNÜ Cad.", "12"]]
    path = write_xlsx(tmp_path / "binalar.xlsx", ["Bina Kodu", "Bina Adı", "UAVT", "WKT",
                                                  "Mahalle", "Sokak", "Kapı No"], rows)
    batch = ingest(layer="bina_hizmet", path=path, department=DEPARTMENT, crs=f"EPSG:{SRID}")
    assert batch.status == "loaded", batch.message
    assert (batch.count_inserted, batch.count_rejected) == (3, 1)
    assert "UAVT_NOT_FOUND" in reasons(batch)[2]
    assert {"FOOTPRINT_FROM_UAVT", "FOOTPRINT_FROM_ADDRESS"} <= set(codes(batch))
    h4 = Building.objects.get(code="H4")
    assert (h4.uavt_code, round(h4.footprint.area), h4.street) == ("1234567891", 400,
                                                                   "İNÖNÜ Cad.")
    h2 = Building.objects.get(code="H2")
    assert h2.uavt_code == "1234567890" and round(h2.footprint.area) == 1200
    assert Building.objects.get(code="H1").name == "Belediye Sarayı"
    assert ingest(layer="bina_hizmet", path=path, department=DEPARTMENT,
                  crs=f"EPSG:{SRID}").status == "unchanged"

    links = write_xlsx(tmp_path / "baglantilar.xlsx",
                       ["A Bina", "B Bina", "Ortam", "Kapasite", "Sağlayıcı", "Devre No"],
                       [["H1", "H2", "Fiber (tek mod)", 1000, "", ""],
                        ["H1", "B1", "metro_ethernet", 100, "Türk Telekom", "D-100"],
                        ["H1", "B99", "copper", 100, "", ""],
                        ["H2", "B2", "kablo", 10, "", ""],
                        ["H2", "", "copper", 10, "", ""]])
    batch = ingest(layer="ag_baglanti", path=links, department=DEPARTMENT)
    assert batch.status == "loaded", batch.message
    assert (batch.count_inserted, batch.count_rejected) == (2, 3)
    found = reasons(batch)
    assert found[2] == {"BUILDING_UNKNOWN"} and found[3] == {"CODELIST"}
    assert found[4] == {"LINK_END_REQUIRED"}
    by_number = write_xlsx(tmp_path / "numarali.xlsx",
                           ["baglanti_no", "a_bina_kodu", "a_cihaz", "b_bina_kodu", "ortam"],
                           [[999999, "H2", "", "H1", "copper"], ["", "", "YOK-1", "H1", "copper"]])
    batch = ingest(layer="ag_baglanti", path=by_number, department=DEPARTMENT)
    assert reasons(batch) == {0: {"LINK_UNKNOWN"}, 1: {"ASSET_UNKNOWN"}}
    fibre = NetworkLink.objects.get(a_building__code="H1", b_building__code="H2")
    assert fibre.medium == "fiber_sm" and fibre.route is not None  # drawn by the database
    again = ingest(layer="ag_baglanti", path=links, department=DEPARTMENT)
    assert again.status == "unchanged" and NetworkLink.objects.count() == 2, again.message

    lines = tmp_path / "abonelikler.csv"
    lines.write_text("Sağlayıcı;Hat No;Tür;Bina;Devre No;Başlangıç Tarihi;Aylık Ücret;Ödeme Günü\n"
                     "Türk Telekom;0222 111 11 11;Sabit telefon;H1;;01.02.2024;350,50;15\n"
                     "Türk Telekom;D-100;Metro Ethernet;H1;D-100;01.01.2024;4200;1\n"
                     "Türk Telekom;0222 222 22 22;internet;B77;;01.01.2024;100;40\n",
                     encoding="utf-8")
    batch = ingest(layer="abonelik", path=lines, department=DEPARTMENT)
    assert batch.status == "loaded", batch.message
    assert (batch.count_inserted, batch.count_rejected) == (2, 1)
    assert reasons(batch)[2] >= {"RANGE"}
    voice = Subscription.objects.get(line_number="0222 111 11 11")
    assert (voice.kind, str(voice.monthly_fee), voice.payment_day) == ("voice", "350.50", 15)
    assert voice.start_date.isoformat() == "2024-02-01" and voice.building.code == "H1"
    assert Subscription.objects.get(line_number="D-100").link.circuit_id == "D-100"
    assert ingest(layer="abonelik", path=lines, department=DEPARTMENT).status == "unchanged"


def test_geopackage_of_assets(estate, tmp_path):
    """A GeoPackage goes through the same door: points in their buildings, a point outside
    its building rejected, the CRS from the file."""
    import geopandas as gpd
    import shapely

    frame = gpd.GeoDataFrame(
        {"Demirbaş No": ["G-1", "G-2"], "Kategori": ["Yazıcı", "switch"],
         "Durum": ["Kullanımda", "in_stock"], "Bina Kodu": ["B1", "B1"]},
        geometry=[shapely.Point(X0 + 10, Y0 + 10), shapely.Point(X0 + 150, Y0 + 10)],
        crs=SRID).to_crs(4326)
    frame.to_file(tmp_path / "varliklar.gpkg")
    batch = ingest(layer="bt_varlik", path=tmp_path / "varliklar.gpkg", department=DEPARTMENT)
    assert batch.status == "loaded", batch.message
    assert (batch.count_loaded, batch.count_rejected, batch.file_format) == (1, 1, "gpkg")
    assert reasons(batch) == {1: {"ASSET_OUTSIDE_BUILDING"}}
    printer = Asset.objects.get(inventory_number="G-1")
    assert (printer.category, printer.status) == ("printer", "in_service")
    assert printer.building.footprint.covers(printer.location)
