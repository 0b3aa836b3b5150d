"""Map viewer page and its JSON endpoints (permission-checked through layers.access)."""

from __future__ import annotations

import functools
import warnings

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from pyproj import CRS

from gis_core.maps import municipality_centre
from gis_core.params import parse_id
from layers.access import readable_layers
from web import maps, selectors
from web.layer_reads import labels_memo


@functools.cache
def _proj4(srid: int) -> str:
    """The PROJ string of the TM zone, for the cursor readout (exact for a TM zone)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return CRS.from_epsg(srid).to_proj4()


def _lang() -> str:
    return "en" if (get_language() or "tr").startswith("en") else "tr"


def _float(value: str | None) -> float | None:
    try:
        number = float(value or "")
    except ValueError:
        return None
    return number if abs(number) <= 180 else None


def _strings() -> dict[str, str]:
    """The map script's words, translated by Django's catalogue."""
    return {"floors": _("Floors"), "floor": _("Floor"), "rooms": _("Rooms"),
            "assets": _("Assets"), "asset_list": _("Asset list"), "links": _("Network links"),
            "not_found": _("The building was not found or you may not see it."),
            "no_building": _("There is no building you may see at this point."),
            "no_result": _("Nothing found."),
            "identify": _("Under the cursor"), "nothing_here": _("Nothing you may see here."),
            "table": _("Table"), "close": _("Close"), "add": _("Add filter"),
            "clear": _("Clear filters"), "previous": _("Previous"), "next": _("Next"),
            "rows": _("rows"), "zoom_to": _("Zoom to"), "contains": _("contains"),
            "measure_line": _("Measure distance"), "measure_area": _("Measure area"),
            "measure_hint": _("Click to add points, double-click to finish."),
            "distance": _("Distance"), "area": _("Area"), "yes": _("yes"), "no": _("no"),
            "loading": _("Loading…"), "filter_error": _("The filter was refused."),
            "permalink": _("Link to this view"), "copied": _("The link is in the address bar."),
            "layers": _("Layers")}


@login_required
def map_page(request: HttpRequest) -> HttpResponse:
    """The map: every readable layer as vector tiles, toggles and legend from the registry.

    ``?layers=a,b`` chooses the layers shown at first (default: neighbourhoods,
    service buildings, network links); ``?building=<id>`` opens a building.
    """
    layers = readable_layers(request.user)
    codes = {layer.code for layer in layers}
    asked = [code for code in request.GET.get("layers", "").split(",") if code in codes]
    visible = set(asked) if asked else set(maps.DEFAULT_VISIBLE) & codes
    fmap = maps.viewer_map(layers=layers, centre=municipality_centre(),
                           boundary_geojson=selectors.municipality_boundary())
    srid = selectors.srid()
    with labels_memo():
        described = selectors.map_layers(layers=layers, lang=_lang(), user=request.user)
    return render(request, "web/map.html", {
        "map": fmap,
        "layers": described,
        "visible": visible,
        "strings": _strings(),
        "config": {
            "map": fmap.map_name,
            "layers": fmap.layer_names,
            "visible": sorted(visible),
            "srid": srid,
            "proj4": _proj4(srid),
            "lang": _lang(),
            "buildings": selectors.may_read_buildings(user=request.user),
            "building": parse_id(request.GET.get("building"), name="building"),
            "tools": {
                "fields": {item["code"]: item["fields"] for item in described},
                "titles": {item["code"]: item["title"] for item in described},
                "labels": {item["code"]: item["label"] for item in described if item["label"]},
                "min_zoom": {item["code"]: item["min_zoom"] for item in described},
                "urls": {"identify": reverse("web:identify"), "print": reverse("web:print_pdf"),
                         "items": reverse("ogc_api:items", kwargs={"collection_id": "CODE"}),
                         "labels": reverse("web:labels", kwargs={"code": "CODE"}),
                         "export": reverse("web:layer_export",
                                           kwargs={"code": "CODE", "fmt": "FMT"})},
            },
        }})


@login_required
def building_json(request: HttpRequest, pk: int) -> JsonResponse:
    """Building detail; 404 when missing or not readable (no existence leak)."""
    data = selectors.building_detail(user=request.user, building_id=pk)
    if data is None:
        raise Http404
    return JsonResponse(data)


@login_required
def building_at_json(request: HttpRequest) -> JsonResponse:
    """The readable building under a clicked WGS84 point (``?lon=&lat=``), or ``null``."""
    lon, lat = _float(request.GET.get("lon")), _float(request.GET.get("lat"))
    if lon is None or lat is None or abs(lat) > 90:
        return JsonResponse({"error": "lon/lat: sayı bekleniyor / numbers expected"},
                            status=400)
    return JsonResponse({"id": selectors.building_at(user=request.user, lon=lon, lat=lat)})


@login_required
def search_json(request: HttpRequest) -> JsonResponse:
    """Search by inventory number, building name, UAVT code, IP or hostname."""
    return JsonResponse({"results": selectors.search(user=request.user,
                                                     query=request.GET.get("q", ""))})
