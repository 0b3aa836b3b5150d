"""Permission-aware reads of the OGC API: which layers a caller sees, and how."""

from __future__ import annotations

from typing import Any

from layers import access
from ogc_api.config import LayerView, existing_tables


def layer_views(*, user: Any) -> dict[str, LayerView]:
    """The layers ``user`` may read that exist in the database, with their visible fields.

    The one question asked on every path (landing page, collections, OpenAPI,
    items, single items, queryables, tiles): ``layers.access``.
    """
    views: dict[str, LayerView] = {}
    readable = access.readable_layers(user)
    present = existing_tables([str(layer.backing.table) for layer in readable])
    for layer in readable:
        if str(layer.backing.table) not in present:
            continue
        views[layer.code] = LayerView(layer=layer,
                                      fields=tuple(access.visible_fields(user, layer)))
    return views
