"""Items queries: request parameters checked to the letter, SQL built in PostGIS.

The FeatureCollection is assembled by PostgreSQL (``json_build_object`` /
``ST_AsGeoJSON``), pages are keyset pages on the id column (``cursor``), and
``numberMatched`` is exact only when the planner says the match is small.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.db.utils import DatabaseError
from psycopg2 import sql

from ogc_api.cql2 import CRS84_SRID, FilterError, Translator, parse_filter

if TYPE_CHECKING:
    from django.http import QueryDict

    from layers.schema import LayerDefinition

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000
#: numberMatched is counted exactly only when the planner expects a small, cheap match;
#: otherwise it is omitted (it is optional in Features Part 1, and a wrong number is worse).
EXACT_COUNT_BELOW = 10_000
EXACT_COUNT_MAX_COST = 20_000.0
#: CRS84 bbox clamp before projecting into a TM zone (Turkey and around).
PROJECTABLE = (20.0, 30.0, 50.0, 46.0)

ITEMS_PARAMS = frozenset({"f", "lang", "limit", "bbox", "bbox-crs", "crs", "datetime", "filter",
                          "filter-lang", "filter-crs", "cursor", "offset"})
ITEM_PARAMS = frozenset({"f", "lang", "crs"})

_DATETIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?|\.\.|)$", re.I)


def crs_uri(srid: int) -> str:
    return CRS84 if srid == CRS84_SRID else f"http://www.opengis.net/def/crs/EPSG/0/{srid}"


def supported_crs(layer: LayerDefinition) -> list[str]:
    """CRS URIs a layer is served in: CRS84 first, then its storage CRS and the municipality's."""
    out = [CRS84]
    for srid in (layer.srid, settings.KENTCBS_SRID):
        if crs_uri(srid) not in out:
            out.append(crs_uri(srid))
    return out


class ParameterError(ValueError):
    """A request parameter is invalid (HTTP 400)."""


def _srid_of(uri: str, layer: LayerDefinition, what: str) -> int:
    uri = uri.strip()
    if uri in {CRS84, "[OGC:CRS84]", "OGC:CRS84"}:
        return CRS84_SRID
    for candidate in supported_crs(layer)[1:]:
        srid = int(candidate.rsplit("/", 1)[1])
        if uri in {candidate, f"EPSG:{srid}", f"[EPSG:{srid}]"}:
            return srid
    raise ParameterError(f"unsupported {what}")


@dataclass
class ItemsQuery:
    """Validated parameters of one /items request."""

    layer: LayerDefinition
    fields: dict[str, str]
    limit: int = DEFAULT_LIMIT
    cursor: int | None = None
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    bbox_srid: int = CRS84_SRID
    out_srid: int = CRS84_SRID
    filter_text: str = ""
    filter_sql: sql.Composable | None = None
    properties: dict[str, Any] = field(default_factory=dict)

    @property
    def has_selection(self) -> bool:
        return bool(self.bbox or self.filter_sql is not None or self.properties)


def _int(value: str, name: str, low: int, high: int) -> int:
    if not re.fullmatch(r"\d{1,12}", value.strip()):
        raise ParameterError(f"{name} must be an integer")
    number = int(value)
    if not low <= number <= high:
        raise ParameterError(f"{name} must be between {low} and {high}")
    return number


def _bbox(value: str) -> tuple[float, float, float, float]:
    parts = value.split(",")
    if len(parts) not in {4, 6}:
        raise ParameterError("bbox needs 4 or 6 numbers")
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        raise ParameterError("bbox needs numbers") from None
    if not all(math.isfinite(n) for n in numbers):
        raise ParameterError("bbox numbers must be finite")
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    minx, miny, maxx, maxy = numbers
    if minx > maxx or miny > maxy:
        raise ParameterError("bbox lower corner must be below and left of the upper corner")
    return minx, miny, maxx, maxy


def _property_value(raw: str, kind: str) -> Any:
    try:
        if kind == "integer":
            return int(raw)
        if kind == "decimal":
            value = Decimal(raw)
            if not value.is_finite():
                raise ParameterError("numbers must be finite")
            return value
        if kind == "boolean":
            if raw.lower() not in {"true", "false"}:
                raise ParameterError("boolean values are true or false")
            return raw.lower() == "true"
        if kind == "date":
            return dt.date.fromisoformat(raw)
        if kind == "datetime":
            return dt.datetime.fromisoformat(raw)
    except (ValueError, InvalidOperation):
        raise ParameterError("property value does not fit the property's type") from None
    if "\x00" in raw:
        raise ParameterError("values may not contain NUL")
    return raw


def parse_items(params: QueryDict, layer: LayerDefinition, fields: dict[str, str]) -> ItemsQuery:
    """Check the query parameters of ``/items``; raise ParameterError on anything invalid."""
    query = ItemsQuery(layer=layer, fields=fields)
    for name in params:
        if len(params.getlist(name)) > 1:
            raise ParameterError(f"parameter {name[:40]!r} is repeated")
        if name not in ITEMS_PARAMS and name not in fields:
            raise ParameterError(f"unknown parameter {name[:40]!r}")
    if "limit" in params:
        query.limit = _int(params["limit"], "limit", 1, MAX_LIMIT)
    if "cursor" in params:
        query.cursor = _int(params["cursor"], "cursor", 0, 10**12 - 1)
    if "offset" in params:
        query.offset = _int(params["offset"], "offset", 0, 10**9)
    if "crs" in params:
        query.out_srid = _srid_of(params["crs"], layer, "crs")
    if "bbox-crs" in params:
        if "bbox" not in params:
            raise ParameterError("bbox-crs without bbox")
        query.bbox_srid = _srid_of(params["bbox-crs"], layer, "bbox-crs")
    if "bbox" in params:
        query.bbox = _bbox(params["bbox"])
        if query.bbox_srid == CRS84_SRID:
            minx, miny, maxx, maxy = query.bbox
            if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
                raise ParameterError("bbox is outside CRS84 bounds")
    if "datetime" in params:
        value = params["datetime"]
        ends = value.split("/")
        if len(ends) > 2 or not all(_DATETIME.match(end) for end in ends) \
                or ends == ["..", ".."] or value in {"", ".."}:
            raise ParameterError("datetime must be an RFC 3339 instant or interval")
        # No registry layer has a temporal extent: a valid datetime selects every feature
        # (Features Part 1, 7.15.4); an invalid one was answered with 400 above.
    lang = params.get("filter-lang", "cql2-text")
    if lang not in {"cql2-text", "cql2-json"}:
        raise ParameterError("filter-lang must be cql2-text or cql2-json")
    filter_srid = CRS84_SRID
    if "filter-crs" in params:
        filter_srid = _srid_of(params["filter-crs"], layer, "filter-crs")
    if "filter" in params:
        query.filter_text = params["filter"]
        translator = Translator(fields=fields, geometry_column=layer.geometry_column,
                                storage_srid=layer.srid, filter_srid=filter_srid)
        try:
            query.filter_sql = translator.translate(parse_filter(query.filter_text, lang))
        except FilterError as exc:
            raise ParameterError(str(exc)) from None
    for name in params:
        if name in fields and name not in ITEMS_PARAMS:
            query.properties[name] = _property_value(params[name], fields[name])
    return query


# -- SQL ------------------------------------------------------------------
def _geojson(layer: LayerDefinition, out_srid: int, *, safe: bool) -> sql.Composable:
    geom = sql.Identifier(layer.geometry_column)
    projected: sql.Composable = geom if out_srid == layer.srid else sql.SQL(
        "ST_Transform({}, {})").format(geom, sql.Literal(out_srid))
    digits = 8 if out_srid == CRS84_SRID else 3
    if safe:
        return sql.SQL("ogc_api_safe_geojson({}, {}, {})").format(
            geom, sql.Literal(out_srid), sql.Literal(digits))
    return sql.SQL("ST_AsGeoJSON({}, {})::json").format(projected, sql.Literal(digits))


def _properties(names: list[str]) -> sql.Composable:
    if not names:
        return sql.SQL("'{}'::json")
    chunks = [names[i:i + 50] for i in range(0, len(names), 50)]
    parts = [sql.SQL("jsonb_build_object({})").format(sql.SQL(", ").join(
        sql.SQL("{}, {}").format(sql.Literal(n), sql.Identifier(n)) for n in chunk))
        for chunk in chunks]
    if len(parts) == 1:
        return sql.SQL("json_build_object({})").format(sql.SQL(", ").join(
            sql.SQL("{}, {}").format(sql.Literal(n), sql.Identifier(n)) for n in names))
    return sql.SQL("({})::json").format(sql.SQL(" || ").join(parts))


def table_ref(layer: LayerDefinition) -> sql.Composable:
    return sql.Identifier(layer.table_schema, layer.table_name)


def where_clause(query: ItemsQuery, *, with_cursor: bool = True) -> sql.Composable:
    layer = query.layer
    conditions: list[sql.Composable] = []
    if query.bbox is not None:
        minx, miny, maxx, maxy = query.bbox
        if query.bbox_srid == CRS84_SRID:
            minx, miny = max(minx, PROJECTABLE[0]), max(miny, PROJECTABLE[1])
            maxx, maxy = min(maxx, PROJECTABLE[2]), min(maxy, PROJECTABLE[3])
            if minx > maxx or miny > maxy:
                conditions.append(sql.SQL("FALSE"))
                minx = miny = maxx = maxy = 0.0
        envelope = sql.SQL("ST_MakeEnvelope({}, {}, {}, {}, {})").format(
            *map(sql.Literal, (minx, miny, maxx, maxy, query.bbox_srid)))
        if query.bbox_srid != layer.srid:
            envelope = sql.SQL("ST_Transform(ST_Segmentize({}, {}), {})").format(
                envelope, sql.Literal(0.01 if query.bbox_srid == CRS84_SRID else 1000.0),
                sql.Literal(layer.srid))
        conditions.append(sql.SQL("{} && {}").format(sql.Identifier(layer.geometry_column),
                                                     envelope))
    if query.filter_sql is not None:
        conditions.append(query.filter_sql)
    for name, value in query.properties.items():
        conditions.append(sql.SQL("{} = {}").format(sql.Identifier(name), sql.Literal(value)))
    if with_cursor and query.cursor is not None:
        conditions.append(sql.SQL("{} > {}").format(sql.Identifier(layer.id_column),
                                                    sql.Literal(query.cursor)))
    if not conditions:
        return sql.SQL("TRUE")
    return sql.SQL(" AND ").join(conditions)


def features_sql(query: ItemsQuery, names: list[str], *, safe: bool = False,
                 single: Any = None) -> sql.Composable:
    """SQL returning (features json text, last id, row count) for one page."""
    layer = query.layer
    ident = sql.Identifier(layer.id_column)
    if single is not None:
        where: sql.Composable = sql.SQL("{} = {}").format(ident, sql.Literal(single))
    else:
        where = where_clause(query)
    page = sql.SQL("SELECT * FROM {} WHERE {} ORDER BY {} LIMIT {} OFFSET {}").format(
        table_ref(layer), where, ident, sql.Literal(query.limit), sql.Literal(query.offset))
    feature = sql.SQL(
        "json_build_object('type', 'Feature', 'id', {id}, 'geometry', {geom}, "
        "'properties', {props})").format(id=ident, geom=_geojson(layer, query.out_srid, safe=safe),
                                         props=_properties(names))
    return sql.SQL("SELECT coalesce(json_agg({} ORDER BY {}), '[]'::json)::text, max({}), "
                   "count(*) FROM ({}) AS page").format(feature, ident, ident, page)


def run_page(query: ItemsQuery, names: list[str], *, single: Any = None
             ) -> tuple[str, Any, int]:
    """Run a page query; one bad stored geometry never fails the page (NULL geometry instead)."""
    statement = features_sql(query, names, single=single)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
            row = cursor.fetchone()
    except DatabaseError:
        # Retry the page geometry by geometry: a broken one becomes null, the rest is served.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(features_sql(query, names, safe=True, single=single))
            row = cursor.fetchone()
    return row[0], row[1], int(row[2])


def has_more(query: ItemsQuery, last_id: Any) -> bool:
    layer = query.layer
    probe = sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE {} AND {} > {})").format(
        table_ref(layer), where_clause(query, with_cursor=False),
        sql.Identifier(layer.id_column), sql.Literal(last_id))
    with connection.cursor() as cursor:
        cursor.execute(probe)
        return bool(cursor.fetchone()[0])


def number_matched(query: ItemsQuery) -> int | None:
    """Exact count when the planner expects a small match; None (omitted) otherwise."""
    layer = query.layer
    select = sql.SQL("SELECT 1 FROM {} WHERE {}").format(
        table_ref(layer), where_clause(query, with_cursor=False))
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("EXPLAIN (FORMAT JSON) {}").format(select))
        plan = cursor.fetchone()[0]
        estimate = plan[0]["Plan"]["Plan Rows"]
        cost = plan[0]["Plan"]["Total Cost"]
        if estimate >= EXACT_COUNT_BELOW or cost >= EXACT_COUNT_MAX_COST:
            return None
        cursor.execute(sql.SQL("SELECT count(*) FROM ({}) AS matched").format(select))
        return int(cursor.fetchone()[0])
