"""Generalised tiles of dense polygon layers below their detail zoom (the city zoomed out).

Below a layer's ``min_zoom`` a footprint is a pixel or less, and a tile would hold
hundreds of thousands of them. Instead PostGIS keeps, per zoom from
:data:`MIN_ZOOM` to ``min_zoom - 1``, the built-up area: the Web Mercator cells of
:data:`CELL_PX` pixels that hold a feature's point on surface, merged into one
outline per tile (``ST_Union`` of each row's runs of cells). A tile is then one
indexed read of one row, a few kilobytes at most.

The outlines are built by the first zoomed-out tile request (once), then kept
current: a statement-level trigger on the table (``INSERT``, ``UPDATE``,
``DELETE``, ``TRUNCATE``, ``COPY`` included) marks them stale, and the next
zoomed-out tile starts one rebuild in a background thread (an advisory lock keeps
it to one at a time across processes) while the previous outlines are served: a
rebuild takes about a minute and a half for a million footprints, and no request
waits for it. Inside a transaction (tests, ``ATOMIC_REQUESTS``) the rebuild runs
in the request, where it can see the request's own rows.
``kentcbs generalise`` rebuilds ahead of time, after a bulk load.
Only table-backed polygon layers without a row rule are generalised; others keep
no tiles below their minimum zoom.
"""

from __future__ import annotations

import logging
import threading
import zlib
from typing import TYPE_CHECKING

from django.db import DatabaseError, connection, transaction
from psycopg2 import sql

if TYPE_CHECKING:
    from layers.schema import LayerDefinition

logger = logging.getLogger(__name__)
#: The lowest zoom with generalised tiles (a whole district in a few tiles).
MIN_ZOOM = 10
#: Cell size in pixels of a 256-pixel tile.
CELL_PX = 4
#: Web Mercator half width (metres).
HALF_WORLD = 20037508.342789244
SCHEMA = "kentcbs_gen"
EXTENT = 4096

_SETUP = """
CREATE SCHEMA IF NOT EXISTS kentcbs_gen;
CREATE TABLE IF NOT EXISTS kentcbs_gen.state (
    source text PRIMARY KEY, stale boolean NOT NULL DEFAULT true, built timestamptz);
CREATE TABLE IF NOT EXISTS kentcbs_gen.outline (
    source text NOT NULL, z integer NOT NULL, tx integer NOT NULL, ty integer NOT NULL,
    cells integer NOT NULL, geom geometry(MultiPolygon, 3857) NOT NULL,
    PRIMARY KEY (source, z, tx, ty));
CREATE OR REPLACE FUNCTION kentcbs_gen.mark_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE kentcbs_gen.state SET stale = true
     WHERE source = TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME AND NOT stale;
    RETURN NULL;
END $$;
"""  # the schema is SCHEMA


#: The occupied cells, closed (dilated, then eroded, by a 2x2 cell square): a row or
#: column of empty cells between built-up ones is filled. Without it a regular street grid
#: whose spacing is near the cell size draws as a sieve of one-cell holes (measured at
#: zoom 15 over 20 m plots: 113 KB of outlines for one view, slower to draw than the
#: footprints); the outline keeps its place (a closing neither grows nor shifts a block
#: of two cells or more).
_CLOSED_CELLS = sql.SQL("""
    SELECT i - di AS i, j - dj AS j
      FROM (SELECT DISTINCT i + di AS i, j + dj AS j
              FROM (SELECT DISTINCT floor((x + %(hw)s) / %(c)s)::bigint AS i,
                                    floor((%(hw)s - y) / %(c)s)::bigint AS j
                      FROM kentcbs_gen_points) AS occupied,
                   (VALUES (0, 0), (1, 0), (0, 1), (1, 1)) AS grow(di, dj)) AS dilated,
           (VALUES (0, 0), (1, 0), (0, 1), (1, 1)) AS shrink(di, dj)
     GROUP BY 1, 2 HAVING count(*) = 4""")


def applies(layer: LayerDefinition, rows: str | None) -> bool:
    """Whether ``layer`` gets generalised tiles (a table-backed polygon layer, all rows)."""
    return (rows is None and not layer.is_model_backed and "Polygon" in layer.geometry_type
            and layer.style.min_zoom is not None and layer.style.min_zoom > MIN_ZOOM)


def lowest_zoom(layer: LayerDefinition, rows: str | None = None) -> int:
    """The lowest zoom with tiles: :data:`MIN_ZOOM` when generalised, else ``min_zoom``."""
    from ogc_api.tiles import min_zoom

    return MIN_ZOOM if applies(layer, rows) else min_zoom(layer)


def _source(layer: LayerDefinition) -> str:
    return f"{layer.table_schema}.{layer.table_name}"


def _cell(z: int) -> float:
    return 2 * HALF_WORLD / 2 ** z / 256 * CELL_PX


def build(layer: LayerDefinition, *, force: bool = True, wait: bool = True) -> int:
    """(Re)build the outlines of ``layer`` for every generalised zoom; returns the row count.

    ``force=False``: do nothing when another request rebuilt them while this one waited.
    ``wait=False``: do nothing (return -1) when another rebuild holds the lock.
    """
    from ogc_api.tiles import min_zoom

    source = _source(layer)
    table = sql.Identifier(layer.table_schema, layer.table_name)
    geom = sql.Identifier(layer.geometry_column)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_SETUP)
        key = zlib.crc32(f"kentcbs_gen:{source}".encode())
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
        else:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [key])
            if not cursor.fetchone()[0]:
                return -1
        if not force and _state(source) is True:
            return -1
        cursor.execute(sql.SQL(
            "DROP TRIGGER IF EXISTS kentcbs_gen_stale ON {t}; CREATE TRIGGER kentcbs_gen_stale "
            "AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {t} FOR EACH STATEMENT "
            "EXECUTE FUNCTION {s}.mark_stale()").format(t=table, s=sql.Identifier(SCHEMA)))
        cursor.execute(sql.SQL("DELETE FROM {}.outline WHERE source = %s").format(
            sql.Identifier(SCHEMA)), [source])
        cursor.execute("DROP TABLE IF EXISTS pg_temp.kentcbs_gen_points")
        cursor.execute(sql.SQL(
            "CREATE TEMP TABLE kentcbs_gen_points ON COMMIT DROP AS SELECT ST_X(p) AS x, "
            "ST_Y(p) AS y FROM (SELECT ST_Transform(ST_PointOnSurface({g}), 3857) AS p "
            "FROM {t} WHERE {g} IS NOT NULL AND NOT ST_IsEmpty({g})) AS a").format(
            g=geom, t=table))
        for z in range(MIN_ZOOM, min_zoom(layer)):
            cell = _cell(z)
            per_tile = 256 // CELL_PX
            # Cells (i, j) counted from the top-left corner of the world, as tiles are;
            # each row's runs of adjacent cells become one rectangle, each tile's
            # rectangles one outline.
            cursor.execute(sql.SQL("""
                INSERT INTO {s}.outline (source, z, tx, ty, cells, geom)
                SELECT %(source)s, %(z)s, tx, ty, sum(n)::integer,
                       ST_Multi(ST_CollectionExtract(ST_UnaryUnion(ST_Collect(r)), 3))
                  FROM (SELECT i0 / %(per)s AS tx, j / %(per)s AS ty, i1 - i0 + 1 AS n,
                               ST_MakeEnvelope(-%(hw)s + i0 * %(c)s, %(hw)s - (j + 1) * %(c)s,
                                               -%(hw)s + (i1 + 1) * %(c)s, %(hw)s - j * %(c)s,
                                               3857) AS r
                          FROM (SELECT j, min(i) AS i0, max(i) AS i1
                                  FROM (SELECT i, j, i - row_number() OVER
                                               (PARTITION BY j, i / %(per)s ORDER BY i) AS run
                                          FROM ({closed}) AS cells) AS runs
                                 GROUP BY j, i / %(per)s, run) AS rects) AS tiles
                 GROUP BY tx, ty""").format(s=sql.Identifier(SCHEMA), closed=_CLOSED_CELLS),
                {"source": source, "z": z, "per": per_tile, "hw": HALF_WORLD, "c": cell})
        cursor.execute(sql.SQL(
            "INSERT INTO {}.state (source, stale, built) VALUES (%s, false, now()) "
            "ON CONFLICT (source) DO UPDATE SET stale = false, built = now()").format(
            sql.Identifier(SCHEMA)), [source])
        cursor.execute(sql.SQL("SELECT count(*) FROM {}.outline WHERE source = %s").format(
            sql.Identifier(SCHEMA)), [source])
        return int(cursor.fetchone()[0])


def _state(source: str) -> bool | None:
    """True: outlines current; False: stale (the table changed); None: never built."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", ["kentcbs_gen.state"])
        if cursor.fetchone()[0] is None:
            return None
        cursor.execute(sql.SQL("SELECT NOT stale FROM {}.state WHERE source = %s").format(
            sql.Identifier(SCHEMA)), [source])
        row = cursor.fetchone()
    return None if row is None else bool(row[0])


#: Background rebuilds running in this process, by source table (tests join them).
rebuilding: dict[str, threading.Thread] = {}
#: Background rebuilds started by this process (for tests and diagnostics).
started: list[str] = []
_REBUILDING_LOCK = threading.Lock()


def _rebuild(layer: LayerDefinition) -> None:
    try:
        build(layer, force=False, wait=False)
    except DatabaseError:
        logger.exception("ogc_api: the outlines of %s could not be rebuilt", layer.code)
    finally:
        connection.close()
        with _REBUILDING_LOCK:
            rebuilding.pop(_source(layer), None)


def refresh(layer: LayerDefinition) -> None:
    """Bring the outlines up to date: built in the request the first time (or inside a
    transaction), else rebuilt in the background while the stale ones are served."""
    source = _source(layer)
    state = _state(source)
    if state is True:
        return
    if state is None or connection.in_atomic_block:
        build(layer, force=False)
        return
    with _REBUILDING_LOCK:
        if source in rebuilding:
            return
        thread = threading.Thread(target=_rebuild, args=(layer,), daemon=True,
                                  name=f"kentcbs-generalise-{layer.code}")
        rebuilding[source] = thread
        started.append(source)
    thread.start()


def render_tile(layer: LayerDefinition, z: int, x: int, y: int) -> bytes:
    """The generalised MVT tile (layer name = the layer's code, one ``cells`` property)."""
    source = _source(layer)
    refresh(layer)
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL(
            "SELECT ST_AsMVT(t, %(code)s, {e}, 'g') FROM (SELECT cells, ST_AsMVTGeom(geom, "
            "ST_TileEnvelope(%(z)s, %(x)s, %(y)s), {e}, 64, true) AS g FROM {s}.outline "
            "WHERE source = %(source)s AND z = %(z)s AND tx = %(x)s AND ty = %(y)s) AS t "
            "WHERE g IS NOT NULL").format(e=sql.Literal(EXTENT), s=sql.Identifier(SCHEMA)),
            {"code": layer.code, "z": z, "x": x, "y": y, "source": source})
        row = cursor.fetchone()
    return bytes(row[0] or b"") if row else b""
