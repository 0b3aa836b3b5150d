"""The layer registry: shipped definitions load, broken ones fail with file and field."""

from __future__ import annotations

import pytest

from layers.errors import UnknownLayerError
from layers.registry import registry

SHIPPED = ["ag_baglanti", "aydinlatma", "bina", "bina_hizmet", "bt_varlik", "mahalle",
           "numarataj", "oda", "yesil_alan", "yol"]


def test_every_shipped_definition_loads() -> None:
    registry.reload()
    assert registry.problems() == []
    assert set(SHIPPED) <= set(registry.codes())
    for layer in registry.all():
        assert layer.title.tr and layer.title.en
        assert layer.description.tr and layer.description.en
        assert layer.srid in (5253, 5254)
        assert all(name in layer.field_names for name in layer.key)
        assert layer.backing.table and layer.backing.table.startswith("cbs.")


def test_unknown_layer_is_a_typed_error() -> None:
    with pytest.raises(UnknownLayerError) as info:
        registry.get("no_such_layer")
    assert info.value.code == "UNKNOWN_LAYER"
