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
from branca.element import Element, Figure
from django.templatetags.static import static


class OfflineMap(folium.Map):
    """A folium map whose Leaflet comes from the app's static files."""

    default_js = [("leaflet", "leaflet/leaflet.js")]
    default_css = [("leaflet_css", "leaflet/leaflet.css")]

    def render(self, **kwargs: Any) -> Any:
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
