"""Benchmark (not a test): the OGC API on a 1,000,000-feature layer against raw PostGIS.

Run: ``.venv/bin/python bench/ogc_api.py`` (uses the configured database; the
layer ``bench_nokta`` lives in ``cbs.bench_nokta`` and is kept between runs).

Compared in the same run, median of several repetitions, after a warm-up:

* ``/items?limit=1000`` (first page, a deep page via the cursor, bbox, CQL2)
  through the whole Django stack (the WSGI application called as gunicorn calls
  it: every middleware, URL resolution, the database health check) against the
  same query as raw SQL building the FeatureCollection in PostGIS
  (``json_build_object``/``ST_AsGeoJSON``);
* vector tiles at z14 and z16 against the same raw ``ST_AsMVT`` query as a
  server-side PREPAREd statement with z/x/y parameters (its best raw form: an
  ad-hoc statement is planned at every call, and at z14 the planner even picks
  a slow plan; the ad-hoc time is printed too, for information).

Targets: items within 3x raw SQL, deep page <= 1.5x the first page, tiles
within 1.2x the prepared query, no tile over 500 KB; every page returns as
many features as its raw query. The script exits 1 when one is missed.

    .venv/bin/python bench/ogc_api.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CODE = "bench_nokta"
ROWS = 1_000_000
DEFINITION = f"""
code: {CODE}
version: 1
title: {{tr: Kıyaslama noktaları, en: Benchmark points}}
theme: ulasim
geometry_type: Point
fields:
  - {{name: ad, type: string, max_length: 40, title: {{tr: Ad, en: Name}}}}
  - {{name: kategori, type: integer, title: {{tr: Kategori, en: Category}}}}
  - {{name: deger, type: decimal, title: {{tr: Değer, en: Value}}}}
key: [ad]
owner: bilgi_islem
access: {{read: {{public: true}}}}
style: {{min_zoom: 14}}
backing: {{kind: table}}
"""
folder = Path(tempfile.mkdtemp(prefix="kentcbs-bench-"))
(folder / f"{CODE}.yaml").write_text(DEFINITION, encoding="utf-8")
os.environ["KENTCBS_LAYER_DIRS"] = str(folder)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gis_core.settings")
os.environ.setdefault("KENTCBS_ALLOWED_HOSTS", "testserver,localhost")

import django  # noqa: E402

django.setup()

from urllib.parse import unquote, urlsplit  # noqa: E402

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from gis_core.wsgi import application  # noqa: E402
from layers.registry import registry  # noqa: E402
from layers.services import sync_layer  # noqa: E402

ITEMS_RATIO, DEEP_RATIO, TILE_RATIO, TILE_MAX_BYTES = 3.0, 1.5, 1.2, 512_000
REPEAT = 15
TILE_REPEAT = 301
WARMUP = 3
BENCH_USER = "bench_ogc_viewer"


def _ms(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def median_ms(fn, repeat: int = REPEAT) -> float:
    for _ in range(WARMUP):
        fn()
    return statistics.median(_ms(fn) for _ in range(repeat))


def paired_ms(*fns, repeat: int = REPEAT) -> list[float]:
    """Medians of several functions run in turn, so that both sides of a ratio share the
    machine's load (this machine is shared with other test runs). Each round runs them in
    a new (seeded) order: a fixed order would give one side the same neighbour every time."""
    for _ in range(WARMUP):
        for fn in fns:
            fn()
    times: list[list[float]] = [[] for _ in fns]
    order = list(range(len(fns)))
    shuffle = random.Random(5254).shuffle
    for _ in range(repeat):
        shuffle(order)
        for index in order:
            times[index].append(_ms(fns[index]))
    return [statistics.median(out) for out in times]


def _bench_user():
    """A department-less user for the session (web viewer) tile path; deleted afterwards."""
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username=BENCH_USER)
    user.set_unusable_password()
    user.save()
    return user


class Wsgi:
    """Requests into the WSGI application exactly as gunicorn makes them: an environ in,
    the response body iterated out. Django's test client would add its own work to every
    request (a request factory, template-render signals, a wrapped response: ~0.1 ms,
    the size of the tile ratio's margin) that no server pays."""

    def __init__(self, cookie: str = "") -> None:
        self.cookie = cookie

    def get(self, url: str) -> tuple[int, bytes]:
        parts = urlsplit(url)
        environ = {
            "REQUEST_METHOD": "GET", "PATH_INFO": unquote(parts.path), "SCRIPT_NAME": "",
            "QUERY_STRING": parts.query, "SERVER_NAME": "localhost", "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "localhost", "REMOTE_ADDR": "127.0.0.1",
            "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr, "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0), "wsgi.multithread": False, "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        if self.cookie:
            environ["HTTP_COOKIE"] = self.cookie
        status: list[str] = []
        body = application(environ, lambda line, headers, exc_info=None: status.append(line))
        try:
            data = b"".join(body)
        finally:
            getattr(body, "close", lambda: None)()
        return int(status[0].split(" ", 1)[0]), data


def django_floor(url: str, body: bytes) -> float:
    """Median time of a request for ``url`` through the same WSGI application and
    middleware to a view that returns ``body`` and does nothing else: Django's own cost."""
    from django.http import HttpResponse
    from django.test import override_settings
    from django.urls import re_path

    def answer(request, **kwargs):
        return HttpResponse(body, content_type="application/vnd.mapbox-vector-tile")

    urls = type("FloorURLs", (), {"urlpatterns": [re_path(r"^ogc/", answer)]})
    caller = Wsgi()

    def call() -> int:
        status, content = caller.get(url)
        assert status == 200 and content == body
        return len(content)

    with override_settings(ROOT_URLCONF=urls):
        return median_ms(call, repeat=TILE_REPEAT)


def prepare() -> None:
    layer = registry.get(CODE)
    sync_layer(layer)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM cbs.{CODE}")
        if cursor.fetchone()[0] == ROWS:
            return
        print(f"generating {ROWS:,} points ...", flush=True)
        cursor.execute(f"TRUNCATE cbs.{CODE} RESTART IDENTITY")
        cursor.execute(
            f"INSERT INTO cbs.{CODE} (ad, kategori, deger, geom) "
            "SELECT 'nokta ' || i, i % 10, (i % 1000) / 10.0, "
            "ST_SetSRID(ST_MakePoint(530000 + random() * 30000, 4390000 + random() * 30000), "
            f"{layer.srid}) FROM generate_series(1, {ROWS}) AS i")
        cursor.execute(f"ANALYZE cbs.{CODE}")


def raw_page(where: str, order_limit: str = "ORDER BY id LIMIT 1000") -> str:
    order = order_limit.split("ORDER BY ", 1)[1].split(" LIMIT", 1)[0]
    return (
        "SELECT json_build_object('type', 'FeatureCollection', 'features', "
        "coalesce(json_agg(json_build_object('type', 'Feature', 'id', id, 'geometry', "
        "ST_AsGeoJSON(ST_Transform(geom, 4326), 8)::json, 'properties', json_build_object("
        f"'ad', ad, 'kategori', kategori, 'deger', deger)) ORDER BY {order}), '[]'::json))::text "
        f"FROM (SELECT * FROM cbs.{CODE} WHERE {where} {order_limit}) AS page")


def run_sql(statement: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement)
        value = cursor.fetchone()[0]
    return len(value or b"")


def api_count(url: str) -> int:
    """Features on an items page served by the API."""
    status, content = Wsgi().get(url)
    assert status == 200, (url, status, content[:300])
    return len(json.loads(content)["features"])


def raw_count(statement: str) -> int:
    """Features in the raw query's FeatureCollection."""
    with connection.cursor() as cursor:
        cursor.execute(statement)
        return len(json.loads(cursor.fetchone()[0])["features"])


def tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return (int((lon + 180) / 360 * n),
            int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n))


def raw_tile(z: int | str, x: int | str, y: int | str, srid: int) -> str:
    return (
        f"SELECT ST_AsMVT(t, '{CODE}', 4096, 'g', 'id') FROM (SELECT id, ad, kategori, deger, "
        f"ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope({z}, {x}, {y}), 4096, 64, "
        f"true) AS g FROM cbs.{CODE} WHERE geom && ST_Transform(ST_TileEnvelope({z}, {x}, "
        f"{y}, margin => 64.0 / 4096), {srid})) AS t")


def main() -> int:
    global ROWS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=ROWS,
                        help="points in the layer (regenerated when the count differs)")
    ROWS = parser.parse_args().rows
    deep = ROWS * 9 // 10
    misses: list[str] = []
    prepare()
    layer = registry.get(CODE)
    client = Wsgi()
    base = f"/ogc/collections/{CODE}"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Transform(ST_SetSRID("
                       f"ST_MakePoint(545000, 4405000), {layer.srid}), 4326) AS c) AS p")
        lon, lat = cursor.fetchone()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM ("
                       f"SELECT ST_Transform(ST_MakeEnvelope(544000, 4404000, 546000, 4406000, "
                       f"{layer.srid}), 4326) AS b) AS e")
        bbox = ",".join(f"{v:.6f}" for v in cursor.fetchone())
    minx, miny, maxx, maxy = bbox.split(",")
    bbox_where = (f"geom && ST_Transform(ST_MakeEnvelope({minx}, {miny}, {maxx}, {maxy}, 4326), "
                  f"{layer.srid})")

    # sortby (Features Part 8): no index on deger, so every sorted page is a scan with a
    # top-N sort, raw or not; a deep sorted page starts after a keyset cursor.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT json_build_array(deger, id)::text, deger, id FROM cbs.{CODE} "
                       f"ORDER BY deger DESC NULLS LAST, id OFFSET {deep - 1} LIMIT 1")
        sort_key, sort_value, sort_id = cursor.fetchone()
    from ogc_api.query import encode_cursor

    sorted_order = "ORDER BY deger DESC NULLS LAST, id LIMIT 1000"
    sorted_deep_where = (f"((deger IS NULL OR deger < {sort_value}) OR "
                         f"(deger = {sort_value} AND id > {sort_id}))")

    def get(url: str, through: Wsgi = client) -> int:
        status, content = through.get(url)
        assert status == 200, (url, status, content[:300])
        return len(content)

    cases = [
        ("first page", f"{base}/items?limit=1000", raw_page("TRUE")),
        (f"deep page (cursor {deep})", f"{base}/items?limit=1000&cursor={deep}",
         raw_page(f"id > {deep}")),
        ("bbox", f"{base}/items?limit=1000&bbox={bbox}", raw_page(bbox_where)),
        ("CQL2 kategori = 3 AND deger > 50", f"{base}/items?limit=1000&filter="
         "kategori%20%3D%203%20AND%20deger%20%3E%2050",
         raw_page("kategori = 3 AND deger > 50")),
        ("sortby=-deger first page", f"{base}/items?limit=1000&sortby=-deger",
         raw_page("TRUE", sorted_order)),
        (f"sortby=-deger deep page ({deep})",
         f"{base}/items?limit=1000&sortby=-deger&cursor={encode_cursor(sort_key)}",
         raw_page(sorted_deep_where, sorted_order)),
    ]
    print(f"\nOGC API items vs raw SQL, {ROWS:,} features, median of {REPEAT}, "
          "alternating (ms)")
    print(f"{'case':36} {'api':>9} {'raw sql':>9} {'ratio':>7}")
    results = {}
    for name, url, raw in cases:
        returned, expected = api_count(url), raw_count(raw)
        if returned != expected:
            misses.append(f"{name}: the API returned {returned} features, raw SQL {expected}")
        api_ms, raw_ms = paired_ms(lambda url=url: get(url), lambda raw=raw: run_sql(raw))
        results[name] = api_ms
        print(f"{name:36} {api_ms:9.1f} {raw_ms:9.1f} {api_ms / raw_ms:7.2f}")
        if api_ms / raw_ms > ITEMS_RATIO:
            misses.append(f"{name}: {api_ms / raw_ms:.2f}x raw SQL > {ITEMS_RATIO}x")
    first_ms, deep_ms = paired_ms(lambda: get(f"{base}/items?limit=1000"),
                                  lambda: get(f"{base}/items?limit=1000&cursor={deep}"))
    offset_ms = median_ms(lambda: run_sql(raw_page("TRUE", f"ORDER BY id LIMIT 1000 "
                                                           f"OFFSET {deep}")))
    if deep_ms / first_ms > DEEP_RATIO:
        misses.append(f"deep page: {deep_ms / first_ms:.2f}x the first page > {DEEP_RATIO}x")
    print(f"deep page / first page: {deep_ms / first_ms:.2f}  (raw SQL with OFFSET {deep}: "
          f"{offset_ms:.1f} ms)")

    # Tiles: every request is cold (nothing is cached); the headline ratio is against the
    # raw ST_AsMVT query as a server-side prepared statement with z/x/y parameters ("raw
    # prep", its best raw form; what the API runs too), so that api - raw prep is Django's
    # own share. "raw ad hoc" is the same query sent as text, planned at every call (for
    # information only). "session" is the web viewer's path (a signed-in
    # browser session's cookie; for a public layer without personal fields neither the
    # session nor the user is loaded, since nothing asks who the caller is).
    signed_in = Client()
    viewer = _bench_user()
    signed_in.force_login(viewer)
    cookie = settings.SESSION_COOKIE_NAME
    session = Wsgi(cookie=f"{cookie}={signed_in.cookies[cookie].value}")
    print(f"\nTiles vs the raw ST_AsMVT query PREPAREd, median of {TILE_REPEAT}, "
          "alternating (ms)")
    print(f"{'tile':20} {'api':>7} {'raw prep':>9} {'ratio':>6} {'session':>8} {'ratio':>6} "
          f"{'raw ad hoc':>11} {'bytes':>9}")
    largest = 0
    try:
        for z in (14, 16):
            x, y = tile_xy(lon, lat, z)
            url = f"{base}/tiles/WebMercatorQuad/{z}/{y}/{x}"
            name = f"bench_raw_{z}"
            with connection.cursor() as cursor:
                cursor.execute(f"PREPARE {name} (integer, integer, integer) AS "
                               f"{raw_tile('$1', '$2', '$3', layer.srid)}")
            try:
                api_ms, raw_ms, prep_ms, session_ms = paired_ms(
                    lambda url=url: get(url),
                    lambda z=z, x=x, y=y: run_sql(raw_tile(z, x, y, layer.srid)),
                    lambda name=name, z=z, x=x, y=y: run_sql(f"EXECUTE {name} ({z}, {x}, {y})"),
                    lambda url=url: get(url, session),
                    repeat=TILE_REPEAT)
            finally:
                with connection.cursor() as cursor:
                    cursor.execute(f"DEALLOCATE {name}")
            size = get(url)
            largest = max(largest, size)
            print(f"{f'z{z}/{y}/{x}':20} {api_ms:7.2f} {prep_ms:9.2f} {api_ms / prep_ms:6.2f} "
                  f"{session_ms:8.2f} {session_ms / prep_ms:6.2f} {raw_ms:11.2f} {size:9,}")
            for path_name, ms in (("api", api_ms), ("session", session_ms)):
                if ms / prep_ms > TILE_RATIO:
                    misses.append(f"tile z{z} ({path_name}): {ms / prep_ms:.2f}x the prepared "
                                  f"query > {TILE_RATIO}x")
        floor_ms = django_floor(url, client.get(url)[1])
        print(f"Django's own floor for the z{z} request (the same middleware and server path, "
              f"a view that only returns the tile's bytes, no database): {floor_ms:.2f} ms; "
              f"budget for everything but the query at {TILE_RATIO}x the prepared query: "
              f"{(TILE_RATIO - 1) * prep_ms:.2f} ms")
    finally:
        signed_in.logout()
        viewer.delete()
    for z in (14, 15):
        x, y = tile_xy(lon, lat, z)
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                largest = max(largest,
                              get(f"{base}/tiles/WebMercatorQuad/{z}/{y + dy}/{x + dx}"))
    print(f"largest tile served (z14-z16 around the centre): {largest:,} bytes "
          f"(limit {TILE_MAX_BYTES:,})")
    if largest > TILE_MAX_BYTES:
        misses.append(f"largest tile {largest:,} bytes > {TILE_MAX_BYTES:,}")
    low, _ = client.get(f"{base}/tiles/WebMercatorQuad/10/{tile_xy(lon, lat, 10)[1]}/"
                        f"{tile_xy(lon, lat, 10)[0]}")
    print(f"z10 (below min zoom 14): HTTP {low}")
    if low != 404:
        misses.append(f"z10 (below the layer's min zoom): HTTP {low}, expected 404")
    for miss in misses:
        print(f"MISSED: {miss}", file=sys.stderr)
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
