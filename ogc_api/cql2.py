"""CQL2 (text and JSON) to SQL, for OGC API – Features Part 3.

Filters are hostile input. They are parsed by pygeofilter into an AST and
translated here into :mod:`psycopg2.sql` compositions: property names are
checked against the caller's queryables and quoted as identifiers, every value
is a bound parameter, and anything not explicitly supported is a 400.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import shapely
import shapely.geometry
from psycopg2 import sql
from pygeofilter import ast, values
from pyproj import CRS

CRS84_SRID = 4326
NUMERIC = {"integer", "decimal"}
MAX_FILTER_LENGTH = 20_000
MAX_DEPTH = 50

SPATIAL = {
    "INTERSECTS": "ST_Intersects", "DISJOINT": "ST_Disjoint", "CONTAINS": "ST_Contains",
    "WITHIN": "ST_Within", "TOUCHES": "ST_Touches", "CROSSES": "ST_Crosses",
    "OVERLAPS": "ST_Overlaps", "EQUALS": "ST_Equals",
}
COMPARISON = {"=": "=", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


@functools.lru_cache(maxsize=64)
def north_first(srid: int) -> bool:
    """EPSG:``srid`` names its northing (or latitude) axis first (EPSG:4326, EPSG:5254 ...).

    OGC API - Features Part 2: coordinates in a response, in ``bbox`` with ``bbox-crs``
    and in a filter with ``filter-crs`` follow the axis order the CRS defines; only
    CRS84 (the default, not an EPSG code here) is longitude, latitude. PostGIS keeps
    every geometry easting (longitude) first, so such a CRS is flipped at the edge.
    """
    return CRS.from_epsg(srid).axis_info[0].direction in ("north", "south")


class FilterError(ValueError):
    """The filter is not valid or uses something this server does not support (HTTP 400).

    ``message`` is an English msgid with ``str.format`` placeholders; the gate
    answers it in Turkish and English (:class:`ogc_api.query.ParameterError`).
    """

    def __init__(self, message: str, **params: object) -> None:
        self.message, self.params = message, params
        super().__init__(message.format(**params) if params else message)


def parse_filter(text: str, lang: str) -> ast.Node:
    """Parse a CQL2 filter in ``cql2-text`` or ``cql2-json``; raise FilterError if invalid."""
    if len(text) > MAX_FILTER_LENGTH:
        raise FilterError("filter is too long")
    try:
        if lang == "cql2-json":
            from pygeofilter.parsers.cql2_json import parse as parse_json

            data = json.loads(text)
            if not isinstance(data, dict):
                raise FilterError("a cql2-json filter must be a JSON object")
            return parse_json(data)
        from pygeofilter.parsers.cql2_text import parse as parse_text

        return parse_text(text)
    except FilterError:
        raise
    except RecursionError:
        raise FilterError("filter is nested too deeply") from None
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, LookupError,
            NotImplementedError) as exc:
        raise FilterError("invalid filter: {kind}", kind=type(exc).__name__) from None
    except Exception as exc:  # noqa: BLE001 - lark raises its own hierarchy; re-raised as 400
        raise FilterError("invalid filter: {kind}", kind=type(exc).__name__) from None


class Translator:
    """Translate a pygeofilter AST for one layer and one caller.

    Parameters
    ----------
    fields : mapping of queryable name to field type (``string``, ``integer`` ...)
    geometry_column, storage_srid : where the geometry is and in which CRS
    filter_srid : CRS of geometry literals (4326 with ``filter_flip`` False = CRS84)
    filter_flip : literals are written in the CRS's authority order, northing first
        (``filter-crs=EPSG:4326`` or ``EPSG:5254``); they are flipped before use
    """

    def __init__(self, *, fields: Mapping[str, str], geometry_column: str, storage_srid: int,
                 filter_srid: int = CRS84_SRID, filter_flip: bool = False) -> None:
        self.fields = dict(fields)
        self.geometry_column = geometry_column
        self.storage_srid = storage_srid
        self.filter_srid = filter_srid
        self.filter_flip = filter_flip

    def translate(self, node: Any) -> sql.Composable:
        return self._node(node, 0)

    # -- nodes -----------------------------------------------------------
    def _node(self, node: Any, depth: int) -> sql.Composable:
        if depth > MAX_DEPTH:
            raise FilterError("filter is nested too deeply")
        depth += 1
        if isinstance(node, ast.And | ast.Or):
            op = sql.SQL(" AND " if isinstance(node, ast.And) else " OR ")
            return sql.SQL("({})").format(
                op.join([self._node(node.lhs, depth), self._node(node.rhs, depth)]))
        if isinstance(node, ast.Not):
            return sql.SQL("(NOT {})").format(self._node(node.sub_node, depth))
        if isinstance(node, ast.Include):
            return sql.SQL("FALSE" if node.not_ else "TRUE")
        if isinstance(node, ast.Comparison):
            return self._comparison(node)
        if isinstance(node, ast.Between):
            name, kind = self._attribute(node.lhs)
            return sql.SQL("({} {}BETWEEN {} AND {})").format(
                sql.Identifier(name), sql.SQL("NOT " if node.not_ else ""),
                self._value(node.low, kind), self._value(node.high, kind))
        if isinstance(node, ast.Like):
            name, _kind = self._attribute(node.lhs)
            if not isinstance(node.pattern, str):
                raise FilterError("LIKE needs a text pattern")
            # CQL2 wildcards are SQL's own: '%' (any) and '_' (one character).
            pattern = node.pattern
            return sql.SQL("({}::text {}{} {})").format(
                sql.Identifier(name), sql.SQL("NOT " if node.not_ else ""),
                sql.SQL("ILIKE" if node.nocase else "LIKE"), sql.Literal(pattern))
        if isinstance(node, ast.In):
            name, kind = self._attribute(node.lhs)
            if not node.sub_nodes:
                raise FilterError("IN needs at least one value")
            return sql.SQL("({} {}IN ({}))").format(
                sql.Identifier(name), sql.SQL("NOT " if node.not_ else ""),
                sql.SQL(", ").join([self._value(item, kind) for item in node.sub_nodes]))
        if isinstance(node, ast.IsNull):
            if isinstance(node.lhs, ast.Attribute):
                name, _kind = self._attribute(node.lhs)
            else:
                raise FilterError("IS NULL applies to a property")
            return sql.SQL("({} IS {}NULL)").format(
                sql.Identifier(name), sql.SQL("NOT " if node.not_ else ""))
        if isinstance(node, ast.SpatialComparisonPredicate):
            function = SPATIAL[node.op.value]
            return sql.SQL("{}({}, {})").format(
                sql.SQL(function), self._spatial(node.lhs), self._spatial(node.rhs))
        if isinstance(node, bool):
            return sql.SQL("TRUE" if node else "FALSE")
        raise FilterError("unsupported filter expression: {kind}",
                          kind=type(node).__name__)

    def _comparison(self, node: ast.Comparison) -> sql.Composable:
        op = COMPARISON.get(node.op.value)
        if op is None:
            raise FilterError("unsupported comparison")
        lhs, rhs = node.lhs, node.rhs
        if not isinstance(lhs, ast.Attribute) and isinstance(rhs, ast.Attribute):
            lhs, rhs = rhs, lhs
            op = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)
        name, kind = self._attribute(lhs)
        if isinstance(rhs, ast.Attribute):
            other, other_kind = self._attribute(rhs)
            if (kind in NUMERIC) != (other_kind in NUMERIC):
                raise FilterError("compared properties have different types")
            return sql.SQL("({} {} {})").format(sql.Identifier(name), sql.SQL(op),
                                                sql.Identifier(other))
        return sql.SQL("({} {} {})").format(sql.Identifier(name), sql.SQL(op),
                                            self._value(rhs, kind))

    def _attribute(self, node: Any) -> tuple[str, str]:
        if not isinstance(node, ast.Attribute):
            raise FilterError("the left side of a predicate must be a property")
        name = node.name
        if name not in self.fields:
            raise FilterError("unknown queryable: {name}", name=repr(str(name)[:60]))
        return name, self.fields[name]

    def _value(self, value: Any, kind: str) -> sql.Composable:
        """Bind a literal after checking it fits the property's type."""
        if isinstance(value, ast.Node):
            raise FilterError("only literal values may be compared with a property")
        if isinstance(value, bool):
            if kind != "boolean":
                raise FilterError("a boolean is compared with a non-boolean property")
            return sql.Literal(value)
        if isinstance(value, int | float | Decimal):
            if kind not in NUMERIC:
                raise FilterError("a number is compared with a non-numeric property")
            if isinstance(value, float) and (value != value or value in {float("inf"),
                                                                         float("-inf")}):
                raise FilterError("numbers must be finite")
            return sql.Literal(value)
        if isinstance(value, dt.datetime | dt.date):
            if kind not in {"date", "datetime"}:
                raise FilterError("a date is compared with a non-date property")
            return sql.Literal(value)
        if isinstance(value, str):
            if kind in NUMERIC or kind == "boolean":
                raise FilterError("a text is compared with a non-text property")
            if kind in {"date", "datetime"}:
                try:
                    parsed: dt.date = (dt.date.fromisoformat(value) if kind == "date"
                                       else dt.datetime.fromisoformat(value))
                except ValueError:
                    raise FilterError("not a valid date") from None
                return sql.Literal(parsed)
            if "\x00" in value:
                raise FilterError("text values may not contain NUL")
            return sql.Literal(value)
        raise FilterError("unsupported value: {kind}", kind=type(value).__name__)

    def _spatial(self, node: Any) -> sql.Composable:
        if isinstance(node, ast.Attribute):
            if node.name not in {"geometry", "geom", self.geometry_column}:
                raise FilterError("spatial predicates apply to the geometry property")
            return sql.Identifier(self.geometry_column)
        if isinstance(node, values.Geometry | values.Envelope):
            try:
                shape = shapely.geometry.shape(node.geometry)
            except (ValueError, TypeError, KeyError, AttributeError, IndexError,
                    shapely.errors.ShapelyError):
                raise FilterError("invalid geometry literal") from None
            if shape.is_empty or not all(map(lambda v: v == v and abs(v) < 1e12,
                                             shape.bounds)):
                raise FilterError("invalid geometry literal")
            if self.filter_srid == CRS84_SRID:
                minx, miny, maxx, maxy = shape.bounds
                if self.filter_flip:  # latitude, longitude
                    minx, miny, maxx, maxy = miny, minx, maxy, maxx
                if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
                    raise FilterError("geometry literal outside CRS84 bounds")
            literal: sql.Composable = sql.SQL("ST_GeomFromText({}, {})").format(
                sql.Literal(shape.wkt), sql.Literal(self.filter_srid))
            if self.filter_flip:  # authority order (northing first) -> PostGIS's x, y
                literal = sql.SQL("ST_FlipCoordinates({})").format(literal)
            return sql.SQL("ST_Transform({}, {})").format(literal,
                                                           sql.Literal(self.storage_srid))
        raise FilterError("unsupported spatial operand")
