"""The helpdesk load map: buildings shaded by ticket count (folium, assets served locally)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.urls import reverse
from django.utils.translation import gettext as _

from gis_core.maps import OfflineMap, RenderedMap, add_features, location, popup, render_parts
from modules.helpdesk.statistics import BuildingLoad

#: Outline of a building with open tickets past their resolution due time.
OVERDUE_COLOUR = "#d7191c"
#: Sequential shades (light to dark) for ticket load classes.
SHADES = ("#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704")


def shade(count: int, maximum: int) -> str:
    """Colour of a building with ``count`` tickets when the busiest has ``maximum``."""
    if count <= 0 or maximum <= 0:
        return SHADES[0]
    index = 1 + min(len(SHADES) - 2, (count - 1) * (len(SHADES) - 1) // maximum)
    return SHADES[index]


def load_map(loads: Sequence[BuildingLoad], *, centre: tuple[float, float]) -> RenderedMap:
    """Buildings as polygons shaded by ticket load; each popup links to 'open a ticket'.

    ``centre``: ``(lon, lat)``, from :func:`gis_core.maps.municipality_centre`.
    """
    fmap = OfflineMap(location=location(centre), zoom_start=15, tiles=None,
                      control_scale=True, prefer_canvas=False)
    maximum = max((load.tickets for load in loads), default=0)
    bounds: list[list[float]] = []
    features = []
    for load in loads:
        geometry = json.loads(load.geojson)
        new_url = reverse("helpdesk:ticket_new") + f"?building={load.building_id}"
        page_url = reverse("helpdesk:building", args=[load.building_id])
        lines = [(_("Tickets: %(tickets)s, open: %(open)s") % {
            "tickets": load.tickets, "open": load.open}, "")]
        tooltip = f"{load.code}: {load.tickets}"
        if load.overdue:
            past_due = _("Past due: %(count)s") % {"count": load.overdue}
            lines.append((past_due, "overdue"))
            tooltip += f" · {past_due}"
        features.append({"type": "Feature", "geometry": geometry, "properties": {
            "code": load.code, "tickets": load.tickets, "overdue": load.overdue,
            "colour": shade(load.tickets, maximum), "tooltip": tooltip,
            "popup": popup(f"{load.name} ({load.code})", lines,
                           [(_("Report a fault or a request"), new_url, "helpdesk-new"),
                            (_("Building page"), page_url, "")])}})
        bounds.extend(_corners(geometry))
    if features:
        # Past-due tickets: a thick red outline, as the lists' red badge.
        add_features(fmap, features, name="helpdesk_load", style=lambda f: {
            "color": OVERDUE_COLOUR if f["properties"]["overdue"] else "#555555",
            "weight": 4 if f["properties"]["overdue"] else 1,
            "fillColor": f["properties"]["colour"], "fillOpacity": 0.8})
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
