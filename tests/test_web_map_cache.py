"""The viewer's folium map is rendered once per set of layers, and again when one changes."""

from __future__ import annotations

from layers.registry import registry
from web.maps import viewer_map

CENTRE = (30.52, 39.77)


def test_the_viewer_map_is_rendered_once_per_layer_set() -> None:
    bina, yol = registry.get("bina"), registry.get("yol")
    first = viewer_map(layers=[bina, yol], centre=CENTRE)
    # another user with the same layers: the same map (the layers shown first are map.js's
    # business, from the page's config)
    assert viewer_map(layers=[bina, yol], centre=CENTRE) is first
    assert set(first.layer_names) == {"bina", "yol"}

    fewer = viewer_map(layers=[bina], centre=CENTRE)
    assert fewer is not first and set(fewer.layer_names) == {"bina"}
    assert "/ogc/collections/yol/" not in fewer.script

    # a changed style (a new release of the definition) is a map of its own
    restyled = bina.model_copy(update={"style": bina.style.model_copy(
        update={"color": "#123456"})})
    again = viewer_map(layers=[restyled, yol], centre=CENTRE)
    assert again is not first and "#123456" in again.script and "#123456" not in first.script
    # and so is another first view or boundary
    assert viewer_map(layers=[bina, yol], centre=(43.38, 38.49)) is not first
    assert viewer_map(layers=[bina, yol], centre=CENTRE,
                      boundary_geojson='{"type": "Point", "coordinates": [30.5, 39.7]}'
                      ) is not first
