"""Mapbox vector tiles from PostGIS (``ST_AsMVT``) in OGC API – Tiles form (WebMercatorQuad).

No tile is larger than :data:`MAX_TILE_BYTES`: below a layer's minimum zoom
there are no tiles (404, outside the tile matrix set limits), and a tile that
would still be too large is generalised (one feature per grid cell, id only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import connection
from psycopg2 import sql

if TYPE_CHECKING:
    from layers.schema import LayerDefinition

MAX_TILE_BYTES = 500 * 1024
MAX_ZOOM = 22
DEFAULT_MIN_ZOOM = 10
EXTENT = 4096
BUFFER = 64


def min_zoom(layer: LayerDefinition) -> int:
    """The lowest zoom with tiles: the layer style's min_zoom, else a city-scale default."""
    return layer.style.min_zoom if layer.style.min_zoom is not None else DEFAULT_MIN_ZOOM


def tile_sql(layer: LayerDefinition, fields: list[str], *,
             grid: int | None = None) -> sql.Composable:
    """The ST_AsMVT query of one tile, with placeholders ``%(z)s``, ``%(x)s``, ``%(y)s``.

    ``grid``: thin to one feature per grid cell (generalisation of over-full tiles).
    """
    geom = sql.Identifier(layer.geometry_column)
    ident = sql.Identifier(layer.id_column)
    z, x, y = sql.Placeholder("z"), sql.Placeholder("x"), sql.Placeholder("y")
    envelope = sql.SQL("ST_TileEnvelope({}, {}, {})").format(z, x, y)
    # Tiles start at city scale (min zoom), where a tile's outline barely bends between
    # Web Mercator and the TM zone; the 64-pixel margin covers the difference.
    search = sql.SQL("ST_Transform(ST_TileEnvelope({}, {}, {}, margin => {}), {})").format(
        z, x, y, sql.Literal(BUFFER / EXTENT), sql.Literal(layer.srid))
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


_SQL_CACHE: dict[tuple[str, int, tuple[str, ...], int | None], str] = {}


def _statement(cursor: Any, layer: LayerDefinition, fields: list[str], grid: int | None) -> str:
    key = (layer.code, layer.version, tuple(fields), grid)
    text = _SQL_CACHE.get(key)
    if text is None:
        text = tile_sql(layer, fields, grid=grid).as_string(cursor.connection)
        _SQL_CACHE[key] = text
    return text


def render_tile(layer: LayerDefinition, fields: list[str], z: int, x: int, y: int) -> bytes:
    """The MVT bytes of one tile, generalised until it fits in MAX_TILE_BYTES."""
    params = {"z": z, "x": x, "y": y}
    with connection.cursor() as cursor:
        cursor.execute(_statement(cursor, layer, fields, None), params)
        data = bytes(cursor.fetchone()[0] or b"")
        grid = 256
        while len(data) > MAX_TILE_BYTES and grid >= 16:
            cursor.execute(_statement(cursor, layer, [], grid), params)
            data = bytes(cursor.fetchone()[0] or b"")
            grid //= 2
    return data
