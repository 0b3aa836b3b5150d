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
from branca.element import Figure
from django.templatetags.static import static


class OfflineMap(folium.Map):
    """A folium map whose Leaflet comes from the app's static files."""

    default_js = [("leaflet", "leaflet/leaflet.js")]
    default_css = [("leaflet_css", "leaflet/leaflet.css")]

    def render(self, **kwargs: Any) -> Any:
        self.default_js = [(name, static(path)) for name, path in type(self).default_js]
        self.default_css = [(name, static(path)) for name, path in type(self).default_css]
        return super().render(**kwargs)


@dataclass(frozen=True)
class RenderedMap:
    """The parts of a folium map to place in a Django page (``|safe`` in the template):
    ``header`` in ``<head>``, ``html`` where the map goes, ``script`` at the end of
    ``<body>``; ``map_name`` is the map's JavaScript variable."""

    header: str
    html: str
    script: str
    map_name: str


def render_parts(fmap: folium.Map, *, extra_script: str = "") -> RenderedMap:
    """Render ``fmap`` into the parts a Django template places."""
    figure = cast(Figure, fmap.get_root())
    figure.render()
    return RenderedMap(header=figure.header.render(), html=figure.html.render(),
                       script=figure.script.render() + extra_script, map_name=fmap.get_name())
