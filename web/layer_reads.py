"""Permission-aware reads of registry layers for the map tools: identify, labels, export.

Every decision goes through ``layers.access`` by way of ``ogc_api.selectors.layer_view``
(which layers, which fields, which rows), the question the OGC API asks on every
path; reads of a layer holding personal data are written to the same access log
(``ogc_api.services.record_access``, ``via="web"``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from psycopg2 import sql

from gis_core.routers import reader
from layers.codelists import all_codelists, codelist, codelist_names
from layers.errors import UnknownCodeListError
from ogc_api.config import LayerView
from ogc_api.selectors import layer_view, layer_views

#: Web Mercator ground resolution at zoom 0 on the equator, metres per 256-pixel tile pixel.
MERCATOR_M_PER_PX = 156543.03392804097
#: A click picks what is drawn within this many pixels of the cursor.
IDENTIFY_PIXELS = 6
#: At most this many features per layer answer one click.
IDENTIFY_LIMIT = 10
#: Labels: at most this many per layer and view.
LABEL_LIMIT = 400


def tolerance_metres(*, lat: float, zoom: float, pixels: float = IDENTIFY_PIXELS) -> float:
    """``pixels`` screen pixels as metres on the ground at ``zoom`` and latitude ``lat``.

    A TM zone's scale factor is within 0.01 % of 1 inside its 3° band, so ground metres
    are the zone's metres.

    Examples
    --------
    >>> round(tolerance_metres(lat=39.77, zoom=18, pixels=6), 2)
    2.74
    """
    return pixels * MERCATOR_M_PER_PX * math.cos(math.radians(lat)) / 2 ** zoom


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class FieldInfo:
    name: str
    title: str
    type: str
    codelist: str | None
    #: Words for the field's stored values (code list or enum), empty when it has none.
    labels: dict[str, str]


def field_infos(view: LayerView, *, lang: str) -> list[FieldInfo]:
    """The fields ``view`` shows (personal ones only to those allowed), with titles."""
    layer = view.layer
    return [FieldInfo(name, layer.field(name).title.text(lang), layer.field(name).type,
                      layer.field(name).codelist, value_labels(layer, name, lang=lang))
            for name in view.fields]


#: Code-list words already read by the current page (see :func:`labels_memo`).
_LABELS_MEMO: ContextVar[dict[tuple[str, str], dict[str, str]] | None] = ContextVar(
    "kentcbs_labels_memo", default=None)


@contextmanager
def labels_memo() -> Iterator[None]:
    """Read each code list once inside the block (a page that describes every layer asks
    for the same lists many times: the map page asked 12 times for 8 lists)."""
    token = _LABELS_MEMO.set({})
    try:
        yield
    finally:
        _LABELS_MEMO.reset(token)


def _code_labels(name: str, lang: str) -> dict[str, str]:
    memo = _LABELS_MEMO.get()
    if memo is None:
        return {entry.code: (entry.label_en if lang == "en" else entry.label_tr)
                for entry in codelist(name)}
    if (name, lang) not in memo:
        if name not in codelist_names():
            raise UnknownCodeListError(name)
        # the first list asked for inside the block brings every list, in one query
        for list_name, entries in all_codelists().items():
            memo[(list_name, lang)] = {entry.code: (entry.label_en if lang == "en"
                                                    else entry.label_tr)
                                       for entry in entries}
    return dict(memo[(name, lang)])


def _choice_labels(layer: Any, source_path: str, lang: str) -> dict[str, str]:
    """The ``choices`` of the model field behind a model-backed layer's column, in ``lang``."""
    from django.core.exceptions import FieldDoesNotExist
    from django.utils import translation

    from layers.views import resolve_model

    try:
        model = resolve_model(layer)
        parts = source_path.split(".")
        for part in parts[:-1]:
            model = model._meta.get_field(part).related_model
        field = model._meta.get_field(parts[-1])
    except (LookupError, FieldDoesNotExist, AttributeError):
        return {}
    with translation.override(lang):
        return {str(value): _capfirst(str(text), lang) for value, text in
                (field.flatchoices or [])}


def _capfirst(text: str, lang: str) -> str:
    """The first letter upper case, as legend lines are ("kısmi kesinti" -> "Kısmi kesinti");
    Turkish dotted i becomes İ."""
    if not text:
        return text
    first = "İ" if lang == "tr" and text[0] == "i" else text[0].upper()
    return first + text[1:]


def value_labels(layer: Any, name: str, *, lang: str) -> dict[str, str]:
    """Words for the stored values of field ``name`` of ``layer`` in ``lang``.

    From the field's code list; for an ``enum`` of a model-backed layer, from the model
    field's ``choices`` (their translations). A value without a word keeps its own text.
    Used by the legend, identify, the attribute table and the XLSX export alike.
    """
    fdef = layer.field(name)
    if fdef.codelist:
        return _code_labels(fdef.codelist, lang)
    if fdef.enum is not None and layer.is_model_backed:
        labels = _choice_labels(layer, fdef.source_path, lang)
        return {str(v): labels[str(v)] for v in fdef.enum if str(v) in labels}
    return {}


def audit(*, user: Any, view: LayerView, path: str, query: str, bbox: str = "",
          filter_text: str = "") -> None:
    """Log the read when the layer holds personal data (the OGC API's KVKK access log)."""
    if view.layer.personal_data:
        from ogc_api.services import record_access

        record_access(user=user, layer=view.layer.code, path=path, query=query, bbox=bbox,
                      filter_text=filter_text, via="web")


def identify(*, user: Any, lon: float, lat: float, zoom: float, lang: str,
             codes: list[str] | None = None, path: str = "", query: str = ""
             ) -> dict[str, Any]:
    """The features of every readable layer within a few pixels of a WGS84 point.

    One SQL statement per layer, answered by its spatial index (``&&`` on the
    point's box in the layer's SRID, then ``ST_DWithin``), nearest first.

    Parameters
    ----------
    codes : list of str, optional
        Only these layers (the ones shown on the map); default every readable layer.
    """
    views = layer_views(user=user)
    if codes is not None:
        views = {code: views[code] for code in codes if code in views}
    tolerance = tolerance_metres(lat=lat, zoom=zoom)
    out: list[dict[str, Any]] = []
    for code in sorted(views, key=lambda c: _identify_order(views[c])):
        view = views[code]
        features = _identify_layer(view, lon=lon, lat=lat, tolerance=tolerance, lang=lang)
        if features:
            audit(user=user, view=view, path=path, query=query,
                  bbox=f"point {lon:.7f} {lat:.7f} ±{tolerance:.1f} m")
            out.append({"code": code, "title": view.layer.title.text(lang),
                        "geometry_type": view.layer.geometry_type, "features": features})
    return {"lon": lon, "lat": lat, "zoom": zoom, "tolerance_m": round(tolerance, 2),
            "layers": out}


def _identify_order(view: LayerView) -> tuple[int, str]:
    # Points, then lines, then areas: the small thing under the cursor first.
    kind = view.layer.geometry_type
    return (0 if "Point" in kind else 1 if "Line" in kind else 2, view.layer.code)


def _identify_layer(view: LayerView, *, lon: float, lat: float, tolerance: float,
                    lang: str) -> list[dict[str, Any]]:
    layer = view.layer
    infos = field_infos(view, lang=lang)
    geom = sql.Identifier(layer.geometry_column)
    point = sql.SQL("ST_Transform(ST_SetSRID(ST_MakePoint({}, {}), 4326), {})").format(
        sql.Literal(lon), sql.Literal(lat), sql.Literal(layer.srid))
    where = sql.SQL("{g} && ST_Expand(p.pt, {t}) AND ST_DWithin({g}, p.pt, {t})").format(
        g=geom, t=sql.Literal(tolerance))
    if view.rows is not None:
        where = sql.SQL("{} AND ({})").format(where, sql.SQL(view.rows))
    columns = [sql.Identifier(layer.id_column), *[sql.Identifier(f.name) for f in infos]]
    statement = sql.SQL(
        "SELECT {cols}, ST_AsGeoJSON(ST_Transform(ST_SimplifyPreserveTopology({g}, {s}), 4326),"
        " 7) FROM {table}, (SELECT {point} AS pt) AS p WHERE {where} "
        "ORDER BY ST_Distance({g}, p.pt), ST_Area({g}), {id} LIMIT {limit}").format(
        cols=sql.SQL(", ").join(columns), g=geom, s=sql.Literal(tolerance / 4),
        table=sql.Identifier(layer.table_schema, layer.table_name), point=point, where=where,
        id=sql.Identifier(layer.id_column), limit=sql.Literal(IDENTIFY_LIMIT))
    with reader().cursor() as cursor:  # the replica when configured
        cursor.execute(statement)
        rows = cursor.fetchall()
    features = []
    for row in rows:
        values = row[1:-1]
        fields = []
        for info, value in zip(infos, values, strict=True):
            shown = _json_value(value)
            text = info.labels.get(str(value)) if value is not None else None
            fields.append({"name": info.name, "title": info.title, "value": shown,
                           **({"label": text} if text else {})})
        features.append({"id": _json_value(row[0]),
                         "properties": {f["name"]: f["value"] for f in fields},
                         "fields": fields,
                         "geometry": json.loads(row[-1]) if row[-1] else None})
    return features


def labels(*, user: Any, code: str, bbox: tuple[float, float, float, float]
           ) -> list[dict[str, Any]]:
    """Label texts and anchor points (WGS84) of layer ``code`` inside a CRS84 ``bbox``.

    Only layers whose standard names a label field (``style.label``) that the user may
    see; a line is labelled at its middle, an area at a point on its surface.
    """
    view = layer_view(user=user, code=code)
    if view is None or not view.layer.style.label or view.layer.style.label not in view.fields:
        return []
    layer = view.layer
    geom = sql.Identifier(layer.geometry_column)
    label = sql.Identifier(layer.style.label)
    if "Line" in layer.geometry_type:
        anchor = sql.SQL("ST_LineInterpolatePoint(ST_LineMerge(ST_GeometryN({}, 1)), 0.5)"
                         ).format(geom)
    else:
        anchor = sql.SQL("ST_PointOnSurface({})").format(geom)
    envelope = sql.SQL("ST_Transform(ST_MakeEnvelope({}, {}, {}, {}, 4326), {})").format(
        *map(sql.Literal, bbox), sql.Literal(layer.srid))
    where = sql.SQL("{} && {} AND {} IS NOT NULL AND {} <> ''").format(
        geom, envelope, label, label)
    if view.rows is not None:
        where = sql.SQL("{} AND ({})").format(where, sql.SQL(view.rows))
    statement = sql.SQL(
        "SELECT {label}::text, ST_X(a), ST_Y(a) FROM (SELECT DISTINCT ON ({label}) {label}, "
        "ST_Transform({anchor}, 4326) AS a FROM {table} WHERE {where} ORDER BY {label}, "
        "ST_Length({g}) DESC, ST_Area({g}) DESC) AS l WHERE a IS NOT NULL LIMIT {limit}").format(
        label=label, anchor=anchor, table=sql.Identifier(layer.table_schema, layer.table_name),
        where=where, g=geom, limit=sql.Literal(LABEL_LIMIT))
    with reader().cursor() as cursor:  # the replica when configured
        cursor.execute(statement)
        return [{"text": text, "lon": x, "lat": y} for text, x, y in cursor.fetchall()]


def export_rows(view: LayerView, where: sql.Composable, *, chunk: int = 5000
                ) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of ``view`` matching ``where``, in chunks, from a server-side cursor.

    Each row is ``(id, *visible fields, geometry as WKB in the layer's SRID)``; the
    whole result is never held in memory.
    """
    layer = view.layer
    if view.rows is not None:
        where = sql.SQL("({}) AND ({})").format(where, sql.SQL(view.rows))
    statement = sql.SQL("SELECT {cols}, ST_AsBinary({g}) FROM {table} WHERE {where} "
                        "ORDER BY {id}").format(
        cols=sql.SQL(", ").join([sql.Identifier(layer.id_column),
                                 *[sql.Identifier(name) for name in view.fields]]),
        g=sql.Identifier(layer.geometry_column),
        table=sql.Identifier(layer.table_schema, layer.table_name), where=where,
        id=sql.Identifier(layer.id_column))
    with connection.chunked_cursor() as cursor:
        cursor.itersize = chunk
        cursor.execute(statement)
        while True:
            rows = cursor.fetchmany(chunk)
            if not rows:
                return
            yield rows
