"""Registers demo data (deterministic, idempotent): store rooms, consumables and their stock.

Toner and drum for every printer model of the demo assets, cables and disks; receipts at
the start of the demo year, issues to printers, rooms and departments over the year; a few
items end below their minimum level so the alerts show.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

SEED = 21
START = dt.datetime(2025, 11, 3, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))


def load_demo(*, profile: str | None = None) -> dict[str, Any]:
    """Load the registers demo; returns counts. Does nothing when store rooms exist."""
    from django.utils.text import slugify

    from gis_core.audit import audit_context
    from gis_core.models import Asset, Building, Department, Room
    from modules.registers import consumables
    from modules.registers.errors import RegistersError
    from modules.registers.models import ConsumableItem, StockMovement, StoreRoom

    if StoreRoom.objects.exists():
        return {"stores": StoreRoom.objects.count(), "movements": StockMovement.objects.count(),
                "created": 0}
    buildings = list(Building.objects.order_by("code")[:2])
    if not buildings:
        return {"stores": 0, "movements": 0, "created": 0}
    rng = random.Random(SEED)  # noqa: S311 (demo data, not security)
    stores = [StoreRoom.objects.create(code=f"depo-{b.code.lower()}", name=f"{b.name} deposu",
                                       building=b, room=Room.objects.filter(building=b).first())
              for b in buildings]
    printers = list(Asset.objects.filter(category="printer", building__isnull=False)
                    .exclude(status="scrapped").order_by("inventory_number"))
    models = sorted({(p.brand, p.model) for p in printers if p.model})[:6]
    items = []
    for brand, model in models:
        for kind, label in (("toner", "toner"), ("drum", "drum ünitesi")):
            items.append(ConsumableItem.objects.create(
                code=slugify(f"{kind}-{brand}-{model}")[:40], name=f"{brand} {model} {label}",
                kind=kind, printer_model=model))
    items += [ConsumableItem.objects.create(code="cat6-kablo-3m", name="Cat6 ağ kablosu 3 m",
                                            kind="cable"),
              ConsumableItem.objects.create(code="ssd-480", name="SSD 480 GB", kind="disk")]
    departments = list(Department.objects.filter(is_active=True).order_by("code")[:8])
    rooms = list(Room.objects.order_by("id")[:20])
    with audit_context(source="system"):
        for item in items:
            for store in stores:
                consumables.receive(item=item, store=store, quantity=rng.randint(6, 20),
                                    supplier="Demo Bilişim Ltd. Şti.", document="FTR-2025-001",
                                    at=START)
                consumables.set_minimum(item=item, store=store, minimum=rng.randint(3, 8))
        for day in range(0, 360, 4):
            item, store = rng.choice(items), rng.choice(stores)
            targets: dict[str, Any] = {}
            fitting = [p for p in printers if p.model == item.printer_model]
            if item.printer_model and fitting:
                targets["asset"] = rng.choice(fitting)
            elif rooms and rng.random() < 0.5:
                targets["room"] = rng.choice(rooms)
            elif departments:
                targets["department"] = rng.choice(departments)
            else:
                continue
            try:
                consumables.issue(item=item, store=store, quantity=rng.randint(1, 3),
                                  at=START + dt.timedelta(days=day), **targets)
            except RegistersError:
                continue  # out of stock: the demo just skips that request
    return {"stores": len(stores), "movements": StockMovement.objects.count(),
            "created": len(items)}
