"""The tile cache (ogc_api.tilecache): a changed feature shows in the next tile, a cached
tile reaches only callers who may read the layer (and see its fields), a row-scoped tile
is never shared, and tile queries are planned without parallel workers.

Committed data (transactional tests): the cache is a process-wide store, as in a server.
"""

from __future__ import annotations

import mapbox_vector_tile
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from layers.registry import registry
from ogc_api import tilecache, tiles
from tests.people import member, signed_in

pytestmark = pytest.mark.django_db(transaction=True)

LON, LAT = 30.52, 39.77
Z = 17


def _tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    import math

    n = 2 ** z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


X, Y = _tile_xy(LON, LAT, Z)
URL = f"/ogc/collections/bina/tiles/WebMercatorQuad/{Z}/{Y}/{X}"


def _sql(statement: str, params: list[object] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def _building(name: str) -> None:
    _sql("INSERT INTO cbs.bina (uavt_bina_kodu, bina_adi, mahalle_adi, kat_sayisi, kullanim, "
         "geom) SELECT (1000000001 + count(*))::text, %s, 'Arifiye', 3, 'konut', "
         "ST_Multi(ST_Transform(ST_Expand(ST_SetSRID(ST_MakePoint(%s, %s), 4326), 0.0001), "
         "5254)) FROM cbs.bina", [name, LON, LAT])


def _names(body: bytes) -> list[str]:
    decoded = mapbox_vector_tile.decode(body)
    return sorted(f["properties"].get("bina_adi", "") for f in decoded["bina"]["features"])


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    tilecache.cache.clear()


def test_the_layer_tables_carry_the_change_trigger() -> None:
    with connection.cursor() as cursor:
        assert tilecache.generation(cursor, registry.get("bina")) is not None
        assert tilecache.generation(cursor, registry.get("yol")) is not None


def test_a_changed_feature_shows_in_the_next_tile() -> None:
    client = signed_in(member("imar", "imar_sehircilik"))
    _building("Eski ad")
    first = client.get(URL)
    assert first.status_code == 200 and _names(first.content) == ["Eski ad"]
    tag = first["ETag"]
    assert first["Cache-Control"] == "private, no-cache"
    # served from the cache: no tile query, the same bytes, 304 for the browser's copy
    with CaptureQueriesContext(connection) as queries:
        again = client.get(URL)
    assert again.content == first.content and again["ETag"] == tag
    assert not [q for q in queries.captured_queries if "ST_AsMVT" in q["sql"]
                or "EXECUTE" in q["sql"]]
    assert client.get(URL, HTTP_IF_NONE_MATCH=tag).status_code == 304
    # a record changed (as the admin, an ETL batch or psql would): the next tile has it
    _sql("UPDATE cbs.bina SET bina_adi = 'Yeni ad'")
    changed = client.get(URL)
    assert _names(changed.content) == ["Yeni ad"] and changed["ETag"] != tag
    assert client.get(URL, HTTP_IF_NONE_MATCH=tag).status_code == 200
    # a batch loads (INSERT) and one is undone (DELETE): each shows at once
    _building("İkinci")
    assert _names(client.get(URL).content) == ["Yeni ad", "İkinci"]
    _sql("DELETE FROM cbs.bina WHERE bina_adi = 'Yeni ad'")
    assert _names(client.get(URL).content) == ["İkinci"]
    _sql("TRUNCATE cbs.bina")
    assert client.get(URL).content == b""


def test_a_cached_tile_never_reaches_a_caller_who_may_not_read_the_layer() -> None:
    _building("Gizli bina")
    reader = signed_in(member("imar", "imar_sehircilik"))
    assert _names(reader.get(URL).content) == ["Gizli bina"]  # now in the cache
    # bina is read by some departments only: another department's member, a user without
    # a department and an anonymous caller get no tile (and no bytes of the cached one)
    for client in (signed_in(member("park", "park_bahceler")), signed_in(member("hic", None)),
                   Client()):
        answer = client.get(URL)
        assert answer.status_code in {401, 403, 404}, answer.status_code
        assert b"Gizli bina" not in answer.content
        assert client.get(URL, HTTP_IF_NONE_MATCH=reader.get(URL)["ETag"]).status_code != 304


def test_the_cache_key_holds_the_fields_in_the_tile() -> None:
    _building("Alanlı")
    client = signed_in(member("imar", "imar_sehircilik"))
    full = client.get(URL)
    only_id = client.get(URL + "?properties=")
    assert "bina_adi" in mapbox_vector_tile.decode(full.content)["bina"]["features"][0][
        "properties"]
    assert mapbox_vector_tile.decode(only_id.content)["bina"]["features"][0][
        "properties"] == {}
    assert full["ETag"] != only_id["ETag"]
    # and in the other order, from the cache
    assert client.get(URL).content == full.content


def test_row_scoped_tiles_are_not_cached() -> None:
    layer = registry.get("bina")
    data, tag = tiles.cached_tile(layer, ["bina_adi"], Z, X, Y, rows="FALSE")
    assert tag is None and data == b""
    assert tilecache.cache.size == 0  # nothing was kept


def test_tile_queries_are_planned_without_parallel_workers() -> None:
    """ST_AsMVT's high per-row cost made PostgreSQL split a tile over two workers, which
    can only read the table by a parallel sequential scan (66 ms instead of 3 ms through
    the spatial index for a tile of 600 out of 100,000 footprints). The tile query calls
    ogc_api_serial() (PARALLEL UNSAFE) instead of changing the session's settings."""
    layer = registry.get("bina")
    _sql("INSERT INTO cbs.bina (uavt_bina_kodu, mahalle_adi, kat_sayisi, kullanim, geom) "
         "SELECT (1000000000 + i)::text, 'Arifiye', 3, 'konut', ST_Multi(ST_Transform("
         "ST_Expand(ST_SetSRID(ST_MakePoint(30.5 + i * 0.0005, 39.77), 4326), 0.0001), 5254)) "
         "FROM generate_series(1, 200) AS i")
    cheap_parallel = ("SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; "
                      "SET min_parallel_table_scan_size = 0; "
                      "SET max_parallel_workers_per_gather = 2; "
                      "SET enable_indexscan = off; SET enable_bitmapscan = off")
    with connection.cursor() as cursor:
        cursor.execute(cheap_parallel)
        # the same query without the marker would use workers ...
        plain = tiles.tile_sql(layer, []).as_string(cursor.connection).replace(
            " AND ogc_api_serial()", "")
        cursor.execute("EXPLAIN " + plain, {"z": 10, "x": 595, "y": 392})
        assert "Parallel" in "\n".join(row[0] for row in cursor.fetchall())
        # ... the tile query does not
        cursor.execute("EXPLAIN " + tiles.tile_sql(layer, []).as_string(cursor.connection),
                       {"z": 10, "x": 595, "y": 392})
        assert "Parallel" not in "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone()[0] == "2"  # the session's setting is left alone
        cursor.execute("RESET ALL")
