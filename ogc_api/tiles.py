"""Mapbox vector tiles from PostGIS (``ST_AsMVT``) in OGC API – Tiles form (WebMercatorQuad).

No tile is larger than :data:`MAX_TILE_BYTES`: below a layer's minimum zoom
there are no tiles (404, outside the tile matrix set limits), and a tile that
would still be too large is generalised (one feature per grid cell, id only).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.utils import DatabaseError
from psycopg2 import sql

from gis_core.routers import reader

if TYPE_CHECKING:
    from layers.schema import LayerDefinition

MAX_TILE_BYTES = 500 * 1024
MAX_ZOOM = 22
DEFAULT_MIN_ZOOM = 10
EXTENT = 4096
BUFFER = 64
#: SQLSTATE invalid_sql_statement_name: EXECUTE of a statement the session does not have.
UNKNOWN_STATEMENT = "26000"


def min_zoom(layer: LayerDefinition) -> int:
    """The lowest zoom with tiles: the layer style's min_zoom, else a city-scale default."""
    return layer.style.min_zoom if layer.style.min_zoom is not None else DEFAULT_MIN_ZOOM


def tile_sql(layer: LayerDefinition, fields: list[str], *, grid: int | None = None,
             parameters: tuple[sql.Composable, sql.Composable, sql.Composable] | None = None,
             rows: str | None = None) -> sql.Composable:
    """The ST_AsMVT query of one tile, with placeholders ``%(z)s``, ``%(x)s``, ``%(y)s``.

    ``grid``: thin to one feature per grid cell (generalisation of over-full tiles).
    ``parameters``: other placeholders for z, x, y (``$1``, ``$2``, ``$3`` in a
    prepared statement, or literals).
    ``rows``: the caller's row rule (``layers.access.row_condition``), ANDed to the search.
    """
    geom = sql.Identifier(layer.geometry_column)
    ident = sql.Identifier(layer.id_column)
    z, x, y = parameters or (sql.Placeholder("z"), sql.Placeholder("x"), sql.Placeholder("y"))
    envelope = sql.SQL("ST_TileEnvelope({}, {}, {})").format(z, x, y)
    # Tiles start at city scale (min zoom), where a tile's outline barely bends between
    # Web Mercator and the TM zone; the 64-pixel margin covers the difference.
    search: sql.Composable = sql.SQL(
        "ST_Transform(ST_TileEnvelope({}, {}, {}, margin => {}), {})").format(
        z, x, y, sql.Literal(BUFFER / EXTENT), sql.Literal(layer.srid))
    if rows is not None:
        search = sql.SQL("{} AND ({})").format(search, sql.SQL(rows))
    # ST_AsMVT is costed so high per row that PostgreSQL prefers splitting a tile over
    # two workers, and a parallel plan can only read the table by a parallel sequential
    # scan: a tile of 600 footprints out of 100,000 took 66 ms instead of 3 ms through the
    # spatial index (measured; worse with the table's size). ogc_api_serial() is declared
    # PARALLEL UNSAFE (migration ogc_api.0004): a query that calls it is planned without
    # workers, with no SET/RESET round trips around each tile.
    search = sql.SQL("{} AND ogc_api_serial()").format(search)
    columns = [ident, *[sql.Identifier(name) for name in fields]]
    mvt_geom = sql.SQL("ST_AsMVTGeom(ST_Transform({}, 3857), {}, {}, {}, true)").format(
        geom, envelope, sql.Literal(EXTENT), sql.Literal(BUFFER))
    if grid is None:
        inner = sql.SQL("SELECT {}, {} AS mvt_geom FROM {} WHERE {} && {}").format(
            sql.SQL(", ").join(columns), mvt_geom,
            sql.Identifier(layer.table_schema, layer.table_name), geom, search)
    else:
        cell = sql.SQL("ST_SnapToGrid(ST_PointOnSurface(mvt_geom), {})").format(
            sql.Literal(EXTENT / grid))
        inner = sql.SQL(
            "SELECT DISTINCT ON ({cell}) {id}, ST_SimplifyPreserveTopology(mvt_geom, {tol}) "
            "AS mvt_geom FROM (SELECT {id}, {g} AS mvt_geom FROM {t} WHERE {geom} && {s}) AS a "
            "WHERE mvt_geom IS NOT NULL").format(
            cell=cell, id=ident, tol=sql.Literal(EXTENT / grid / 4), g=mvt_geom,
            t=sql.Identifier(layer.table_schema, layer.table_name), geom=geom, s=search)
    return sql.SQL("SELECT ST_AsMVT(tile, {}, {}, 'mvt_geom', {}) FROM ({}) AS tile").format(
        sql.Literal(layer.code), sql.Literal(EXTENT), sql.Literal(layer.id_column), inner)


@dataclass(frozen=True)
class TileStatement:
    """One tile query as text: plain (``%(z)s`` placeholders) and as ``PREPARE`` text."""

    plain: str
    name: str
    prepare: str


#: Statement texts per (layer, version, fields, grid): composed once per process.
_STATEMENTS: dict[tuple[str, int, tuple[str, ...], int | None], TileStatement] = {}
_POSITIONAL = (sql.SQL("$1"), sql.SQL("$2"), sql.SQL("$3"))


def _statement(cursor: Any, layer: LayerDefinition, fields: list[str],
               grid: int | None) -> TileStatement:
    key = (layer.code, layer.version, tuple(fields), grid)
    hit = _STATEMENTS.get(key)
    if hit is None:
        plain = tile_sql(layer, fields, grid=grid).as_string(cursor.connection)
        body = tile_sql(layer, fields, grid=grid, parameters=_POSITIONAL).as_string(
            cursor.connection)
        name = "ogc_tile_" + hashlib.sha1(body.encode(), usedforsecurity=False).hexdigest()[:20]
        hit = TileStatement(plain, name, f"PREPARE {name} (integer, integer, integer) AS {body}")
        _STATEMENTS[key] = hit
    return hit


def forget_prepared(*, connection: Any, **kwargs: Any) -> None:
    """``connection_created`` receiver: a new database session has no prepared statements."""
    connection.ogc_tile_statements = set()


def _prepared_on(db: Any) -> set[str]:
    """Names prepared on ``db``'s database session (emptied by :func:`forget_prepared`)."""
    prepared = getattr(db, "ogc_tile_statements", None)
    if prepared is None:
        prepared = db.ogc_tile_statements = set()
    return prepared


def _tile_bytes(cursor: Any, statement: TileStatement, z: int, x: int, y: int) -> bytes:
    """Run one tile query as a server-side prepared statement.

    Parsed and planned once per database session: at high zoom a tile costs about
    as much to plan as to run. Inside a transaction (tests, ``ATOMIC_REQUESTS``) the
    plain statement is used, so a failed ``EXECUTE`` can never abort the caller's
    transaction.
    """
    if cursor.db.in_atomic_block:
        cursor.execute(statement.plain, {"z": z, "x": x, "y": y})
        return bytes(cursor.fetchone()[0] or b"")
    prepared = _prepared_on(cursor.db)
    if statement.name not in prepared:
        cursor.execute(statement.prepare)
        prepared.add(statement.name)
    execute = f"EXECUTE {statement.name} (%s, %s, %s)"
    try:
        cursor.execute(execute, (z, x, y))
    except DatabaseError as exc:
        if getattr(exc.__cause__, "pgcode", None) != UNKNOWN_STATEMENT:
            raise
        # The session lost its statements (a pooler, DISCARD ALL): prepare again, once.
        prepared.clear()
        cursor.execute(statement.prepare)
        prepared.add(statement.name)
        cursor.execute(execute, (z, x, y))
    return bytes(cursor.fetchone()[0] or b"")


def _row_scoped_tile(layer: LayerDefinition, fields: list[str], z: int, x: int, y: int,
                     rows: str) -> bytes:
    """A tile of a layer with a row rule: one statement, values inlined, never prepared
    (the rule differs from caller to caller)."""
    literals = (sql.Literal(z), sql.Literal(x), sql.Literal(y))
    with reader().cursor() as cursor:  # the replica when configured
        cursor.execute(tile_sql(layer, fields, parameters=literals, rows=rows))
        data = bytes(cursor.fetchone()[0] or b"")
        grid = 256
        while len(data) > MAX_TILE_BYTES and grid >= 16:
            cursor.execute(tile_sql(layer, [], grid=grid, parameters=literals, rows=rows))
            data = bytes(cursor.fetchone()[0] or b"")
            grid //= 2
    return data


def render_tile(layer: LayerDefinition, fields: list[str], z: int, x: int, y: int, *,
                rows: str | None = None) -> bytes:
    """The MVT bytes of one tile, generalised until it fits in MAX_TILE_BYTES.

    ``rows``: the caller's row rule (``layers.access.row_condition``); None for every row.
    """
    if rows is not None:
        return _row_scoped_tile(layer, fields, z, x, y, rows)
    with reader().cursor() as cursor:  # the replica when configured
        data = _tile_bytes(cursor, _statement(cursor, layer, fields, None), z, x, y)
        grid = 256
        while len(data) > MAX_TILE_BYTES and grid >= 16:
            data = _tile_bytes(cursor, _statement(cursor, layer, [], grid), z, x, y)
            grid //= 2
    return data


def cached_tile(layer: LayerDefinition, fields: list[str], z: int, x: int, y: int, *,
                rows: str | None = None) -> tuple[bytes, str | None]:
    """:func:`render_tile` through the tile cache (:mod:`ogc_api.tilecache`).

    Returns the bytes and their ETag (None when the tile is not cacheable: a row rule,
    a table without the change trigger, the cache turned off). The caller has decided
    that the caller may read ``layer`` and see ``fields``.
    """
    from ogc_api import tilecache

    if rows is not None or tilecache.cache.max_bytes <= 0:
        return render_tile(layer, fields, z, x, y, rows=rows), None
    with reader().cursor() as cursor:
        gen = tilecache.generation(cursor, layer)
    if gen is None:
        return render_tile(layer, fields, z, x, y), None
    key = tilecache.key(layer, fields, z, x, y, gen)
    data = tilecache.cache.get(key)
    if data is None:
        data = render_tile(layer, fields, z, x, y)
        tilecache.cache.put(key, data)
    return data, tilecache.etag(key)
