"""folium maps that work on an intranet: every script and style sheet from the app.

folium's defaults load Leaflet, jQuery, Bootstrap and Font Awesome from CDNs,
which a municipal intranet cannot reach. :class:`OfflineMap` loads Leaflet from
django-leaflet's packaged copy (``/static/leaflet/``) and nothing else; folium
elements that need jQuery (``folium.Popup``) are therefore avoided: bind popups
in plain Leaflet (``on_each_feature`` with ``layer.bindPopup``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import folium
from branca.element import Element, Figure, MacroElement
from django.templatetags.static import static
from jinja2 import Template


class MetricScale(MacroElement):
    """Leaflet's scale bar in metres only (folium's ``control_scale`` adds feet and miles)."""

    _template = Template("{% macro script(this, kwargs) %}L.control.scale({imperial: false})"
                         ".addTo({{ this._parent.get_name() }});{% endmacro %}")


class OfflineMap(folium.Map):
    """A folium map whose Leaflet comes from the app's static files; its scale bar (when
    ``control_scale``) in metres only."""

    default_js = [("leaflet", "leaflet/leaflet.js")]
    default_css = [("leaflet_css", "leaflet/leaflet.css")]

    def render(self, **kwargs: Any) -> Any:
        if self.control_scale:
            self.control_scale = False
            self.add_child(MetricScale())
        self.default_js = [(name, static(path)) for name, path in type(self).default_js]
        self.default_css = [(name, static(path)) for name, path in type(self).default_css]
        return super().render(**kwargs)


class StandaloneMap(OfflineMap):
    """A folium map for a file opened on its own (``file://``, no server): Leaflet's script
    and style sheet are written into the page itself, from the same packaged copy the app
    serves. The style sheet's ``url(...)`` images (marker icons, the layer control's
    button) are left out: a page that draws paths and circle markers needs none, and the
    page then asks for nothing outside itself."""

    def render(self, **kwargs: Any) -> Any:
        self.default_js = []
        self.default_css = []
        figure = cast(Figure, self.get_root())
        if "kentcbs_leaflet" not in figure.header._children:
            script, style = leaflet_assets()
            figure.header.add_child(
                Element(f"<style>{style}</style><script>{script}</script>"),
                name="kentcbs_leaflet", index=0)
        return folium.Map.render(self, **kwargs)


def leaflet_assets() -> tuple[str, str]:
    """Leaflet's script and its style sheet (without comments or ``url(...)`` images).

    The script names the SVG namespace (``http://www.w3.org/2000/svg``), an identifier
    that is never fetched."""
    import re

    from django.contrib.staticfiles import finders

    texts = []
    for path in ("leaflet/leaflet.js", "leaflet/leaflet.css"):
        found = finders.find(path)
        if not found:
            from gis_core.errors import KentCBSError

            raise KentCBSError("STATIC_MISSING", "The packaged file {path} is missing.",
                               path=path)
        with open(str(found), encoding="utf-8") as handle:
            texts.append(handle.read())
    script = texts[0].replace("</script", "<\\/script")
    style = re.sub(r"url\([^)]*\)", "none", re.sub(r"/\*.*?\*/", "", texts[1], flags=re.S))
    return script, style


@dataclass(frozen=True)
class RenderedMap:
    """The parts of a folium map to place in a Django page (``|safe`` in the template):
    ``header`` in ``<head>``, ``html`` where the map goes, ``script`` at the end of
    ``<body>``; ``map_name`` is the map's JavaScript variable."""

    header: str
    html: str
    script: str
    map_name: str
    #: HTML shown beside the map (e.g. a legend), if any.
    legend: str = ""


def render_parts(fmap: folium.Map, *, extra_script: str = "") -> RenderedMap:
    """Render ``fmap`` into the parts a Django template places."""
    figure = cast(Figure, fmap.get_root())
    figure.render()
    return RenderedMap(header=figure.header.render(), html=figure.html.render(),
                       script=figure.script.render() + extra_script, map_name=fmap.get_name())


# -- one map helper: centres and popups, shared by every folium map ----------------------
def municipality_centre() -> tuple[float, float]:
    """The first view's centre as ``(lon, lat)`` (WGS84): a point on the municipality's
    boundary surface, or the profile's stated centre when no boundary is stored yet.

    Always longitude first: nothing is guessed from which number is larger (in eastern
    Türkiye the longitude is the larger: Van, 43.4° E 38.5° N).
    """
    from django.conf import settings
    from django.contrib.gis.db.models.functions import PointOnSurface, Transform

    from gis_core.models import Municipality
    from gis_core.profiles import get_profile

    row = (Municipality.objects.filter(boundary__isnull=False)
           .annotate(centre=Transform(PointOnSurface("boundary"), 4326))
           .values_list("centre", flat=True).first())
    if row is not None:
        return (float(row.x), float(row.y))
    lon, lat = get_profile(settings.KENTCBS_PROFILE).centre
    return (float(lon), float(lat))


def location(centre: tuple[float, float]) -> list[float]:
    """folium's ``location`` (``[lat, lon]``) of a ``(lon, lat)`` centre."""
    lon, lat = centre
    return [lat, lon]


#: Binds each feature's ``properties.popup`` (title, lines, links) as a popup built with
#: ``textContent`` (no HTML from data) and ``properties.tooltip`` as a tooltip. folium's own
#: Popup element needs jQuery, which an intranet page does not load.
POPUP_JS = (
    "function (feature, layer) { var p = feature.properties.popup || {};"
    " var box = document.createElement('div'); box.className = 'map-popup';"
    " if (p.title) { var b = document.createElement('strong'); b.textContent = p.title;"
    " box.appendChild(b); }"
    " (p.lines || []).forEach(function (l) { var d = document.createElement('div');"
    " d.textContent = l.text; if (l.cls) { d.className = l.cls; } box.appendChild(d); });"
    " if ((p.links || []).length) { var nav = document.createElement('div');"
    " p.links.forEach(function (l, i) { if (i) { nav.appendChild(document.createTextNode(' · ')); }"
    " var a = document.createElement('a'); a.href = l.href; a.textContent = l.text;"
    " a.target = '_top'; if (l.cls) { a.className = l.cls; } nav.appendChild(a); });"
    " box.appendChild(nav); }"
    " if (box.childNodes.length) { layer.bindPopup(box, {maxWidth: 360}); }"
    " if (feature.properties.tooltip) { layer.bindTooltip(String(feature.properties.tooltip)); }"
    " }")


def popup(title: str = "", lines: list[tuple[str, str]] | None = None,
          links: list[tuple[str, str, str]] | None = None) -> dict[str, Any]:
    """A feature's popup for :func:`add_features`: a title, lines ``(text, css class)`` and
    links ``(text, href, css class)``; every text is shown as text, never as HTML."""
    return {"title": title,
            "lines": [{"text": text, "cls": cls} for text, cls in (lines or [])],
            "links": [{"text": text, "href": href, "cls": cls}
                      for text, href, cls in (links or [])]}


def add_features(fmap: folium.Map, features: list[dict[str, Any]], *, name: str,
                 style: Any, point_radius: float | None = None) -> folium.GeoJson:
    """Add GeoJSON ``features`` whose properties carry ``popup`` (from :func:`popup`) and
    ``tooltip``, styled by ``style`` (a folium style function); points drawn as circle
    markers of ``point_radius`` pixels when given."""
    from folium.utilities import JsCode

    options: dict[str, Any] = {}
    if point_radius is not None:
        options["marker"] = folium.CircleMarker(radius=point_radius, fill=True, fill_opacity=0.8)
    layer = folium.GeoJson({"type": "FeatureCollection", "features": features}, name=name,
                           style_function=style, on_each_feature=JsCode(POPUP_JS),
                           smooth_factor=0, **options)
    layer.add_to(fmap)
    return layer
