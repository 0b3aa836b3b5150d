"""PostgreSQL's binary COPY format, built with numpy (no Python loop over rows).

A COPY ``FROM STDIN (FORMAT binary)`` payload is a header, then per row a field
count (int16) and per field a length (int32, ``-1`` for NULL) followed by the
value's binary form, then a ``-1`` trailer; all integers big-endian. Each column
is prepared on its own as a :class:`Column` (the lengths and the concatenated
bytes of its non-NULL values), then :func:`encode_rows` scatters them into one
buffer. Compared with COPY text, nothing is escaped or joined in Python, and
PostgreSQL reads integers and EWKB as they are instead of parsing text and hex.

Supported column types: ``text``, ``character varying(n)``, ``bigint``,
``boolean`` and ``geometry`` (EWKB, which PostGIS's receive function reads
and checks against the column's type and SRID). :func:`supports` says whether
a table's columns can all be written this way; the loader uses COPY text
otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"

#: shapely type id -> WKB type code (a LinearRing is written as a LineString).
WKB_CODE = {0: 1, 1: 2, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7}
#: The same as an array indexed by the shapely type id.
WKB_CODES = np.array([WKB_CODE[t] for t in range(8)], dtype="<u4")
#: shapely type id of a single geometry -> its multi type's WKB code (as :func:`as_multi`).
MULTI_CODE = {0: 4, 1: 5, 3: 6}
#: ``format_type`` names of the attribute types written in binary.
BINARY_TYPES = ("text", "bigint", "boolean")


def supports(sql_type: str) -> bool:
    """True if a column of ``sql_type`` (``format_type`` text) is written by this module.

    Examples
    --------
    >>> supports("character varying(100)"), supports("numeric"), supports("geometry(Point,5254)")
    (True, False, True)
    """
    lowered = sql_type.lower()
    return (lowered in BINARY_TYPES or lowered.startswith("character varying")
            or lowered.startswith("geometry"))


@dataclass(frozen=True)
class Column:
    """One column's values: byte length per row (``-1`` for NULL) and the bytes of the
    non-NULL values, concatenated in row order (``data``); or, for geometries, each row's
    bytes as its own object (``bodies``, ``b""`` for NULL) after a header from ``heads``
    (rows, header bytes), since a geometry's bytes are best copied whole."""

    lengths: np.ndarray
    data: np.ndarray
    width: int = 0  # fixed width of every non-NULL value (0: variable)
    bodies: np.ndarray | None = None
    heads: tuple[tuple[np.ndarray, bytes], ...] = ()


def as_multi(geoms: np.ndarray) -> np.ndarray:
    """Single geometries as one-part multi geometries (multi ones and ``None`` unchanged).

    Examples
    --------
    >>> as_multi(np.array([shapely.box(0, 0, 1, 1)], dtype=object))[0].geom_type
    'MultiPolygon'
    """
    types = shapely.get_type_id(geoms)
    out = np.asarray(geoms, dtype=object).copy()
    for single, make in ((0, shapely.multipoints), (1, shapely.multilinestrings),
                         (3, shapely.multipolygons)):
        mask = types == single
        if mask.any():
            out[mask] = make(out[mask].reshape(-1, 1))
    return out


def _null_mask(values: pd.Series | np.ndarray) -> np.ndarray:
    return np.asarray(pd.isna(values), dtype=bool)


def text_column(values: pd.Series | np.ndarray) -> Column:
    """Text values (UTF-8); NA is NULL.

    The values are joined and encoded once; each value's byte length is its character
    length, or where the text is not ASCII, the distance between the bytes its first and
    next value's first characters start at (a UTF-8 character starts at every byte but
    a continuation byte).

    Examples
    --------
    >>> text_column(np.array(["ağ", None, "", "İx"], dtype=object)).lengths.tolist()
    [3, -1, 0, 3]
    """
    series = pd.Series(values, copy=False)
    null = _null_mask(series)
    texts = series.to_numpy(dtype=object)[~null].tolist()
    try:
        joined = "".join(texts)
    except TypeError:  # not all text
        texts = [v if isinstance(v, str) else str(v) for v in texts]
        joined = "".join(texts)
    data = np.frombuffer(joined.encode("utf-8"), dtype=np.uint8)  # the values' bytes
    sizes = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))  # characters
    if len(data) != len(joined):  # not ASCII: from characters to bytes
        starts = np.append(np.flatnonzero((data & 0xC0) != 0x80), len(data))
        ends = starts[np.cumsum(sizes)]
        sizes = ends - np.concatenate([[0], ends[:-1]])
    lengths = np.full(len(series), -1, dtype=np.int64)
    lengths[~null] = sizes
    return Column(lengths, data)


def int8_column(values: pd.Series | np.ndarray) -> Column:
    """64-bit integers; NA is NULL."""
    series = pd.Series(values, copy=False)
    null = _null_mask(series)
    ints = series[~null].to_numpy(dtype=np.int64)
    lengths = np.where(null, -1, 8).astype(np.int64)
    return Column(lengths, ints.astype(">i8").view(np.uint8), width=8)


def bool_column(values: pd.Series | np.ndarray) -> Column:
    """Booleans; NA is NULL."""
    series = pd.Series(values, copy=False)
    null = _null_mask(series)
    flags = series[~null].to_numpy(dtype=bool)
    lengths = np.where(null, -1, 1).astype(np.int64)
    return Column(lengths, flags.astype(np.uint8), width=1)


def constant_int8_column(value: int, rows: int) -> Column:
    """The same 64-bit integer on every row (e.g. the batch id)."""
    data = np.tile(np.frombuffer(int(value).to_bytes(8, "big", signed=True), np.uint8), rows)
    return Column(np.full(rows, 8, dtype=np.int64), data, width=8)


def reusable_wkb(wkb: np.ndarray, types: np.ndarray) -> np.ndarray:
    """The values of ``wkb`` that are 2D little-endian WKB of the type in ``types`` (shapely
    type ids), ``None`` for the others (missing, big-endian, another type, Z or M).

    Examples
    --------
    >>> point = shapely.Point(1, 2)
    >>> wkb = np.array([shapely.to_wkb(point, byte_order=1), shapely.to_wkb(point, byte_order=0),
    ...                 None], dtype=object)
    >>> [w is not None for w in reusable_wkb(wkb, np.array([0, 0, 0]))]
    [True, False, False]
    """
    out = np.full(len(wkb), None, dtype=object)
    given = np.flatnonzero(pd.notna(wkb) & (types >= 0))
    if len(given):
        head = np.array(wkb[given].tolist(), dtype="S5").view(np.uint8).reshape(-1, 5)
        code = head[:, 1:].copy().view("<u4").ravel()  # the type (short values: zeros)
        ok = given[(head[:, 0] == 1) & (code == WKB_CODES[types[given]])]
        out[ok] = wkb[ok]
    return out


def geometry_column(geoms: np.ndarray, srid: int, *, multi: bool = False,
                    wkb: np.ndarray | None = None) -> Column:
    """Geometries as EWKB with ``srid``; missing ones are NULL. With ``multi``, single
    geometries become one-part multi geometries (what ``ST_Multi`` does).

    2D geometries are written by GEOS as plain WKB and get their EWKB header (type with
    the SRID flag, the SRID, and for ``multi`` a one-part header) from a table per type,
    written over the start of the value's slot: no per-row bytes are built in Python.
    ``wkb`` may give each geometry's WKB as it was read (e.g. GDAL's; ``None`` for a
    geometry made or changed since): a 2D little-endian one of the geometry's own type
    (:func:`reusable_wkb`) is sent as it is instead of being written again by GEOS.

    Examples
    --------
    >>> col = geometry_column(np.array([shapely.Point(1, 2), None]), 5254)
    >>> col.lengths.tolist()
    [25, -1]
    """
    geoms = np.asarray(geoms, dtype=object)
    null = shapely.is_missing(geoms)
    present = geoms[~null]
    lengths = np.full(len(geoms), -1, dtype=np.int64)
    bodies = np.full(len(geoms), b"", dtype=object)
    empty = np.empty(0, dtype=np.uint8)
    if shapely.has_z(present).any():  # rare: let GEOS write the whole EWKB
        if multi:
            present = as_multi(present)
        raw = shapely.to_wkb(shapely.set_srid(present, srid), include_srid=True)
        lengths[~null] = np.fromiter(map(len, raw), dtype=np.int64, count=len(raw))
        bodies[~null] = raw
        return Column(lengths, empty, bodies=bodies)
    types = shapely.get_type_id(present)
    if wkb is None:
        raw = shapely.to_wkb(present, byte_order=1, output_dimension=2)
    else:
        raw = reusable_wkb(np.asarray(wkb, dtype=object)[~null], types)
        write = np.flatnonzero(pd.isna(raw))
        if len(write):
            raw[write] = shapely.to_wkb(present[write], byte_order=1, output_dimension=2)
    sizes = np.fromiter(map(len, raw), dtype=np.int64, count=len(raw))
    srid_le = int(srid).to_bytes(4, "little")
    heads: list[tuple[np.ndarray, bytes]] = []
    rows = np.flatnonzero(~null)
    for type_id in np.unique(types).tolist():
        mask = types == type_id
        if multi and type_id in MULTI_CODE:  # multi header + the single's whole WKB
            head = (b"\x01" + (MULTI_CODE[type_id] | 0x20000000).to_bytes(4, "little")
                    + srid_le + (1).to_bytes(4, "little"))
            bodies[rows[mask]] = raw[mask]
            lengths[rows[mask]] = len(head) + sizes[mask]
        else:  # byte order + type (5 bytes) replaced by byte order + type + SRID (9)
            head = b"\x01" + (WKB_CODE[type_id] | 0x20000000).to_bytes(4, "little") + srid_le
            cut = np.empty(int(mask.sum()), dtype=object)
            cut[:] = [b[5:] for b in raw[mask]]
            bodies[rows[mask]] = cut
            lengths[rows[mask]] = len(head) - 5 + sizes[mask]
        heads.append((rows[mask], head))
    return Column(lengths, empty, bodies=bodies, heads=tuple(heads))


def encode_rows(columns: Sequence[Column]) -> bytes:
    """One COPY binary payload (header, rows, trailer) from equally long columns.

    Every row's bytes up to its last column's values are scattered into one numpy buffer
    (field count, lengths, fixed-width values, text bytes, EWKB headers); a last column
    with ``bodies`` (geometries) is then interleaved with the rows' slices of that buffer
    by one ``bytes.join``, so the bulk of the data is copied whole, not byte by byte.

    Examples
    --------
    >>> payload = encode_rows([int8_column(np.array([7])), text_column(np.array(["a"]))])
    >>> payload[len(HEADER):len(HEADER) + 2], payload[-2:]
    (b'\\x00\\x02', b'\\xff\\xff')
    """
    rows = len(columns[0].lengths) if columns else 0
    if rows == 0:
        return HEADER + TRAILER
    if any(c.bodies is not None for c in columns[:-1]):
        raise ValueError("only the last column may hold bodies")
    tail = columns[-1].bodies
    if tail is not None:  # the buffer holds the last column's length and header only
        body_size = np.fromiter(map(len, tail), dtype=np.int64, count=rows)
    slots = np.stack([4 + np.maximum(c.lengths, 0) for c in columns], axis=1)
    if tail is not None:
        slots[:, -1] -= body_size
    row_size = 2 + slots.sum(axis=1)
    lead = 0 if tail is not None else len(HEADER)
    row_start = np.empty(rows, dtype=np.int64)
    row_start[0] = lead
    np.cumsum(row_size[:-1], out=row_start[1:])
    row_start[1:] += lead
    total = int(row_start[-1] + row_size[-1])
    out = np.empty(total + (0 if tail is not None else len(TRAILER)), dtype=np.uint8)
    if tail is None:
        out[:len(HEADER)] = np.frombuffer(HEADER, dtype=np.uint8)
        out[-2:] = 0xFF
    count = len(columns).to_bytes(2, "big")
    out[row_start] = count[0]
    out[row_start + 1] = count[1]
    start = row_start + 2  # where each row's current field begins
    for c, column in enumerate(columns):
        be = column.lengths.astype(">i4").view(np.uint8).reshape(rows, 4)
        for b in range(4):
            out[start + b] = be[:, b]
        present = column.lengths > 0
        data_at = start[present] + 4
        if column.width:  # fixed width: one 2-D scatter
            out[data_at[:, None] + np.arange(column.width)] = column.data.reshape(
                -1, column.width)
        elif len(column.data):
            sizes = column.lengths[present]
            ends = np.cumsum(sizes)
            # byte j of value i goes to data_at[i] + (j - first byte of value i)
            offset = np.repeat(data_at - (ends - sizes), sizes)
            offset += np.arange(len(column.data), dtype=np.int64)
            out[offset] = column.data
        for where, head in column.heads:  # e.g. EWKB headers, at the start of the value
            out[(start[where] + 4)[:, None] + np.arange(len(head))] = np.frombuffer(
                head, dtype=np.uint8)
        start = start + slots[:, c]
    if tail is None:
        return out.tobytes()
    buffer = out.tobytes()
    pieces = np.empty(2 * rows, dtype=object)
    pieces[0::2] = [buffer[a:b] for a, b in zip(row_start.tolist(), start.tolist(),
                                                strict=True)]
    pieces[1::2] = tail
    return b"".join([HEADER, *pieces.tolist(), TRAILER])
