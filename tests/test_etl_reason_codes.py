"""Every reason code and rule named in ``etl/README.md``, one table row each, through
``ingest`` against the real PostGIS, each with a file made here.

A row names the code, makes the upload and says what the code must do: refuse the
whole upload (``refused``), warn about it (``diagnostic``), or flag feature 1 of an
otherwise clean file as an ``error`` (rejected, in the quarantine with that code) or a
``warning`` (kept). The clean file itself must load with no problem and no diagnostic,
so a code that is always emitted fails too; and every code the README names must have
a row (or name the test that proves it elsewhere).
"""

from __future__ import annotations

import json
import re
import sqlite3
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from django.conf import settings
from django.db import connection
from pyproj import Transformer

from etl.models import Batch, BatchStatusChoices, Quarantine
from etl.safety import Limits
from etl.services import ingest
from etl.testing import create_layer_table, layer_data, layer_rows

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parent.parent
LON, LAT = 30.52, 39.77  # Odunpazarı
X0, Y0 = Transformer.from_crs(4326, 5254, always_xy=True).transform(LON, LAT)
LAYER = "etl_codes"
BAD = 1  # the feature each rule row breaks


def clean_frame(n: int = 4) -> gpd.GeoDataFrame:
    """``n`` valid buildings in TM30 (EPSG:5254), file-style column names."""
    return gpd.GeoDataFrame({
        "BINA_NO": [f"B-{i}" for i in range(n)],
        "Ad": [f"Bina {i}" for i in range(n)],
        "Mahalle Adı": ["Yenidoğan"] * n,
        "KAT_SAYISI": [3] * n,
    }, geometry=[shapely.box(X0 + (i % 100) * 40, Y0 + (i // 100) * 40,
                             X0 + (i % 100) * 40 + 20, Y0 + (i // 100) * 40 + 15)
                 for i in range(n)],  # rows of 100, 4 km wide: all in the municipality
        crs=5254)


def codes_layer(**rules: Any) -> dict[str, Any]:
    """The test layer: ``make_layer``'s buildings with ``ad`` unique (a non-key unique
    field, for ``UNIQUE_IN_DB``) and the geometry rules given."""
    data = layer_data(LAYER)
    data["fields"] = [{**f, "unique": True} if f["name"] == "ad" else f for f in data["fields"]]
    data["geometry_rules"] = {**data["geometry_rules"], **rules}
    return data


@dataclass
class Upload:
    path: Path
    kwargs: dict[str, Any] = field(default_factory=dict)
    layer: dict[str, Any] = field(default_factory=codes_layer)
    #: runs before the upload (e.g. stores rows or a municipality boundary)
    before: Callable[[Any], None] | None = None


@dataclass(frozen=True)
class Case:
    code: str
    expect: str  # refused | diagnostic | error | warning
    make: Callable[[Path], Upload]
    label: str = ""


# -- files -------------------------------------------------------------------------------
def gpkg(tmp: Path, frame: gpd.GeoDataFrame, name: str = "binalar.gpkg") -> Path:
    frame.to_file(tmp / name, driver="GPKG")
    return tmp / name


def broken(change: Callable[[gpd.GeoDataFrame], None], *,
           before: Callable[[Any], None] | None = None, **layer_rules: Any
           ) -> Callable[[Path], Upload]:
    """A row: the clean file with feature ``BAD`` changed by ``change``."""
    def make(tmp: Path) -> Upload:
        frame = clean_frame()
        change(frame)
        return Upload(gpkg(tmp, frame), layer=codes_layer(**layer_rules), before=before)
    return make


def set_value(column: str, value: Any) -> Callable[[gpd.GeoDataFrame], None]:
    def change(frame: gpd.GeoDataFrame) -> None:
        if column == "geometry":
            frame["geometry"] = gpd.GeoSeries(
                [value if i == BAD else g for i, g in enumerate(frame.geometry)], crs=5254)
        else:
            frame[column] = frame[column].astype(object)
            frame.loc[BAD, column] = value
    return change


def zipped(tmp: Path, entries: dict[str, bytes], name: str = "paket.zip",
           compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(tmp / name, "w", compression) as zf:
        for entry, data in entries.items():
            zf.writestr(entry, data)
    return tmp / name


def zip_symlink(tmp: Path) -> Upload:
    path = tmp / "link.zip"
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo("binalar.dbf")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    return Upload(path)


def zip_nested(tmp: Path) -> Upload:
    inner = gpkg(tmp, clean_frame())
    packed = zipped(tmp, {"binalar.gpkg": inner.read_bytes()}, "ic.zip")
    return Upload(zipped(tmp, {"ic.zip": packed.read_bytes()}, "dis.zip"))


def text(tmp: Path, name: str, body: str) -> Path:
    (tmp / name).write_text(body, encoding="utf-8")
    return tmp / name


def two_letter_text(size: int) -> bytes:
    """``size`` bytes that deflate about 8:1 (a ratio far under the bomb limit)."""
    return np.random.default_rng(5254).choice(np.frombuffer(b"ab", np.uint8), size).tobytes()


def zip_total(over: bool) -> Callable[[Path], Upload]:
    """An archive under the upload limit whose entries (each under it too) add up to just
    over (or just under) the total limit, 4 x the upload limit (``KENTCBS_UPLOAD_MAX_BYTES``)."""
    def make(tmp: Path) -> Upload:
        upload_limit = 200_000
        settings.KENTCBS_UPLOAD_MAX_BYTES = upload_limit  # restored by the fixture
        rest = 4 * upload_limit + (1 if over else -1) - 1000
        entries = {"a.csv": two_letter_text(1000)}
        entries |= {f"{name}.txt": two_letter_text(rest // 4 + (i < rest % 4))
                    for i, name in enumerate("bcde")}
        path = zipped(tmp, entries)
        assert path.stat().st_size < upload_limit
        assert sum(map(len, entries.values())) - 4 * upload_limit == (1 if over else -1)
        return Upload(path)
    return make


def zip_corrupt(tmp: Path) -> Upload:
    (tmp / "bozuk.zip").write_bytes(b"PK\x03\x04" + bytes(range(256)) * 2)
    return Upload(tmp / "bozuk.zip")


def sqlite_not_gpkg(tmp: Path) -> Upload:
    db = sqlite3.connect(tmp / "x.gpkg")
    db.execute("CREATE TABLE t (a int)")
    db.commit()
    db.close()
    return Upload(tmp / "x.gpkg")


def no_boundary(_layer: Any) -> None:
    from django.apps import apps

    apps.get_model("gis_core", "Municipality").objects.all().delete()


def csv_points(tmp: Path, xs: list[float], ys: list[float], header: tuple[str, str],
               name: str = "noktalar.csv") -> Path:
    lines = [f"bina_no,{header[0]},{header[1]}"]
    lines += [f"B-{i},{x},{y}" for i, (x, y) in enumerate(zip(xs, ys, strict=True))]
    return text(tmp, name, "\n".join(lines) + "\n")


POINT_LAYER = {**layer_data(LAYER), "geometry_type": "Point",
               "geometry_rules": {"valid": True, "not_empty": True}}
LONS = [LON + i * 0.001 for i in range(3)]


def store_rows(frame: gpd.GeoDataFrame) -> Callable[[Any], None]:
    """A ``before`` that loads ``frame`` first: rows really stored in the layer."""
    def before(layer: Any) -> None:
        path = Path(settings.MEDIA_ROOT) / "etl-codes-first.gpkg"
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_file(path, driver="GPKG")
        first = ingest(layer=layer, path=path, department="imar_sehircilik")
        assert first.status in (BatchStatusChoices.LOADED, BatchStatusChoices.UNCHANGED), (
            first.message)
        assert first.count_rejected == 0
        path.unlink()
    return before


def store_boundary(_layer: Any) -> None:
    """The municipality's boundary: a 10 km square around the clean file."""
    from django.apps import apps
    from django.contrib.gis.geos import GEOSGeometry

    area = shapely.MultiPolygon([shapely.box(X0 - 5000, Y0 - 5000, X0 + 5000, Y0 + 5000)])
    apps.get_model("gis_core", "Municipality").objects.update_or_create(
        code=settings.KENTCBS_PROFILE,
        defaults={"name": "Odunpazarı", "province": "Eskişehir", "srid": 5254,
                  "boundary": GEOSGeometry(area.wkt, srid=5254)})


def unique_in_db(tmp: Path) -> Upload:
    stored = clean_frame()
    stored["Ad"] = ["Ortak ad", "Bina 1", "Bina 2 eski", "Bina 3"]  # B-0 holds "Ortak ad"
    frame = clean_frame(5).iloc[1:].reset_index(drop=True)  # B-1 .. B-4
    frame.loc[BAD, "Ad"] = "Ortak ad"  # B-2 claims B-0's stored name
    return Upload(gpkg(tmp, frame), before=store_rows(stored))


def ed50(tmp: Path) -> Upload:
    itrf = clean_frame()
    shifted = itrf.to_crs(2320).set_crs(5254, allow_override=True)  # ED50 numbers, ITRF label
    return Upload(gpkg(tmp, shifted), before=store_rows(itrf))


def shifted_3m(tmp: Path) -> Upload:
    """Every feature 3 m east of the same key stored: a systematic shift, no datum's."""
    itrf = clean_frame()
    moved = itrf.set_geometry(itrf.translate(xoff=3.0))
    return Upload(gpkg(tmp, moved), before=store_rows(itrf))


def accepted(upload: Upload) -> Upload:
    upload.kwargs["accept_shift"] = True
    return upload


def overlap(frame: gpd.GeoDataFrame) -> None:
    frame["geometry"] = gpd.GeoSeries(
        [shapely.box(X0 + 10, Y0 + 5, X0 + 30, Y0 + 15) if i == BAD else g
         for i, g in enumerate(frame.geometry)], crs=5254)


def line_layer(tmp: Path) -> Upload:
    lines = gpd.GeoDataFrame(
        {"BINA_NO": [f"B-{i}" for i in range(4)], "Ad": [f"Yol {i}" for i in range(4)]},
        geometry=[shapely.LineString([(X0 + i * 40, Y0), (X0 + i * 40 + (2 if i == BAD else 30),
                                                          Y0)]) for i in range(4)], crs=5254)
    return Upload(gpkg(tmp, lines), layer={
        **layer_data(LAYER), "geometry_type": "MultiLineString",
        "geometry_rules": {"valid": True, "not_empty": True, "min_length": 5.0}})


CASES: list[Case] = [
    # -- whole-upload refusals: hostile or broken files
    Case("PATH_REFUSED", "refused", lambda tmp: Upload(Path("/vsicurl/http://example.invalid/a.gpkg"))),
    Case("FILE_MISSING", "refused", lambda tmp: Upload(tmp / "yok.gpkg")),
    Case("EMPTY_FILE", "refused", lambda tmp: Upload(text(tmp, "bos.gpkg", ""))),
    Case("TOO_LARGE", "refused", lambda tmp: Upload(gpkg(tmp, clean_frame()),
                                                    {"limits": Limits(max_bytes=1000)})),
    Case("ZIP_CORRUPT", "refused", zip_corrupt),
    Case("ZIP_BOMB", "refused", lambda tmp: Upload(zipped(tmp, {"a.shp": b"\0" * (30 << 20)})),
         "ratio"),
    Case("ZIP_BOMB", "refused", lambda tmp: Upload(
        zipped(tmp, {f"f{i}.txt": b"x" for i in range(1001)}, compression=zipfile.ZIP_STORED)),
        "entries"),
    Case("ZIP_BOMB", "refused", zip_total(over=True), "total size over 4 x the upload limit"),
    Case("NOT_GEODATA", "refused", zip_total(over=False),
         "total size just under the limit: unpacked, then not geodata"),
    Case("ZIP_SLIP", "refused", lambda tmp: Upload(zipped(tmp, {"../../kacak.txt": b"x"}))),
    Case("ZIP_SYMLINK", "refused", zip_symlink),
    Case("ZIP_NESTED", "refused", zip_nested),
    Case("INDIRECTION", "refused", lambda tmp: Upload(text(
        tmp, "veri.gpkg", '<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>/etc/passwd'
        "</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>"))),
    Case("DRIVER_REFUSED", "refused", lambda tmp: Upload(text(  # TopoJSON, sniffed as JSON
        tmp, "topo.geojson", json.dumps({"type": "Topology", "arcs": [], "objects": {"a": {
            "type": "GeometryCollection",
            "geometries": [{"type": "Point", "coordinates": [LON, LAT]}]}}})))),
    Case("NESTING_TOO_DEEP", "refused", lambda tmp: Upload(text(
        tmp, "derin.geojson", '{"type":"FeatureCollection","features":[{"type":"Feature",'
        '"properties":{},"geometry":' + '{"type":"GeometryCollection","geometries":[' * 100
        + '{"type":"Point","coordinates":[30,39]}' + "]}" * 100 + "}]}"))),
    Case("NOT_GEODATA", "refused", lambda tmp: Upload(text(tmp, "not.txt", "sadece not\n"))),
    Case("NOT_GEODATA", "refused", sqlite_not_gpkg, "SQLite, not a GeoPackage"),
    # 40 MB of text to parse under a 1 MiB limit (the warmed-up parser's free heap can
    # hold a small file even then)
    Case("PARSE_LIMIT", "refused", lambda tmp: Upload(
        gpkg(tmp, clean_frame(20_000).assign(Notlar="ç" * 1000)),
        {"limits": Limits(memory_bytes=1 << 20)})),
    Case("EMPTY_DATASET", "refused", lambda tmp: Upload(text(
        tmp, "bos.geojson", '{"type": "FeatureCollection", "features": []}'))),
    # -- CRS
    Case("CRS_MISSING", "refused",  # site-grid numbers: neither degrees nor TM metres
         lambda tmp: Upload(csv_points(tmp, [1000, 1010, 1020], [2000] * 3, ("x", "y")),
                            layer=POINT_LAYER)),
    Case("CRS_UNKNOWN", "refused", lambda tmp: Upload(gpkg(tmp, clean_frame()),
                                                      {"crs": "EPSG:999999"})),
    Case("CRS_METRES_AS_DEGREES", "refused", lambda tmp: Upload(
        csv_points(tmp, [X0] * 3, [Y0 + i for i in range(3)], ("x", "y")), {"crs": "EPSG:4326"},
        layer=POINT_LAYER)),
    Case("CRS_LATLON_SWAPPED", "refused", lambda tmp: Upload(
        csv_points(tmp, [LAT] * 3, LONS, ("lon", "lat")), {"crs": "EPSG:4326"},
        layer=POINT_LAYER)),
    Case("CRS_WRONG_ZONE", "refused", lambda tmp: Upload(
        gpkg(tmp, clean_frame().set_crs(5253, allow_override=True)))),
    Case("CRS_OUTSIDE_AREA", "refused", lambda tmp: Upload(gpkg(tmp, clean_frame().set_geometry(
        clean_frame().geometry.translate(-1_500_000, 0)).set_crs(5254, allow_override=True)))),
    Case("CRS_OVERRIDDEN", "diagnostic", lambda tmp: Upload(  # a wrong .prj, put right
        gpkg(tmp, clean_frame().set_crs(5253, allow_override=True)), {"crs": "EPSG:5254"})),
    Case("CRS_ED50_SUSPECTED", "refused", ed50),
    Case("DATA_SHIFTED", "refused", shifted_3m),
    Case("SHIFT_ACCEPTED", "diagnostic", lambda tmp: accepted(ed50(tmp))),
    Case("UNKNOWN_COLUMNS", "diagnostic", lambda tmp: Upload(gpkg(
        tmp, clean_frame().assign(Renk="kırmızı")))),
    Case("MISSING_COLUMNS", "diagnostic", lambda tmp: Upload(gpkg(
        tmp, clean_frame().drop(columns=["Ad"])))),
    Case("MUNICIPALITY_BOUNDARY_MISSING", "diagnostic", lambda tmp: Upload(
        gpkg(tmp, clean_frame()), layer=codes_layer(within_municipality=True),
        before=no_boundary)),
    # -- rules, on feature BAD
    Case("REQUIRED", "error", broken(set_value("BINA_NO", None))),
    Case("TYPE", "error", broken(set_value("KAT_SAYISI", "üç"))),
    Case("CODELIST", "error", broken(set_value("Mahalle Adı", "Yenidogan"))),
    Case("VALUE_NORMALISED", "warning", broken(set_value("Mahalle Adı", "YENİDOĞAN Mah."))),
    Case("PATTERN", "error", broken(set_value("BINA_NO", "X-1"))),
    Case("RANGE", "error", broken(set_value("KAT_SAYISI", 99))),
    Case("MAX_LENGTH", "error", broken(set_value("Ad", "ç" * 101))),
    Case("UNIQUE_IN_FILE", "error", broken(set_value("BINA_NO", "B-0"))),
    Case("UNIQUE_IN_DB", "error", unique_in_db),
    Case("GEOM_TYPE", "error", broken(set_value("geometry", shapely.Point(X0 + 40, Y0)))),
    Case("GEOM_EMPTY", "error", broken(set_value("geometry", None))),
    Case("GEOM_INVALID", "error", broken(set_value("geometry", shapely.Polygon(
        [(X0 + 40, Y0), (X0 + 60, Y0 + 15), (X0 + 60, Y0), (X0 + 40, Y0 + 15)])))),
    Case("OUTSIDE_MUNICIPALITY", "error", broken(set_value(
        "geometry", shapely.box(X0 + 20_000, Y0, X0 + 20_020, Y0 + 15)),
        before=store_boundary, within_municipality=True), "entirely"),
    Case("OUTSIDE_MUNICIPALITY", "warning", broken(set_value(
        "geometry", shapely.box(X0 + 4990, Y0, X0 + 5010, Y0 + 15)),
        before=store_boundary, within_municipality=True), "partly"),
    Case("BELOW_MIN_AREA", "error", broken(set_value(
        "geometry", shapely.box(X0 + 40, Y0, X0 + 41, Y0 + 1)))),
    Case("BELOW_MIN_LENGTH", "error", line_layer),
    Case("GEOM_DUPLICATE", "error", broken(set_value(
        "geometry", shapely.box(X0, Y0, X0 + 20, Y0 + 15)))),
    Case("GEOM_OVERLAP", "error", broken(overlap)),
]

#: Codes the README names that a row here cannot make with a file, and the test that
#: proves each.
ELSEWHERE = {
    "ENCODING_MISMATCH": "tests/test_etl_formats.py::test_cpg_that_does_not_match_the_bytes",
    "CRS_ZONE_PREFIX": "tests/test_etl_formats.py::test_gauss_kruger_zone_prefix_is_explained",
    "CRS_NAME_UNKNOWN":
        "tests/test_etl_formats.py::test_geojson_crs_member_gdal_does_not_know_is_quoted",
    "PARSE_CRASHED": "tests/test_etl_hostile.py::test_parser_runs_under_limits",
    "VALUE_ALIAS": "tests/test_etl_mapping_cli.py::test_auto_map_loads_the_department_file",
    "BATCH_INTERRUPTED":
        "tests/test_etl_failure.py::test_killed_process_mid_copy_leaves_layer_unchanged",
    # spreadsheets and inventories (layers backed by core models, with their own fixtures)
    **dict.fromkeys(("SHEET_EMPTY", "FORMULA_NO_VALUE", "PASSWORD_PROTECTED"),
                    "tests/test_etl_inventory.py::test_spreadsheet_errors_are_clear"),
    "CRS_ASSUMED": "tests/test_etl_inventory.py::test_coordinates_in_degrees_and_tm_metres",
    **dict.fromkeys(("BUILDING_UNKNOWN", "ROOM_UNKNOWN", "ROOM_NOT_IN_BUILDING",
                     "ASSET_OUTSIDE_BUILDING", "ASSET_SCRAPPED", "IP_FORMAT", "MAC_FORMAT"),
                    "tests/test_etl_inventory.py::test_asset_register_xlsx_2000_rows"),
    **dict.fromkeys(("ROOM_AMBIGUOUS", "DEPARTMENT_UNKNOWN", "VALUE_NORMALISED",
                     "DEFAULT_APPLIED"),
                    "tests/test_etl_inventory.py::test_tasinir_export_headers_map_without_a_mapping"),
    **dict.fromkeys(("UAVT_NOT_FOUND", "FOOTPRINT_FROM_UAVT", "FOOTPRINT_FROM_ADDRESS",
                     "LINK_UNKNOWN", "ASSET_UNKNOWN", "LINK_END_REQUIRED"),
                    "tests/test_etl_inventory.py::test_service_buildings_links_and_subscriptions"),
}


@pytest.fixture
def restore_settings():
    before = getattr(settings, "KENTCBS_UPLOAD_MAX_BYTES", None)
    yield
    if before is None:
        if hasattr(settings, "KENTCBS_UPLOAD_MAX_BYTES"):
            del settings.KENTCBS_UPLOAD_MAX_BYTES
    else:
        settings.KENTCBS_UPLOAD_MAX_BYTES = before


def run(upload: Upload) -> tuple[Any, Batch, dict[str, Any]]:
    from layers.registry import build_definition

    layer = build_definition(upload.layer, name="tests.test_etl_reason_codes")
    create_layer_table(layer)
    if upload.before is not None:
        upload.before(layer)
    batch = ingest(layer=layer, path=upload.path, department="imar_sehircilik", **upload.kwargs)
    report = json.loads(Path(batch.report_json).read_text(encoding="utf-8"))
    return layer, batch, report


@pytest.fixture
def drop_layer():
    yield
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS cbs.{LAYER} CASCADE")


def test_the_clean_file_loads_with_no_problem_and_no_diagnostic(tmp_path, drop_layer):
    layer, batch, report = run(Upload(gpkg(tmp_path, clean_frame())))
    assert (batch.status, batch.count_loaded, batch.count_rejected) == (
        BatchStatusChoices.LOADED, 4, 0)
    assert report["problems"] == [] and report["diagnostics"] == []
    assert [r[0] for r in layer_rows(layer)] == ["B-0", "B-1", "B-2", "B-3"]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.code}-{c.label or c.expect}" for c in CASES])
def test_reason_code(case: Case, tmp_path, restore_settings, drop_layer):
    upload = case.make(tmp_path)
    layer, batch, report = run(upload)
    assert batch.count_read == batch.count_loaded + batch.count_rejected
    diagnostics = {d["code"]: d["severity"] for d in report["diagnostics"]}
    # report rows are 1-based as QGIS numbers them; BAD is the 0-based feature index
    problems = {(p["row"] - 1, p["code"], p["severity"]) for p in report["problems"]}
    if case.expect == "refused":
        assert (batch.status, batch.reason_code) == (BatchStatusChoices.REFUSED, case.code), (
            batch.reason_code, batch.message)
        assert report["summary"]["reason_code"] == case.code
        assert "Traceback" not in batch.message and batch.count_loaded == 0
        assert Quarantine.objects.filter(batch=batch).count() == 0
        if upload.before is None:
            assert layer_rows(layer) == []
        return
    assert batch.status == BatchStatusChoices.LOADED, (batch.reason_code, batch.message)
    if case.expect == "diagnostic":
        assert diagnostics.get(case.code) == "warning", report["diagnostics"]
        assert batch.count_rejected == 0
        return
    assert (BAD, case.code, case.expect) in problems, report["problems"]
    assert {p[1] for p in problems} == {case.code}  # nothing else was found
    if case.expect == "warning":
        assert batch.count_rejected == 0 and len(layer_rows(layer)) == 4
        return
    assert batch.count_rejected == 1
    quarantined = Quarantine.objects.get(batch=batch)
    assert quarantined.feature_index == BAD
    assert case.code in {e["code"] for e in quarantined.errors}
    if upload.before is None or upload.before is store_boundary:
        assert len(layer_rows(layer)) == batch.count_inserted == 3
    if case.code == "UNIQUE_IN_DB":
        # B-2 stays as first stored (its clashing update was rejected), B-4 is new
        rows = {r[0]: r[1] for r in layer_rows(layer)}
        assert rows == {"B-0": "Ortak ad", "B-1": "Bina 1", "B-2": "Bina 2 eski",
                        "B-3": "Bina 3", "B-4": "Bina 4"}
        assert (batch.count_inserted, batch.count_updated) == (1, 0)
        # the stored owner of the value sending it again is no clash (same key)
        upload.before(layer)  # loads the first file again: unchanged, nothing rejected


def test_strict_rejects_the_batch_and_quarantines_the_bad_features(tmp_path, drop_layer):
    frame = clean_frame(5)
    frame.loc[1, "KAT_SAYISI"] = 99  # RANGE
    frame.loc[3, "Mahalle Adı"] = "Yenidogan"  # CODELIST
    layer, batch, _report = run(Upload(gpkg(tmp_path, frame), {"strict": True}))
    assert (batch.status, batch.count_loaded, batch.count_rejected) == (
        BatchStatusChoices.REJECTED, 0, 5)
    assert layer_rows(layer) == []
    quarantined = {q.feature_index: {e["code"] for e in q.errors}
                   for q in Quarantine.objects.filter(batch=batch)}
    assert quarantined == {1: {"RANGE"}, 3: {"CODELIST"}}
    normal = ingest(layer=layer, path=tmp_path / "binalar.gpkg", department="imar_sehircilik")
    assert (normal.status, normal.count_loaded) == (BatchStatusChoices.LOADED, 3)


def readme_codes() -> set[str]:
    """Reason codes and rules named in etl/README.md's "Rules" and "Whole-upload
    refusals" sections, and in its guarantees."""
    readme = (ROOT / "etl" / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Rules")
    end = readme.index("## Benchmark")
    return set(re.findall(r"`([A-Z][A-Z0-9_]{3,})`", readme[start:end])) - {
        "KENTCBS_UPLOAD_MAX_BYTES"}


def test_every_code_in_the_readme_has_a_row():
    named = readme_codes()
    assert {"DRIVER_REFUSED", "UNIQUE_IN_DB", "CRS_OVERRIDDEN", "INDIRECTION", "TYPE"} <= named
    covered = {c.code for c in CASES} | set(ELSEWHERE)
    assert named - covered == set()
    for where in ELSEWHERE.values():
        path, name = where.split("::")
        assert f"def {name}(" in (ROOT / path).read_text(encoding="utf-8"), where
