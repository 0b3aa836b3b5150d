"""OGC API against a live KentCBS server: conformance fixes, access gate, hostile input.

The server is pytest-django's live server (real HTTP, same test database);
layer tables are the registry's own (``cbs.yol`` public, ``cbs.bina``
restricted), filled here through SQL and emptied afterwards.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from layers import access
from layers.registry import registry
from ogc_api.models import AccessLog
from ogc_api.services import create_token

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.server]

SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'
#: Eskişehir (Odunpazarı) in CRS84.
LON, LAT = 30.52, 39.77
BBOX = f"{LON - 0.1},{LAT - 0.1},{LON + 0.1},{LAT + 0.1}"


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)

    @property
    def type(self) -> str:
        return self.headers.get("content-type", "")


def fetch(url: str, *, auth: tuple[str, str] | None = None,
          headers: dict[str, str] | None = None) -> Response:
    request = urllib.request.Request(url, headers=headers or {})
    if auth:
        raw = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {raw}")
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return Response(answer.status, {k.lower(): v for k, v in answer.headers.items()},
                            answer.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, {k.lower(): v for k, v in error.headers.items()},
                        error.read())


def _execute(statement: str, params: list[object] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


@dataclass
class OgcSite:
    url: str
    yol_ids: list[int]
    bina_ids: list[int]
    token: str
    admin_password: str


@pytest.fixture
def ogc(live_server) -> Iterator[OgcSite]:
    """25 streets (public, one named with a script), 5 buildings (restricted), an admin token."""
    _execute("TRUNCATE cbs.yol, cbs.bina RESTART IDENTITY")
    for i in range(25):
        name = SCRIPT if i == 0 else f"Sokak {i:02d}"
        lon = LON + (i % 5) * 0.001
        lat = LAT + (i // 5) * 0.001
        _execute(
            "INSERT INTO cbs.yol (yol_kodu, yol_adi, yol_tipi, genislik_m, serit_sayisi, "
            "tek_yon, geom) VALUES (%s, %s, 'Sokak', %s, %s, %s, ST_Multi(ST_Transform("
            "ST_SetSRID(ST_MakeLine(ST_MakePoint(%s, %s), ST_MakePoint(%s, %s)), 4326), 5254)))",
            [str(1000 + i), name, 5 + i, 1 + i % 3, i % 2 == 0, lon, lat, lon + 0.0005, lat])
    for i in range(5):
        _execute(
            "INSERT INTO cbs.bina (uavt_bina_kodu, bina_adi, mahalle_adi, kat_sayisi, "
            "kullanim, geom) VALUES (%s, %s, 'Arifiye', 3, 'konut', ST_Multi(ST_Transform("
            "ST_Expand(ST_SetSRID(ST_MakePoint(%s, %s), 4326), 0.0002), 5254)))",
            [f"{1000000000 + i}", f"Bina {i}", LON + i * 0.001, LAT])
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM cbs.yol ORDER BY id")
        yol_ids = [r[0] for r in cursor.fetchall()]
        cursor.execute("SELECT id FROM cbs.bina ORDER BY id")
        bina_ids = [r[0] for r in cursor.fetchall()]
    get_user_model().objects.create_superuser("ogc_admin", "a@example.org", "Gizli-parola-42")
    _row, token = create_token(username="ogc_admin", name="QGIS")
    from ogc_api.config import forget_extents

    forget_extents()
    yield OgcSite(f"{live_server.url}/ogc", yol_ids, bina_ids, token, "Gizli-parola-42")
    _execute("TRUNCATE cbs.yol, cbs.bina RESTART IDENTITY")


# -- Part 1 core, content types, parameters -----------------------------------
def test_landing_conformance_openapi(ogc: OgcSite) -> None:
    landing = fetch(f"{ogc.url}/")
    assert landing.status == 200 and landing.type.startswith("application/json")
    rels = {link["rel"] for link in landing.json()["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels
    conf = fetch(f"{ogc.url}/conformance")
    classes = conf.json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in classes
    assert "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt" in classes
    # declared but not served by stock pygeoapi (records sorting, transactions ...): gone
    assert not [c for c in classes if re.search(r"transactions|create-replace|"
                                                r"processes|edr|coverages|maps|records", c)]
    # Features Part 8 sorting is served (sortby, /sortables): declared
    part8 = "http://www.opengis.net/spec/ogcapi-features-8/1.0/conf/"
    assert {part8 + c for c in ("sortables", "sorting", "features-sorting")} <= set(classes)
    doc = fetch(f"{ogc.url}/openapi")
    assert doc.status == 200
    assert doc.type.startswith("application/vnd.oai.openapi+json")
    text = doc.body.decode()
    external = re.findall(r'"\$ref":\s*"(https?://[^"]+)"', text)
    assert external == []
    refs = set(re.findall(r'"\$ref":\s*"#/components/(\w+)/([^"]+)"', text))
    components = doc.json()["components"]
    for kind, name in refs:
        assert name in components[kind], (kind, name)
    assert "/collections/yol/items" in doc.json()["paths"]
    assert "/collections/yol/sortables" in doc.json()["paths"]
    assert "/collections/bina/items" not in doc.json()["paths"]
    assert "/collections/bina/sortables" not in doc.json()["paths"]
    params = {p["name"] for p in doc.json()["paths"]["/collections/yol/items"]["get"]["parameters"]}
    assert "sortby" in params


def test_items_paging_bbox_and_single(ogc: OgcSite) -> None:
    first = fetch(f"{ogc.url}/collections/yol/items?limit=10")
    assert first.status == 200 and first.type == "application/geo+json"
    assert first.headers["content-crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    page = first.json()
    assert page["numberReturned"] == 10 and page["numberMatched"] == 25
    seen = [f["id"] for f in page["features"]]
    url = next(link["href"] for link in page["links"] if link["rel"] == "next")
    while url:
        assert "cursor=" in url and "offset=" not in url
        page = fetch(url).json()
        seen += [f["id"] for f in page["features"]]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
    assert seen == ogc.yol_ids
    small = f"{LON - 0.0001},{LAT - 0.0001},{LON + 0.0006},{LAT + 0.0001}"
    boxed = fetch(f"{ogc.url}/collections/yol/items?bbox={small}").json()
    assert [f["id"] for f in boxed["features"]] == [ogc.yol_ids[0]]
    single = fetch(f"{ogc.url}/collections/yol/items/{ogc.yol_ids[3]}")
    assert single.status == 200 and single.type == "application/geo+json"
    assert single.json()["properties"]["yol_adi"] == "Sokak 03"
    assert fetch(f"{ogc.url}/collections/yol/items/999999").status == 404
    by_prop = fetch(f"{ogc.url}/collections/yol/items?yol_kodu=1007").json()
    assert [f["properties"]["yol_kodu"] for f in by_prop["features"]] == ["1007"]


def test_crs_part2(ogc: OgcSite) -> None:
    """Features Part 2: an answer, a bbox and a filter in a CRS follow that CRS's axis order:
    EPSG:5254 is (northing, easting), EPSG:4326 is (latitude, longitude), CRS84 (lon, lat).
    Each check fails if the server keeps PostGIS's (x = east, y = north) order."""
    from pyproj import Transformer

    collection = fetch(f"{ogc.url}/collections/yol").json()
    tm = "http://www.opengis.net/def/crs/EPSG/0/5254"
    wgs84 = "http://www.opengis.net/def/crs/EPSG/0/4326"
    assert collection["storageCrs"] == tm
    assert collection["crs"][0] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    assert {tm, wgs84} <= set(collection["crs"])
    # authority order (no always_xy): (lat, lon) in, (northing, easting) out
    north, east = Transformer.from_crs(4326, 5254).transform(LAT, LON)
    items = f"{ogc.url}/collections/yol/items?limit=1"
    answer = fetch(f"{items}&crs={urllib.parse.quote(tm)}")
    assert answer.headers["content-crs"] == f"<{tm}>"
    start = answer.json()["features"][0]["geometry"]["coordinates"][0][0]
    assert start == pytest.approx([north, east], abs=0.01)
    one = fetch(f"{ogc.url}/collections/yol/items/{ogc.yol_ids[0]}?crs=EPSG:5254")
    assert one.headers["content-crs"] == f"<{tm}>"
    assert one.json()["geometry"]["coordinates"][0][0] == pytest.approx([north, east], abs=0.01)
    answer = fetch(f"{items}&crs={urllib.parse.quote(wgs84)}")
    assert answer.headers["content-crs"] == f"<{wgs84}>"
    start = answer.json()["features"][0]["geometry"]["coordinates"][0][0]
    assert start == pytest.approx([LAT, LON], abs=1e-7)
    start = fetch(items).json()["features"][0]["geometry"]["coordinates"][0][0]
    assert start == pytest.approx([LON, LAT], abs=1e-7)

    # bbox-crs: the box around street 0 only, (n, e) selects it, (e, n) nothing
    with connection.cursor() as cursor:
        cursor.execute("SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) "
                       "FROM cbs.yol WHERE id = %s", [ogc.yol_ids[0]])
        x1, y1, x2, y2 = cursor.fetchone()
    boxes = {"ne": f"{y1 - 1},{x1 - 1},{y2 + 1},{x2 + 1}",
             "en": f"{x1 - 1},{y1 - 1},{x2 + 1},{y2 + 1}"}
    got = {order: [f["id"] for f in fetch(
        f"{ogc.url}/collections/yol/items?bbox={box}&bbox-crs={urllib.parse.quote(tm)}"
    ).json()["features"]] for order, box in boxes.items()}
    assert got == {"ne": [ogc.yol_ids[0]], "en": []}
    latlon = f"{LAT - 0.0001},{LON - 0.0001},{LAT + 0.0001},{LON + 0.0006}"
    boxed = fetch(f"{ogc.url}/collections/yol/items?bbox={latlon}&bbox-crs=EPSG:4326").json()
    assert [f["id"] for f in boxed["features"]] == [ogc.yol_ids[0]]

    # filter-crs: a small square on street 0; in (n, e) it hits street 0, in (e, n) nothing
    mid_north, mid_east = Transformer.from_crs(4326, 5254).transform(LAT, LON + 0.00025)
    cases = [(tm, mid_north, mid_east, 1.0), ("EPSG:5254", mid_north, mid_east, 1.0),
             (wgs84, LAT, LON + 0.00025, 0.00001)]
    for crs, a, b, d in cases:
        hits = {}
        for order, (p, q) in {"ne": (a, b), "en": (b, a)}.items():
            square = (f"S_INTERSECTS(geometry, POLYGON(({p - d} {q - d}, {p + d} {q - d}, "
                      f"{p + d} {q + d}, {p - d} {q + d}, {p - d} {q - d})))")
            answer = fetch(f"{ogc.url}/collections/yol/items?filter={urllib.parse.quote(square)}"
                           f"&filter-crs={urllib.parse.quote(crs)}")
            assert answer.status == 200, (crs, order, answer.body[:300])
            hits[order] = [f["id"] for f in answer.json()["features"]]
        assert hits == {"ne": [ogc.yol_ids[0]], "en": []}, crs


def test_the_html_items_page_reads_bbox_and_bbox_crs_like_the_json(ogc: OgcSite) -> None:
    """pygeoapi hands the provider the bbox transformed into the storage CRS, in that CRS's
    axis order (northing first for EPSG:5254); the HTML page selects what the JSON does."""
    from pyproj import Transformer

    west, south, east, north = LON + 0.0009, LAT - 0.0001, LON + 0.0016, LAT + 0.0001
    to_tm = Transformer.from_crs(4326, 5254)  # authority order: (lat, lon) -> (n, e)
    n1, e1 = to_tm.transform(south, west)
    n2, e2 = to_tm.transform(north, east)
    tm = urllib.parse.quote("http://www.opengis.net/def/crs/EPSG/0/5254")
    wgs84 = urllib.parse.quote("http://www.opengis.net/def/crs/EPSG/0/4326")
    for extra in (f"bbox={west},{south},{east},{north}",
                  f"bbox={south},{west},{north},{east}&bbox-crs={wgs84}",
                  f"bbox={n1},{e1},{n2},{e2}&bbox-crs={tm}"):
        url = f"{ogc.url}/collections/yol/items?{extra}"
        data = fetch(f"{url}&f=json").json()
        assert [f["properties"]["yol_adi"] for f in data["features"]] == ["Sokak 01"], extra
        page = fetch(f"{url}&f=html")
        assert page.status == 200 and page.type.startswith("text/html"), extra
        names = set(re.findall(r"Sokak \d\d", page.body.decode()))
        assert names == {"Sokak 01"}, (extra, names)
    # the HTML pages carry the provider's CRS84 geometries whatever crs asks for: say so
    for path in ("items", f"items/{ogc.yol_ids[0]}"):
        page = fetch(f"{ogc.url}/collections/yol/{path}?f=html&crs={tm}")
        assert page.status == 200, path
        assert page.headers["content-crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"


def test_the_safe_page_path_keeps_the_axis_order(ogc: OgcSite) -> None:
    """The geometry-by-geometry retry (``ogc_api_safe_geojson``, used when a page fails)
    answers exactly as the normal path, in the requested CRS's axis order."""
    from django.http import QueryDict

    from ogc_api import query

    layer = registry.get("yol")
    for uri in (query.CRS84, query.EPSG4326, "http://www.opengis.net/def/crs/EPSG/0/5254"):
        parsed = query.parse_items(QueryDict(urllib.parse.urlencode({"crs": uri, "limit": 3})),
                                   layer, {})
        pages = []
        for safe in (False, True):
            with connection.cursor() as cursor:
                cursor.execute(query.features_sql(parsed, [], safe=safe))
                pages.append(json.loads(cursor.fetchone()[0]))
        assert len(pages[0]) == 3 and pages[0] == pages[1], uri


def test_cql2_text_and_json_and_queryables(ogc: OgcSite) -> None:
    q = urllib.parse.quote("serit_sayisi = 2 AND genislik_m > 10")
    text = fetch(f"{ogc.url}/collections/yol/items?filter={q}&limit=100").json()
    expected = [i for i in range(25) if 1 + i % 3 == 2 and 5 + i > 10]
    assert sorted(int(f["properties"]["yol_kodu"]) - 1000 for f in text["features"]) == expected
    cql_json = json.dumps({"op": "like", "args": [{"property": "yol_adi"}, "Sokak 1%"]})
    answer = fetch(f"{ogc.url}/collections/yol/items?filter-lang=cql2-json&limit=100"
                   f"&filter={urllib.parse.quote(cql_json)}").json()
    assert len(answer["features"]) == 10
    spatial = urllib.parse.quote(
        f"S_INTERSECTS(geometry, POLYGON(({LON - 0.0001} {LAT - 0.0001}, {LON + 0.0006} "
        f"{LAT - 0.0001}, {LON + 0.0006} {LAT + 0.0001}, {LON - 0.0001} {LAT + 0.0001}, "
        f"{LON - 0.0001} {LAT - 0.0001})))")
    hit = fetch(f"{ogc.url}/collections/yol/items?filter={spatial}").json()
    assert [f["id"] for f in hit["features"]] == [ogc.yol_ids[0]]
    queryables = fetch(f"{ogc.url}/collections/yol/queryables")
    assert queryables.status == 200 and queryables.type.startswith("application/schema+json")
    assert "yol_adi" in queryables.json()["properties"]


@pytest.mark.parametrize("query", [
    "unknown=1", "limit=0", "limit=-1", "limit=abc", "limit=10001", "bbox=1,2,3",
    "bbox=a,b,c,d", "bbox=3,4,1,2", "bbox=1,2,3,nan", "bbox=-200,0,0,10", "crs=EPSG:4326x",
    "bbox-crs=http://www.opengis.net/def/crs/EPSG/0/3857&bbox=1,2,3,4", "datetime=yesterday",
    "datetime=2024-13-45T99", "filter-lang=sql", "f=xml", "limit=1&limit=2", "cursor=-5",
    "offset=x", "genislik_m=abc", "tek_yon=maybe",
    # EPSG:4326 is (lat, lon): a latitude of 91 is out of bounds, a longitude of 91 would not be
    "bbox=91,30,92,31&bbox-crs=EPSG:4326",
    "filter=S_INTERSECTS(geometry,POINT(91%2030))&filter-crs=EPSG:4326",
])
def test_invalid_parameters_are_400(ogc: OgcSite, query: str) -> None:
    answer = fetch(f"{ogc.url}/collections/yol/items?{query}")
    assert answer.status == 400, (query, answer.body[:200])
    assert answer.type.startswith("application/json")
    turkish, _sep, english = answer.json()["description"].partition(" / ")
    assert turkish and english and turkish != english, answer.json()  # Turkish, then English


def _sorted_ids(rows: list[tuple[int, object]], *, descending: bool) -> list[int]:
    """Ids in sortby order: the key (NULLs last either way), then the id."""
    present = sorted((r for r in rows if r[1] is not None), key=lambda r: r[0])
    present.sort(key=lambda r: r[1], reverse=descending)  # stable: ties keep id order
    return [r[0] for r in present] + sorted(r[0] for r in rows if r[1] is None)


def _walk(url: str) -> list[dict]:
    features: list[dict] = []
    pages = 0
    while url:
        answer = fetch(url)
        assert answer.status == 200, answer.body[:300]
        page = answer.json()
        features += page["features"]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
        pages += 1
        assert pages < 50
    return features


def test_sortby_and_sortables(ogc: OgcSite) -> None:
    """Features Part 8: /sortables for the caller, sortby +/-, stable keyset pages."""
    _execute("UPDATE cbs.yol SET serit_sayisi = NULL WHERE id IN (%s, %s)",
             [ogc.yol_ids[4], ogc.yol_ids[11]])
    sortables = fetch(f"{ogc.url}/collections/yol/sortables")
    assert sortables.status == 200 and sortables.type.startswith("application/schema+json")
    schema = sortables.json()
    assert schema["$id"] == f"{ogc.url}/collections/yol/sortables"
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert {"id", "yol_adi", "genislik_m", "serit_sayisi", "tek_yon"} <= set(schema["properties"])
    assert "geom" not in schema["properties"]
    assert all("type" in entry for entry in schema["properties"].values())
    links = fetch(f"{ogc.url}/collections/yol").json()["links"]
    assert any(link["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/sortables"
               and link["href"].endswith("/collections/yol/sortables") for link in links)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, genislik_m, serit_sayisi, yol_adi, tek_yon FROM cbs.yol")
        rows = cursor.fetchall()
    base = f"{ogc.url}/collections/yol/items"
    # one key, both directions, paged through next links (keyset cursors)
    down = _walk(f"{base}?sortby=-genislik_m&limit=4")
    assert [f["id"] for f in down] == _sorted_ids([(r[0], r[1]) for r in rows], descending=True)
    up = _walk(f"{base}?sortby=%2Bgenislik_m&limit=4")  # + encoded
    assert [f["id"] for f in up] == _sorted_ids([(r[0], r[1]) for r in rows], descending=False)
    assert [f["id"] for f in _walk(f"{base}?sortby=+genislik_m&limit=4")] == \
        [f["id"] for f in up]  # an unencoded + arrives as a space: still ascending
    # NULLs last in both directions, ties broken by id; pages of 3 across the ties
    for sign, descending in (("", False), ("-", True)):
        got = [f["id"] for f in _walk(f"{base}?sortby={sign}serit_sayisi&limit=3")]
        assert got == _sorted_ids([(r[0], r[2]) for r in rows], descending=descending)
        assert got[-2:] == sorted([ogc.yol_ids[4], ogc.yol_ids[11]])
    # several keys, mixed directions, with a filter: each page continues where the last ended
    two = _walk(f"{base}?sortby=tek_yon,-serit_sayisi,-id&limit=2&filter="
                f"{urllib.parse.quote('genislik_m > 6')}")
    expected = [r for r in rows if r[1] > 6]
    expected.sort(key=lambda r: -r[0])
    expected.sort(key=lambda r: (r[2] is None, -(r[2] or 0)))
    expected.sort(key=lambda r: r[4])
    assert [f["id"] for f in two] == [r[0] for r in expected]
    assert [f["id"] for f in _walk(f"{base}?sortby=-id&limit=7")] == ogc.yol_ids[::-1]
    # sorted pages by offset agree with the cursor pages
    by_offset = fetch(f"{base}?sortby=-genislik_m&limit=4&offset=8").json()["features"]
    assert [f["id"] for f in by_offset] == [f["id"] for f in down][8:12]
    # the first page of a sort counts; the later ones need not
    assert fetch(f"{base}?sortby=yol_adi").json()["numberMatched"] == 25
    # only JSON: the HTML page and a cursor from another sort are refused, bilingually
    html = fetch(f"{base}?sortby=yol_adi&f=html")
    assert html.status == 400 and " / " in html.json()["description"]
    first = fetch(f"{base}?sortby=-genislik_m&limit=2").json()
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(next(
        link["href"] for link in first["links"] if link["rel"] == "next")).query)["cursor"][0]
    assert fetch(f"{base}?sortby=yol_adi,tek_yon&cursor={token}").status == 400
    assert fetch(f"{base}?cursor={token}").status == 400
    assert fetch(f"{ogc.url}/collections/yol/sortables?f=html").status == 400


def test_datetime_on_a_layer_without_time(ogc: OgcSite) -> None:
    for value in ["2024-01-01", "2024-01-01T00:00:00Z/..", "../2030-01-01T00:00:00Z"]:
        answer = fetch(f"{ogc.url}/collections/yol/items?limit=100&datetime="
                       f"{urllib.parse.quote(value)}")
        assert answer.status == 200
        assert len(answer.json()["features"]) == 25


def test_unknown_parameters_elsewhere_and_methods(ogc: OgcSite) -> None:
    for path in ["/", "/collections", "/collections/yol", "/conformance",
                 "/collections/yol/queryables", f"/collections/yol/items/{ogc.yol_ids[0]}"]:
        assert fetch(f"{ogc.url}{path}?bogus=1").status == 400, path
    x, y = tile_of(LON + 0.0002, LAT, 16)
    tile = f"{ogc.url}/collections/yol/tiles/WebMercatorQuad/16/{y}/{x}"
    assert fetch(tile).status == 200 and fetch(f"{tile}?f=mvt").status == 200
    for query in ["bogus=1", "f=json", "f=pbf"]:
        assert fetch(f"{tile}?{query}").status == 400, query
    request = urllib.request.Request(f"{ogc.url}/collections/yol/items", method="POST",
                                     data=b"{}", headers={"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(request, timeout=30)
        status = 200
    except urllib.error.HTTPError as error:
        status = error.code
    assert status == 405


def test_values_come_back_as_stored_and_html_escapes(ogc: OgcSite) -> None:
    feature = fetch(f"{ogc.url}/collections/yol/items/{ogc.yol_ids[0]}").json()
    assert feature["properties"]["yol_adi"] == SCRIPT
    page = fetch(f"{ogc.url}/collections/yol/items?limit=1").json()
    assert page["features"][0]["properties"]["yol_adi"] == SCRIPT
    for url in [f"{ogc.url}/collections/yol/items/{ogc.yol_ids[0]}?f=html",
                f"{ogc.url}/collections/yol/items?f=html&limit=5"]:
        html = fetch(url)
        assert html.status == 200 and html.type.startswith("text/html")
        assert b"<script>alert" not in html.body and b"<img src=x onerror" not in html.body
        assert b"&lt;script&gt;" in html.body or b"\\u003cscript" in html.body \
            or b"&#34;" in html.body or b"&lt;" in html.body


def test_html_pages_load_nothing_from_the_internet(ogc: OgcSite) -> None:
    for path in ["/?f=html", "/collections?f=html", "/collections/yol?f=html",
                 "/collections/yol/items?f=html", f"/collections/yol/items/{ogc.yol_ids[1]}?f=html",
                 "/conformance?f=html", "/collections/yol/queryables?f=html"]:
        body = fetch(f"{ogc.url}{path}").body.decode()
        sources = re.findall(r"<(?:script|link)[^>]+(?:src|href)=[\"'](https?://[^\"']+)", body)
        assert [s for s in sources if not s.startswith(ogc.url.split("/ogc")[0])] == [], path


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """(x, y) of the WebMercatorQuad tile holding a CRS84 point."""
    import math

    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def test_tiles(ogc: OgcSite) -> None:
    tileset = fetch(f"{ogc.url}/collections/yol/tiles/WebMercatorQuad")
    assert tileset.status == 200
    template = next(link["href"] for link in tileset.json()["links"] if link["rel"] == "item")
    assert fetch(f"{ogc.url}/collections/yol/tiles").json()["tilesets"]
    x, y = tile_of(LON + 0.0002, LAT, 16)
    url = template.replace("{tileMatrix}", "16").replace("{tileRow}", str(y)).replace(
        "{tileCol}", str(x))
    tile = fetch(url)
    assert tile.status == 200 and tile.type == "application/vnd.mapbox-vector-tile"
    assert 0 < len(tile.body) < 500 * 1024 and b"yol" in tile.body
    empty = fetch(f"{ogc.url}/collections/yol/tiles/WebMercatorQuad/16/0/0")
    assert empty.status == 200 and empty.body == b""
    assert fetch(f"{ogc.url}/collections/yol/tiles/WebMercatorQuad/2/1/1").status == 404
    assert fetch(f"{ogc.url}/collections/yol/tiles/WebMercatorQuad/3/9/1").status == 400


def test_tile_statements_prepared_once_and_recovered(ogc: OgcSite) -> None:
    """Tiles run as server-side prepared statements: same bytes as the plain query, the
    statement survives a session that lost it, and inside a transaction the plain query
    is used (a failed EXECUTE can never abort the caller's transaction)."""
    from django.db import transaction

    from ogc_api import tiles

    layer = registry.get("yol")
    fields = access.visible_fields(None, layer)
    x, y = tile_of(LON + 0.0002, LAT, 16)
    with connection.cursor() as cursor:
        statement = tiles._statement(cursor, layer, fields, None)
        cursor.execute(statement.plain, {"z": 16, "x": x, "y": y})
        plain = bytes(cursor.fetchone()[0])
    assert plain and b"yol" in plain
    assert tiles.render_tile(layer, fields, 16, x, y) == plain
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        assert statement.name in {row[0] for row in cursor.fetchall()}
        cursor.execute("DEALLOCATE ALL")  # what a pooler or DISCARD ALL does
    assert tiles.render_tile(layer, fields, 16, x, y) == plain
    connection.close()  # a new session starts with no statements, and the API knows it
    connection.ensure_connection()
    assert connection.ogc_tile_statements == set()
    assert tiles.render_tile(layer, fields, 16, x, y) == plain
    assert connection.ogc_tile_statements == {statement.name}
    with transaction.atomic():
        assert tiles.render_tile(layer, fields, 16, x, y) == plain
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")  # the transaction is still usable


# -- access --------------------------------------------------------------------
def test_restricted_layer_gate(ogc: OgcSite) -> None:
    anonymous = fetch(f"{ogc.url}/collections").json()
    ids = {c["id"] for c in anonymous["collections"]}
    assert "yol" in ids and "bina" not in ids
    for path in ["/collections/bina", "/collections/bina/items", "/collections/bina/queryables",
                 f"/collections/bina/items/{ogc.bina_ids[0]}", "/collections/bina/schema",
                 "/collections/bina/tiles/WebMercatorQuad/16/24000/37000",
                 "/collections/bina/tiles"]:
        assert fetch(f"{ogc.url}{path}").status == 404, path
    landing = fetch(f"{ogc.url}/?f=json").body.decode()
    assert "/collections/bina" not in landing
    assert "/collections/bina" not in fetch(f"{ogc.url}/openapi").body.decode()
    as_admin = fetch(f"{ogc.url}/collections", auth=("ogc_admin", ogc.token)).json()
    assert "bina" in {c["id"] for c in as_admin["collections"]}
    items = fetch(f"{ogc.url}/collections/bina/items", auth=("ogc_admin", ogc.token)).json()
    assert len(items["features"]) == 5
    by_password = fetch(f"{ogc.url}/collections/bina/items",
                        auth=("ogc_admin", ogc.admin_password))
    assert by_password.status == 200
    wrong = fetch(f"{ogc.url}/collections", auth=("ogc_admin", "kcbs_wrong"))
    assert wrong.status == 401 and "Basic" in wrong.headers["www-authenticate"]
    from ogc_api.models import PersonalAccessToken
    from ogc_api.services import revoke_token

    revoke_token(token_id=PersonalAccessToken.objects.get().pk)
    assert fetch(f"{ogc.url}/collections", auth=("ogc_admin", ogc.token)).status == 401


HOSTILE_FILTERS = [
    "yol_adi = 'x'; DROP TABLE cbs.yol; --",
    "yol_adi = 'x' OR 1=1",
    "yol_adi = 'x'' OR ''1''=''1'",
    "\"yol_adi\"\" OR 1=1 --\" = 'x'",
    "pg_sleep(5) = 1",
    "uavt_bina_kodu = '1000000000'",
    "id IN (SELECT id FROM cbs.bina)",
    "yol_adi LIKE '%' UNION SELECT * FROM cbs.bina",
    "S_INTERSECTS(geometry, POINT(1e400 1e400))",
    "S_INTERSECTS(geometry, POLYGON((0 0, 1 1)))",
    "genislik_m > 'abc'",
    "yol_adi = 5",
    "NOT (" * 300 + "yol_adi = 'x'" + ")" * 300,
    "yol_adi = '\x00'",
    "kat_sayisi > 0",
    "ST_Intersects(geom, geom)",
]
HOSTILE_JSON = [
    {"op": "=", "args": [{"property": "yol_adi; DROP TABLE x"}, "a"]},
    {"op": "=", "args": [{"property": "bina_adi"}, "Bina 1"]},
    {"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Point"}]},
    {"op": "exec", "args": ["DROP TABLE cbs.yol"]},
    [1, 2, 3],
    {"op": "=", "args": [{"property": "genislik_m"}, {"property": "yol_adi"}]},
]
def _token(values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


HOSTILE_QUERIES = [
    "sortby=yol_adi;DROP TABLE cbs.yol", "sortby=-(select 1)", "sortby=uavt_bina_kodu",
    "sortby=bina_adi", "sortby=geom", "sortby=yol_adi,yol_adi", "sortby=a,b,c,d,e,f",
    "sortby=", "sortby=,", "sortby=--yol_adi", "sortby=yol_adi DESC", "sortby=yol_adi%00",
    "sortby=random()", "sortby=1", "sortby=\"yol_adi\"", "sortby=yol_adi&sortby=id",
    "sortby=yol_adi&cursor=%27%20OR%201=1", "sortby=yol_adi&cursor=" + "A" * 5000,
    "sortby=yol_adi&cursor=" + _token([{"$ne": 1}, 1]),
    "sortby=yol_adi&cursor=" + _token(["x", "1 OR 1=1"]),
    "sortby=genislik_m&cursor=" + _token(["abc", 1]),
    "sortby=genislik_m&cursor=" + _token([1e400, 1]),
    "sortby=tek_yon&cursor=" + _token([1, 1]),
    "sortby=yol_adi&cursor=" + _token(["x"]), "sortby=yol_adi&cursor=" + _token("x"),
    "sortby=yol_adi&cursor=" + _token(["x\u0000", 1]), "bbox=1,2,3,4);DROP TABLE x",
    "crs=http://evil.example/crs", "crs=' OR 1=1", "bbox-crs=EPSG:4326;--&bbox=1,2,3,4",
    "yol_adi'=1", "cursor=1 OR 1=1", "offset=1;--", "limit=1e3", "filter-crs=x&filter=a",
]
HOSTILE_IDS = ["1 OR 1=1", "1;DROP TABLE cbs.yol", "-1", "99999999999999999999999",
               "%27", "..%2F..%2Fetc%2Fpasswd", "1e5"]


def test_hostile_corpus_is_4xx(ogc: OgcSite) -> None:
    base = f"{ogc.url}/collections/yol/items"
    seen: list[tuple[str, int]] = []
    for text in HOSTILE_FILTERS:
        seen.append((text, fetch(f"{base}?filter={urllib.parse.quote(text)}").status))
    for data in HOSTILE_JSON:
        q = urllib.parse.quote(json.dumps(data))
        seen.append((str(data), fetch(f"{base}?filter-lang=cql2-json&filter={q}").status))
    for query in HOSTILE_QUERIES:
        answer = fetch(f"{base}?{urllib.parse.quote(query, safe='=&%')}")
        seen.append((query, answer.status))
        if answer.status == 400:
            assert " / " in answer.json()["description"], query  # Turkish / English
    for ident in HOSTILE_IDS:
        seen.append((ident, fetch(f"{base}/{urllib.parse.quote(ident, safe='%')}").status))
    for code in ["bina", "../bina", "yol%00", "YOL", "bina;--"]:
        quoted = urllib.parse.quote(code, safe="%/")
        seen.append((code, fetch(f"{ogc.url}/collections/{quoted}/items").status))
    bad = [(what, status) for what, status in seen if not 400 <= status < 500]
    assert bad == []
    # a well-typed but forged cursor is only a starting point among the caller's own rows
    forged = fetch(f"{base}?limit=100&sortby=yol_adi&cursor="
                   f"{_token([chr(39) + ' OR 1=1 --', 0])}").json()
    assert {f["id"] for f in forged["features"]} <= set(ogc.yol_ids)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM cbs.yol")
        assert cursor.fetchone()[0] == 25




def _users() -> dict[str, tuple[object, tuple[str, str] | None]]:
    from gis_core.models import Department, Membership

    User = get_user_model()
    out: dict[str, tuple[object, tuple[str, str] | None]] = {}
    from django.contrib.auth.models import AnonymousUser

    out["anonymous"] = (AnonymousUser(), None)
    plans = {
        "nobody": [],
        "imar_viewer": [("imar_sehircilik", "viewer")],
        "park_data_entry": [("park_bahceler", "data_entry")],
        "manager": [("yazi_isleri", "manager")],
        "cbs_gis_admin": [("cbs", "gis_admin")],
        "destek_technician": [("destek_hizmetleri", "technician")],
    }
    # A transactional test database was flushed: make the shipped departments it needs.
    bilgi, _ = Department.objects.get_or_create(code="bilgi_islem",
                                                defaults={"name": "Bilgi İşlem"})
    for code in ["imar_sehircilik", "park_bahceler", "yazi_isleri", "destek_hizmetleri"]:
        Department.objects.get_or_create(code=code, defaults={"name": code})
    Department.objects.get_or_create(code="cbs", defaults={"name": "CBS", "parent": bilgi})
    for name, memberships in plans.items():
        user = User.objects.create_user(name, f"{name}@example.org", "Parola-uzun-123")
        for department, role in memberships:
            Membership.objects.create(user=user, department=Department.objects.get(code=department),
                                      role=role)
        _row, token = create_token(username=name, name="parity")
        out[name] = (user, (name, token))
    return out


_PUBLIC = {"mahalle", "yol", "yesil_alan"}
#: Which layers each caller reads, written down from the definitions' access blocks
#: (never asked of layers.access, so a wrong access block shows up here).
READABLE = {
    "anonymous": _PUBLIC,
    "nobody": _PUBLIC,
    "imar_viewer": _PUBLIC | {"bina_hizmet", "numarataj", "bina", "aydinlatma"},
    "park_data_entry": _PUBLIC | {"bina_hizmet", "numarataj", "aydinlatma"},
    "manager": _PUBLIC | {"bina_hizmet", "numarataj", "bina", "aydinlatma", "oda", "bt_varlik"},
    "cbs_gis_admin": _PUBLIC | {"bina_hizmet", "numarataj", "bina", "aydinlatma", "oda",
                                "bt_varlik", "ag_baglanti", "helpdesk_ticket", "ag_bina_durumu",
                                "hat_odeme_gecikmesi"},
    "destek_technician": _PUBLIC | {"bina_hizmet", "oda"},
}


def test_parity_roles_layers_paths(ogc: OgcSite) -> None:
    """Every path answers "may this caller read this layer" as the written-down table says."""
    from ogc_api.config import table_exists

    layers = [layer for layer in registry.all() if table_exists(layer)]
    assert {"yol", "bina"} <= {layer.code for layer in layers}
    assert set(READABLE["cbs_gis_admin"]) == set(registry.codes())
    first_ids = {}
    for layer in layers:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT min({layer.id_column}) FROM {layer.backing.table}")
            first_ids[layer.code] = cursor.fetchone()[0]
    differences = []
    for who, (_user, auth) in _users().items():
        listed = {c["id"] for c in
                  fetch(f"{ogc.url}/collections", auth=auth).json()["collections"]}
        landing = fetch(f"{ogc.url}/collections?f=html", auth=auth).body.decode()
        document = fetch(f"{ogc.url}/openapi", auth=auth).json()
        for layer in layers:
            code = layer.code
            expected = code in READABLE[who]
            answers = {
                "collections": code in listed,
                "collections-html": f"/collections/{code}\"" in landing,
                "openapi": f"/collections/{code}/items" in document["paths"],
            }
            paths = ["", "/items", "/queryables", "/schema", "/tiles", "/tiles/WebMercatorQuad",
                     "/items?f=html", "/sortables", "/items?sortby=-id&limit=2"]
            if first_ids[code] is not None:
                paths.append(f"/items/{first_ids[code]}")
            for path in paths:
                status = fetch(f"{ogc.url}/collections/{code}{path}", auth=auth).status
                assert status in {200, 404}, (who, code, path, status)
                answers[path or "collection"] = status == 200
            for path, got in answers.items():
                if got != expected:
                    differences.append((who, code, path, got, expected))
    assert differences == []


def test_personal_fields_hidden_and_reads_audited(ogc: OgcSite) -> None:
    """bt_varlik: assigned person only for bilgi_islem; every read of it is logged."""
    from django.contrib.gis.geos import Point

    from gis_core.audit import audit_context
    from gis_core.choices import AssetCategoryChoices
    from gis_core.models import Asset, Department
    from layers.services import sync_layer
    from ogc_api.config import forget_extents

    sync_layer(registry.get("bt_varlik"))
    forget_extents()
    users = _users()
    bilgi = Department.objects.get(code="bilgi_islem")
    from gis_core.models import Membership

    Membership.objects.create(user=users["nobody"][0], department=bilgi, role="viewer")
    with audit_context(source="shell"):
        asset = Asset.objects.create(
            inventory_number="D-0001", category=AssetCategoryChoices.DESKTOP,
            assigned_person="Ayşe <b>Yılmaz</b>", department=bilgi,
            location=Point(LON, LAT, srid=4326).transform(5254, clone=True))
    url = f"{ogc.url}/collections/bt_varlik"
    it_user = users["nobody"][1]       # now bilgi_islem viewer: reads, sees personal
    manager = users["manager"][1]      # reads through the manager role, no personal data
    assert fetch(f"{url}/items").status == 404
    seen = fetch(f"{url}/items", auth=it_user).json()
    assert seen["features"][0]["properties"]["zimmetli_kisi"] == "Ayşe <b>Yılmaz</b>"
    hidden = fetch(f"{url}/items?bbox={BBOX}", auth=manager).json()
    assert [f["id"] for f in hidden["features"]] == [asset.pk]
    assert "zimmetli_kisi" not in hidden["features"][0]["properties"]
    single = fetch(f"{url}/items/{asset.pk}", auth=manager).json()
    assert "zimmetli_kisi" not in single["properties"]
    assert "zimmetli_kisi" not in fetch(f"{url}/queryables", auth=manager).json()["properties"]
    leak = urllib.parse.quote("zimmetli_kisi LIKE 'A%'")
    assert fetch(f"{url}/items?filter={leak}", auth=manager).status == 400
    assert fetch(f"{url}/items?zimmetli_kisi=x", auth=manager).status == 400
    assert fetch(f"{url}/items?sortby=zimmetli_kisi", auth=manager).status == 400
    assert "zimmetli_kisi" not in fetch(f"{url}/sortables", auth=manager).json()["properties"]
    assert "zimmetli_kisi" in fetch(f"{url}/sortables", auth=it_user).json()["properties"]
    assert fetch(f"{url}/items?sortby=-zimmetli_kisi", auth=it_user).status == 200
    logs = list(AccessLog.objects.order_by("pk"))
    assert [log.username for log in logs[:2]] == ["nobody", "manager"]
    assert any("sortby=-zimmetli_kisi" in log.query for log in logs)
    assert {log.layer for log in logs} == {"bt_varlik"}
    assert logs[1].bbox == BBOX
    fetch(f"{ogc.url}/collections/yol/items")
    assert AccessLog.objects.filter(layer="yol").count() == 0


def test_tokens_command(ogc: OgcSite) -> None:
    from io import StringIO

    from django.core.management import call_command

    from ogc_api.models import PersonalAccessToken

    out = StringIO()
    call_command("tokens", "create", "ogc_admin", "--name", "GDAL", stdout=out, stderr=StringIO())
    token = out.getvalue().strip().splitlines()[-1]
    assert token.startswith("kcbs_")
    row = PersonalAccessToken.objects.get(name="GDAL")
    assert token not in row.token_hash and len(row.token_hash) == 64
    assert fetch(f"{ogc.url}/collections/bina", auth=("ogc_admin", token)).status == 200
    listing = StringIO()
    call_command("tokens", "list", stdout=listing)
    assert "GDAL" in listing.getvalue() and token not in listing.getvalue()
    call_command("tokens", "revoke", str(row.pk), stdout=StringIO())
    assert fetch(f"{ogc.url}/collections/bina", auth=("ogc_admin", token)).status == 401


def test_one_bad_geometry_never_fails_a_page(ogc: OgcSite) -> None:
    """A stored point PostGIS cannot project (outside the TM domain) gets a null geometry."""
    from django.contrib.gis.geos import Point

    from gis_core.audit import audit_context
    from gis_core.choices import AssetCategoryChoices
    from gis_core.models import Asset
    from layers.services import sync_layer
    from ogc_api.config import forget_extents

    sync_layer(registry.get("bt_varlik"))
    with audit_context(source="shell"):
        good = Asset.objects.create(inventory_number="D-1", category=AssetCategoryChoices.LAPTOP,
                                    location=Point(LON, LAT, srid=4326).transform(5254, True))
        bad = Asset.objects.create(inventory_number="D-2", category=AssetCategoryChoices.LAPTOP,
                                   location=Point(1e300, 1e300, srid=5254))
    forget_extents()
    auth = ("ogc_admin", ogc.token)
    page = fetch(f"{ogc.url}/collections/bt_varlik/items", auth=auth)
    assert page.status == 200
    geometries = {f["id"]: f["geometry"] for f in page.json()["features"]}
    assert geometries[bad.pk] is None and geometries[good.pk]["type"] == "Point"
    single = fetch(f"{ogc.url}/collections/bt_varlik/items/{bad.pk}", auth=auth)
    assert single.status == 200 and single.json()["geometry"] is None
    assert fetch(f"{ogc.url}/collections/bt_varlik", auth=auth).status == 200
    assert fetch(f"{ogc.url}/collections/bt_varlik/items?f=html", auth=auth).status == 200


def test_dense_tiles_are_generalised_under_500_kb(ogc: OgcSite) -> None:
    """60,000 street lights in one z15 tile: the tile is thinned, never over 500 KB."""
    _execute("TRUNCATE cbs.aydinlatma RESTART IDENTITY")
    _execute(
        "INSERT INTO cbs.aydinlatma (direk_no, lamba_tipi, guc_w, geom) "
        "SELECT 'D' || lpad(i::text, 6, '0'), 'LED', 100, ST_Transform(ST_SetSRID(ST_MakePoint("
        "%s + random() * 0.004, %s + random() * 0.003), 4326), 5254) "
        "FROM generate_series(1, 60000) AS i", [LON + 0.0005, LAT + 0.0005])
    try:
        x, y = tile_of(LON + 0.0025, LAT + 0.002, 15)
        raw_size = 0
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT length(ST_AsMVT(t, 'aydinlatma', 4096, 'g')) FROM (SELECT direk_no, "
                "lamba_tipi, guc_w, ST_AsMVTGeom(ST_Transform(geom, 3857), "
                "ST_TileEnvelope(15, %s, %s)) AS g FROM cbs.aydinlatma) AS t", [x, y])
            raw_size = cursor.fetchone()[0]
        assert raw_size > 500 * 1024  # the layer really is too dense for one tile
        url = f"{ogc.url}/collections/aydinlatma/tiles/WebMercatorQuad/15/{y}/{x}"
        tile = fetch(url, auth=("ogc_admin", ogc.token))
        assert tile.status == 200
        assert 0 < len(tile.body) <= 500 * 1024
        assert fetch(f"{ogc.url}/collections/aydinlatma/tiles/WebMercatorQuad/14/{y // 2}/"
                     f"{x // 2}", auth=("ogc_admin", ogc.token)).status == 404
    finally:
        _execute("TRUNCATE cbs.aydinlatma RESTART IDENTITY")


def test_html_and_json_for_every_role_collection_and_path(ogc: OgcSite) -> None:
    """Every caller gets 200 on every page of every layer they may read, in HTML and JSON.

    The anonymous caller comes first: pygeoapi used to keep the first configuration it
    rendered a page with (per language) for the whole process, so a signed-in caller's
    page of a restricted layer was rendered with the anonymous configuration (500).
    """
    from ogc_api.config import table_exists

    layers = [layer for layer in registry.all() if table_exists(layer)]
    first_ids: dict[str, int | None] = {}
    for layer in layers:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT min({layer.id_column}) FROM {layer.backing.table}")
            first_ids[layer.code] = cursor.fetchone()[0]
    html = {"Accept": "text/html"}
    failures = []
    for who, (user, auth) in _users().items():
        for path in ["/", "/collections", "/conformance", "/openapi"]:
            for query, headers in [("?f=html", {}), ("", html), ("?f=json", {})]:
                status = fetch(f"{ogc.url}{path}{query}", auth=auth, headers=headers).status
                if status != 200:
                    failures.append((who, path + query, headers, status))
        for layer in layers:
            readable = access.can_read(user, layer)
            base = f"/collections/{layer.code}"
            paths = [base, f"{base}/items", f"{base}/queryables", f"{base}/schema",
                     f"{base}/tiles"]
            if first_ids[layer.code] is not None:
                paths.append(f"{base}/items/{first_ids[layer.code]}")
            for path in paths:
                for query, headers in [("?f=html", {}), ("", html), ("?f=json", {})]:
                    answer = fetch(f"{ogc.url}{path}{query}", auth=auth, headers=headers)
                    expected = 200 if readable else 404
                    if answer.status != expected:
                        failures.append((who, path + query, headers, answer.status))
    assert failures == []


def test_openapi_parameters_to_the_letter_of_part_1(ogc: OgcSite) -> None:
    """bbox, limit and datetime as Features Part 1 defines them (the ogctests suite checks)."""
    document = fetch(f"{ogc.url}/openapi").json()
    params = {p["name"]: p for p in document["paths"]["/collections/yol/items"]["get"][
        "parameters"]}
    bbox = params["bbox"]
    assert bbox["in"] == "query" and not bbox["required"]
    assert bbox["schema"]["type"] == "array" and bbox["schema"]["items"]["type"] == "number"
    assert (bbox["schema"]["minItems"], bbox["schema"]["maxItems"]) == (4, 6)
    for name in ["bbox", "limit", "datetime"]:
        assert (params[name]["style"], params[name]["explode"]) == ("form", False), name
    assert params["limit"]["schema"]["type"] == "integer"
    assert params["datetime"]["schema"]["type"] == "string"
    # a 3D bbox (6 numbers) is accepted, as declared
    six = fetch(f"{ogc.url}/collections/yol/items?bbox={LON - 1},{LAT - 1},-100,"
                f"{LON + 1},{LAT + 1},100")
    assert six.status == 200 and len(six.json()["features"]) == 10


def test_no_json_ld_or_csv_is_advertised(ogc: OgcSite) -> None:
    """Links name only encodings that are served (f=jsonld and f=csv are not)."""
    auth = ("ogc_admin", ogc.token)
    for path in ["/", "/collections", "/collections/bina", "/collections/yol"]:
        body = fetch(f"{ogc.url}{path}", auth=auth).body.decode()
        assert "jsonld" not in body and "ld+json" not in body and "text/csv" not in body, path
    for path in ["/collections/yol?f=html", "/collections/yol/items?f=html",
                 f"/collections/yol/items/{ogc.yol_ids[0]}?f=html", "/?f=html"]:
        page = fetch(f"{ogc.url}{path}").body.decode()
        assert not re.search(r"href=\"[^\"]*f=(jsonld|csv)", page), path


def test_schema_describedby_storage_crs_and_extent_of_an_empty_collection(
        ogc: OgcSite) -> None:
    """An empty collection: its schema, its storage CRS, and the municipality as its extent."""
    from django.contrib.gis.geos import MultiPolygon, Polygon

    from gis_core.models import Municipality
    from ogc_api.config import forget_extents

    boundary = Polygon.from_bbox((LON - 0.2, LAT - 0.1, LON + 0.2, LAT + 0.1))
    boundary.srid = 4326
    boundary.transform(5254)
    Municipality.objects.update_or_create(
        code="odunpazari", defaults={"name": "Odunpazarı", "province": "Eskişehir",
                                     "srid": 5254, "boundary": MultiPolygon(boundary)})
    forget_extents()
    collection = fetch(f"{ogc.url}/collections/yesil_alan").json()
    assert collection["storageCrs"] == "http://www.opengis.net/def/crs/EPSG/0/5254"
    box = collection["extent"]["spatial"]["bbox"][0]
    expected = [LON - 0.2, LAT - 0.1, LON + 0.2, LAT + 0.1]
    assert all(abs(a - b) < 0.01 for a, b in zip(box, expected, strict=True)), box
    links = {(link["rel"], link["type"]): link["href"] for link in collection["links"]}
    schema_url = links[("describedby", "application/schema+json")]
    schema = fetch(schema_url)
    assert schema.status == 200 and schema.type == "application/schema+json"
    body = schema.json()
    assert body["properties"]["geom"] == {"title": "Geometri / Geometry",
                                          "format": "geometry-multipolygon",
                                          "x-ogc-role": "primary-geometry"}
    assert body["properties"]["id"]["x-ogc-role"] == "id"
    assert body["properties"]["acilis_tarihi"]["format"] == "date"
    assert body["properties"]["sulama_sistemi"]["type"] == "boolean"
    xsd = fetch(links[("describedBy", "application/xml")])
    assert xsd.status == 200 and b'type="gml:MultiPolygonPropertyType"' in xsd.body
    # a layer with data keeps its own extent
    yol = fetch(f"{ogc.url}/collections/yol").json()["extent"]["spatial"]["bbox"][0]
    assert yol[2] - yol[0] < 0.01 and yol[3] - yol[1] < 0.01
    # a restricted layer's schemas are as restricted as the layer
    assert fetch(f"{ogc.url}/collections/bina/schema").status == 404
    assert fetch(f"{ogc.url}/collections/bina/schema.xsd").status == 404
    assert fetch(f"{ogc.url}/collections/bina/schema.xsd",
                 auth=("ogc_admin", ogc.token)).status == 200


def test_every_demo_account_reads_its_collections_in_html_and_json(live_server) -> None:
    """The demo municipality and its nine accounts (README), signed in with HTTP Basic.

    Every page of every layer an account may read answers 200 in HTML and JSON; every
    other layer is 404 on every page. Rooms (oda) are polygons on their floor.
    """
    from gis_core.demo import USERS, load_demo
    from ogc_api.config import forget_extents, table_exists

    load_demo(profile="odunpazari", modules=False, city=False)
    forget_extents()
    url = f"{live_server.url}/ogc"
    User = get_user_model()
    layers = [layer for layer in registry.all() if table_exists(layer)]
    first_ids: dict[str, int | None] = {}
    for layer in layers:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT min({layer.id_column}) FROM {layer.backing.table}")
            first_ids[layer.code] = cursor.fetchone()[0]
    assert first_ids["oda"] is not None
    rooms = fetch(f"{url}/collections/oda/items?limit=200",
                  auth=("admin", "kentcbs-demo")).json()
    assert rooms["features"] and all(f["geometry"]["type"] == "Polygon"
                                     for f in rooms["features"])
    html = {"Accept": "text/html"}
    failures = []
    for username in ["admin", *[row[0] for row in USERS]]:
        user = User.objects.get(username=username)
        auth = (username, "kentcbs-demo")
        for layer in layers:
            expected = 200 if access.can_read(user, layer) else 404
            base = f"/collections/{layer.code}"
            paths = [base, f"{base}/items", f"{base}/queryables", f"{base}/tiles"]
            if first_ids[layer.code] is not None:
                paths.append(f"{base}/items/{first_ids[layer.code]}")
            for path in paths:
                for query, headers in [("?f=html", {}), ("", html), ("?f=json", {})]:
                    status = fetch(f"{url}{path}{query}", auth=auth, headers=headers).status
                    if status != expected:
                        failures.append((username, path + query, headers, status))
        for path in ["/", "/collections"]:
            for query in ["?f=html", "?f=json"]:
                status = fetch(f"{url}{path}{query}", auth=auth).status
                if status != 200:
                    failures.append((username, path + query, status))
    assert failures == []
