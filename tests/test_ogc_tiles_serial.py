"""Tile queries never run as parallel plans: ST_AsMVT's high per-row cost made PostgreSQL
split a tile over two workers, which can only read the table by a parallel sequential
scan (66 ms instead of 3 ms through the spatial index for a tile of 600 out of 100,000
footprints). The session's setting is restored after each tile."""

from __future__ import annotations

import pytest
from django.db import connection

from gis_core.demo import load_demo
from layers.registry import registry
from ogc_api import tiles

# What a large table does to the planner, on the small test table: parallel workers cost
# nothing and the index is out of the question.
CHEAP_PARALLEL = ("SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; "
                  "SET min_parallel_table_scan_size = 0; SET max_parallel_workers_per_gather = 2; "
                  "SET enable_indexscan = off; SET enable_bitmapscan = off")


def _plan(layer, z: int, x: int, y: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + tiles.tile_sql(layer, []).as_string(cursor.connection),
                       {"z": z, "x": x, "y": y})
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.django_db
def test_tile_queries_are_planned_without_parallel_workers_and_restore_the_setting() -> None:
    load_demo(profile="odunpazari", modules=False, city=False)
    layer = registry.get("bina")  # the building footprints: a table-backed polygon layer
    z, x, y = 10, 595, 392
    with connection.cursor() as cursor:
        cursor.execute(CHEAP_PARALLEL)
    # Parallel plans made cheap: the tile query, as such, would use workers ...
    assert "Parallel" in _plan(layer, z, x, y)
    with connection.cursor() as cursor, tiles._serial(cursor):
        # ... but not inside the guard every tile runs in.
        assert "Parallel" not in _plan(layer, z, x, y)
    tiles.render_tile(layer, [], z, x, y)
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone()[0] == "2"  # the session's own value, restored
        cursor.execute("RESET ALL")
