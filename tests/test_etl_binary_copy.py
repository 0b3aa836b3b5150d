"""COPY binary (etl.binary_copy) stores exactly what COPY text stores, in the real PostGIS."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import psycopg2
import pytest
import shapely
from django.db import connection

from etl import binary_copy
from etl.load import _csv_frame, _text_for_copy, hex_ewkb

pytestmark = pytest.mark.django_db

COLUMNS = ("a text, v character varying(20), n bigint, b boolean, batch bigint, "
           "g geometry")  # untyped: the 3D one too


def sample() -> tuple[pd.Series, pd.Series, pd.Series, pd.Series, np.ndarray]:
    n = 1200
    text = pd.array([f"B-{i}" if i % 7 else None for i in range(n)], dtype="string")
    text[3] = "Yenidoğan\tŞ\\x\n\r\x01 İı"
    text[4] = ""
    varchar = pd.array(["Gökmeydan" if i % 3 else None for i in range(n)], dtype="string")
    ints = pd.array([(i - 600) * 10**12 if i % 5 else None for i in range(n)], dtype="Int64")
    flags = pd.array([bool(i % 2) if i % 3 else None for i in range(n)], dtype="boolean")
    geoms = shapely.box(np.arange(n) * 30.0, 0, np.arange(n) * 30.0 + 20, 20).astype(object)
    geoms[5] = None
    geoms[6] = shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3)])
    geoms[7] = shapely.MultiPolygon([shapely.box(0, 0, 1, 1)])
    geoms[8] = shapely.Polygon([(0, 0, 1), (1, 0, 2), (1, 1, 3), (0, 0, 1)])  # 3D
    geoms[9] = shapely.Polygon(shapely.box(0, 0, 9, 9).exterior,
                               [shapely.box(2, 2, 3, 3).exterior])  # with a hole
    return (pd.Series(text), pd.Series(varchar), pd.Series(ints), pd.Series(flags), geoms)


def test_binary_copy_stores_what_text_copy_stores():
    text, varchar, ints, flags, geoms = sample()
    payload = binary_copy.encode_rows([
        binary_copy.text_column(text), binary_copy.text_column(varchar),
        binary_copy.int8_column(ints), binary_copy.bool_column(flags),
        binary_copy.constant_int8_column(17, len(geoms)),
        binary_copy.geometry_column(geoms, 5254, multi=True)])
    lines = _csv_frame(pd.DataFrame({
        "a": _text_for_copy(text).to_numpy(), "v": _text_for_copy(varchar).to_numpy(),
        "n": _text_for_copy(ints).to_numpy(), "b": _text_for_copy(flags).to_numpy(),
        "batch": "17", "g": hex_ewkb(geoms, 5254, multi=True)}))
    with connection.cursor() as cur:
        raw = cur.cursor
        cur.execute(f"CREATE TEMP TABLE copy_bin ({COLUMNS})")
        cur.execute(f"CREATE TEMP TABLE copy_text ({COLUMNS})")
        raw.copy_expert("COPY copy_bin FROM STDIN (FORMAT binary)", io.BytesIO(payload))
        raw.copy_expert("COPY copy_text FROM STDIN", lines)
        query = ("SELECT a, v, n, b, batch, ST_AsEWKB(g) FROM {} "
                 "ORDER BY batch, ctid")
        cur.execute(query.format("copy_bin"))
        stored = cur.fetchall()
        cur.execute(query.format("copy_text"))
        expected = cur.fetchall()
    assert len(stored) == len(geoms)
    assert [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in stored] == [
        tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in expected]
    assert stored[3][0] == "Yenidoğan\tŞ\\x\n\r\x01 İı" and stored[4][0] == ""
    assert stored[5][5] is None and stored[1][2] == -599 * 10**12


def test_binary_copy_type_mismatch_fails_in_postgis():
    """The column's geometry type and SRID are checked by PostGIS's receive function."""
    payload = binary_copy.encode_rows([
        binary_copy.geometry_column(np.array([shapely.Point(1, 2)], dtype=object), 5254)])
    with connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE copy_poly (g geometry(MultiPolygon, 5254))")
        with pytest.raises(psycopg2.Error, match=r"(?i)geometry type"):
            cur.cursor.copy_expert("COPY copy_poly FROM STDIN (FORMAT binary)",
                                   io.BytesIO(payload))


def test_only_the_last_column_holds_whole_values():
    geoms = binary_copy.geometry_column(np.array([shapely.Point(1, 2)], dtype=object), 5254)
    with pytest.raises(ValueError, match="last column"):
        binary_copy.encode_rows([geoms, binary_copy.constant_int8_column(1, 1)])
    plain = binary_copy.encode_rows([binary_copy.constant_int8_column(1, 1)])
    assert plain == (binary_copy.HEADER + b"\x00\x01" + b"\x00\x00\x00\x08"
                     + (1).to_bytes(8, "big") + binary_copy.TRAILER)


def test_supported_types():
    assert binary_copy.supports("text") and binary_copy.supports("bigint")
    assert binary_copy.supports("character varying(100)")
    assert binary_copy.supports("geometry(MultiPolygon,5254)")
    assert not binary_copy.supports("numeric") and not binary_copy.supports("date")
    assert not binary_copy.supports("timestamp with time zone")


def test_text_lengths_are_bytes():
    ascii_only = binary_copy.text_column(pd.Series(["abc", None, "", "de"], dtype="string"))
    assert ascii_only.lengths.tolist() == [3, -1, 0, 2]
    assert ascii_only.data.tobytes() == b"abcde"
    turkish = binary_copy.text_column(pd.Series(["ağ", "İ", None, "ağ", "x"], dtype="string"))
    assert turkish.lengths.tolist() == [3, 2, -1, 3, 1]
    assert turkish.data.tobytes() == "ağİağx".encode()


@pytest.mark.parametrize("multi", [True, False])
def test_wkb_as_read_is_sent_when_it_is_the_geometry_own(multi):
    """WKB given with the geometries (as GDAL wrote them) is sent as it is when it is 2D,
    little-endian and of the geometry's own type; the payload is the same either way."""
    geoms = sample()[4]
    geoms[8] = shapely.box(0, 0, 2, 2)  # 2D (a 3D geometry makes GEOS write every row)
    wkb = shapely.to_wkb(geoms, byte_order=1).astype(object)
    wkb[10] = shapely.to_wkb(geoms[10], byte_order=0)  # big-endian
    wkb[11] = None  # the geometry was changed since it was read
    wkb[12] = shapely.to_wkb(shapely.force_3d(geoms[12]), byte_order=1, flavor="iso")  # Z
    wkb[13] = shapely.to_wkb(shapely.MultiPolygon([geoms[13]]), byte_order=1)  # another type
    reused = binary_copy.geometry_column(geoms, 5254, multi=multi, wkb=wkb)
    written = binary_copy.geometry_column(geoms, 5254, multi=multi)
    assert binary_copy.encode_rows([reused]) == binary_copy.encode_rows([written])
    kept = binary_copy.reusable_wkb(wkb, shapely.get_type_id(geoms))
    assert kept[0] is wkb[0] and kept[9] is wkb[9] and kept[6] is wkb[6]
    assert all(kept[i] is None for i in (5, 10, 11, 12, 13))
    if multi:  # a single geometry's whole WKB follows its multi header
        assert reused.bodies is not None and reused.bodies[0] is wkb[0]
