"""The OpenAPI document: pygeoapi's, made self-contained and true to what is served.

Stock pygeoapi points ``$ref`` at schemas.opengis.net, which an intranet cannot
reach. Every such reference is replaced by a local component defined here, the
items parameters are the ones :mod:`ogc_api.query` accepts, and the tiles paths
are added.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from pygeoapi.openapi import get_oas

from ogc_api import query, tiles

if TYPE_CHECKING:
    from ogc_api.config import LayerView

EXCEPTION = {"type": "object", "required": ["code"],
             "properties": {"code": {"type": "string"}, "description": {"type": "string"}}}
LINK = {"type": "object", "required": ["href"],
        "properties": {"href": {"type": "string"}, "rel": {"type": "string"},
                       "type": {"type": "string"}, "hreflang": {"type": "string"},
                       "title": {"type": "string"}, "length": {"type": "integer"},
                       "templated": {"type": "boolean"}}}


def _json(description: str, schema: dict[str, Any], media: str = "application/json"
          ) -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": schema}}}


SCHEMAS: dict[str, Any] = {
    "exception": EXCEPTION,
    "link": LINK,
    "landingPage": {"type": "object", "required": ["links"], "properties": {
        "title": {"type": "string"}, "description": {"type": "string"},
        "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}}}},
    "featureCollectionGeoJSON": {"type": "object", "required": ["type", "features"],
                                 "properties": {
                                     "type": {"type": "string", "enum": ["FeatureCollection"]},
                                     "features": {"type": "array", "items": {
                                         "$ref": "#/components/schemas/featureGeoJSON"}},
                                     "links": {"type": "array", "items": {
                                         "$ref": "#/components/schemas/link"}},
                                     "timeStamp": {"type": "string", "format": "date-time"},
                                     "numberMatched": {"type": "integer", "minimum": 0},
                                     "numberReturned": {"type": "integer", "minimum": 0}}},
    "featureGeoJSON": {"type": "object", "required": ["type", "geometry", "properties"],
                       "properties": {"type": {"type": "string", "enum": ["Feature"]},
                                      "geometry": {"nullable": True, "type": "object"},
                                      "properties": {"nullable": True, "type": "object"},
                                      "id": {"oneOf": [{"type": "string"},
                                                       {"type": "integer"}]},
                                      "links": {"type": "array", "items": {
                                          "$ref": "#/components/schemas/link"}}}},
}

RESPONSES: dict[str, Any] = {
    "LandingPage": _json("The landing page", {"$ref": "#/components/schemas/landingPage"}),
    "InvalidParameter": _json("A query parameter has an invalid value",
                              {"$ref": "#/components/schemas/exception"}),
    "ServerError": _json("A server error occurred", {"$ref": "#/components/schemas/exception"}),
    "NotFound": _json("The requested resource does not exist",
                      {"$ref": "#/components/schemas/exception"}),
    "Features": _json("The features", {"$ref": "#/components/schemas/featureCollectionGeoJSON"},
                      "application/geo+json"),
    "Feature": _json("A feature", {"$ref": "#/components/schemas/featureGeoJSON"},
                     "application/geo+json"),
}


PARAMETERS: dict[str, Any] = {
    "featureId": {"name": "featureId", "in": "path", "required": True,
                  "description": "identifier of a feature",
                  "schema": {"type": "integer", "minimum": 1, "maximum": 10**17}},
}


def _generic(kind: str, name: str) -> dict[str, Any]:
    if kind == "responses":
        return _json(name, {"type": "object"})
    return {"type": "object"}


def _localise(node: Any, components: dict[str, dict[str, Any]]) -> Any:
    """Replace every external ``$ref`` by a local component (defining it if needed)."""
    if isinstance(node, list):
        return [_localise(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and not ref.startswith("#"):
        if "#/components/" in ref:
            kind, name = ref.split("#/components/", 1)[1].split("/", 1)
        else:
            kind, name = "schemas", ref.rsplit("/", 1)[-1].split(".", 1)[0]
        table = {"schemas": SCHEMAS, "responses": RESPONSES,
                 "parameters": PARAMETERS}.get(kind, {})
        components.setdefault(kind, {})
        if name not in components[kind]:
            components[kind][name] = copy.deepcopy(table.get(name) or _generic(kind, name))
        return {"$ref": f"#/components/{kind}/{name}"}
    return {key: _localise(value, components) for key, value in node.items()}


def _param(name: str, description: str, schema: dict[str, Any], *, style: str | None = None,
           explode: bool | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "in": "query", "required": False,
                           "description": description, "schema": schema}
    if style:
        out["style"] = style
    if explode is not None:
        out["explode"] = explode
    return out


def items_parameters(view: LayerView) -> list[dict[str, Any]]:
    crs = query.supported_crs(view.layer)
    names = query.sortables(view.layer, {n: view.layer.field(n).type for n in view.fields})
    sortby_values = [f"{sign}{name}" for name in names for sign in ("", "-")]
    params = [
        _param("f", "format", {"type": "string", "enum": ["json", "html"]}),
        _param("lang", "language", {"type": "string", "enum": ["tr", "en"]}),
        # limit, bbox and datetime exactly as Features Part 1 defines them (7.15.3-7.15.5)
        _param("limit", "maximum number of features",
               {"type": "integer", "minimum": 1, "maximum": query.MAX_LIMIT, "default": 10},
               style="form", explode=False),
        _param("bbox", "bounding box: minx,miny,maxx,maxy (or with minz and maxz, 6 numbers)",
               {"type": "array", "minItems": 4, "maxItems": 6,
                "items": {"type": "number"}},
               style="form", explode=False),
        _param("bbox-crs", "CRS of bbox", {"type": "string", "format": "uri", "enum": crs}),
        _param("crs", "CRS of the response", {"type": "string", "format": "uri", "enum": crs}),
        _param("datetime", "RFC 3339 instant or interval (the layers have no time field)",
               {"type": "string", "maxLength": 80}, style="form", explode=False),
        _param("filter", "CQL2 filter", {"type": "string", "maxLength": 2000}),
        _param("filter-lang", "filter language",
               {"type": "string", "enum": ["cql2-text", "cql2-json"]}),
        _param("filter-crs", "CRS of geometries in the filter",
               {"type": "string", "format": "uri", "enum": crs}),
        _param("sortby", "sort keys (Features Part 8): sortables, comma-separated, each "
               "optionally preceded by + (ascending, the default) or - (descending)",
               {"type": "array", "minItems": 1, "maxItems": query.MAX_SORT_KEYS,
                "items": {"type": "string", "enum": sortby_values}},
               style="form", explode=False),
        _param("cursor", "next-page cursor (opaque: copy it from a next link)",
               {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,4096}$"}),
        _param("offset", "number of features to skip",
               {"type": "integer", "minimum": 0, "maximum": 10**9}),
    ]
    kinds: dict[str, dict[str, Any]] = {
             "integer": {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1},
             "decimal": {"type": "number", "minimum": -1e12, "maximum": 1e12},
             "boolean": {"type": "boolean"},
             "date": {"type": "string", "format": "date"},
             "datetime": {"type": "string", "format": "date-time"}}
    for name in view.fields:
        kind = view.layer.field(name).type
        params.append(_param(name, view.layer.field(name).title.en,
                             kinds.get(kind, {"type": "string", "maxLength": 200,
                                              "pattern": "^[^\\x00]*$"})))
    return params


def _tiles_paths(view: LayerView) -> dict[str, Any]:
    code = view.layer.code
    base = f"/collections/{code}/tiles"
    json_ok = _json("OK", {"type": "object"})
    errors = {"400": {"$ref": "#/components/responses/InvalidParameter"},
              "404": {"$ref": "#/components/responses/NotFound"}}
    return {
        base: {"get": {"summary": f"{code} tilesets", "tags": [code],
                       "operationId": f"getTilesets{code}",
                       "responses": {"200": json_ok, **errors}}},
        f"{base}/WebMercatorQuad": {"get": {
            "summary": f"{code} WebMercatorQuad tileset", "tags": [code],
            "operationId": f"getTileset{code}", "responses": {"200": json_ok, **errors}}},
        f"{base}/WebMercatorQuad/{{tileMatrix}}/{{tileRow}}/{{tileCol}}": {"get": {
            "summary": f"{code} vector tile", "tags": [code], "operationId": f"getTile{code}",
            "parameters": [
                {"name": "tileMatrix", "in": "path", "required": True,
                 "schema": {"type": "integer", "minimum": tiles.min_zoom(view.layer),
                            "maximum": tiles.MAX_ZOOM}},
                {"name": "tileRow", "in": "path", "required": True,
                 "schema": {"type": "integer", "minimum": 0}},
                {"name": "tileCol", "in": "path", "required": True,
                 "schema": {"type": "integer", "minimum": 0}},
                {"name": "f", "in": "query", "required": False,
                 "description": "the tile's encoding (Mapbox vector tile, the default)",
                 "schema": {"type": "string", "enum": ["mvt"]}},
            ],
            "responses": {"200": {"description": "A Mapbox vector tile", "content": {
                "application/vnd.mapbox-vector-tile": {"schema": {
                    "type": "string", "format": "binary"}}}}, **errors}}},
    }


def build(config: dict[str, Any], views: list[LayerView]) -> dict[str, Any]:
    """The self-contained OpenAPI document for one caller's configuration."""
    document = get_oas(copy.deepcopy(config), fail_on_invalid_collection=False)
    components: dict[str, dict[str, Any]] = {}
    document = _localise(document, components)
    target = document.setdefault("components", {})
    for kind, entries in components.items():
        target.setdefault(kind, {}).update(entries)
    target.setdefault("schemas", {}).update(
        {k: copy.deepcopy(v) for k, v in SCHEMAS.items() if k not in target["schemas"]})
    target.setdefault("parameters", {}).update(copy.deepcopy(PARAMETERS))
    target.setdefault("responses", {}).update(
        {k: copy.deepcopy(v) for k, v in RESPONSES.items() if k not in target["responses"]})
    paths = document.setdefault("paths", {})
    for entry in paths.values():  # read-only API: GET (and HEAD) only
        for method in [m for m in entry if m not in {"get", "parameters", "summary",
                                                    "description"}]:
            del entry[method]
    for view in views:
        code = view.layer.code
        items_path = paths.get(f"/collections/{code}/items")
        if items_path and "get" in items_path:
            items_path["get"]["parameters"] = items_parameters(view)
            items_path["get"]["responses"] = {
                "200": {"$ref": "#/components/responses/Features"},
                "400": {"$ref": "#/components/responses/InvalidParameter"},
                "404": {"$ref": "#/components/responses/NotFound"},
            }
        item_path = paths.get(f"/collections/{code}/items/{{featureId}}")
        if item_path and "get" in item_path:
            crs = query.supported_crs(view.layer)
            item_path["get"]["parameters"] = [
                {"$ref": "#/components/parameters/featureId"},
                _param("f", "format", {"type": "string", "enum": ["json", "html"]}),
                _param("lang", "language", {"type": "string", "enum": ["tr", "en"]}),
                _param("crs", "CRS of the response",
                       {"type": "string", "format": "uri", "enum": crs}),
            ]
        paths.update(_tiles_paths(view))
        paths[f"/collections/{code}/sortables"] = {"get": {
            "summary": f"{code} sortables", "tags": [code], "operationId": f"getSortables{code}",
            "parameters": [_param("f", "format", {"type": "string", "enum": ["json"]})],
            "responses": {
                "200": _json("The sortables (JSON Schema)", {"type": "object"},
                             "application/schema+json"),
                "404": {"$ref": "#/components/responses/NotFound"}}}}
    return document
