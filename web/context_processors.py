"""The app frame's context: the menu every page shows (``web/templates/web/base.html``).

The core's own pages come first; then one group per module, built from the
modules' declarations (:func:`gis_core.modules.menu_for`), so a module that adds a
menu entry needs no template edit. Titles are in the request's language.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _


def _entry(request: HttpRequest, ident: str, url: str, title: str) -> dict[str, Any]:
    path = request.path
    active = path == url if url == "/" else path.startswith(url)
    return {"id": ident, "url": url, "title": title, "active": active}


def frame(request: HttpRequest) -> dict[str, Any]:
    """``frame_menu`` (core entries) and ``frame_groups`` (one per module) for the user."""
    from gis_core.modules import discover, menu_for

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"frame_menu": [], "frame_groups": []}
    from web.dashboard import may_see_dashboard

    english = (get_language() or "tr").startswith("en")
    menu = [_entry(request, "nav-home", reverse("web:home"), _("Home page")),
            _entry(request, "nav-map", reverse("web:map"), _("Map")),
            _entry(request, "nav-reports", reverse("web:report_list"), _("Validation reports")),
            _entry(request, "nav-upload", reverse("web:upload"), _("Upload data"))]
    if may_see_dashboard(user):
        menu.append(_entry(request, "nav-dashboard", reverse("web:dashboard"), _("Dashboard")))
    from web.views_quality import sees_every_department

    quality = reverse("web:quality")
    if request.path.startswith(quality):
        menu[2]["active"] = False  # the quality page is under /reports/, not one of them
    if sees_every_department(user):
        menu.append(_entry(request, "nav-quality", quality, _("Data quality")))
    allowed = set(menu_for(user))
    groups = []
    for spec in discover():
        items = []
        for item in spec.menu_items:
            if item not in allowed:
                continue
            try:
                url = reverse(item.url_name)
            except NoReverseMatch:
                continue
            items.append(_entry(request, "nav-" + item.url_name.replace(":", "-"), url,
                                item.title_en if english else item.title_tr))
        if items:
            groups.append({"id": f"nav-{spec.code}", "title": spec.title_en if english
                           else spec.title_tr, "items": items,
                           "active": request.path.startswith(f"/{spec.code}/")})
    return {"frame_menu": menu, "frame_groups": groups}
