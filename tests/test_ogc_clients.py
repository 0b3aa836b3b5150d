"""Real clients against the live server: GDAL's OAPIF driver, OWSLib, schemathesis."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from pyproj import Transformer

from tests.test_ogc_api import BBOX, LAT, LON, OgcSite
from tests.test_ogc_api import ogc as ogc  # the live-server fixture

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.server]

TM30 = "http://www.opengis.net/def/crs/EPSG/0/5254"
WGS84 = "http://www.opengis.net/def/crs/EPSG/0/4326"


def ogrinfo(*args: str, env: dict[str, str] | None = None) -> str:
    exe = shutil.which("ogrinfo")
    assert exe, "ogrinfo (Debian gdal-bin) is required"
    full = {**os.environ, "GDAL_HTTP_TIMEOUT": "60", "CPL_VSIL_CURL_CACHE_SIZE": "0",
            "GDAL_HTTP_MAX_RETRY": "0", **(env or {})}
    result = subprocess.run([exe, *args], capture_output=True, text=True, env=full,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_gdal_oapif(ogc: OgcSite) -> None:
    url = f"OAPIF:{ogc.url}"
    listing = ogrinfo("-ro", "-q", url)
    assert re.search(r"\byol\b", listing) and not re.search(r"\bbina\b", listing)
    # page through with small pages (GDAL follows our cursor next links)
    all_features = ogrinfo("-ro", "-al", "-oo", "PAGE_SIZE=4", url, "yol")
    assert all_features.count("OGRFeature(yol)") == 25
    # bbox (spatial filter), sent to the server as bbox=
    boxed = ogrinfo("-ro", "-al", "-spat", str(LON - 0.0001), str(LAT - 0.0001),
                    str(LON + 0.0006), str(LAT + 0.0001), url, "yol")
    assert boxed.count("OGRFeature(yol)") == 1
    # CQL2 attribute filter
    where = ogrinfo("-ro", "-al", "-where", "serit_sayisi = 2", url, "yol")
    assert where.count("OGRFeature(yol)") == len([i for i in range(25) if 1 + i % 3 == 2])
    # CRS: Debian's GDAL 3.6 reads OAPIF in CRS84 only (its CRS open option came in 3.7);
    # the TM zone on request is checked with GDAL 3.12 (pyogrio's) and OWSLib below.
    summary = ogrinfo("-ro", "-al", "-so", url, "yol")
    assert "WGS 84" in summary or "CRS84" in summary
    # restricted layer: invisible anonymously, visible with a personal access token
    auth = {"GDAL_HTTP_AUTH": "BASIC", "GDAL_HTTP_USERPWD": f"ogc_admin:{ogc.token}"}
    with_token = ogrinfo("-ro", "-q", url, env=auth)
    assert re.search(r"\bbina\b", with_token)
    buildings = ogrinfo("-ro", "-al", url, "bina", env=auth)
    assert buildings.count("OGRFeature(bina)") == 5


GDAL_OAPIF_CRS = """
import json, sys
from pyogrio import read_dataframe
url, box = sys.argv[1], [float(v) for v in sys.argv[2:]]
out = {}
for name, options in (("storage", {}), ("tm30", {"CRS": "EPSG:5254"})):
    frame = read_dataframe("OAPIF:" + url, layer="yol", **options)
    out[name] = [frame.crs.to_epsg(), list(frame.geometry.iloc[0].geoms[0].coords[0])]
frame = read_dataframe("OAPIF:" + url, layer="yol", CRS="EPSG:5254", bbox=tuple(box))
out["bbox"] = [int(v) for v in frame["yol_kodu"]]
print(json.dumps(out))
"""


def test_gdal_oapif_crs_open_option(ogc: OgcSite) -> None:
    """GDAL >= 3.7's OAPIF driver (the one pyogrio bundles; Debian's ogrinfo is 3.6) with
    ``CRS=EPSG:5254`` and by default (it picks ``storageCrs``) asks ``crs=EPSG:5254``, reads
    the answer as (northing, easting) and hands out (easting, northing); it sends a spatial
    filter as ``bbox`` in (northing, easting) with ``bbox-crs``. A server answering easting
    first makes GDAL put every street 4,000 km away. Run in a subprocess: the in-process
    driver would block the live server's thread."""
    import pyogrio

    major, minor = (int(v) for v in pyogrio.__gdal_version_string__.split(".")[:2])
    assert (major, minor) >= (3, 7), pyogrio.__gdal_version_string__
    north, east = Transformer.from_crs(4326, 5254).transform(LAT, LON)
    box = [east - 5, north - 5, east + 5, north + 5]  # OGR's x, y: easting first
    result = subprocess.run([sys.executable, "-c", GDAL_OAPIF_CRS, ogc.url, *map(str, box)],
                            capture_output=True, text=True, timeout=300, check=False,
                            env={**os.environ, "GDAL_HTTP_TIMEOUT": "60"})
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    for name in ("storage", "tm30"):
        epsg, point = out[name]
        assert epsg == 5254, name
        assert point == pytest.approx([east, north], abs=0.01), name
    assert out["bbox"] == [1000]  # street 0 only


def test_owslib_features(ogc: OgcSite) -> None:
    from owslib.ogcapi.features import Features

    anonymous = Features(ogc.url + "/")
    ids = {c["id"] for c in anonymous.collections()["collections"]}
    assert "yol" in ids and "bina" not in ids
    page = anonymous.collection_items("yol", limit=10, bbox=[float(v) for v in BBOX.split(",")])
    assert page["numberReturned"] == 10
    nxt = next(link["href"] for link in page["links"] if link["rel"] == "next")
    cursor = re.search(r"cursor=(\d+)", nxt)
    assert cursor
    second = anonymous.collection_items("yol", limit=10, cursor=cursor.group(1))
    assert {f["id"] for f in second["features"]}.isdisjoint({f["id"] for f in page["features"]})
    # Features Part 2 axis order: EPSG:5254 is (northing, easting), EPSG:4326 (lat, lon)
    north, east = Transformer.from_crs(4326, 5254).transform(LAT, LON)  # authority order
    tm = anonymous.collection_items("yol", limit=1, crs=TM30)
    assert tm["features"][0]["geometry"]["coordinates"][0][0] == pytest.approx(
        [north, east], abs=0.01)
    latlon = anonymous.collection_items("yol", limit=1, crs=WGS84)
    assert latlon["features"][0]["geometry"]["coordinates"][0][0] == pytest.approx(
        [LAT, LON], abs=1e-7)
    lonlat = anonymous.collection_items("yol", limit=1)
    assert lonlat["features"][0]["geometry"]["coordinates"][0][0] == pytest.approx(
        [LON, LAT], abs=1e-7)
    filtered = anonymous.collection_items("yol", limit=100, filter="yol_adi LIKE 'Sokak 1%'")
    assert len(filtered["features"]) == 10
    queryables = anonymous.collection_queryables("yol")
    assert "yol_adi" in queryables["properties"]
    with pytest.raises(RuntimeError):
        anonymous.collection("bina")
    token = Features(ogc.url + "/", auth=None, headers={
        "Authorization": "Basic " + __import__("base64").b64encode(
            f"ogc_admin:{ogc.token}".encode()).decode()})
    assert "bina" in {c["id"] for c in token.collections()["collections"]}
    assert len(token.collection_items("bina")["features"]) == 5


def test_schemathesis_finds_no_server_error(ogc: OgcSite, tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "schemathesis"
    assert exe.exists(), "schemathesis is in the test extra"
    result = subprocess.run(
        [str(exe), "run", f"{ogc.url}/openapi", "--checks", "not_a_server_error",
         "--max-examples", "15", "--phases", "examples,fuzzing", "--request-timeout", "30",
         "--generation-deterministic", "--url", ogc.url, "--no-color"],
        capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""}, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert re.search(r"\d+ passed", output) and "Server error" not in output


def _readable_layers(user: object) -> list[object]:
    from layers import access
    from layers.registry import registry
    from ogc_api.config import table_exists

    return [layer for layer in registry.all()
            if table_exists(layer) and access.can_read(user, layer)]


OGR_GEOMETRY = {"Point": "Point", "MultiPoint": "Multi Point", "LineString": "Line String",
                "MultiLineString": "Multi Line String", "Polygon": "Polygon",
                "MultiPolygon": "Multi Polygon"}


def test_gdal_and_owslib_read_every_collection_empty_ones_included(ogc: OgcSite) -> None:
    """ogrinfo and OWSLib on every collection, anonymous and with a token.

    Only yol and bina have features here: every other collection is empty, and
    GDAL learns its fields and geometry type from the schema behind describedBy.
    """
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import AnonymousUser
    from owslib.ogcapi import REQUEST_HEADERS
    from owslib.ogcapi.features import Features

    admin = get_user_model().objects.get(username="ogc_admin")
    token = {"GDAL_HTTP_AUTH": "BASIC", "GDAL_HTTP_USERPWD": f"ogc_admin:{ogc.token}"}
    header = {"Authorization": "Basic " + __import__("base64").b64encode(
        f"ogc_admin:{ogc.token}".encode()).decode()}
    checked = set()
    for user, env, headers in [(AnonymousUser(), None, None), (admin, token, header)]:
        # OWSLib keeps every client's headers in one module-level dict (REQUEST_HEADERS):
        # a token given to an earlier client would be sent by this one too.
        REQUEST_HEADERS.pop("Authorization", None)
        client = Features(ogc.url + "/", headers=headers)
        for layer in _readable_layers(user):
            summary = ogrinfo("-ro", "-so", f"OAPIF:{ogc.url}", layer.code, env=env)
            assert f"Geometry: {OGR_GEOMETRY[layer.geometry_type]}" in summary, summary
            assert 'ID["EPSG",4326]' in summary or "WGS 84" in summary
            listed = re.findall(r"^(\w+): (?:String|Integer|Real|Date|DateTime)", summary,
                                re.MULTILINE)
            visible = [f.name for f in layer.fields if f.name in listed]
            assert visible and set(listed) - {"id"} <= {f.name for f in layer.fields}, summary
            collection = client.collection(layer.code)
            assert collection["storageCrs"].endswith(f"/EPSG/0/{layer.srid}")
            assert "http://www.opengis.net/def/crs/OGC/1.3/CRS84" in collection["crs"]
            items = client.collection_items(layer.code, limit=2)
            assert items["type"] == "FeatureCollection"
            checked.add(layer.code)
    REQUEST_HEADERS.pop("Authorization", None)
    assert {"yol", "bina", "oda", "yesil_alan", "mahalle"} <= checked


def test_ogctests_features_core(ogc: OgcSite, tmp_path: Path) -> None:
    """The ogctests suite (PyPI) on OGC API – Features Part 1 core.

    It asserts that every collection listed has features ("No features listed"),
    which Part 1 does not require; so it runs when every collection an anonymous
    caller sees has one.
    """
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.gis.geos import GEOSGeometry

    from gis_core.models import Neighbourhood
    from ogc_api.config import forget_extents

    square = GEOSGeometry(f"SRID=4326;{_sample_geometry('MultiPolygon')}")
    square.transform(5254)
    Neighbourhood.objects.create(name="Arifiye", uavt_code="1", geom=square)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO cbs.yesil_alan (yesil_alan_kodu, ad, tur, geom) "
                       "VALUES ('YA-0001', 'Park', 'Park', %s)", [square.hexewkb.decode()])
    forget_extents()
    public = {layer.code for layer in _readable_layers(AnonymousUser())}
    assert public == {"yol", "yesil_alan", "mahalle"}, public  # each has a feature now
    try:
        result = subprocess.run(
            [sys.executable, "-m", "ogctests", "features/core", "-i", ogc.url],
            capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path,
            env={**os.environ, "PYTEST_ADDOPTS": ""})
    finally:
        with connection.cursor() as cursor:  # not a Django table: not flushed after the test
            cursor.execute("TRUNCATE cbs.yesil_alan RESTART IDENTITY")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert re.search(r"\d+ passed", output) and "failed" not in output, output[-3000:]


def _sample_geometry(kind: str) -> str:
    x, y = LON, LAT
    square = f"(({x} {y}, {x + 0.001} {y}, {x + 0.001} {y + 0.001}, {x} {y + 0.001}, {x} {y}))"
    return {"Point": f"POINT({x} {y})", "MultiPoint": f"MULTIPOINT({x} {y})",
            "LineString": f"LINESTRING({x} {y}, {x + 0.001} {y})",
            "MultiLineString": f"MULTILINESTRING(({x} {y}, {x + 0.001} {y}))",
            "Polygon": f"POLYGON{square}", "MultiPolygon": f"MULTIPOLYGON({square})"}[kind]
