"""Permission-aware reads of the OGC API: which layers a caller sees, and how."""

from __future__ import annotations

from typing import Any

from layers import access
from ogc_api.config import LayerView, table_exists


def layer_views(*, user: Any) -> dict[str, LayerView]:
    """The layers ``user`` may read that exist in the database, with their visible fields.

    The one question asked on every path (landing page, collections, OpenAPI,
    items, single items, queryables, tiles): ``layers.access``.
    """
    views: dict[str, LayerView] = {}
    for layer in access.readable_layers(user):
        if not table_exists(layer):
            continue
        views[layer.code] = LayerView(layer=layer,
                                      fields=tuple(access.visible_fields(user, layer)))
    return views
