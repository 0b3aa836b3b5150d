"""The helpdesk load map: buildings shaded by ticket count (folium, assets served locally)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import folium
from django.urls import reverse
from django.utils.html import escape
from folium.utilities import JsCode

from gis_core.maps import OfflineMap, RenderedMap, render_parts
from modules.helpdesk.statistics import BuildingLoad

#: Sequential shades (light to dark) for ticket load classes.
SHADES = ("#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704")


def shade(count: int, maximum: int) -> str:
    """Colour of a building with ``count`` tickets when the busiest has ``maximum``."""
    if count <= 0 or maximum <= 0:
        return SHADES[0]
    index = 1 + min(len(SHADES) - 2, (count - 1) * (len(SHADES) - 1) // maximum)
    return SHADES[index]


def load_map(loads: Sequence[BuildingLoad], *, centre: tuple[float, float]) -> RenderedMap:
    """Buildings as polygons shaded by ticket load; each popup links to 'open a ticket'."""
    fmap = OfflineMap(location=list(centre), zoom_start=15, tiles=None, control_scale=True,
                    prefer_canvas=False)
    maximum = max((load.tickets for load in loads), default=0)
    bounds: list[list[float]] = []
    for load in loads:
        geometry = json.loads(load.geojson)
        colour = shade(load.tickets, maximum)
        new_url = reverse("helpdesk:ticket_new") + f"?building={load.building_id}"
        page_url = reverse("helpdesk:building", args=[load.building_id])
        popup = (f'<b>{escape(load.name)}</b> ({escape(load.code)})<br>'
                 f'Talep: {load.tickets} — açık: {load.open}<br>'
                 f'<a class="helpdesk-new" href="{new_url}" target="_top">Arıza / talep bildir</a>'
                 f' · <a href="{page_url}" target="_top">Bina sayfası</a>')
        feature = {"type": "Feature", "geometry": geometry,
                   "properties": {"code": load.code, "tickets": load.tickets, "popup": popup}}
        # Popups are bound in plain Leaflet: folium's Popup element needs jQuery.
        folium.GeoJson(
            feature, name=load.code, smooth_factor=0,
            style_function=lambda _f, c=colour: {"color": "#555555", "weight": 1,
                                                 "fillColor": c, "fillOpacity": 0.8},
            on_each_feature=JsCode(
                "function (feature, layer) {"
                " layer.bindPopup(feature.properties.popup, {maxWidth: 300});"
                " layer.bindTooltip(feature.properties.code + ': ' + feature.properties.tickets);"
                " }"),
        ).add_to(fmap)
        bounds.extend(_corners(geometry))
    refit = ""
    if bounds:
        lats = [p[0] for p in bounds]
        lons = [p[1] for p in bounds]
        box = [[min(lats), min(lons)], [max(lats), max(lons)]]
        # Fitted once the page is laid out, without animation (an animated pan leaves
        # paths clipped to the old view until it ends).
        name = fmap.get_name()
        options = "{padding: [30, 30], maxZoom: 18, animate: false}"
        refit = (f"\nwindow.addEventListener('load', function () {{ {name}.invalidateSize();"
                 f" {name}.fitBounds({json.dumps(box)}, {options}); }});")
    return render_parts(fmap, extra_script=refit)


def _corners(geometry: dict) -> list[list[float]]:
    """(lat, lon) pairs of a GeoJSON polygon or multipolygon's outer rings."""
    rings = (geometry["coordinates"] if geometry["type"] == "Polygon"
             else [ring for poly in geometry["coordinates"] for ring in poly])
    return [[lat, lon] for ring in rings for lon, lat in ring]
