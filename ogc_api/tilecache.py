"""A cache of vector tiles, kept current by the database itself.

A tile is cached in the serving process (an LRU bounded in bytes,
``KENTCBS_TILE_CACHE_MB``, 64 by default; 0 turns the cache off) under a key that holds
everything its bytes depend on:

- the layer table's oid and *generation*: a number from a sequence, set by a
  statement-level trigger on every ``INSERT``, ``UPDATE``, ``DELETE``, ``TRUNCATE``
  (``COPY`` too) of the table, in the writer's own transaction (migration
  ``ogc_api.0004``); never given twice, even when a writer rolls back. A batch that loads, a
  record changed in the admin, an edit in psql: the next tile request reads the new
  generation (one indexed read) and renders the tile again;
- the layer's code and definition version, the fields in the tile (the caller's
  visible fields, ``properties``), z, x, y.

Only tiles of every row are cached (``rows is None``): a row rule is a subquery on other
tables (``layers.access.row_condition``) whose changes no trigger here sees, so those
tiles are rendered for each request. Who may read the layer, and which of its fields,
is decided for every request before the cache is asked (``ogc_api.views.tile``), so a
cached tile reaches only callers who may read the layer and see exactly its fields.

A table without the trigger (a view, or a table created after the last ``kentcbs
migrate`` by other means) is never cached: the generation query finds no trigger and
answers None. ``kentcbs migrate`` installs the trigger on every table-backed and
model-backed layer (:func:`install_all`).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from psycopg2 import sql

if TYPE_CHECKING:
    from layers.schema import LayerDefinition

TRIGGER = "kentcbs_tile_generation"
_GENERATION_SQL = (
    "SELECT t.tgrelid::bigint, coalesce(g.generation, 0) FROM pg_trigger t "
    "LEFT JOIN kentcbs_tiles.generation g ON g.source = %(source)s "
    "WHERE t.tgrelid = to_regclass(%(source)s) AND t.tgname = %(trigger)s "
    "AND t.tgenabled <> 'D'")


def _source(layer: LayerDefinition) -> str:
    return f"{layer.table_schema}.{layer.table_name}"


def generation(cursor: Any, layer: LayerDefinition) -> tuple[int, int] | None:
    """(table oid, change number) of ``layer``'s table; None when it has no trigger.

    The oid changes when the table is dropped and made again; the number changes with
    every write, and is never given twice (a sequence).
    """
    cursor.execute(_GENERATION_SQL, {"source": _source(layer), "trigger": TRIGGER})
    row = cursor.fetchone()
    return None if row is None else (int(row[0]), int(row[1]))


def install(cursor: Any, layer: LayerDefinition) -> bool:
    """Put the counting trigger on ``layer``'s table; False when it is not a table."""
    cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)",
                   [_source(layer)])
    row = cursor.fetchone()
    if row is None or row[0] not in {"r", "p"}:
        return False
    table = sql.Identifier(layer.table_schema, layer.table_name)
    cursor.execute(sql.SQL(
        "CREATE OR REPLACE TRIGGER {trigger} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        "ON {table} FOR EACH STATEMENT EXECUTE FUNCTION kentcbs_tiles.bump()").format(
        trigger=sql.Identifier(TRIGGER), table=table))
    # A new number: whatever was cached for this table before the trigger was (re)made
    # is never served again.
    cursor.execute(
        "INSERT INTO kentcbs_tiles.generation AS g (source, generation) "
        "VALUES (%s, nextval('kentcbs_tiles.counter')) "
        "ON CONFLICT (source) DO UPDATE SET generation = excluded.generation",
        [_source(layer)])
    return True


def install_all(sender: Any = None, *, using: str = "default", **kwargs: Any) -> None:
    """``post_migrate`` receiver: the trigger on every layer table that exists."""
    from django.db import connections

    from layers.registry import registry

    with connections[using].cursor() as cursor:
        cursor.execute("SELECT to_regclass('kentcbs_tiles.generation')")
        if cursor.fetchone()[0] is None:  # migration 0004 not applied yet
            return
        for layer in registry.all():
            install(cursor, layer)


class TileCache:
    """A thread-safe LRU of tile bytes bounded by their total size."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Any, ...]) -> bytes | None:
        with self._lock:
            data = self._items.get(key)
            if data is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return data

    def put(self, key: tuple[Any, ...], data: bytes) -> None:
        if len(data) > self.max_bytes // 8:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= len(old)
            self._items[key] = data
            self._size += len(data)
            while self._size > self.max_bytes:
                _key, dropped = self._items.popitem(last=False)
                self._size -= len(dropped)

    @property
    def size(self) -> int:
        """Bytes held."""
        return self._size

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0


cache = TileCache(int(float(os.environ.get("KENTCBS_TILE_CACHE_MB", "64")) * 1024 * 1024))


def key(layer: LayerDefinition, fields: list[str], z: int, x: int, y: int,
        gen: tuple[int, int]) -> tuple[Any, ...]:
    return (_source(layer), *gen, layer.code, layer.version, tuple(fields), z, x, y)


def etag(tile_key: tuple[Any, ...]) -> str:
    """A strong validator of a cached tile (its key: same key, same bytes)."""
    digest = hashlib.sha1(repr(tile_key).encode(), usedforsecurity=False).hexdigest()[:24]
    return f'"{digest}"'
