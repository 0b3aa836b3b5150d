"""The department map as a folium definition, with every asset served by the app.

folium writes the Leaflet map, the optional basemap and one vector-tile layer per
readable registry layer (``L.vectorGrid.protobuf`` over the OGC API's
``/tiles/WebMercatorQuad/{z}/{y}/{x}``, made by PostGIS). Large layers therefore
never travel as one GeoJSON inside the page. The small script in
``web/static/web/map.js`` takes over where folium stops: toggles, the building
panel on click, search and the cursor position.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import folium
from django.conf import settings
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse
from folium.plugins import VectorGridProtobuf
from folium.utilities import JsCode

from gis_core.maps import OfflineMap, RenderedMap, location, render_parts
from ogc_api import generalise, tiles

if TYPE_CHECKING:
    from layers.schema import LayerDefinition

#: Layers shown when the page opens (others are a click away in the layer list).
DEFAULT_VISIBLE = ("mahalle", "bina_hizmet", "ag_baglanti")


class OfflineVectorGrid(VectorGridProtobuf):
    """folium's VectorGrid layer with Leaflet.VectorGrid from the npm package (no unpkg)."""

    default_js = [("vectorGrid", "vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js")]

    def render(self, **kwargs: Any) -> None:
        self.default_js = [(name, static(path)) for name, path in type(self).default_js]
        super().render(**kwargs)


@dataclass(frozen=True)
class ViewerMap(RenderedMap):
    """The rendered viewer map and the JavaScript variable of each layer, by code."""

    layer_names: dict[str, str] = field(default_factory=dict)


def path_style(layer: LayerDefinition) -> dict[str, Any]:
    """The layer style as Leaflet path options (also used by the legend)."""
    style = layer.style
    polygon = "Polygon" in layer.geometry_type
    point = "Point" in layer.geometry_type
    return {
        "color": style.color, "weight": style.weight, "opacity": style.opacity,
        "fill": polygon or point, "fillColor": style.fill_color or style.color,
        "fillOpacity": style.fill_opacity if polygon else (0.8 if point else 0),
        "radius": style.radius,
    }


def rule_styles(layer: LayerDefinition) -> list[dict[str, Any]]:
    """The layer's style rules as ``{field, value, style}`` with Leaflet option names."""
    rules = []
    for rule in layer.style.rules:
        style: dict[str, Any] = {}
        if rule.color:
            style["color"] = rule.color
        if rule.fill_color:
            style["fillColor"] = rule.fill_color
        if rule.weight is not None:
            style["weight"] = rule.weight
        if rule.dash_array:
            style["dashArray"] = rule.dash_array
        rules.append({"field": rule.field, "value": rule.value, "style": style})
    return rules


def style_function(layer: LayerDefinition) -> JsCode:
    """A VectorGrid style function: the layer style, then every matching rule."""
    base = json.dumps(path_style(layer))
    rules = json.dumps(rule_styles(layer))
    return JsCode(
        f"function (p) {{ var s = Object.assign({{}}, {base}); {rules}.forEach(function (r) {{"
        " if (p && String(p[r.field]) === r.value) { Object.assign(s, r.style); } });"
        # A generalised outline (ogc_api.generalise) is filled only: its tile edges stay unseen.
        " if (p && p.cells !== undefined) { s.stroke = false; s.fill = true; }"
        " return s; }")


def _draw_order(layer: LayerDefinition) -> int:
    kind = layer.geometry_type
    return 0 if "Polygon" in kind else 1 if "Line" in kind else 2


def tile_url(layer: LayerDefinition) -> str:
    """The OGC API – Tiles URL template of ``layer`` (Leaflet's ``{z}/{y}/{x}``)."""
    base = reverse("ogc_api:tile", kwargs={"collection_id": layer.code, "z": 0, "y": 0, "x": 0})
    return base.removesuffix("0/0/0") + "{z}/{y}/{x}"


@dataclass(frozen=True)
class _MapKey:
    """What a rendered viewer map is made of (``key``), with the objects to build it from;
    only ``key`` is compared and hashed."""

    key: tuple[Any, ...]
    layers: tuple[LayerDefinition, ...] = field(compare=False)
    centre: tuple[float, float] = field(compare=False)
    zoom: int = field(compare=False)
    boundary_geojson: str | None = field(compare=False)


@functools.lru_cache(maxsize=64)
def _rendered(spec: _MapKey) -> ViewerMap:
    return build_viewer_map(layers=list(spec.layers), centre=spec.centre, zoom=spec.zoom,
                            boundary_geojson=spec.boundary_geojson)


def viewer_map(*, layers: list[LayerDefinition], centre: tuple[float, float], zoom: int = 15,
               boundary_geojson: str | None = None) -> ViewerMap:
    """The viewer's folium map (:func:`build_viewer_map`), rendered once per process for
    each set of layers a user may read (the 64 most recent sets are kept).

    folium builds and renders some forty elements, each compiling its Jinja template:
    about 15 ms of every map page, for a text that depends only on the definitions of the
    layers, the first view, the boundary and the basemap setting. Users of the same
    departments share one. A changed layer definition (its ``version`` or style) or
    boundary is another key; the process's registry changes only with a reload anyway.
    """
    basemap = (getattr(settings, "KENTCBS_TILE_URL", "") or "",
               getattr(settings, "KENTCBS_TILE_ATTR", "") or "")
    key = (tuple((layer.code, layer.version, layer.style.model_dump_json()) for layer in layers),
           centre, zoom, hashlib.sha256((boundary_geojson or "").encode()).hexdigest(),
           basemap, get_script_prefix(), settings.STATIC_URL)
    return _rendered(_MapKey(key, tuple(layers), centre, zoom, boundary_geojson))


def build_viewer_map(*, layers: list[LayerDefinition], centre: tuple[float, float],
                     zoom: int = 15,
                     boundary_geojson: str | None = None) -> ViewerMap:
    """The viewer's folium map.

    Parameters
    ----------
    layers : list of LayerDefinition
        The layers the user may read (decided by ``layers.access``; the OGC API
        applies the same decision to every tile request).
    centre : (lon, lat)
        First view, WGS84.
    boundary_geojson : str, optional
        The municipality boundary (WGS84 GeoJSON), drawn as an outline.
    """
    basemap = getattr(settings, "KENTCBS_TILE_URL", "") or ""
    # An external basemap's licence usually asks for its attribution on the map.
    fmap = OfflineMap(location=location(centre), zoom_start=zoom, tiles=None,
                      control_scale=True, prefer_canvas=True, max_zoom=22,
                      attribution_control=bool(basemap))
    if basemap:
        folium.TileLayer(basemap, name="basemap", attr=getattr(settings, "KENTCBS_TILE_ATTR",
                                                                "") or " ",
                         max_zoom=22, control=False).add_to(fmap)
    if boundary_geojson:
        folium.GeoJson(
            json.loads(boundary_geojson), name="municipality", control=False,
            style_function=lambda _f: {"color": "#1f4e79", "weight": 3, "fill": False,
                                       "dashArray": "10 6"},
            interactive=False,
        ).add_to(fmap)
    names: dict[str, str] = {}
    # Areas under lines under points, so nothing small hides under a large polygon.
    for order, layer in enumerate(sorted(layers, key=_draw_order)):
        options = {
            # A JsCode object: folium would camelise a dict key (bina_hizmet -> binaHizmet),
            # and VectorGrid matches the MVT layer name exactly.
            "vectorTileLayerStyles": JsCode(
                f"{{{json.dumps(layer.code)}: {style_function(layer).js_code}}}"),
            "rendererFactory": JsCode("L.canvas.tile"),
            "interactive": False,
            "minZoom": generalise.lowest_zoom(layer),
            "maxZoom": 22,
            "maxNativeZoom": tiles.MAX_ZOOM,
            "zIndex": 10 + order,
            "fetchOptions": {"credentials": "same-origin"},
        }
        # Added to the map by map.js once the first view is set (the permalink's view,
        # else this one): a layer added here would fetch this view's tiles first.
        # Identify asks the server, so a tile carries only what the style reads: the
        # rules' fields (a million footprints' tiles shrink to geometry and id).
        styled = sorted({rule.field for rule in layer.style.rules})
        url = f"{tile_url(layer)}?properties={','.join(styled)}"
        grid = OfflineVectorGrid(url, name=layer.code, options=options,
                                 show=False, control=False)
        grid.add_to(fmap)
        names[layer.code] = grid.get_name()
    parts = render_parts(fmap)
    return ViewerMap(header=parts.header, html=parts.html, script=parts.script,
                     map_name=parts.map_name, layer_names=names)
