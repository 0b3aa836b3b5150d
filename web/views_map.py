"""Map viewer page and its JSON endpoints (permission-checked through layers.access)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from gis_core.profiles import get_profile
from web import selectors


@login_required
def map_page(request: HttpRequest) -> HttpResponse:
    """The map: readable layers, loaded by bbox from the OGC API."""
    profile = get_profile(settings.KENTCBS_PROFILE)
    return render(request, "web/map.html", {
        "config": {
            "layers": selectors.map_layers(user=request.user),
            "centre": list(profile.centre),
            "srid": selectors.srid(),
            "tile_url": getattr(settings, "KENTCBS_TILE_URL", "") or "",
            "lang": getattr(request, "LANGUAGE_CODE", "tr"),
        }})


@login_required
def building_json(request: HttpRequest, pk: int) -> JsonResponse:
    """Building detail; 404 when missing or not readable (no existence leak)."""
    data = selectors.building_detail(user=request.user, building_id=pk)
    if data is None:
        raise Http404
    return JsonResponse(data)


@login_required
def search_json(request: HttpRequest) -> JsonResponse:
    """Search by inventory number, building name, UAVT code, IP or hostname."""
    return JsonResponse({"results": selectors.search(user=request.user,
                                                     query=request.GET.get("q", ""))})
