"""Permission-aware reads of the OGC API: which layers a caller sees, and how."""

from __future__ import annotations

from typing import Any

from layers import access
from ogc_api.config import LayerView, existing_tables


def _view(user: Any, layer: Any) -> LayerView:
    rows = access.row_condition(user, layer)
    return LayerView(layer=layer, fields=tuple(access.visible_fields(user, layer)),
                     rows=None if rows is access.ALL_ROWS else str(rows))


def layer_views(*, user: Any) -> dict[str, LayerView]:
    """The layers ``user`` may read that exist in the database, with their visible fields.

    The one question asked on every path (landing page, collections, OpenAPI,
    items, single items, queryables, tiles): ``layers.access`` (which layers, which
    fields, which rows).
    """
    readable = access.readable_layers(user)
    present = existing_tables([str(layer.backing.table) for layer in readable])
    return {layer.code: _view(user, layer) for layer in readable
            if str(layer.backing.table) in present}


def layer_view(*, user: Any, code: str) -> LayerView | None:
    """One entry of :func:`layer_views` (None when absent), without looking at the others.

    Paths about one collection (items, tiles ...) ask only this: the same
    ``layers.access`` question for one layer, so a tile request does not weigh
    every layer of the registry.
    """
    from layers.registry import registry

    if code not in registry:
        return None
    layer = registry.get(code)
    if not access.can_read(user, layer):
        return None
    table = str(layer.backing.table)
    if table not in existing_tables([table]):
        return None
    return _view(user, layer)
