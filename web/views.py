"""The start page: where a signed-in member of staff finds their way.

The department map viewer (issue 6) is not built yet; this page lists what
exists today, filtered by the same permission model as every other path.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from gis_core.modules import menu_for
from layers.access import readable_layers


def home(request: HttpRequest) -> HttpResponse:
    menu = []
    for item in menu_for(request.user):
        try:
            menu.append({"url": reverse(item.url_name), "title_tr": item.title_tr,
                         "title_en": item.title_en})
        except NoReverseMatch:
            continue
    layers = [{"code": layer.code, "title_tr": layer.title.tr, "title_en": layer.title.en}
              for layer in readable_layers(request.user)]
    return render(request, "web/home.html", {"menu": menu, "layers": layers})
