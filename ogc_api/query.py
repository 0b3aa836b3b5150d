"""Items queries: request parameters checked to the letter, SQL built in PostGIS.

The FeatureCollection is assembled by PostgreSQL (``json_build_object`` /
``ST_AsGeoJSON``), pages are keyset pages on the id column (``cursor``), and
``numberMatched`` is exact only when the planner says the match is small.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.utils import DatabaseError
from psycopg2 import sql

from gis_core.errors import bilingual
from gis_core.routers import read_alias, reader
from ogc_api.cql2 import CRS84_SRID, FilterError, Translator, north_first, parse_filter

if TYPE_CHECKING:
    from django.http import QueryDict

    from layers.schema import LayerDefinition

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
#: WGS 84 with EPSG's axis order (latitude, longitude); CRS84 is the same datum lon, lat.
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000
#: numberMatched is counted exactly only when the planner expects a small, cheap match;
#: otherwise it is omitted (it is optional in Features Part 1, and a wrong number is worse).
EXACT_COUNT_BELOW = 10_000
EXACT_COUNT_MAX_COST = 20_000.0
#: CRS84 bbox clamp before projecting into a TM zone (Turkey and around).
PROJECTABLE = (20.0, 30.0, 50.0, 46.0)

ITEMS_PARAMS = frozenset({"f", "lang", "limit", "bbox", "bbox-crs", "crs", "datetime", "filter",
                          "filter-lang", "filter-crs", "cursor", "offset", "sortby"})
#: sortby: at most this many keys; a key is a sortable's name with an optional + or -.
MAX_SORT_KEYS = 5
_SORT_KEY = re.compile(r"^([+ -]?)([A-Za-z_][A-Za-z0-9_]{0,62})$")
#: A sorted page's cursor (base64url of the last row's sort values) is at most this long.
MAX_CURSOR_LENGTH = 4096
ITEM_PARAMS = frozenset({"f", "lang", "crs"})

_DATETIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?|\.\.|)$", re.I)


def crs_uri(srid: int) -> str:
    return CRS84 if srid == CRS84_SRID else f"http://www.opengis.net/def/crs/EPSG/0/{srid}"


def supported_crs(layer: LayerDefinition) -> list[str]:
    """CRS URIs a layer is served in: CRS84 first, EPSG:4326 (lat, lon), then its storage
    CRS and the municipality's."""
    out = [CRS84, EPSG4326]
    for srid in (layer.srid, settings.KENTCBS_SRID):
        if crs_uri(srid) not in out:
            out.append(crs_uri(srid))
    return out


@dataclass(frozen=True)
class RequestCrs:
    """A CRS named in ``crs``, ``bbox-crs`` or ``filter-crs``.

    ``flip``: its first axis is northing (latitude), as EPSG defines EPSG:4326 and the
    TUREF TM zones (EPSG:5253-5259); coordinates in it are written north first, while
    PostGIS keeps them east first. CRS84 (the default) is never flipped.
    """

    uri: str
    srid: int
    flip: bool


CRS84_REQUEST = RequestCrs(CRS84, CRS84_SRID, False)


class ParameterError(ValueError):
    """A request parameter is invalid (HTTP 400); the text is Turkish, then English.

    ``message`` is an English msgid with ``str.format`` placeholders (translated
    through the ``ogc_api`` gettext catalogue).
    """

    def __init__(self, message: str, **params: object) -> None:
        self.message, self.params = message, params
        self.english = message.format(**params) if params else message
        super().__init__(bilingual(message, **params))


def _crs_of(uri: str, layer: LayerDefinition, what: str) -> RequestCrs:
    uri = uri.strip()
    if uri in {CRS84, "[OGC:CRS84]", "OGC:CRS84"}:
        return CRS84_REQUEST
    for candidate in supported_crs(layer)[1:]:
        srid = int(candidate.rsplit("/", 1)[1])
        if uri in {candidate, f"EPSG:{srid}", f"[EPSG:{srid}]"}:
            return RequestCrs(candidate, srid, north_first(srid))
    raise ParameterError("unsupported {what}", what=what)


@dataclass
class ItemsQuery:
    """Validated parameters of one /items request."""

    layer: LayerDefinition
    fields: dict[str, str]
    limit: int = DEFAULT_LIMIT
    cursor: int | None = None
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    #: bbox is always (min x, min y, max x, max y) in PostGIS order (east first) of bbox_srid;
    #: a bbox given north first (``bbox-crs`` with a northing-first axis) is swapped on parsing.
    bbox_srid: int = CRS84_SRID
    #: the response CRS; its coordinates are flipped in SQL when ``out.flip``
    out: RequestCrs = CRS84_REQUEST
    filter_text: str = ""
    filter_sql: sql.Composable | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    #: sortby keys: (sortable name, descending); the id column always breaks ties.
    sort: list[tuple[str, bool]] = field(default_factory=list)
    #: keyset position of a sorted page: the previous page's last sort values, then its id.
    after: list[Any] | None = None
    #: the caller's row rule (``layers.access.row_condition``; literals inlined), None: all rows
    rows: str | None = None

    @property
    def has_selection(self) -> bool:
        return bool(self.bbox or self.filter_sql is not None or self.properties)


def _int(value: str, name: str, low: int, high: int) -> int:
    if not re.fullmatch(r"\d{1,12}", value.strip()):
        raise ParameterError("{name} must be an integer", name=name)
    number = int(value)
    if not low <= number <= high:
        raise ParameterError("{name} must be between {low} and {high}", name=name, low=low,
                             high=high)
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


def sortables(layer: LayerDefinition, fields: dict[str, str]) -> dict[str, str]:
    """What a caller may sort by: the fields they may see (their queryables) and the id."""
    return {layer.id_column: "integer", **fields}


def _sortby(value: str, allowed: dict[str, str]) -> list[tuple[str, bool]]:
    """Parse ``sortby`` (Features Part 8): ``name``, ``+name`` or ``-name``, comma-separated.

    A ``+`` that arrived unencoded in the query string reads as a space: accepted as ``+``.
    """
    keys: list[tuple[str, bool]] = []
    parts = value.split(",")
    if len(parts) > MAX_SORT_KEYS:
        raise ParameterError("sortby takes at most {count} keys", count=MAX_SORT_KEYS)
    for part in parts:
        match = _SORT_KEY.match(part)
        if match is None:
            raise ParameterError(
                "sortby must be a comma-separated list of sortables, each optionally "
                "preceded by + or - (e.g. sortby=-name,id)")
        name = match.group(2)
        if name not in allowed:
            raise ParameterError("unknown sortable {name} (see the collection's /sortables)",
                                 name=repr(name[:40]))
        if name in {key for key, _desc in keys}:
            raise ParameterError("sortby names {name} twice", name=repr(name))
        keys.append((name, match.group(1) == "-"))
    return keys


def encode_cursor(last_key: str) -> str:
    """The opaque ``cursor`` of a sorted page: base64url of the last row's sort values."""
    return base64.urlsafe_b64encode(last_key.encode("utf-8")).decode("ascii").rstrip("=")


def _cursor_value(raw: Any, kind: str) -> Any:
    if raw is None:
        return None
    if kind == "integer" and isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if kind == "decimal" and isinstance(raw, (int, Decimal)) and not isinstance(raw, bool):
        value = Decimal(raw)
        if value.is_finite():
            return value
    if kind == "boolean" and isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and "\x00" not in raw:
        if kind in {"string", "text"}:
            return raw
        try:
            if kind == "date":
                return dt.date.fromisoformat(raw)
            if kind == "datetime":
                return dt.datetime.fromisoformat(raw)
        except ValueError:
            pass
    raise ParameterError("cursor does not belong to this sortby; follow the next link")


def _decode_cursor(token: str, keys: list[tuple[str, bool]],
                   allowed: dict[str, str]) -> list[Any]:
    """The keyset position in a sorted page's ``cursor``; every value is type-checked."""
    if len(token) > MAX_CURSOR_LENGTH or not re.fullmatch(r"[A-Za-z0-9_-]+", token):
        raise ParameterError("cursor does not belong to this sortby; follow the next link")
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("utf-8")
        values = json.loads(text, parse_float=Decimal)
    except (binascii.Error, UnicodeDecodeError, ValueError, RecursionError):
        raise ParameterError("cursor does not belong to this sortby; follow the next link"
                             ) from None
    if not isinstance(values, list) or len(values) != len(keys) + 1:
        raise ParameterError("cursor does not belong to this sortby; follow the next link")
    decoded = [_cursor_value(raw, allowed[name]) for raw, (name, _desc) in zip(values, keys,
                                                                                 strict=False)]
    last_id = _cursor_value(values[-1], "integer")
    if last_id is None:
        raise ParameterError("cursor does not belong to this sortby; follow the next link")
    return [*decoded, last_id]


def parse_items(params: QueryDict, layer: LayerDefinition, fields: dict[str, str],
                rows: str | None = None) -> ItemsQuery:
    """Check the query parameters of ``/items``; raise ParameterError on anything invalid.

    ``rows``: the caller's row rule (kept on the query, applied to every statement).
    """
    query = ItemsQuery(layer=layer, fields=fields, rows=rows)
    for name in params:
        if len(params.getlist(name)) > 1:
            raise ParameterError("parameter {name} is repeated", name=repr(name[:40]))
        if name not in ITEMS_PARAMS and name not in fields:
            raise ParameterError("unknown parameter {name}", name=repr(name[:40]))
    if "limit" in params:
        query.limit = _int(params["limit"], "limit", 1, MAX_LIMIT)
    if "sortby" in params:
        allowed = sortables(layer, fields)
        query.sort = _sortby(params["sortby"], allowed)
        if "cursor" in params:
            query.after = _decode_cursor(params["cursor"], query.sort, allowed)
    elif "cursor" in params:
        query.cursor = _int(params["cursor"], "cursor", 0, 10**12 - 1)
    if "offset" in params:
        query.offset = _int(params["offset"], "offset", 0, 10**9)
    if "crs" in params:
        query.out = _crs_of(params["crs"], layer, "crs")
    bbox_crs = CRS84_REQUEST
    if "bbox-crs" in params:
        if "bbox" not in params:
            raise ParameterError("bbox-crs without bbox")
        bbox_crs = _crs_of(params["bbox-crs"], layer, "bbox-crs")
        query.bbox_srid = bbox_crs.srid
    if "bbox" in params:
        query.bbox = _bbox(params["bbox"])
        if bbox_crs.flip:  # given north first (lat, lon / northing, easting)
            south, west, north, east = query.bbox
            query.bbox = (west, south, east, north)
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
    filter_crs = CRS84_REQUEST
    if "filter-crs" in params:
        filter_crs = _crs_of(params["filter-crs"], layer, "filter-crs")
    if "filter" in params:
        query.filter_text = params["filter"]
        translator = Translator(fields=fields, geometry_column=layer.geometry_column,
                                storage_srid=layer.srid, filter_srid=filter_crs.srid,
                                filter_flip=filter_crs.flip)
        try:
            query.filter_sql = translator.translate(parse_filter(query.filter_text, lang))
        except FilterError as exc:
            raise ParameterError(exc.message, **exc.params) from None
    for name in params:
        if name in fields and name not in ITEMS_PARAMS:
            query.properties[name] = _property_value(params[name], fields[name])
    return query


# -- SQL ------------------------------------------------------------------
def _geojson(layer: LayerDefinition, out: RequestCrs, *, safe: bool) -> sql.Composable:
    """The geometry as GeoJSON in ``out``, in that CRS's axis order (flipped in PostGIS)."""
    geom = sql.Identifier(layer.geometry_column)
    projected: sql.Composable = geom if out.srid == layer.srid else sql.SQL(
        "ST_Transform({}, {})").format(geom, sql.Literal(out.srid))
    if out.flip:
        projected = sql.SQL("ST_FlipCoordinates({})").format(projected)
    digits = 8 if out.srid == CRS84_SRID else 3
    if safe:
        return sql.SQL("ogc_api_safe_geojson({}, {}, {}, {})").format(
            geom, sql.Literal(out.srid), sql.Literal(digits), sql.Literal(out.flip))
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
    if query.rows is not None:
        conditions.append(sql.SQL("({})").format(sql.SQL(query.rows)))
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
    if with_cursor and query.after is not None:
        conditions.append(_after(query))
    if not conditions:
        return sql.SQL("TRUE")
    return sql.SQL(" AND ").join(conditions)


def _after(query: ItemsQuery) -> sql.Composable:
    """Rows strictly after the keyset position ``query.after`` in the page order.

    The order is each sort key (NULLs last in both directions), then the id: row
    ``r`` comes after position ``p`` when, for some key ``i``, ``r`` equals ``p`` on
    every key before ``i`` and comes after it on key ``i``.
    """
    assert query.after is not None
    keys = [*query.sort, (query.layer.id_column, False)]
    alternatives: list[sql.Composable] = []
    equal: list[sql.Composable] = []
    for (name, descending), value in zip(keys, query.after, strict=True):
        column = sql.Identifier(name)
        if value is None:  # NULLs are last: nothing comes after a NULL on this key
            equal.append(sql.SQL("{} IS NULL").format(column))
            continue
        operator = sql.SQL("<" if descending else ">")
        if name == query.layer.id_column:  # never NULL; a plain range keeps the index usable
            beyond = sql.SQL("{} {} {}").format(column, operator, sql.Literal(value))
        else:
            beyond = sql.SQL("({} IS NULL OR {} {} {})").format(
                column, column, operator, sql.Literal(value))
        alternatives.append(sql.SQL(" AND ").join([*equal, beyond]))
        equal.append(sql.SQL("{} = {}").format(column, sql.Literal(value)))
    if not alternatives:
        return sql.SQL("FALSE")
    return sql.SQL("({})").format(sql.SQL(" OR ").join(
        sql.SQL("({})").format(part) for part in alternatives))


def order_by(query: ItemsQuery) -> sql.Composable:
    """The page order: the sortby keys (NULLs last), then the id (stable, keyset-able).

    Keys after the id can never matter (ids are unique) and are left out.
    """
    parts: list[sql.Composable] = []
    for name, descending in query.sort:
        column = sql.Identifier(name)
        if name == query.layer.id_column:
            parts.append(sql.SQL("{} DESC").format(column) if descending else column)
            return sql.SQL(", ").join(parts)
        parts.append(sql.SQL("{} {} NULLS LAST").format(
            column, sql.SQL("DESC" if descending else "ASC")))
    parts.append(sql.Identifier(query.layer.id_column))
    return sql.SQL(", ").join(parts)


def features_sql(query: ItemsQuery, names: list[str], *, safe: bool = False,
                 single: Any = None) -> sql.Composable:
    """SQL returning one page: (features json text, row count, last sort key json text, more).

    One query: it reads ``limit + 1`` rows, so whether a next page exists costs no
    second round-trip. The last sort key is ``[<sort values>..., <id>]`` as JSON text
    (exact numbers), the position the next page starts after.
    """
    layer = query.layer
    ident = sql.Identifier(layer.id_column)
    if single is not None:
        where: sql.Composable = sql.SQL("{} = {}").format(ident, sql.Literal(single))
        if query.rows is not None:
            where = sql.SQL("{} AND ({})").format(where, sql.SQL(query.rows))
    else:
        where = where_clause(query)
    order = order_by(query)
    page = sql.SQL("SELECT *, row_number() OVER (ORDER BY {order}) AS ogc_api_row FROM ("
                   "SELECT * FROM {table} WHERE {where} ORDER BY {order} LIMIT {limit} "
                   "OFFSET {offset}) AS window_page").format(
        order=order, table=table_ref(layer), where=where,
        limit=sql.Literal(query.limit + 1), offset=sql.Literal(query.offset))
    feature = sql.SQL(
        "json_build_object('type', 'Feature', 'id', {id}, 'geometry', {geom}, "
        "'properties', {props})").format(id=ident, geom=_geojson(layer, query.out, safe=safe),
                                         props=_properties(names))
    last_key = sql.SQL("json_build_array({})").format(sql.SQL(", ").join(
        [*[sql.Identifier(name) for name, _desc in query.sort], ident]))
    limit = sql.Literal(query.limit)
    return sql.SQL(
        "SELECT coalesce(json_agg({feature} ORDER BY ogc_api_row) FILTER (WHERE ogc_api_row <= "
        "{limit}), '[]'::json)::text, count(*) FILTER (WHERE ogc_api_row <= {limit}), "
        "max(CASE WHEN ogc_api_row = {limit} THEN {last_key}::text END), count(*) > {limit} "
        "FROM ({page}) AS page").format(feature=feature, limit=limit, last_key=last_key,
                                        page=page)


@dataclass(frozen=True)
class Page:
    """One page of features as PostgreSQL built it."""

    #: the features, a JSON array (text)
    features: str
    count: int
    #: ``[<sort values>..., <id>]`` of the last feature (JSON text), None on an empty page
    last_key: str | None
    #: a next page exists
    more: bool

    @property
    def next_cursor(self) -> str | None:
        """The ``cursor`` of the next page: the last id, or an opaque token when sorted."""
        if not self.more or self.last_key is None:
            return None
        values = json.loads(self.last_key)
        if len(values) == 1:
            return str(values[0])
        return encode_cursor(self.last_key)


def run_page(query: ItemsQuery, names: list[str], *, single: Any = None) -> Page:
    """Run a page query; one bad stored geometry never fails the page (NULL geometry instead)."""
    statement = features_sql(query, names, single=single)
    try:
        with transaction.atomic(using=read_alias()), reader().cursor() as cursor:
            cursor.execute(statement)
            row = cursor.fetchone()
    except DatabaseError:
        # Retry the page geometry by geometry: a broken one becomes null, the rest is served.
        with transaction.atomic(using=read_alias()), reader().cursor() as cursor:
            cursor.execute(features_sql(query, names, safe=True, single=single))
            row = cursor.fetchone()
    return Page(features=row[0], count=int(row[1]), last_key=row[2], more=bool(row[3]))


def number_matched(query: ItemsQuery) -> int | None:
    """Exact count when the planner expects a small match; None (omitted) otherwise."""
    layer = query.layer
    select = sql.SQL("SELECT 1 FROM {} WHERE {}").format(
        table_ref(layer), where_clause(query, with_cursor=False))
    with reader().cursor() as cursor:
        cursor.execute(sql.SQL("EXPLAIN (FORMAT JSON) {}").format(select))
        plan = cursor.fetchone()[0]
        estimate = plan[0]["Plan"]["Plan Rows"]
        cost = plan[0]["Plan"]["Total Cost"]
        if estimate >= EXACT_COUNT_BELOW or cost >= EXACT_COUNT_MAX_COST:
            return None
        cursor.execute(sql.SQL("SELECT count(*) FROM ({}) AS matched").format(select))
        return int(cursor.fetchone()[0])
