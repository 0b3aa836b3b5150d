"""Registers demo: deterministic, idempotent, stock equals its ledger, some alerts show."""

from __future__ import annotations

import pytest

from tests.test_registers_support import Registry
from tests.test_registers_support import registry as registry


@pytest.mark.django_db
def test_demo_is_deterministic_idempotent_and_consistent(registry: Registry) -> None:
    from gis_core.modules import discover
    from modules.registers import consumables
    from modules.registers.demo import load_demo
    from modules.registers.models import ConsumableItem, Stock, StockMovement, StoreRoom

    spec = next(s for s in discover() if s.code == "registers")
    assert spec.demo is not None and spec.building_panels
    first = load_demo()
    assert first["stores"] == 2 and first["created"] == 4  # one printer model: toner, drum
    assert spec.demo(profile="odunpazari")["created"] == 0  # idempotent
    for stock in Stock.objects.select_related("item", "store"):
        assert stock.quantity >= 0
        assert consumables.ledger_balance(item=stock.item, store=stock.store) == stock.quantity
    issues = StockMovement.objects.filter(kind="issue")
    assert issues.filter(asset=registry.assets["DB-0002"]).exists()  # toner to the printer
    assert consumables.below_minimum()
    fingerprint = list(StockMovement.objects.order_by("pk").values_list(
        "item__code", "store__code", "kind", "quantity"))
    StockMovement.objects.all().delete()
    Stock.objects.all().delete()
    ConsumableItem.objects.all().delete()
    StoreRoom.objects.all().delete()
    load_demo()
    assert list(StockMovement.objects.order_by("pk").values_list(
        "item__code", "store__code", "kind", "quantity")) == fingerprint
