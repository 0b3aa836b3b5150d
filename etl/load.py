"""Load a batch: one transaction, COPY into a staging table, upsert by the layer key.

:class:`BatchLoader` opens the transaction when the batch starts; valid rows
are COPYed chunk by chunk into a temporary staging table and rejected rows
into the quarantine, so memory stays bounded. :meth:`BatchLoader.finish`
upserts the staging table into the layer's table with
``INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE ... IS DISTINCT FROM``
(an unchanged row is not touched, so re-sending a file changes nothing),
keeping the version of every row it updates in the layer's history table
(:func:`layers.ddl.create_history_table`) in the same statement, then commits.
A layer that is empty when the batch locks it gets its rows COPYed straight
into its table, in COPY's binary format when every column has a writer in
:mod:`etl.binary_copy`; for a bulk load its indexes and keys are built once
after the load (:meth:`BatchLoader._bulk_drop_indexes`).
Any failure before the commit (an exception, a killed process, a lost
connection) leaves the layer exactly as it was: PostgreSQL rolls the whole
transaction back.

Fault injection for the tests: a test sets :data:`FAULT` to ``"<point>:<action>"``
in the loading process itself (no environment variable, setting or argument reaches
it, so nothing outside a test's own code can trigger it), with point ``copy``
(after the first COPY), ``upsert`` (after the upsert, before the commit) or
``committed`` (in :func:`etl.services.ingest`, after the commit, before the reports)
and action ``raise``, ``kill`` (SIGKILL of this process), ``stop`` (SIGSTOP of this
process: the test acts, then sends SIGCONT) or ``terminate``
(``pg_terminate_backend`` of the load connection from another connection).
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg2
import shapely
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from etl import binary_copy
from etl.binary_copy import MULTI_CODE, WKB_CODE, as_multi
from etl.errors import LoadFailed

STAGE = "etl_stage"
#: Batches with at least this many rows rebuild plain indexes after the insert.
BULK_MIN_ROWS = 100_000
#: Bytes handed to COPY per read. psycopg2 reads the buffer in blocks, taking the GIL for
#: each one: with its 8 KiB default the loader thread waited for the busy main thread
#: thousands of times per chunk (measured: 11 s of COPY for 1M rows).
COPY_BLOCK = 16 << 20


#: SQL: index ``i`` is on one column whose values a load appends in order (a serial or
#: identity column, or ``batch_id``): cheaper to grow than to build again afterwards.
IN_ORDER = """(i.indnatts = 1 AND i.indexprs IS NULL AND i.indpred IS NULL
    AND EXISTS (SELECT 1 FROM pg_attribute a
                  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                 WHERE a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                   AND (a.attname = 'batch_id' OR a.attidentity <> ''
                        OR pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%%')))"""


#: Set only by tests, in the loading process (``monkeypatch.setattr(load, "FAULT",
#: "copy:raise")``): ``None`` in every real run.
FAULT: str | None = None


def fault(point: str, raw: Any = None) -> None:
    """Fail on purpose at ``point`` when a test set :data:`FAULT` for it."""
    wanted = FAULT or ""
    if not wanted or wanted.split(":", 1)[0] != point:
        return
    action = wanted.split(":", 1)[1] if ":" in wanted else "raise"
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if action == "stop":  # the test does something meanwhile (stops the database), then SIGCONT
        os.kill(os.getpid(), signal.SIGSTOP)
        return
    if action == "terminate":
        if raw is not None:
            pid = raw.get_backend_pid()
        else:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_backend_pid()")
                pid = cur.fetchone()[0]
        params = connection.get_connection_params()
        other = psycopg2.connect(**params)
        other.autocommit = True
        with other.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", [pid])
        other.close()
        return
    raise RuntimeError(f"injected fault at {point}")


@dataclass(frozen=True)
class TargetColumn:
    name: str
    sql_type: str


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _qualified(table: str) -> str:
    return ".".join(_quote(part) for part in table.split("."))


def table_columns(table: str) -> dict[str, TargetColumn]:
    """Columns of ``schema.table`` with their SQL types (empty if it does not exist)."""
    schema, name = table.split(".", 1)
    with connection.cursor() as cur:
        cur.execute(
            """SELECT a.attname, format_type(a.atttypid, a.atttypmod)
                 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0
                  AND NOT a.attisdropped ORDER BY a.attnum""", [schema, name])
        return {row[0]: TargetColumn(row[0], row[1]) for row in cur.fetchall()}


def has_unique_key(table: str, key: list[str]) -> bool:
    """True if a unique index or constraint covers exactly the ``key`` columns."""
    schema, name = table.split(".", 1)
    with connection.cursor() as cur:
        cur.execute(
            """SELECT array_agg(a.attname::text ORDER BY a.attname)
                 FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey)
                WHERE n.nspname = %s AND c.relname = %s AND i.indisunique
                  AND i.indpred IS NULL
                GROUP BY i.indexrelid""", [schema, name])
        return any(sorted(row[0]) == sorted(key) for row in cur.fetchall())


def _csv_frame(frame: pd.DataFrame, *, tail: str = "") -> io.StringIO:
    """COPY text format: tab-separated, ``\\N`` for NULL; values escaped by
    :func:`_text_for_copy` (joined in C through ``str.join``, ~4x faster than ``to_csv``).
    ``tail`` ends every line (a constant last column, e.g. ``"\\t17"``)."""
    cols = [frame[c].astype("string").fillna("\\N").to_numpy(dtype=object)
            for c in frame.columns]
    text = f"{tail}\n".join(map("\t".join, zip(*cols, strict=True)))
    return io.StringIO(f"{text}{tail}\n" if text else "")


def hex_ewkb(geoms: np.ndarray, srid: int, *, multi: bool = False) -> list[str | None]:
    """Hex EWKB (what PostGIS reads from COPY), ``None`` for a missing geometry.

    With ``multi``, single geometries are written as one-part multi geometries (what
    ``ST_Multi`` does). 2D geometries get their EWKB header (type with the SRID flag, SRID,
    and for ``multi`` a one-part header) written as text in front of shapely's plain WKB:
    ~3x faster than ``set_srid`` + ``to_wkb(include_srid=True)`` (+ ``multipolygons``).

    Examples
    --------
    >>> hex_ewkb(np.array([shapely.Point(1, 2), None]), 5254)[0][:18]
    '010100002086140000'
    >>> hex_ewkb(np.array([shapely.Point(1, 2)]), 5254, multi=True)[0][:28]
    '0104000020861400000100000001'
    """
    geoms = np.asarray(geoms, dtype=object)
    if shapely.has_z(geoms).any():  # rare: let GEOS write the header
        if multi:
            geoms = as_multi(geoms)
        raw = shapely.to_wkb(shapely.set_srid(geoms, srid), include_srid=True)
        return [None if b is None else b.hex() for b in raw]
    types = shapely.get_type_id(geoms)
    raw = shapely.to_wkb(geoms, byte_order=1, output_dimension=2)
    srid_hex = np.uint32(srid).astype("<u4").tobytes().hex()
    heads: dict[int, tuple[str, int]] = {}  # type id -> (EWKB header, hex chars to skip)
    for type_id in np.unique(types[types >= 0]).tolist():
        code = WKB_CODE[type_id]
        if multi and type_id in MULTI_CODE:  # header of the multi, then the whole single WKB
            heads[type_id] = (f"01{MULTI_CODE[type_id]:02x}000020{srid_hex}01000000", 0)
        else:  # byte order + type (10 hex chars) replaced by the EWKB ones
            heads[type_id] = (f"01{code:02x}000020{srid_hex}", 10)
    return [None if b is None else heads[t][0] + b.hex()[heads[t][1]:]
            for b, t in zip(raw, types.tolist(), strict=True)]


def _text_for_copy(series: pd.Series) -> pd.Series:
    """Values as text for COPY (tabs, newlines and backslashes escaped)."""
    if pd.api.types.is_bool_dtype(series):
        return series.map({True: "true", False: "false"}).astype(object)
    if pd.api.types.is_numeric_dtype(series):
        return series.astype(object).where(series.notna(), None)
    text = series.astype("string")
    special = text.str.contains(r"[\\\t\n\r\x01]", regex=True).fillna(False).to_numpy(bool)
    if special.any():  # escape only the few values that need it (one pass over the rest)
        sub = text[special]
        sub = (sub.str.replace("\\", "\\\\", regex=False)
               .str.replace("\t", "\\t", regex=False)
               .str.replace("\n", "\\n", regex=False).str.replace("\r", "\\r", regex=False)
               .str.replace("\x01", "\\x01", regex=False))
        text = text.copy()
        text[special] = sub
    return text.astype(object).where(text.notna(), None)


@dataclass
class LoadCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


class BatchLoader:
    """Stream one batch into the database inside a single transaction.

    Each chunk's valid rows are serialised in the calling thread, then COPYed
    and upserted by one background thread on the *same* connection (so the
    same transaction) while the caller validates the next chunk: PostgreSQL
    works on one core while Python works on the other. At most one chunk is
    in flight, so memory stays bounded. With ``incremental=False`` (strict
    policy) rows are only staged and :meth:`finish` decides whether to upsert.

    Parameters
    ----------
    layer : LayerDefinition
        Target layer (``backing.table``, ``key``, ``fields``, ``srid``).
    batch_id : int
        The :class:`~etl.models.Batch` the quarantine rows belong to.
    expected_rows : int
        Features in the file (for the bulk-index decision); 0 if unknown.
    incremental : bool
        Upsert chunk by chunk (default) or all at once in :meth:`finish`.

    Examples
    --------
    >>> with BatchLoader(layer=layer, batch_id=batch.pk) as loader:  # doctest: +SKIP
    ...     loader.stage(valid_chunk); loader.quarantine(rows, errors)
    ...     counts = loader.finish(upsert=True)
    """

    def __init__(self, *, layer: Any, batch_id: int, expected_rows: int = 0,
                 incremental: bool = True) -> None:
        self.layer = layer
        self.batch_id = batch_id
        self.table = str(layer.backing.table)
        self.fields = [f.name for f in layer.fields]
        self.expected_rows = expected_rows
        self.incremental = incremental
        self.staged = 0
        self.counts = LoadCounts()
        self._atomic: Any = None
        self._pool: ThreadPoolExecutor | None = None
        #: Work handed to the loader thread (chunk loads, quarantine copies), in order.
        self._queued: list[Future[tuple[int, int]]] = []
        self._finishing: Future[LoadCounts] | None = None
        self._rebuild: list[str] = []
        self._first_copy = True

    # -- transaction -------------------------------------------------------------
    def __enter__(self) -> BatchLoader:
        if self.layer.backing.kind != "table":
            raise LoadFailed("LAYER_NOT_LOADABLE", "Layer {layer} is backed by a model; it is "
                             "edited in KentCBS, not loaded from files.", layer=self.layer.code)
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        try:
            self._prepare()
        except BaseException:
            self._atomic.__exit__(*sys.exc_info())
            raise
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="etl-load")
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        failure: BaseException | None = None
        for future in self._queued:  # waits for the loader thread
            failure = failure or future.exception()
        self._queued = []
        if self._finishing is not None:
            failure = failure or self._finishing.exception()
            self._finishing = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        if exc is None and failure is not None:
            self._atomic.__exit__(type(failure), failure, failure.__traceback__)
            raise failure
        self._atomic.__exit__(exc_type, exc, tb)

    def _prepare(self) -> None:
        columns = table_columns(self.table)
        if not columns:
            raise LoadFailed("LAYER_TABLE_MISSING", "The table {table} of layer {layer} does not "
                             "exist; run kentcbs migrate.", table=self.table, layer=self.layer.code)
        missing = [f for f in [*self.fields, self.layer.geometry_column] if f not in columns]
        if missing:
            raise LoadFailed("LAYER_TABLE_OUTDATED", "The table {table} lacks the columns "
                             "{columns}; run kentcbs migrate.", table=self.table,
                             columns=", ".join(missing))
        from layers.ddl import HISTORY_COLUMNS, history_table

        self.history = history_table(self.layer)
        kept = table_columns(self.history)
        wanted = [self.layer.id_column, *self.fields, self.layer.geometry_column, "batch_id",
                  "created_at", "updated_at", *HISTORY_COLUMNS]
        if [c for c in [self.layer.id_column, "batch_id", "created_at", "updated_at"]
                if c not in columns] or [c for c in wanted if c not in kept]:
            raise LoadFailed("LAYER_HISTORY_MISSING", "The table {table} of layer {layer} has "
                             "no history table {history} matching its columns (where a load "
                             "keeps the versions it replaces); run kentcbs migrate.",
                             table=self.table, layer=self.layer.code, history=self.history)
        if not has_unique_key(self.table, list(self.layer.key)):
            raise LoadFailed("LAYER_KEY_NOT_UNIQUE", "The table {table} has no unique index on "
                             "its key ({key}).", table=self.table, key=", ".join(self.layer.key))
        self.columns = columns
        cols = ", ".join(f"{_quote(f)} text" for f in self.fields)
        target = _qualified(self.table)
        with connection.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {STAGE}")
            cur.execute(f"CREATE TEMP TABLE {STAGE} (kentcbs_feature bigint, {cols}, "
                        f"kentcbs_geom geometry) ON COMMIT DROP")
            # One batch at a time per layer (readers are not blocked by this mode).
            cur.execute(f"LOCK TABLE {target} IN SHARE ROW EXCLUSIVE MODE")
            cur.execute(f"SELECT EXISTS (SELECT 1 FROM {target})")  # noqa: S608
            self._empty = not cur.fetchone()[0]
        self._upsert_sql, self._insert_sql = self._statements()
        self._copy_sql = (f"COPY {STAGE} (kentcbs_feature, "
                          f"{', '.join(map(_quote, self.fields))}, kentcbs_geom) FROM STDIN")
        # An empty layer (seen under the batch's lock) and a chunk-by-chunk load: COPY
        # straight into the layer's table. Its CHECK constraints, unique key and column
        # types check every row as they would in INSERT ... SELECT, but the rows are
        # written once instead of three times (staging table, read back, insert).
        self._direct = self.incremental and self._empty
        self._multi = "multi" in self.columns[self.layer.geometry_column].sql_type.lower()
        extra = ', "batch_id"' if "batch_id" in self.columns else ""
        self._direct_sql = (f"COPY {target} ({', '.join(map(_quote, self.fields))}, "
                            f"{_quote(self.layer.geometry_column)}{extra}) FROM STDIN")
        # binary COPY when every column's type has a binary writer (etl.binary_copy);
        # the geometry comes last (its bytes are copied whole, see encode_rows)
        self._binary = self._direct and all(
            binary_copy.supports(self.columns[name].sql_type)
            for name in [*self.fields, self.layer.geometry_column])
        self._binary_sql = (f"COPY {target} ({', '.join(map(_quote, self.fields))}"
                            f"{extra}, {_quote(self.layer.geometry_column)}) "
                            f"FROM STDIN (FORMAT binary)")
        self._raw = connection.connection  # the psycopg2 connection of this transaction
        if self.incremental:
            self._rebuild = self._bulk_drop_indexes(self.expected_rows)

    def _statements(self) -> tuple[str, str]:
        target = _qualified(self.table)
        geom_col = _quote(self.layer.geometry_column)
        geom_type = self.columns[self.layer.geometry_column].sql_type.lower()
        geom_expr = "ST_Multi(s.kentcbs_geom)" if "multi" in geom_type else "s.kentcbs_geom"
        names = [_quote(f) for f in self.fields]
        select = [f"s.{_quote(f)}::{self.columns[f].sql_type}" for f in self.fields]
        extra_cols, extra_vals, extra_set = [], [], []
        if "batch_id" in self.columns:
            extra_cols.append('"batch_id"')
            extra_vals.append(str(int(self.batch_id)))
            extra_set.append('"batch_id" = EXCLUDED."batch_id"')
        if "updated_at" in self.columns:
            extra_set.append('"updated_at" = now()')
        non_key = [f for f in self.fields if f not in self.layer.key]
        sets = [f"{_quote(f)} = EXCLUDED.{_quote(f)}" for f in non_key]
        sets.append(f"{geom_col} = EXCLUDED.{geom_col}")
        compare_old = ", ".join([*(f"t.{_quote(f)}" for f in non_key), f"t.{geom_col}"])
        compare_new = ", ".join([*(f"EXCLUDED.{_quote(f)}" for f in non_key),
                                 f"EXCLUDED.{geom_col}"])
        conflict = ", ".join(_quote(k) for k in self.layer.key)
        row_id = _quote(self.layer.id_column)
        kept = [row_id, *names, geom_col, '"batch_id"', '"created_at"', '"updated_at"']
        # The versions the upsert replaces go to the history table in the same statement:
        # every part of a statement reads the snapshot taken before it, so `o` holds the
        # rows as they were, and `up` names exactly the rows the upsert updated (one
        # written by this batch itself is not a previous version). Set-based, no trigger.
        upsert = f"""  -- identifiers quoted by _quote; no user values
            WITH up AS (
              INSERT INTO {target} AS t ({", ".join([*names, geom_col, *extra_cols])})
              SELECT {", ".join([*select, geom_expr, *extra_vals])}
                FROM {STAGE} s
              ON CONFLICT ({conflict}) DO UPDATE
                 SET {", ".join([*sets, *extra_set])}
               WHERE ROW({compare_old}) IS DISTINCT FROM ROW({compare_new})
              RETURNING t.{row_id} AS kentcbs_id, (xmax = 0) AS inserted
            ), kept AS (
              INSERT INTO {_qualified(self.history)} ({", ".join(kept)}, "replaced_by_batch",
                                                     "history_change")
              SELECT {", ".join(f"o.{c}" for c in kept)}, {int(self.batch_id)}, 'update'
                FROM up JOIN {target} o ON o.{row_id} = up.kentcbs_id
               WHERE NOT up.inserted AND o."batch_id" IS DISTINCT FROM {int(self.batch_id)}
            ) SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted)
                FROM up"""  # noqa: S608
        insert_only = f"""  -- the layer was empty when the batch locked it: no conflict
            INSERT INTO {target} ({", ".join([*names, geom_col, *extra_cols])})
            SELECT {", ".join([*select, geom_expr, *extra_vals])} FROM {STAGE} s"""  # noqa: S608
        return upsert, insert_only

    # -- streaming ---------------------------------------------------------------------
    def wait(self) -> None:
        """Wait for the chunk in flight. Call before using the connection from this thread:
        a psycopg2 connection must not be used by two threads at once."""
        self._merge()

    def _merge(self) -> None:
        """Wait for the work in flight; add its counts (the first error is raised here,
        once all of it has stopped)."""
        queued, self._queued = self._queued, []
        failure: BaseException | None = None
        for future in queued:
            try:
                inserted, updated = future.result()
            except BaseException as exc:  # noqa: BLE001 - raised below, after the rest
                failure = failure or exc
                continue
            self.counts.inserted += inserted
            self.counts.updated += updated
        if failure is not None:
            raise failure

    def _load(self, text: io.StringIO | io.BytesIO, first: bool,
              binary: bool = False) -> tuple[int, int]:
        """Background thread: COPY one chunk, upsert it, empty the staging table."""
        with self._raw.cursor() as cur:
            if self._direct:
                sql = self._binary_sql if binary else self._direct_sql
                cur.copy_expert(sql, text, size=COPY_BLOCK)
                if first:
                    fault("copy", raw=self._raw)
                return cur.rowcount, 0
            cur.copy_expert(self._copy_sql, text, size=COPY_BLOCK)
            if first:
                fault("copy", raw=self._raw)
            if not self.incremental:
                return 0, 0
            if self._empty:
                cur.execute(self._insert_sql)
                result = (cur.rowcount, 0)
            else:
                cur.execute(self._upsert_sql)
                inserted, updated = cur.fetchone()
                result = (int(inserted), int(updated))
            cur.execute(f"TRUNCATE {STAGE}")
        return result

    def _binary_payload(self, frame: gpd.GeoDataFrame,
                        wkb: np.ndarray | None = None) -> io.BytesIO | None:
        """The rows as one COPY binary payload, or ``None`` when a value's type does not
        match its column's binary writer (the caller then writes COPY text). ``wkb``: see
        :meth:`stage`."""
        rows = len(frame)
        columns: list[binary_copy.Column] = []
        for name in self.fields:
            sql_type = self.columns[name].sql_type.lower()
            values = frame[name] if name in frame else pd.Series(pd.NA, index=frame.index,
                                                                 dtype="string")
            if sql_type == "bigint":
                if not (pd.api.types.is_integer_dtype(values) or values.isna().all()):
                    return None
                columns.append(binary_copy.int8_column(values))
            elif sql_type == "boolean":
                if not (pd.api.types.is_bool_dtype(values) or values.isna().all()):
                    return None
                columns.append(binary_copy.bool_column(values))
            else:  # text, character varying(n)
                if not (pd.api.types.is_string_dtype(values) or values.isna().all()):
                    return None
                columns.append(binary_copy.text_column(values))
        if "batch_id" in self.columns:
            columns.append(binary_copy.constant_int8_column(int(self.batch_id), rows))
        columns.append(binary_copy.geometry_column(
            np.asarray(frame.geometry.to_numpy(), dtype=object), int(self.layer.srid),
            multi=self._multi, wkb=wkb))
        return io.BytesIO(binary_copy.encode_rows(columns))

    def stage(self, frame: gpd.GeoDataFrame, *, wkb: np.ndarray | None = None) -> None:
        """Serialise valid rows (storage CRS, coerced values) and hand them to the loader thread.

        ``wkb`` may hold each row's geometry as the parser sent it (WKB), ``None`` for a
        row whose geometry was made or changed since; COPY binary sends the WKB values it
        can as they are (:func:`etl.binary_copy.geometry_column`)."""
        if frame.empty:
            return
        payload = self._binary_payload(frame, wkb) if self._binary else None
        if payload is not None:
            self._submit(payload, binary=True)
            self.staged += len(frame)
            return
        geoms = np.asarray(frame.geometry.to_numpy(), dtype=object)
        columns: dict[str, Any] = {}
        if not self._direct:
            columns["kentcbs_feature"] = frame.index.to_numpy(dtype=np.int64)
        for name in self.fields:
            columns[name] = _text_for_copy(frame[name]).to_numpy() if name in frame else None
        columns["kentcbs_geom"] = hex_ewkb(geoms, int(self.layer.srid),
                                           multi=self._direct and self._multi)  # as ST_Multi
        tail = ""  # batch_id, the same on every line: appended, not a column
        if self._direct and "batch_id" in self.columns:
            tail = f"\t{int(self.batch_id)}"
        self._submit(_csv_frame(pd.DataFrame(columns), tail=tail), binary=False)
        self.staged += len(frame)

    def _submit(self, data: io.StringIO | io.BytesIO, *, binary: bool) -> None:
        self._merge()  # at most one chunk in flight
        assert self._pool is not None
        self._queued.append(self._pool.submit(self._load, data, self._first_copy, binary))
        self._first_copy = False

    def quarantine(self, frame: gpd.GeoDataFrame, errors: pd.Series) -> None:
        """COPY rejected features with their errors into ``etl_quarantine``."""
        if frame.empty:
            return
        props = frame.drop(columns=frame.geometry.name)
        records = json.loads(props.to_json(orient="records", force_ascii=False,
                                           date_format="iso", default_handler=str))
        srid = int(settings.KENTCBS_SRID)  # the quarantine's column SRID
        series = frame.geometry
        if series.crs is not None and series.crs.to_epsg() != srid:
            series = series.to_crs(srid)
        geoms = np.asarray(series.to_numpy(), dtype=object)
        geoms[shapely.is_missing(geoms)] = None
        hexes = hex_ewkb(geoms, srid)
        out = pd.DataFrame({
            "batch_id": self.batch_id,
            "feature_index": frame.index.to_numpy(dtype=np.int64),
            "properties": [json.dumps(r, ensure_ascii=False) for r in records],
            "geom": hexes,
            "errors": [json.dumps(e, ensure_ascii=False, default=str)
                       for e in errors.reindex(frame.index).to_numpy()],
        })
        for col in ("properties", "errors"):
            out[col] = _text_for_copy(out[col]).to_numpy()
        # COPYed by the loader thread after the chunk in flight (the connection is its own)
        assert self._pool is not None
        self._queued.append(self._pool.submit(self._copy_quarantine, _csv_frame(out)))

    def _copy_quarantine(self, text: io.StringIO) -> tuple[int, int]:
        with self._raw.cursor() as cur:
            cur.copy_expert("COPY etl_quarantine (batch_id, feature_index, properties, geom, "
                            "errors) FROM STDIN", text, size=COPY_BLOCK)
        return 0, 0

    def _bulk_drop_indexes(self, rows: int) -> list[str]:
        """For a bulk load, drop the table's indexes that can be built once afterwards;
        return the statements that rebuild them.

        When a batch brings at least :data:`BULK_MIN_ROWS` rows and at least as
        many as the table holds, building an index once after the insert is much
        faster than growing it row by row (what ogr2ogr does too). Plain
        (non-unique) indexes are dropped; when the layer is empty (seen under the
        batch's lock) so are its primary key and unique constraints and indexes
        that no foreign key references: rebuilding them after the load checks
        every row's uniqueness once, and a duplicate fails the batch there, so
        the keys are enforced as before. CHECK constraints are never touched. All
        inside the batch's transaction: a failure (a duplicate found by the
        rebuild included) restores the indexes and leaves the layer as it was.
        Readers of the layer wait for the commit meanwhile (the drop takes an
        exclusive lock), which is acceptable for such loads.

        Kept (and grown row by row) are the indexes on one column whose values
        arrive in order, which only ever append to the index's last page: a
        serial or identity column (the ``id`` primary key), and ``batch_id``
        (one value per batch). Growing them costs less than building them
        again after the load, while nothing else can run.
        """
        if rows < BULK_MIN_ROWS:
            return []
        with self._raw.cursor() as cur:
            cur.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [self.table])
            existing = float(cur.fetchone()[0])
            if existing > rows:
                return []
            # plain indexes (not behind a constraint: an exclusion constraint's stays)
            cur.execute(f"""SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
                              FROM pg_index i
                             WHERE i.indrelid = %s::regclass AND NOT i.indisunique
                               AND NOT i.indisprimary AND i.indisvalid
                               AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                                                WHERE c.conindid = i.indexrelid)
                               AND NOT {IN_ORDER}""", [self.table])  # noqa: S608
            indexes = cur.fetchall()
            keys: list[tuple[str, str]] = []
            unique_indexes: list[tuple[str, str]] = []
            if self._empty:
                # primary key and unique constraints no foreign key depends on
                cur.execute(f"""SELECT c.conname, pg_get_constraintdef(c.oid)
                                  FROM pg_constraint c JOIN pg_index i ON i.indexrelid = c.conindid
                                 WHERE c.conrelid = %s::regclass AND c.contype IN ('p', 'u')
                                   AND i.indisvalid AND NOT i.indisreplident
                                   AND NOT EXISTS (SELECT 1 FROM pg_constraint f
                                                    WHERE f.contype = 'f'
                                                      AND f.conindid = c.conindid)
                                   AND NOT {IN_ORDER}
                                 ORDER BY c.contype, c.conname""", [self.table])  # noqa: S608
                keys = cur.fetchall()
                # unique indexes that are not a constraint's
                cur.execute(f"""SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
                                  FROM pg_index i
                                 WHERE i.indrelid = %s::regclass AND i.indisunique
                                   AND i.indisvalid AND NOT i.indisreplident
                                   AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                                                    WHERE c.conindid = i.indexrelid)
                                   AND NOT {IN_ORDER}""", [self.table])  # noqa: S608
                unique_indexes = cur.fetchall()
            target = _qualified(self.table)
            for name, _definition in keys:
                cur.execute(f"ALTER TABLE {target} DROP CONSTRAINT {_quote(name)}")
            for name, _ddl in [*unique_indexes, *indexes]:
                cur.execute(f"DROP INDEX {name}")
        return [*(f"ALTER TABLE {target} ADD CONSTRAINT {_quote(name)} {definition}"
                  for name, definition in keys),
                *(ddl for _name, ddl in [*unique_indexes, *indexes])]

    # -- the end ------------------------------------------------------------------------
    def finish(self, *, upsert: bool) -> LoadCounts:
        """Wait for the last chunk; upsert what is staged (non-incremental) when ``upsert``;
        rebuild dropped indexes; return the counts."""
        return self.finish_async(upsert=upsert).result()

    def finish_async(self, *, upsert: bool) -> Future[LoadCounts]:
        """:meth:`finish` in the loader thread: the caller may meanwhile do work that needs
        no database (write reports) while PostgreSQL upserts and rebuilds indexes. Its error
        is raised by ``result()`` (and by ``__exit__``, which waits for it)."""
        self._merge()
        assert self._pool is not None
        self._finishing = self._pool.submit(self._finish, upsert)
        return self._finishing

    def _finish(self, upsert: bool) -> LoadCounts:
        with self._raw.cursor() as cur:  # the loader thread's turn on the connection
            if not self.incremental and upsert and self.staged:
                self._rebuild = self._bulk_drop_indexes(self.staged)
                if self._empty:
                    cur.execute(self._insert_sql)
                    self.counts.inserted = cur.rowcount
                else:
                    cur.execute(self._upsert_sql)
                    inserted, updated = cur.fetchone()
                    self.counts.inserted, self.counts.updated = int(inserted), int(updated)
            if self.incremental or upsert:
                for statement in self._rebuild:
                    cur.execute(statement)
        loaded = self.staged if (self.incremental or upsert) else 0
        self.counts.unchanged = loaded - self.counts.inserted - self.counts.updated
        fault("upsert", raw=self._raw)
        return self.counts


def run_load_error(exc: BaseException) -> LoadFailed:
    """Turn a database error during loading into one clear :class:`LoadFailed`."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, DatabaseError | psycopg2.Error):
        return LoadFailed("LOAD_DB_ERROR", "Loading stopped, nothing was changed: {reason}",
                          reason=first)
    return LoadFailed("LOAD_ERROR", "Loading stopped, nothing was changed: {reason}",
                      reason=first)
