"""Real, messy data from outside the project: the OpenStreetMap extract pyrosm ships.

``pyrosm/data/test.osm.pbf`` (OpenStreetMap contributors, ODbL) is installed
with the ``pyrosm`` package (test extra), so the test runs offline. Its
buildings and roads are extracted with pyrosm, written as the files a
department would send (GeoPackage, GeoJSON), and ingested with a mapping file.
The extract lies in Finland, so the test layers store ETRS-TM35FIN (EPSG:3067).
"""

from __future__ import annotations

import importlib.resources
import json
import re
from pathlib import Path

import pytest
from django.db import connection

from etl.models import Quarantine
from etl.services import ingest
from etl.testing import create_layer_table, layer_rows, make_layer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def osm():
    import pyrosm

    path = importlib.resources.files("pyrosm") / "data" / "test.osm.pbf"
    reader = pyrosm.OSM(str(path))
    return reader.get_buildings(), reader.get_network(network_type="driving")


def _layer(code: str, geometry_type: str, fields: list[dict], rules: dict):
    layer = make_layer(code, srid=3067, geometry_type=geometry_type, key=["osm_id"],
                       fields=fields, geometry_rules=rules)
    create_layer_table(layer)
    return layer


def _drop(layer) -> None:
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {layer.backing.table} CASCADE")


def test_osm_buildings(osm, tmp_path):
    buildings, _ = osm
    source = buildings.drop(columns=["tags"]).copy()
    source["timestamp"] = source["timestamp"].astype("int64")
    path = tmp_path / "osm_buildings.gpkg"
    source.to_file(path)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("id: osm_id\nname: ad\nbuilding: bina_turu\n"
                       "building:levels: kat_sayisi\naddr:street: sokak\n", encoding="utf-8")
    layer = _layer("etl_osm_bina", "MultiPolygon", [
        {"name": "osm_id", "type": "integer", "required": True, "unique": True,
         "title": {"tr": "OSM no", "en": "OSM id"}},
        {"name": "ad", "type": "string", "max_length": 150, "title": {"tr": "Ad", "en": "Name"}},
        {"name": "bina_turu", "type": "string", "required": True,
         "title": {"tr": "Bina türü", "en": "Building type"}},
        {"name": "kat_sayisi", "type": "integer", "min": 1, "max": 60,
         "title": {"tr": "Kat", "en": "Floors"}},
        {"name": "sokak", "type": "string", "title": {"tr": "Sokak", "en": "Street"}},
    ], {"valid": True, "not_empty": True, "min_area": 4, "no_overlap": True,
        "snap_tolerance": 0.1})
    try:
        batch = ingest(layer=layer, path=path, department="imar_sehircilik", mapping=mapping)
        assert batch.status == "loaded", batch.message
        assert batch.count_read == len(buildings) == 2208
        assert batch.count_read == batch.count_loaded + batch.count_rejected
        assert batch.count_rejected > 0 and batch.count_loaded > 2000
        report = json.loads(Path(batch.report_json).read_text(encoding="utf-8"))
        by_rule = {r["code"]: r["count"] for r in report["counts"]["by_rule"]}
        assert by_rule.get("GEOM_INVALID", 0) == int((~buildings.is_valid).sum()) == 23
        unknown = next(d for d in report["diagnostics"] if d["code"] == "UNKNOWN_COLUMNS")
        assert "opening_hours" in unknown["message"] and "phone" in unknown["message"]
        assert len(layer_rows(layer)) == batch.count_loaded
        assert Quarantine.objects.filter(batch=batch).count() == batch.count_rejected
        html = Path(batch.report_html).read_text(encoding="utf-8")
        # Leaflet is inlined; its script names the SVG namespace, an identifier never fetched
        html = html.replace("http://www.w3.org/2000/svg", "")
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", html)
        again = ingest(layer=layer, path=path, department="imar_sehircilik", mapping=mapping)
        assert again.status == "unchanged" and again.count_unchanged == batch.count_loaded
    finally:
        _drop(layer)


def test_osm_roads_as_geojson(osm, tmp_path):
    _, roads = osm
    source = roads[["id", "name", "highway", "maxspeed", "geometry"]]
    path = tmp_path / "roads.geojson"
    source.to_file(path, driver="GeoJSON")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("fields:\n  id: osm_id\n  name: ad\n  highway: yol_tipi\n"
                       "  maxspeed: hiz_siniri\n", encoding="utf-8")
    layer = _layer("etl_osm_yol", "MultiLineString", [
        {"name": "osm_id", "type": "integer", "required": True, "unique": True,
         "title": {"tr": "OSM no", "en": "OSM id"}},
        {"name": "ad", "type": "string", "title": {"tr": "Ad", "en": "Name"}},
        {"name": "yol_tipi", "type": "string", "required": True,
         "enum": ["primary", "secondary", "tertiary", "residential", "service", "unclassified"],
         "title": {"tr": "Yol tipi", "en": "Road type"}},
        {"name": "hiz_siniri", "type": "integer", "min": 5, "max": 130,
         "title": {"tr": "Hız sınırı", "en": "Speed limit"}},
    ], {"valid": True, "not_empty": True, "min_length": 5})
    try:
        batch = ingest(layer=layer, path=path, department="fen_isleri", mapping=mapping)
        assert batch.count_read == len(roads) == 171
        assert batch.count_read == batch.count_loaded + batch.count_rejected
        assert batch.count_loaded > 0
        report = json.loads(Path(batch.report_json).read_text(encoding="utf-8"))
        problems = report["problems"]
        assert all(p["message_tr"] and p["message_en"] for p in problems)
        assert len(layer_rows(layer)) == batch.count_loaded
    finally:
        _drop(layer)
