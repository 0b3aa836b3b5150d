"""Exact coordinates, from upload to the OGC API: an upload in EPSG:4326, one in TM27
(EPSG:5253) into the TM30 (EPSG:5254) municipality, and one whose wrong CRS label is
overridden (``--crs``). The stored coordinates must equal values computed here with
pyproj within 1 cm; the OGC API must give back the original lon/lat within 1e-7 degrees
in CRS84 and the TM30 values with ``crs=EPSG:5254``, in the axis order EPSG defines for
TM30 (northing, easting) as OGC API - Features Part 2 requires; ``crs=EPSG:4326`` gives
(lat, lon). A ``bbox`` with ``bbox-crs`` and a filter with ``filter-crs`` are read in that
order too. The points are far from the diagonal (lon ~30.5, lat ~39.8; easting ~5e5,
northing ~4.4e6), so swapped axes anywhere fail by hundreds of kilometres.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from django.db import connection
from pyproj import CRS, Transformer

from etl.models import BatchStatusChoices
from etl.services import ingest
from tests.test_ogc_api import OgcSite, fetch
from tests.test_ogc_api import ogc as ogc  # the live-server fixture

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.server]

TM30 = "http://www.opengis.net/def/crs/EPSG/0/5254"
WGS84 = "http://www.opengis.net/def/crs/EPSG/0/4326"
CM, DEGREE = 0.01, 1e-7
#: Axis order of the OGC API's answer with ``crs=EPSG:5254``: EPSG defines TM30's axes as
#: northing, easting, and OGC API - Features Part 2 says coordinates in a response, a
#: ``bbox-crs`` bbox and a ``filter-crs`` filter follow the CRS's axis order (only CRS84
#: is lon, lat). PostGIS and the stored rows keep x = easting.
TM_AXES = ("north", "east")
TO_TM30 = Transformer.from_crs(4326, 5254, always_xy=True)
#: pyproj in authority order: (lat, lon) in, (northing, easting) out
TO_TM30_AUTHORITY = Transformer.from_crs(4326, 5254)
TO_TM27 = Transformer.from_crs(4326, 5253, always_xy=True)
#: Original lon/lat of each pole, by upload (Odunpazarı, inside TM30).
WGS84_POINTS = {"W-001": (30.5123456, 39.7765432), "W-002": (30.5301234, 39.7712345)}
TM27_POINTS = {"T-001": (30.4987654, 39.7854321), "T-002": (30.5412345, 39.7612345)}
OVERRIDE_TM30 = {"O-001": (545_123.456, 4_402_345.678), "O-002": (546_234.567, 4_401_234.567)}


def poles(points: dict[str, tuple[float, float]], crs: int) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"direk_no": list(points), "lamba_tipi": "LED", "guc_w": 150},
                            geometry=[shapely.Point(xy) for xy in points.values()], crs=crs)


def stored() -> dict[str, tuple[float, float]]:
    with connection.cursor() as cur:
        cur.execute("SELECT direk_no, ST_X(geom), ST_Y(geom), ST_SRID(geom) FROM cbs.aydinlatma")
        rows = cur.fetchall()
    assert {r[3] for r in rows} == {5254}
    return {r[0]: (r[1], r[2]) for r in rows}


@pytest.fixture
def empty_layer():
    with connection.cursor() as cur:
        cur.execute("TRUNCATE cbs.aydinlatma RESTART IDENTITY")
    yield
    with connection.cursor() as cur:
        cur.execute("TRUNCATE cbs.aydinlatma RESTART IDENTITY")


def test_coordinates_are_exact_from_upload_to_the_ogc_api(ogc: OgcSite, empty_layer, tmp_path):
    # 1. lon/lat (GeoJSON, EPSG:4326)
    poles(WGS84_POINTS, 4326).to_file(tmp_path / "wgs84.geojson", driver="GeoJSON")
    # 2. TM27 numbers (EPSG:5253, the neighbouring zone), each computed here from lon/lat
    tm27 = {k: TO_TM27.transform(*v) for k, v in TM27_POINTS.items()}
    poles(tm27, 5253).to_file(tmp_path / "tm27.gpkg", driver="GPKG")
    # 3. TM30 numbers under a wrong label (EPSG:5253), put right by --crs EPSG:5254
    poles(OVERRIDE_TM30, 5253).to_file(tmp_path / "etiket.gpkg", driver="GPKG")
    uploads = [("wgs84.geojson", None, False), ("tm27.gpkg", None, False),
               ("etiket.gpkg", "EPSG:5254", True)]
    for name, crs, overridden in uploads:
        batch = ingest(layer="aydinlatma", path=tmp_path / name, department="fen_isleri",
                       crs=crs)
        assert (batch.status, batch.count_loaded) == (BatchStatusChoices.LOADED, 2), (
            name, batch.reason_code, batch.message)
        report = json.loads(Path(batch.report_json).read_text(encoding="utf-8"))
        assert ("CRS_OVERRIDDEN" in {d["code"] for d in report["diagnostics"]}) == overridden

    expected_tm30 = {**{k: TO_TM30.transform(*v) for k, v in WGS84_POINTS.items()},
                     **{k: TO_TM30.transform(*v) for k, v in TM27_POINTS.items()},
                     **OVERRIDE_TM30}
    expected_lonlat = {**WGS84_POINTS, **TM27_POINTS,
                       **{k: TO_TM30.transform(*v, direction="INVERSE")
                          for k, v in OVERRIDE_TM30.items()}}
    assert 500_000 < expected_tm30["W-001"][0] < 600_000  # easting, then northing
    assert 4_400_000 < expected_tm30["W-001"][1] < 4_410_000

    # stored in TM30, x = easting, y = northing, within a centimetre
    got = stored()
    assert set(got) == set(expected_tm30)
    for key, (x, y) in expected_tm30.items():
        assert got[key] == pytest.approx((x, y), abs=CM), key

    auth = ("ogc_admin", ogc.token)
    items = f"{ogc.url}/collections/aydinlatma/items?limit=100"
    # CRS84: lon, lat as uploaded, within 1e-7 degrees
    answer = fetch(items, auth=auth)
    assert answer.status == 200
    assert answer.headers["content-crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    served = {f["properties"]["direk_no"]: f["geometry"]["coordinates"]
              for f in answer.json()["features"]}
    assert set(served) == set(expected_lonlat)
    for key, (lon, lat) in expected_lonlat.items():
        assert served[key] == pytest.approx([lon, lat], abs=DEGREE), key

    # crs=EPSG:5254: the TM30 values, in EPSG's axis order (northing, easting)
    assert tuple(axis.direction for axis in CRS.from_epsg(5254).axis_info) == TM_AXES
    answer = fetch(f"{items}&crs={urllib.parse.quote(TM30)}", auth=auth)
    assert answer.status == 200 and answer.headers["content-crs"] == f"<{TM30}>"
    served = {f["properties"]["direk_no"]: f["geometry"]["coordinates"]
              for f in answer.json()["features"]}
    assert set(served) == set(expected_tm30)
    for key, (east, north) in expected_tm30.items():
        by_axis = {"east": east, "north": north}
        assert served[key] == pytest.approx([by_axis[a] for a in TM_AXES], abs=CM), key
    for key, (lon, lat) in expected_lonlat.items():  # the same, as pyproj's authority order
        assert served[key] == pytest.approx(list(TO_TM30_AUTHORITY.transform(lat, lon)),
                                            abs=CM), key
    ids = {f["properties"]["direk_no"]: f["id"] for f in answer.json()["features"]}
    one = fetch(f"{ogc.url}/collections/aydinlatma/items/{ids['W-001']}?crs=EPSG:5254",
                auth=auth)
    assert one.status == 200 and one.headers["content-crs"] == f"<{TM30}>"
    east, north = expected_tm30["W-001"]
    assert one.json()["geometry"]["coordinates"] == pytest.approx([north, east], abs=CM)

    # crs=EPSG:4326: latitude, longitude
    answer = fetch(f"{items}&crs={urllib.parse.quote(WGS84)}", auth=auth)
    assert answer.status == 200 and answer.headers["content-crs"] == f"<{WGS84}>"
    served = {f["properties"]["direk_no"]: f["geometry"]["coordinates"]
              for f in answer.json()["features"]}
    for key, (lon, lat) in expected_lonlat.items():
        assert served[key] == pytest.approx([lat, lon], abs=DEGREE), key

    # a bbox in TM30 (TM_AXES order) that holds exactly one pole
    east, north = expected_tm30["T-002"]
    box = [east - 1, north - 1, east + 1, north + 1]
    box_axes = [box[0 if a == "east" else 1] for a in TM_AXES] + [
        box[2 if a == "east" else 3] for a in TM_AXES]
    boxed = fetch(f"{items}&bbox={','.join(map(str, box_axes))}"
                  f"&bbox-crs={urllib.parse.quote(TM30)}", auth=auth).json()
    assert [f["properties"]["direk_no"] for f in boxed["features"]] == ["T-002"]
    # the same box in the other axis order finds nothing
    other = [box[1 if a == "east" else 0] for a in TM_AXES] + [
        box[3 if a == "east" else 2] for a in TM_AXES]
    unboxed = fetch(f"{items}&bbox={','.join(map(str, other))}"
                    f"&bbox-crs={urllib.parse.quote(TM30)}", auth=auth).json()
    assert unboxed["features"] == []

    # a CQL2 filter in TM30: a 2 m square around T-002 in TM_AXES order finds it, the
    # other order nothing
    def square(first: float, second: float) -> str:
        return urllib.parse.quote(
            f"S_INTERSECTS(geometry, POLYGON(({first - 1} {second - 1}, {first + 1} "
            f"{second - 1}, {first + 1} {second + 1}, {first - 1} {second + 1}, "
            f"{first - 1} {second - 1})))")

    by_axis = dict(zip(("east", "north"), expected_tm30["T-002"], strict=True))
    in_order = [by_axis[a] for a in TM_AXES]
    for (first, second), expected in [(in_order, ["T-002"]), (in_order[::-1], [])]:
        found = fetch(f"{items}&filter={square(first, second)}"
                      f"&filter-crs={urllib.parse.quote(TM30)}", auth=auth)
        assert found.status == 200, found.body[:300]
        assert [f["properties"]["direk_no"] for f in found.json()["features"]] == expected
