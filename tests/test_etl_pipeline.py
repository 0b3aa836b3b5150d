"""ETL end to end against the real PostGIS: counts, upsert, quarantine, reports, policies."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pytest
import shapely
from django.db import connection
from pyproj import Transformer

from etl.models import Batch, Quarantine
from etl.services import ingest
from etl.testing import create_layer_table, layer_rows, make_layer

pytestmark = pytest.mark.django_db(transaction=True)

#: A point in Odunpazarı, in TM30 (EPSG:5254).
X0, Y0 = Transformer.from_crs(4326, 5254, always_xy=True).transform(30.52, 39.77)


def buildings(n: int = 10, *, dx: float = 0.0) -> gpd.GeoDataFrame:
    geoms = [shapely.box(X0 + i * 30 + dx, Y0, X0 + i * 30 + 20 + dx, Y0 + 15) for i in range(n)]
    return gpd.GeoDataFrame({
        "BINA_NO": [f"B-{i}" for i in range(n)],
        "Ad": [f"Bina {i} \"tırnak\"\t\\ sekme" for i in range(n)],
        "Mahalle Adı": ["Yenidoğan"] * n,
        "KAT_SAYISI": [3] * n,
    }, geometry=geoms, crs=5254)


@pytest.fixture
def layer():
    definition = make_layer()
    create_layer_table(definition)
    yield definition
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {definition.backing.table} CASCADE")


def test_messy_file_is_validated_loaded_and_reported(layer, tmp_path):
    frame = buildings(10)
    frame.loc[1, "Mahalle Adı"] = "Yenidogan"  # CODELIST, suggestion Yenidoğan
    frame.loc[2, "KAT_SAYISI"] = 99  # RANGE
    frame.loc[3, "BINA_NO"] = "B-0"  # UNIQUE_IN_FILE
    frame.loc[4, "geometry"] = shapely.Polygon(  # bow-tie: GEOM_INVALID
        [(X0 + 120, Y0), (X0 + 140, Y0 + 15), (X0 + 140, Y0), (X0 + 120, Y0 + 15)])
    frame.loc[5, "geometry"] = shapely.box(X0 + 150, Y0, X0 + 151, Y0 + 1)  # BELOW_MIN_AREA
    frame.loc[9, "geometry"] = shapely.box(X0 + 250, Y0, X0 + 270, Y0 + 15)  # overlaps 8
    frame.loc[7, "BINA_NO"] = "X7"  # PATTERN
    frame["Ekstra"] = "x"  # unknown column: reported
    path = tmp_path / "binalar.gpkg"
    frame.to_file(path)

    batch = ingest(layer=layer, path=path, department="imar_sehircilik")

    assert batch.status == "loaded", batch.message
    assert batch.count_read == 10
    assert batch.count_read == batch.count_loaded + batch.count_rejected
    report = json.loads(open(batch.report_json, encoding="utf-8").read())
    # rows as QGIS numbers them (from 1), with the feature's key
    codes = {(p["row"], p["code"]) for p in report["problems"]}
    assert (2, "CODELIST") in codes
    assert (3, "RANGE") in codes
    assert (4, "UNIQUE_IN_FILE") in codes
    assert (5, "GEOM_INVALID") in codes
    assert (6, "BELOW_MIN_AREA") in codes
    assert (10, "GEOM_OVERLAP") in codes
    assert (8, "PATTERN") in codes
    suggestion = next(p for p in report["problems"] if p["code"] == "CODELIST")
    assert suggestion["suggestion"] == "Yenidoğan"
    assert "Yenidoğan" in suggestion["message_tr"]
    assert "kod listesinde yok" in suggestion["message_tr"]  # Turkish first, from gettext
    assert "is not in the code list" in suggestion["message_en"]
    invalid = next(p for p in report["problems"] if p["code"] == "GEOM_INVALID")
    assert "Self-intersection" in invalid["detail"]
    assert invalid["suggestion"].startswith("MULTIPOLYGON") or "POLYGON" in invalid["suggestion"]
    assert any(d["code"] == "UNKNOWN_COLUMNS" and "Ekstra" in d["message"]
               for d in report["diagnostics"])
    rows = layer_rows(layer)
    assert len(rows) == batch.count_loaded == 3
    assert {r[0] for r in rows} == {"B-0", "B-6", "B-8"}
    assert rows[0][1] == 'Bina 0 "tırnak"\t\\ sekme'  # COPY escaping round-trips
    assert Quarantine.objects.filter(batch=batch).count() == batch.count_rejected == 7
    q = Quarantine.objects.get(batch=batch, feature_index=1)
    assert q.errors[0]["code"] == "CODELIST"
    assert q.properties["mahalle_adi"] == "Yenidogan"
    rejected = gpd.read_file(batch.report_gpkg)
    assert len(rejected) == 7
    assert "kentcbs_codes" in rejected.columns
    # rows as QGIS numbers them and key values, for finding each rejected feature
    named = dict(zip(rejected["kentcbs_row"], rejected["kentcbs_key"], strict=True))
    assert named[2] == "B-1" and named[10] == "B-9" and named[8] == "X7"
    overlap = next(p for p in report["problems"] if p["code"] == "GEOM_OVERLAP")
    assert (overlap["row"], overlap["key"], overlap["other_row"], overlap["other_key"]) == (
        10, "B-9", 9, "B-8")
    assert "9 (B-8)" in overlap["message_en"]
    html = open(batch.report_html, encoding="utf-8").read()
    # Leaflet is inlined; its script names the SVG namespace, an identifier never fetched
    html = html.replace("http://www.w3.org/2000/svg", "")
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", html), "external URL in report"
    assert "/static/" not in html  # works opened as a file (tests/test_etl_report_browser.py)
    assert "L.map(" in html and "leaflet-pane" in html  # Leaflet's script and style inlined
    assert "Doğrulama raporu" in html or "Validation report" in html


def test_resend_changes_nothing_and_update_by_key(layer, tmp_path):
    path = tmp_path / "a.gpkg"
    buildings(5).to_file(path)
    first = ingest(layer=layer, path=path, department="imar_sehircilik")
    assert (first.status, first.count_inserted) == ("loaded", 5)
    before = layer_rows(layer)
    again = ingest(layer=layer, path=path, department="imar_sehircilik")
    assert again.status == "unchanged"
    assert f"#{first.pk}" in again.message
    assert (again.count_inserted, again.count_updated, again.count_unchanged) == (0, 0, 5)
    assert layer_rows(layer) == before  # not even batch_id moved
    changed = buildings(5)
    changed.loc[2, "KAT_SAYISI"] = 7
    path2 = tmp_path / "b.gpkg"
    changed.to_file(path2)
    third = ingest(layer=layer, path=path2, department="imar_sehircilik")
    assert (third.status, third.count_inserted, third.count_updated) == ("loaded", 0, 1)
    assert [r[3] for r in layer_rows(layer)] == [3, 3, 7, 3, 3]


def test_dry_run_and_strict_load_nothing(layer, tmp_path):
    frame = buildings(4)
    frame.loc[0, "KAT_SAYISI"] = 0
    path = tmp_path / "c.gpkg"
    frame.to_file(path)
    dry = ingest(layer=layer, path=path, department="imar_sehircilik", dry_run=True)
    assert (dry.status, dry.count_loaded, dry.count_rejected) == ("dry_run", 3, 1)
    assert Quarantine.objects.filter(batch=dry).count() == 0
    strict = ingest(layer=layer, path=path, department="imar_sehircilik", strict=True)
    assert (strict.status, strict.count_loaded, strict.count_rejected) == ("rejected", 0, 4)
    assert layer_rows(layer) == []
    assert Batch.objects.count() == 2


def test_outside_municipality_and_audit(layer, tmp_path):
    from django.apps import apps
    from django.conf import settings
    from django.contrib.gis.geos import GEOSGeometry

    municipality = apps.get_model("gis_core", "Municipality")
    area = shapely.MultiPolygon([shapely.box(X0 - 5000, Y0 - 5000, X0 + 5000, Y0 + 5000)])
    municipality.objects.update_or_create(
        code=settings.KENTCBS_PROFILE,
        defaults={"name": "Odunpazarı", "province": "Eskişehir", "srid": 5254,
                  "boundary": GEOSGeometry(area.wkt, srid=5254)})
    definition = make_layer("etl_sinir", geometry_rules={"within_municipality": True})
    create_layer_table(definition)
    frame = buildings(3)
    frame.loc[2, "geometry"] = shapely.box(X0 + 20000, Y0, X0 + 20020, Y0 + 15)
    frame.to_file(tmp_path / "s.gpkg")
    batch = ingest(layer=definition, path=tmp_path / "s.gpkg", department="imar_sehircilik")
    assert (batch.status, batch.count_loaded, batch.count_rejected) == ("loaded", 2, 1)
    q = Quarantine.objects.get(batch=batch)
    assert (q.feature_index, q.errors[0]["code"]) == (2, "OUTSIDE_MUNICIPALITY")
    change = apps.get_model("gis_core", "BulkChange").objects.get(batch_id=batch.pk)
    assert (change.source, change.target, change.count) == ("etl", "etl_sinir", 2)
    with connection.cursor() as cur:
        cur.execute("DROP TABLE cbs.etl_sinir CASCADE")


def test_computed_area_and_overlap_across_chunks_when_loaded(tmp_path):
    fields = [*make_layer().model_dump()["fields"],
              {"name": "alan_m2", "type": "decimal", "min": 0, "unit": "m2", "computed": True,
               "title": {"tr": "Alan", "en": "Area"}}]
    definition = make_layer("etl_alan", fields=fields)
    create_layer_table(definition)
    try:
        frame = buildings(10)  # 20 m x 15 m
        frame.loc[7, "geometry"] = shapely.box(X0 + 10, Y0 + 5, X0 + 25, Y0 + 20)  # overlaps 0
        frame.to_file(tmp_path / "alan.gpkg")
        batch = ingest(layer=definition, path=tmp_path / "alan.gpkg",
                       department="imar_sehircilik", chunk_size=3)  # 0 and 7: other chunks
        assert (batch.status, batch.count_loaded, batch.count_rejected) == ("loaded", 9, 1)
        assert Quarantine.objects.get(batch=batch).feature_index == 7
        with connection.cursor() as cur:
            cur.execute(f"SELECT DISTINCT alan_m2 FROM {definition.backing.table}")
            assert [float(r[0]) for r in cur.fetchall()] == [300.0]
        again = ingest(layer=definition, path=tmp_path / "alan.gpkg",
                       department="imar_sehircilik", chunk_size=3)
        assert again.status == "unchanged"
    finally:
        with connection.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {definition.backing.table} CASCADE")
