"""The start page: a department's home (its layers, buildings and recent uploads)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language

from gis_core.labels import role_label
from gis_core.modules import menu_for
from layers.access import readable_layers
from web import selectors
from web.reports import STATUS_LABELS


def home(request: HttpRequest) -> HttpResponse:
    """Signed in: the department home. Anonymous: the public layers and the sign-in link."""
    menu = []
    for item in menu_for(request.user):
        try:
            menu.append({"url": reverse(item.url_name), "title_tr": item.title_tr,
                         "title_en": item.title_en})
        except NoReverseMatch:
            continue
    context: dict[str, object] = {"menu": menu}
    if request.user.is_authenticated:
        context.update(selectors.department_home(user=request.user))
        context["roles"] = [role_label(code) for code in context["roles"]]
        english = (get_language() or "tr").startswith("en")
        titles = {layer["code"]: layer["title_en" if english else "title_tr"]
                  for layer in context["layers"]}
        context["uploads"] = [{"batch": batch, "status_label": STATUS_LABELS.get(batch.status,
                                                                                batch.status),
                               "layer_title": titles.get(batch.layer_code, batch.layer_code)}
                              for batch in context["uploads"]]
    else:
        context["layers"] = [{"code": layer.code, "title_tr": layer.title.tr,
                              "title_en": layer.title.en}
                             for layer in readable_layers(request.user)]
    return render(request, "web/home.html", context)
