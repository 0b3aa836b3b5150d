"""The gate in front of pygeoapi: who is calling, what they may read, parameters to the letter.

pygeoapi has no access control: every request passes here first. The caller's
readable layers (``layers.access``) decide the pygeoapi configuration they get
(one cached per distinct view), so a layer they may not read is absent from the
landing page, ``/collections`` and the OpenAPI document and 404 by name. JSON
items and tiles are served by PostGIS directly (:mod:`ogc_api.query`,
:mod:`ogc_api.tiles`).
"""

from __future__ import annotations

import functools
import json
import mimetypes
import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

import pygeoapi.api as core_api
import pygeoapi.api.itemtypes as itemtypes_api
import pygeoapi.api.tiles as tiles_api
from django.conf import settings
from django.db.utils import DatabaseError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from pygeoapi.api import API, APIRequest

from gis_core import signin
from gis_core.errors import bilingual
from ogc_api import conformance, generalise, openapi, query, schemas, tiles
from ogc_api.auth import BadCredentials, LockedOut, request_user
from ogc_api.config import PYGEOAPI_STATIC, LayerView, build_config
from ogc_api.config import generation as config_generation
from ogc_api.provider import JSON_TYPES as JSON_SCHEMA_TYPES
from ogc_api.selectors import layer_view, layer_views
from ogc_api.services import record_access

GEOJSON = "application/geo+json"
JSON = "application/json"
BASIC_PARAMS = frozenset({"f", "lang"})
#: The answer to missing or unusable credentials (RFC 7617).
CHALLENGE = 'Basic realm="KentCBS", charset="UTF-8"'

STATIC_ROOT = PYGEOAPI_STATIC

_CACHE: OrderedDict[tuple[Any, ...], tuple[API, dict[str, Any]]] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 64


def _error(status: int, code: str, message: str, *, headers: dict[str, str] | None = None,
           **params: object) -> HttpResponse:
    """A JSON error; ``message`` is an English msgid, answered Turkish first, then English."""
    return _error_response(status, code, bilingual(message, **params), headers=headers)


def _error_response(status: int, code: str, description: str, *,
                    headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(json.dumps({"code": code, "description": description},
                                       ensure_ascii=False),
                            status=status, content_type=JSON)
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def _invalid(exc: query.ParameterError) -> HttpResponse:
    """400 for a bad parameter (the exception holds the Turkish-first text already)."""
    return _error_response(400, "InvalidParameterValue", str(exc))


class Call:
    """One request: the caller, the layers they may read, the pygeoapi API for that view.

    The caller's layer views are worked out only when a path needs all of them
    (landing page, collections, OpenAPI); a path about one collection asks
    :func:`ogc_api.selectors.layer_view` for that collection alone.
    """

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self.user = request_user(request)
        self._views: dict[str, LayerView] | None = None
        self._one: dict[str, LayerView | None] = {}

    @property
    def views(self) -> dict[str, LayerView]:
        if self._views is None:
            self._views = layer_views(user=self.user)
        return self._views

    @cached_property
    def base_url(self) -> str:
        return self.request.build_absolute_uri("/ogc").rstrip("/")

    def view(self, code: str) -> LayerView:
        if self._views is not None:
            view = self._views.get(code)
        else:
            if code not in self._one:
                self._one[code] = layer_view(user=self.user, code=code)
            view = self._one[code]
        if view is None:
            raise Http404
        return view

    def api(self) -> tuple[API, dict[str, Any]]:
        key = (self.base_url, config_generation(), tuple(v.key for v in self.views.values()))
        with _CACHE_LOCK:
            hit = _CACHE.get(key)
            if hit is not None:
                _CACHE.move_to_end(key)
                return hit
        config = build_config(list(self.views.values()), base_url=self.base_url)
        document = openapi.build(config, list(self.views.values()))
        api = API(config, document)
        # for ogc_api/pygeoapi_templates: the app's own copies of Bootstrap, Swagger UI, ReDoc
        api.tpl_config["server"]["static_url"] = settings.STATIC_URL
        with _CACHE_LOCK:
            _CACHE[key] = (api, document)
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
        return api, document

    def pygeoapi(self, function: Callable[..., Any], *args: Any) -> HttpResponse:
        api, _doc = self.api()
        api_request = APIRequest.from_django(self.request, api.locales)
        if not api_request.is_valid():
            headers, status, content = api.get_format_exception(api_request)
        else:
            headers, status, content = function(api, api_request, *args)
        response = HttpResponse(content, status=status)
        for key, value in headers.items():
            response[key] = value
        return conformance.fix_response(self.request, response)

    def audit(self, view: LayerView, *, bbox: str = "", filter_text: str = "") -> None:
        if view.layer.personal_data:
            record_access(user=self.user, layer=view.layer.code, path=self.request.path,
                          query=self.request.META.get("QUERY_STRING", ""), bbox=bbox,
                          filter_text=filter_text)


def gate(*, params: frozenset[str] | None = BASIC_PARAMS,
         documents: bool = True) -> Callable[..., Any]:
    """Decorator: authenticate, refuse unknown parameters and unsafe methods.

    ``documents``: the path answers JSON or HTML documents, so ``f`` must be one of
    those; a path with other encodings (a tile: ``f=mvt``) checks ``f`` itself.
    """

    def wrap(handler: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in {"GET", "HEAD"}:
                response = _error(405, "MethodNotAllowed", "only GET and HEAD are supported")
                response["Allow"] = "GET, HEAD"
                return response
            try:
                call = Call(request)
            except LockedOut:
                return _error(429, "AccountLocked", signin.LOCKED_MESSAGE,
                              headers={"Retry-After": str(signin.cool_off_minutes() * 60)},
                              minutes=signin.cool_off_minutes())
            except BadCredentials:
                return _error(401, "Unauthorized", "wrong username, password or token",
                              headers={"WWW-Authenticate": CHALLENGE})
            # No query string, nothing to check (a tile request): QueryDict is not built.
            if params is not None and request.META.get("QUERY_STRING"):
                unknown = [name for name in request.GET if name not in params]
                if unknown:
                    return _error(400, "InvalidParameterValue", "unknown parameter {name}",
                                  name=repr(unknown[0][:40]))
                fmt = request.GET.get("f") if documents else None
                if fmt is not None and fmt not in {"json", "html", "jsonld"}:
                    return _error(400, "InvalidParameterValue", "f must be json or html")
            try:
                return handler(call, *args, **kwargs)
            except Http404:
                return _error(404, "NotFound", "not found")

        return view

    return wrap


def _wants_html(request: HttpRequest) -> bool:
    fmt = request.GET.get("f")
    if fmt:
        return fmt == "html"
    accept = request.META.get("HTTP_ACCEPT", "")
    return "text/html" in accept and "json" not in accept.split("text/html")[0]


@gate()
def landing_page(call: Call) -> HttpResponse:
    return call.pygeoapi(core_api.landing_page)


@gate(params=BASIC_PARAMS | {"ui"})
def openapi_document(call: Call) -> HttpResponse:
    """The OpenAPI document (JSON), or Swagger UI (``f=html``) or ReDoc (``f=html&ui=redoc``)."""
    if call.request.GET.get("ui", "swagger") not in {"swagger", "redoc"}:
        return _error(400, "InvalidParameterValue", "ui must be swagger or redoc")
    if call.request.GET.get("f") == "html":
        return call.pygeoapi(core_api.openapi_)
    _api, document = call.api()
    return HttpResponse(json.dumps(document, ensure_ascii=False),
                        content_type="application/vnd.oai.openapi+json;version=3.0")


@gate()
def conformance_page(call: Call) -> HttpResponse:
    if _wants_html(call.request):
        return call.pygeoapi(core_api.conformance)
    body = {"conformsTo": conformance.CONFORMANCE_CLASSES}
    return HttpResponse(json.dumps(body), content_type=JSON)


@gate()
def collections(call: Call) -> HttpResponse:
    return call.pygeoapi(core_api.describe_collections, None)


@gate()
def collection(call: Call, collection_id: str) -> HttpResponse:
    call.view(collection_id)
    return call.pygeoapi(core_api.describe_collections, collection_id)


@gate()
def queryables(call: Call, collection_id: str) -> HttpResponse:
    call.view(collection_id)
    return call.pygeoapi(itemtypes_api.get_collection_queryables, collection_id)


@gate()
def schema(call: Call, collection_id: str) -> HttpResponse:
    """The collection's JSON Schema (Features Part 5 draft); the HTML page is pygeoapi's."""
    view = call.view(collection_id)
    if _wants_html(call.request):
        return call.pygeoapi(core_api.get_collection_schema, collection_id)
    body = schemas.json_schema(view, schema_id=call.request.build_absolute_uri(call.request.path))
    return HttpResponse(json.dumps(body, ensure_ascii=False), content_type=schemas.JSON_SCHEMA)


@gate(params=frozenset())
def gml_schema(call: Call, collection_id: str) -> HttpResponse:
    """The collection's GML application schema (for GDAL's OAPIF driver, see ogc_api.schemas)."""
    view = call.view(collection_id)
    return HttpResponse(schemas.gml_schema(view), content_type=schemas.XML_SCHEMA)


@gate()
def sortables(call: Call, collection_id: str) -> HttpResponse:
    """What ``sortby`` accepts on this collection for this caller (Features Part 8)."""
    view = call.view(collection_id)
    if call.request.GET.get("f") == "html":
        return _error(400, "InvalidParameterValue",
                      "sortables are served as JSON Schema only (f=json)")
    layer = view.layer
    properties: dict[str, Any] = {}
    for name, kind in query.sortables(layer, _field_types(view)).items():
        json_type, fmt = JSON_SCHEMA_TYPES[kind]
        title = (layer.field(name).title.tr if name in view.fields
                 else "Kimlik / Identifier")
        properties[name] = {"title": title, "type": json_type, **({"format": fmt} if fmt else {})}
    body = {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": call.request.build_absolute_uri(call.request.path),
            "type": "object", "title": layer.title.tr, "properties": properties,
            "additionalProperties": False}
    return HttpResponse(json.dumps(body, ensure_ascii=False),
                        content_type="application/schema+json")


def _field_types(view: LayerView) -> dict[str, str]:
    return {name: view.layer.field(name).type for name in view.fields}


def _html_in_crs84(response: HttpResponse) -> HttpResponse:
    """The HTML items pages show the provider's CRS84 geometries whatever ``crs`` asked for
    (pygeoapi echoes the requested CRS in ``Content-Crs``); the header says what is served."""
    if "Content-Crs" in response:
        response["Content-Crs"] = f"<{query.CRS84}>"
    return response


@gate(params=None)
def items(call: Call, collection_id: str) -> HttpResponse:
    view = call.view(collection_id)
    request = call.request
    try:
        parsed = query.parse_items(request.GET, view.layer, _field_types(view), view.rows)
    except query.ParameterError as exc:
        return _invalid(exc)
    fmt = request.GET.get("f")
    if fmt is not None and fmt not in {"json", "html"}:
        return _error(400, "InvalidParameterValue", "f must be json or html")
    call.audit(view, bbox=request.GET.get("bbox", ""), filter_text=parsed.filter_text)
    if _wants_html(request):
        if parsed.filter_sql is not None or parsed.cursor is not None or parsed.sort:
            return _error(400, "InvalidParameterValue",
                          "the HTML page supports limit, offset, bbox and property filters; "
                          "use f=json for filter, sortby and cursor")
        return _html_in_crs84(call.pygeoapi(itemtypes_api.get_collection_items, collection_id))
    try:
        page = query.run_page(parsed, list(view.fields))
        first = parsed.cursor is None and parsed.after is None and not parsed.offset
        matched = query.number_matched(parsed) if first else None
    except DatabaseError:
        if parsed.has_selection:
            return _error(400, "InvalidParameterValue", "the filter cannot be applied")
        raise
    self_url = request.build_absolute_uri(request.path)
    base_params = {k: v for k, v in request.GET.items() if k not in {"cursor", "offset", "f"}}
    links = [
        {"rel": "self", "type": GEOJSON, "title": "GeoJSON",
         "href": f"{self_url}?{urlencode({**request.GET.dict(), 'f': 'json'})}"},
        {"rel": "alternate", "type": "text/html", "title": "HTML",
         "href": f"{self_url}?{urlencode({**base_params, 'f': 'html'})}"},
        {"rel": "collection", "type": JSON, "title": view.layer.title.tr,
         "href": self_url.rsplit("/items", 1)[0]},
    ]
    following = page.next_cursor
    if following is not None:
        after = urlencode({**base_params, "cursor": following, "f": "json"})
        links.append({"rel": "next", "type": GEOJSON, "title": "next page",
                      "href": f"{self_url}?{after}"})
    count = page.count
    text = page.features
    head: dict[str, Any] = {"type": "FeatureCollection", "numberReturned": count}
    if matched is not None:
        head["numberMatched"] = matched
    head["timeStamp"] = timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    head["links"] = links
    body = json.dumps(head, ensure_ascii=False)[:-1] + ', "features": ' + text + "}"
    response = HttpResponse(body, content_type=GEOJSON)
    response["Content-Crs"] = f"<{parsed.out.uri}>"
    return response


@gate(params=query.ITEM_PARAMS)
def item(call: Call, collection_id: str, item_id: str) -> HttpResponse:
    view = call.view(collection_id)
    request = call.request
    try:
        parsed = query.parse_items(request.GET, view.layer, {}, view.rows)
    except query.ParameterError as exc:
        return _invalid(exc)
    if not item_id.isdigit() or len(item_id) > 18:
        raise Http404
    call.audit(view)
    if _wants_html(request):
        return _html_in_crs84(call.pygeoapi(itemtypes_api.get_collection_item, collection_id,
                                            item_id))
    page = query.run_page(parsed, list(view.fields), single=int(item_id))
    if not page.count:
        raise Http404
    feature = page.features[1:-1]
    url = request.build_absolute_uri(request.path)
    links = json.dumps([
        {"rel": "self", "type": GEOJSON, "href": f"{url}?f=json"},
        {"rel": "alternate", "type": "text/html", "href": f"{url}?f=html"},
        {"rel": "collection", "type": JSON, "href": url.rsplit("/items/", 1)[0]},
    ])
    body = feature[:-1] + ', "links": ' + links + "}"
    response = HttpResponse(body, content_type=GEOJSON)
    response["Content-Crs"] = f"<{parsed.out.uri}>"
    return response


# -- tiles -----------------------------------------------------------------
def _tileset(call: Call, view: LayerView) -> dict[str, Any]:
    base = f"{call.base_url}/collections/{view.layer.code}/tiles/WebMercatorQuad"
    low = generalise.lowest_zoom(view.layer, view.rows)
    return {
        "title": view.layer.title.tr,
        "dataType": "vector",
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "tileMatrixSetURI": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
        "tileMatrixSetLimits": [{"tileMatrix": str(z), "minTileRow": 0, "maxTileRow": 2**z - 1,
                                 "minTileCol": 0, "maxTileCol": 2**z - 1}
                                for z in range(low, tiles.MAX_ZOOM + 1)],
        "layers": [{"id": view.layer.code, "dataType": "vector",
                    "geometryDimension": 0 if "Point" in view.layer.geometry_type else
                    1 if "Line" in view.layer.geometry_type else 2,
                    "minTileMatrix": str(low), "maxTileMatrix": str(tiles.MAX_ZOOM)}],
        "links": [
            {"rel": "self", "type": JSON, "href": base},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", "type": JSON,
             "href": f"{call.base_url}/TileMatrixSets/WebMercatorQuad"},
            {"rel": "item", "type": "application/vnd.mapbox-vector-tile", "templated": True,
             "href": base + "/{tileMatrix}/{tileRow}/{tileCol}"},
        ],
    }


@gate()
def tilesets(call: Call, collection_id: str) -> HttpResponse:
    view = call.view(collection_id)
    tileset = _tileset(call, view)
    summary = {k: tileset[k] for k in ("title", "dataType", "crs", "tileMatrixSetURI")}
    summary["links"] = [tileset["links"][0] | {"rel": "self"}]
    body = {"links": [{"rel": "self", "type": JSON,
                       "href": f"{call.base_url}/collections/{collection_id}/tiles"}],
            "tilesets": [summary]}
    return HttpResponse(json.dumps(body, ensure_ascii=False), content_type=JSON)


@gate()
def tileset(call: Call, collection_id: str) -> HttpResponse:
    view = call.view(collection_id)
    return HttpResponse(json.dumps(_tileset(call, view), ensure_ascii=False), content_type=JSON)


@gate(params=frozenset({"f", "properties"}), documents=False)
def tile(call: Call, collection_id: str, z: int, y: int, x: int) -> HttpResponse:
    view = call.view(collection_id)
    query_string = call.request.META.get("QUERY_STRING")
    if query_string and call.request.GET.get("f", "mvt") != "mvt":
        return _error(400, "InvalidParameterValue", "f must be mvt")
    fields = list(view.fields)
    if "properties" in call.request.GET:
        # Only these attributes in the tile (OGC API - Features Part 6's ``properties``):
        # a viewer that identifies features on the server asks for its styling fields only,
        # and a tile of footprints shrinks to geometry and id. Empty: id only.
        # A field the caller may not see is left out, as from the items.
        asked = [n for n in call.request.GET["properties"].split(",") if n]
        known = {f.name for f in view.layer.fields}
        unknown = [n for n in asked if n not in known]
        if unknown:
            return _error(400, "InvalidParameterValue", "unknown properties: {names}",
                          names=", ".join(unknown))
        fields = [n for n in view.fields if n in asked]
    if z > tiles.MAX_ZOOM or x >= 2**z or y >= 2**z:
        return _error(400, "InvalidParameterValue", "tile outside the tile matrix set")
    generalised = z < tiles.min_zoom(view.layer)
    if generalised and z < generalise.lowest_zoom(view.layer, view.rows):
        return _error(404, "NotFound", "no tiles below the layer's minimum zoom")
    if view.layer.personal_data:
        call.audit(view, bbox=f"tile {z}/{y}/{x}")
    tag = None
    if generalised:  # the built-up outline of a dense polygon layer (ogc_api.generalise)
        data = generalise.render_tile(view.layer, z, x, y)
    else:  # through the tile cache (ogc_api.tilecache), after the access decision above
        data, tag = tiles.cached_tile(view.layer, fields, z, x, y, rows=view.rows)
    if tag is not None and tag in call.request.META.get("HTTP_IF_NONE_MATCH", ""):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(data, content_type="application/vnd.mapbox-vector-tile")
    if tag is not None:
        # The browser asks again each time (a changed feature shows in the next tile) and
        # gets 304 without the tile while its copy is current.
        response["ETag"] = tag
        response["Cache-Control"] = "private, no-cache"
    else:
        response["Cache-Control"] = "private, max-age=60"
    return response


@gate()
def tile_matrix_sets(call: Call, tms: str | None = None) -> HttpResponse:
    if tms is None:
        return call.pygeoapi(tiles_api.tilematrixsets)
    return call.pygeoapi(tiles_api.tilematrixset, tms)


#: ReDoc's bundle draws its vendor's logo from a CDN (no option turns it off); the copy
#: served here draws an empty inline picture instead, so the page asks no other host.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
EMPTY_SVG = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E"


@functools.cache
def _redoc_bundle() -> bytes:
    bundle = settings.NODE_MODULES / "redoc" / "bundles" / "redoc.standalone.js"
    return bundle.read_text(encoding="utf-8").replace(REDOC_LOGO, EMPTY_SVG).encode()


def redoc_bundle(request: HttpRequest) -> HttpResponse:
    """The app's copy of npm redoc's standalone bundle, without its CDN logo."""
    response = HttpResponse(_redoc_bundle(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def static(request: HttpRequest, path: str) -> HttpResponse:
    """pygeoapi's own CSS/images (served by the app; nothing from a CDN)."""
    target = (STATIC_ROOT / path).resolve()
    if not target.is_file() or STATIC_ROOT not in target.parents:
        raise Http404
    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return FileResponse(target.open("rb"), content_type=kind)
