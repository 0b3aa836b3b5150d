"""A layer's features, as filtered in the attribute table, written to CSV, XLSX or GeoPackage.

The filter is the OGC API's own (CQL2 text, checked against the caller's fields by
``ogc_api.query.parse_items``); rows come from a server-side cursor in chunks, so
no format holds the whole layer in memory: CSV is streamed to the client, XLSX is
written by openpyxl in write-only mode and GeoPackage by pyogrio, chunk by chunk,
to a temporary file that is sent and then removed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.http import QueryDict
from psycopg2 import sql

from ogc_api.config import LayerView
from ogc_api.query import ParameterError, parse_items, where_clause
from web.layer_reads import export_rows, value_labels

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "gpkg": "application/geopackage+sqlite3",
}
#: Parameters the export understands (the attribute table's query, without paging).
EXPORT_PARAMS = frozenset({"filter", "filter-lang", "bbox", "sortby"})


def export_where(view: LayerView, params: QueryDict) -> tuple[sql.Composable, str]:
    """The SQL condition of the table's filter, and the filter text (for the access log).

    Raises
    ------
    ogc_api.query.ParameterError
        An unknown parameter or an invalid filter (answered with 400).
    """
    fields = {name: view.layer.field(name).type for name in view.fields}
    clean = QueryDict(mutable=True)
    for name in params:
        if name not in EXPORT_PARAMS:
            raise ParameterError("unknown parameter {name}", name=repr(name[:40]))
        if name != "sortby":
            clean.setlist(name, params.getlist(name))
    query = parse_items(clean, view.layer, fields, rows=None)
    return where_clause(query, with_cursor=False), query.filter_text


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, memoryview):
        return bytes(value)
    return value


def _sheet_cell(value: Any) -> Any:
    """A value as Excel takes it: a timezone-aware time becomes local wall-clock time
    (Excel has no time zones; openpyxl refuses aware datetimes)."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        from django.utils import timezone

        return timezone.localtime(value).replace(tzinfo=None)
    return _cell(value)


def _wkt(chunk: list[tuple[Any, ...]]) -> list[str]:
    import shapely

    geoms = shapely.from_wkb([bytes(row[-1]) if row[-1] is not None else None for row in chunk])
    return [text or "" for text in shapely.to_wkt(geoms, rounding_precision=3)]


def csv_stream(view: LayerView, where: sql.Composable) -> Iterator[bytes]:
    """CSV rows (UTF-8 with a byte-order mark, so Excel reads Turkish letters), WKT geometry
    in the layer's TM zone in the last column."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([view.layer.id_column, *view.fields, f"wkt_epsg_{view.layer.srid}"])
    yield ("\ufeff" + buffer.getvalue()).encode()
    for chunk in export_rows(view, where):
        buffer.seek(0)
        buffer.truncate()
        for row, wkt in zip(chunk, _wkt(chunk), strict=True):
            writer.writerow([*(_cell(v) for v in row[:-1]), wkt])
        yield buffer.getvalue().encode()


def _temporary(suffix: str) -> str:
    handle, path = tempfile.mkstemp(prefix="kentcbs-export-", suffix=suffix)
    os.close(handle)
    return path


def write_xlsx(view: LayerView, where: sql.Composable, *, lang: str) -> str:
    """A write-only workbook (rows go to disk as they come); returns the file's path."""
    from openpyxl import Workbook

    path = _temporary(".xlsx")
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=view.layer.code[:31])
    layer = view.layer
    sheet.append([layer.id_column, *(layer.field(name).title.text(lang) for name in view.fields),
                  f"WKT (EPSG:{layer.srid})"])
    # A spreadsheet is read by people: stored codes become their words (code lists,
    # enums); CSV and GeoPackage keep the codes, so they load back unchanged.
    words = [value_labels(layer, name, lang=lang) for name in view.fields]
    for chunk in export_rows(view, where):
        for row, wkt in zip(chunk, _wkt(chunk), strict=True):
            cells = [_cell(row[0]), *(w.get(str(v), v) if w and v is not None
                                      else _sheet_cell(v)
                                      for w, v in zip(words, row[1:-1], strict=True))]
            sheet.append([*cells, wkt[:32_000]])
    book.save(path)
    return path


def write_gpkg(view: LayerView, where: sql.Composable) -> str:
    """A GeoPackage in the layer's TM zone, appended chunk by chunk; returns the file's path."""
    import geopandas as gpd
    import pandas as pd
    import pyogrio
    import shapely

    layer = view.layer
    path = _temporary(".gpkg")
    os.unlink(path)  # GDAL creates the file
    types = {name: layer.field(name).type for name in view.fields}
    columns = [layer.id_column, *view.fields]
    written = False
    for chunk in export_rows(view, where, chunk=10_000):
        frame = pd.DataFrame([[_cell(v) for v in row[:-1]] for row in chunk], columns=columns)
        for name, kind in types.items():
            if kind in {"date", "datetime"}:
                frame[name] = pd.to_datetime(frame[name])
            elif kind == "decimal":
                frame[name] = frame[name].astype("float64")
        geoms = shapely.from_wkb([bytes(row[-1]) if row[-1] is not None else None
                                  for row in chunk])
        gdf = gpd.GeoDataFrame(frame, geometry=geoms, crs=f"EPSG:{layer.srid}")
        pyogrio.write_dataframe(gdf, path, layer=layer.code, driver="GPKG",
                                append=written, promote_to_multi=None)
        written = True
    if not written:  # an empty selection: an empty layer with the same columns
        empty = gpd.GeoDataFrame({name: pd.Series(dtype="object") for name in columns},
                                 geometry=gpd.GeoSeries([], crs=f"EPSG:{layer.srid}"))
        pyogrio.write_dataframe(empty, path, layer=layer.code, driver="GPKG",
                                geometry_type=layer.geometry_type)
    return path


def export_filename(view: LayerView, fmt: str) -> str:
    return f"{view.layer.code}-{dt.date.today():%Y%m%d}.{fmt}"
