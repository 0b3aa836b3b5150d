"""Formats, Turkish encodings, field-name matching and CRS diagnostics."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from django.db import connection
from pyproj import CRS, Transformer

from etl.normalise import diagnose_crs, load_mapping, match_fields
from etl.read import detect_encoding, open_upload, read_chunks
from etl.services import ingest
from etl.testing import create_layer_table, layer_rows, make_layer
from etl.textnorm import field_key, fold

LON, LAT = 30.52, 39.77
MUN = (LON - 0.4, LAT - 0.4, LON + 0.4, LAT + 0.4)
TO_TM30 = Transformer.from_crs(4326, 5254, always_xy=True)
X0, Y0 = TO_TM30.transform(LON, LAT)
NAMES = ["Yenidoğan", "Şirintepe", "Gökmeydan", "Akarbaşı"]


def read_all(path: Path, tmp_path: Path, crs: str | None = None) -> tuple[object, gpd.GeoDataFrame]:
    info = open_upload(path, workdir=tmp_path / "work")
    frames = list(read_chunks(info, crs=crs))
    return info, gpd.GeoDataFrame(np.concatenate([f.to_numpy() for f in frames]),
                                  columns=frames[0].columns)


# -- Turkish text ------------------------------------------------------------------
def test_turkish_fold_table():
    assert fold("IĞDIR İli ŞÜÖÇ ığüşöç") == "igdir ili suoc igusoc"
    assert fold("İ") == "i" and len(fold("İSTANBUL")) == len("istanbul")
    assert field_key("MAHALLE_ADI") == field_key("Mahalle Adı") == "mahalle_adi"
    assert field_key("Kat  Sayısı ") == "kat_sayisi"


def test_field_matching_and_mapping(tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text("fields:\n  BINA NUMARASI: bina_no\n", encoding="utf-8")
    found = match_fields(["BINA NUMARASI", "Mahalle Adı", "KAT_SAYISI", "Renk"],
                         ["bina_no", "mahalle_adi", "kat_sayisi", "ad"],
                         mapping=load_mapping(mapping))
    assert found.rename == {"BINA NUMARASI": "bina_no", "Mahalle Adı": "mahalle_adi",
                            "KAT_SAYISI": "kat_sayisi"}
    assert found.unknown == ["Renk"] and found.missing == ["ad"]


# -- encodings -------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["cp1254", "iso-8859-9"])
def test_shapefile_without_cpg_in_turkish_codepage(tmp_path, encoding):
    frame = gpd.GeoDataFrame({"ad": [*NAMES, "Çağlayan Işık"]},
                             geometry=[shapely.Point(X0 + i, Y0) for i in range(5)], crs=5254)
    folder = tmp_path / "shp"
    folder.mkdir()
    frame.to_file(folder / "mahalle.shp", encoding=encoding)
    (folder / "mahalle.cpg").unlink()
    packed = tmp_path / "mahalle.zip"
    with zipfile.ZipFile(packed, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f.name)
    info, got = read_all(packed, tmp_path)
    assert info.encoding == "cp1254"
    assert "detected" in info.encoding_note
    assert list(got["ad"]) == [*NAMES, "Çağlayan Işık"]


def _zipped_shapefile(tmp_path: Path, frame: gpd.GeoDataFrame, *, encoding: str,
                      cpg: str) -> Path:
    folder = tmp_path / "shp"
    folder.mkdir()
    frame.to_file(folder / "mahalle.shp", encoding=encoding)
    (folder / "mahalle.cpg").write_text(cpg)
    packed = tmp_path / "mahalle.zip"
    with zipfile.ZipFile(packed, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f.name)
    return packed


@pytest.mark.django_db(transaction=True)
def test_cpg_that_does_not_match_the_bytes(layer, tmp_path):
    """Issue 16: a .cpg saying UTF-8 over Windows-1254 bytes was refused as NOT_GEODATA with
    a raw UnicodeDecodeError. The clear case is read as Windows-1254 with a warning."""
    names = ["Yenidoğan", "Şirintepe", "Işıklar İçi"]
    frame = gpd.GeoDataFrame({"bina_no": ["B-1", "B-2", "B-3"], "ad": names},
                             geometry=[shapely.box(X0 + i * 30, Y0, X0 + i * 30 + 20, Y0 + 20)
                                       for i in range(3)], crs=5254)
    packed = _zipped_shapefile(tmp_path, frame, encoding="cp1254", cpg="UTF-8")
    batch = ingest(layer=layer, path=packed, department="imar_sehircilik")
    assert (batch.status, batch.count_loaded) == ("loaded", 3), batch.message
    assert batch.encoding.startswith("cp1254")
    assert [r[1] for r in layer_rows(layer)] == names
    report = json.loads(Path(batch.report_json).read_text(encoding="utf-8"))
    warning = next(d for d in report["diagnostics"] if d["code"] == "ENCODING_MISMATCH")
    assert warning["severity"] == "warning"
    for part in ("UTF-8", "Windows-1254", "ğ", "ş", "ı", "İ"):
        assert part in warning["message"], (part, warning["message"])
    assert "UnicodeDecodeError" not in json.dumps(report, ensure_ascii=False)


@pytest.mark.django_db(transaction=True)
def test_cpg_mismatch_without_clear_evidence_is_refused(layer, tmp_path):
    frame = gpd.GeoDataFrame({"bina_no": ["B-1"], "ad": ["Fiyat ¤¬±"]},
                             geometry=[shapely.box(X0, Y0, X0 + 20, Y0 + 20)], crs=5254)
    packed = _zipped_shapefile(tmp_path, frame, encoding="cp1252", cpg="UTF-8")
    batch = ingest(layer=layer, path=packed, department="imar_sehircilik")
    assert (batch.status, batch.reason_code) == ("refused", "ENCODING_MISMATCH"), batch.message
    assert "UTF-8" in batch.message and "UnicodeDecodeError" not in batch.message


def test_encoding_detection_scores():
    assert detect_encoding("Şişli Ağaçlı Gölbaşı".encode("cp1254"))[0] == "cp1254"
    assert detect_encoding("Şişli Ağaçlı Gölbaşı".encode())[0] == "utf-8"
    # 0x80-0x9F only exist in Windows-1254 (€, ‰...): it is reported as such
    assert "0x80" in detect_encoding("Fiyat 5€ Şişli".encode("cp1254"))[1]


# -- formats --------------------------------------------------------------------------------
def sample() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"bina_no": ["B-1", "B-2"], "ad": ["Işıklar", "Gündoğdu"]},
                            geometry=[shapely.box(X0, Y0, X0 + 20, Y0 + 20),
                                      shapely.box(X0 + 50, Y0, X0 + 70, Y0 + 20)], crs=5254)


@pytest.mark.parametrize("fmt", ["GPKG", "GeoJSON", "KML", "DXF", "CSV-WKT", "CSV-LONLAT"])
def test_every_format_reads(tmp_path, fmt):
    frame = sample()
    if fmt == "CSV-WKT":
        path = tmp_path / "a.csv"
        out = frame.drop(columns="geometry").assign(WKT=frame.geometry.to_wkt())
        out.to_csv(path, index=False, sep=";", encoding="cp1254")
        info, got = read_all(path, tmp_path, crs="EPSG:5254")
        assert info.encoding == "cp1254"
        assert list(got["ad"]) == ["Işıklar", "Gündoğdu"]
    elif fmt == "CSV-LONLAT":
        path = tmp_path / "b.csv"
        pts = frame.geometry.centroid.to_crs(4326)
        frame.drop(columns="geometry").assign(boylam=pts.x, enlem=pts.y).to_csv(path, index=False)
        _, got = read_all(path, tmp_path, crs="EPSG:4326")
        assert got.geometry.iloc[0].geom_type == "Point"
    else:
        ext = {"GPKG": "gpkg", "GeoJSON": "geojson", "KML": "kml", "DXF": "dxf"}[fmt]
        path = tmp_path / f"a.{ext}"
        src = frame.to_crs(4326) if fmt in ("KML", "GeoJSON") else frame
        if fmt == "DXF":
            src = src[["geometry"]].assign(Layer="BINA")
        src.to_file(path, driver=fmt)
        info, got = read_all(path, tmp_path, crs="EPSG:5254" if fmt == "DXF" else None)
        assert info.driver in ("GPKG", "GeoJSON", "KML", "LIBKML", "DXF")
        assert len(got) == 2
        if fmt in ("GPKG", "GeoJSON", "KML"):
            names = got["ad"] if "ad" in got else got["Name"]
            assert "Işıklar" in list(names) or fmt == "KML"


# -- CRS diagnostics (pure) -------------------------------------------------------------------
def tm(epsg: int, lon: float = LON, lat: float = LAT) -> np.ndarray:
    x, y = Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)
    return np.array([x, y, x + 100, y + 100])


def codes(bounds, crs) -> list[str]:
    return [d.code for d in diagnose_crs(np.asarray(bounds, float), CRS.from_user_input(crs),
                                         municipality_lonlat=MUN)]


def test_crs_diagnostics():
    assert codes(tm(5254), "EPSG:5254") == []
    assert codes([LON, LAT, LON + 0.01, LAT + 0.01], "EPSG:4326") == []
    assert codes([LAT, LON, LAT + 0.01, LON + 0.01], "EPSG:4326") == ["CRS_LATLON_SWAPPED"]
    assert codes(tm(5254), "EPSG:4326") == ["CRS_METRES_AS_DEGREES"]
    wrong = diagnose_crs(tm(5254), CRS(5253), municipality_lonlat=MUN)
    assert [d.code for d in wrong] == ["CRS_WRONG_ZONE"] and wrong[0].params["zone"] == 5254
    assert codes(tm(5254), "EPSG:5255") == ["CRS_WRONG_ZONE"]
    assert codes(tm(5254, 10.0, 50.0), "EPSG:5254") == ["CRS_OUTSIDE_AREA"]


def test_gauss_kruger_zone_prefix_is_explained():
    """Issue 16: eastings with the zone number in front, declared as their TM zone, were
    refused "the declared CRS is wrong" with no hint."""
    x, y = tm(5254)[:2]
    found = diagnose_crs(np.array([x + 10e6, y, x + 10e6 + 100, y + 100]), CRS(5254),
                         municipality_lonlat=MUN)
    assert [d.code for d in found] == ["CRS_ZONE_PREFIX"]
    text = found[0].as_dict()["message"]
    for part in ("8-digit", "starting with 10", "zone number", "EPSG:5254", "x_0=10500000"):
        assert part in text, (part, text)
    # the --crs it names places the numbers as they are in the municipality
    lon, lat = Transformer.from_crs(CRS.from_user_input(found[0].params["proj"]), 4326,
                                    always_xy=True).transform(x + 10e6, y)
    assert abs(lon - LON) < 1e-6 and abs(lat - LAT) < 1e-6
    # Efeler (27° E): zone 9, a 7-digit easting
    efeler = (27.45, 37.45, 28.25, 38.25)
    ex, ey = Transformer.from_crs(4326, 5253, always_xy=True).transform(27.85, 37.85)
    found = diagnose_crs(np.array([ex + 9e6, ey, ex + 9e6 + 50, ey + 50]), CRS(5253),
                         municipality_lonlat=efeler)
    assert [d.code for d in found] == ["CRS_ZONE_PREFIX"]
    assert found[0].params["digits"] == 7 and found[0].params["zone"] == 5253
    # the same numbers declared as degrees: the prefix is the finding, not only "metres"
    assert codes([x + 10e6, y, x + 10e6 + 100, y + 100], "EPSG:4326") == ["CRS_ZONE_PREFIX"]


# -- CRS mistakes through ingest: refused with a clear reason, batch kept ----------------------
@pytest.fixture
def layer():
    definition = make_layer("etl_fmt")
    create_layer_table(definition)
    yield definition
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {definition.backing.table} CASCADE")


def _csv(path: Path, xs, ys, header=("x", "y")) -> Path:
    lines = [f"bina_no,{header[0]},{header[1]}"]
    lines += [f"B-{i},{x},{y}" for i, (x, y) in enumerate(zip(xs, ys, strict=True))]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.django_db(transaction=True)
def test_crs_mistakes_refuse_the_upload(layer, tmp_path):
    lon = [LON + i * 0.001 for i in range(3)]
    lat = [LAT] * 3
    cases = {
        # local site-grid numbers: neither degrees nor TM metres (a CSV of either is read
        # in the CRS its values show, reported as CRS_ASSUMED: tests/test_etl_inventory.py)
        "CRS_MISSING": (_csv(tmp_path / "a.csv", [1000, 1010, 1020], [2000] * 3), None),
        "CRS_LATLON_SWAPPED": (_csv(tmp_path / "b.csv", lat, lon, ("lon", "lat")), "EPSG:4326"),
        "CRS_METRES_AS_DEGREES": (_csv(tmp_path / "c.csv", [X0] * 3, [Y0 + i for i in range(3)]),
                                  "EPSG:4326"),
        "CRS_WRONG_ZONE": (_csv(tmp_path / "d.csv", [X0] * 3, [Y0 + i for i in range(3)]),
                           "EPSG:5253"),
        "CRS_ZONE_PREFIX": (_csv(tmp_path / "e.csv", [X0 + 10e6] * 3,
                                 [Y0 + i for i in range(3)]), "EPSG:5254"),
    }
    for code, (path, crs) in cases.items():
        batch = ingest(layer=layer, path=path, department="imar_sehircilik", crs=crs)
        assert (batch.status, batch.reason_code) == ("refused", code), batch.message
        assert batch.count_read == batch.count_loaded + batch.count_rejected
        report = json.loads(Path(batch.report_json).read_text(encoding="utf-8"))
        assert report["summary"]["reason_code"] == code
    assert layer_rows(layer) == []


@pytest.mark.django_db(transaction=True)
def test_ed50_declared_as_itrf96_is_found(tmp_path):
    """Found also in a dry run, which is refused like the real load would be (issue 16)."""
    definition = make_layer("etl_ed50", geometry_rules={"valid": True})
    create_layer_table(definition)
    grid = [(X0 + i * 40, Y0 + j * 40) for i in range(5) for j in range(4)]
    frame = gpd.GeoDataFrame({"bina_no": [f"B-{i}" for i in range(20)]},
                             geometry=[shapely.box(x, y, x + 20, y + 20) for x, y in grid],
                             crs=5254)
    frame.to_file(tmp_path / "itrf.gpkg")
    assert ingest(layer=definition, path=tmp_path / "itrf.gpkg",
                  department="imar_sehircilik").status == "loaded"
    ed50 = frame.to_crs(2320).set_crs(5254, allow_override=True)  # ED50 numbers, ITRF96 label
    ed50.to_file(tmp_path / "ed50.gpkg")
    batch = ingest(layer=definition, path=tmp_path / "ed50.gpkg", department="imar_sehircilik",
                   dry_run=True)
    assert (batch.status, batch.reason_code) == ("refused", "CRS_ED50_SUSPECTED")
    report = json.loads(Path(batch.report_json).read_text(encoding="utf-8"))
    assert "CRS_ED50_SUSPECTED" in [d["code"] for d in report["diagnostics"]]
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE {definition.backing.table} CASCADE")


@pytest.mark.django_db(transaction=True)
def test_mixed_geometry_types_in_one_geojson(layer, tmp_path):
    frame = gpd.GeoDataFrame(
        {"bina_no": ["B-1", "B-2", "B-3"]},
        geometry=[shapely.box(X0, Y0, X0 + 20, Y0 + 20), shapely.Point(X0 + 50, Y0),
                  shapely.LineString([(X0 + 90, Y0), (X0 + 99, Y0)])], crs=5254).to_crs(4326)
    frame.to_file(tmp_path / "mixed.geojson", driver="GeoJSON")
    batch = ingest(layer=layer, path=tmp_path / "mixed.geojson", department="imar_sehircilik")
    assert (batch.status, batch.count_read, batch.count_loaded, batch.count_rejected) == (
        "loaded", 3, 1, 2)
    report = json.loads(Path(batch.report_json).read_text(encoding="utf-8"))
    assert sorted((p["row"], p["key"], p["code"], p["value"]) for p in report["problems"]) == [
        (2, "B-2", "GEOM_TYPE", "Point"), (3, "B-3", "GEOM_TYPE", "LineString")]
    assert [r[0] for r in layer_rows(layer)] == ["B-1"]


def _geojson_named(path: Path, name: str) -> Path:
    features = [{"type": "Feature", "properties": {"bina_no": f"B-{i}"},
                 "geometry": {"type": "Polygon", "coordinates": [[
                     [X0 + i * 30, Y0], [X0 + i * 30 + 20, Y0], [X0 + i * 30 + 20, Y0 + 20],
                     [X0 + i * 30, Y0 + 20], [X0 + i * 30, Y0]]]}} for i in range(3)]
    path.write_text(json.dumps({"type": "FeatureCollection", "crs": {
        "type": "name", "properties": {"name": name}}, "features": features}))
    return path


@pytest.mark.django_db(transaction=True)
def test_geojson_crs_member_gdal_does_not_know_is_quoted(layer, tmp_path):
    """Issue 16: a GeoJSON whose crs member names TUREF_TM30_ITRF96 was reported as "The file
    says EPSG:4326" (GDAL's fallback); the message quotes what the file says."""
    path = _geojson_named(tmp_path / "tm30.geojson", "TUREF_TM30_ITRF96")
    batch = ingest(layer=layer, path=path, department="imar_sehircilik")
    assert (batch.status, batch.reason_code) == ("refused", "CRS_METRES_AS_DEGREES")
    assert "'TUREF_TM30_ITRF96'" in batch.message and "EPSG:5254" in batch.message
    report = json.loads(Path(batch.report_json).read_text(encoding="utf-8"))
    named = next(d for d in report["diagnostics"] if d["code"] == "CRS_NAME_UNKNOWN")
    assert "TUREF_TM30_ITRF96" in named["message"] and "--crs EPSG:5254" in named["message"]
    # declared with --crs it loads, and the override quotes the file too
    batch = ingest(layer=layer, path=path, department="imar_sehircilik", crs="EPSG:5254")
    assert batch.status == "loaded", batch.message
    report = json.loads(Path(batch.report_json).read_text(encoding="utf-8"))
    overridden = next(d for d in report["diagnostics"] if d["code"] == "CRS_OVERRIDDEN")
    assert "'TUREF_TM30_ITRF96'" in overridden["message"]
    # a URN GDAL does not know is quoted as written; one it knows is not a finding
    urn = _geojson_named(tmp_path / "urn.geojson", "urn:ogc:def:crs:EPSG::99999")
    batch = ingest(layer=layer, path=urn, department="imar_sehircilik")
    assert "'urn:ogc:def:crs:EPSG::99999'" in batch.message
    known = _geojson_named(tmp_path / "known.geojson", "urn:ogc:def:crs:EPSG::5254")
    batch = ingest(layer=layer, path=known, department="imar_sehircilik")
    assert batch.status == "unchanged", batch.message
    report = json.loads(Path(batch.report_json).read_text(encoding="utf-8"))
    assert "CRS_NAME_UNKNOWN" not in [d["code"] for d in report["diagnostics"]]
