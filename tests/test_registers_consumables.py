"""Consumables: stock arithmetic over receipts and issues, targets, minimum levels."""

from __future__ import annotations

import datetime as dt

import pytest

from gis_core.errors import KentCBSError
from tests.test_registers_support import Registry
from tests.test_registers_support import registry as registry

TZ = dt.timezone(dt.timedelta(hours=3))


@pytest.fixture
def stores(registry: Registry):
    from modules.registers.models import ConsumableItem, StoreRoom

    main = StoreRoom.objects.create(code="ana-depo", name="Ana Depo", building=registry.hall,
                                    room=registry.police)
    annex = StoreRoom.objects.create(code="ek-depo", name="Ek Bina Deposu",
                                     building=registry.annex)
    toner = ConsumableItem.objects.create(code="hp-cf259a", name="HP 59A toner", kind="toner",
                                          printer_model="LaserJet M404")
    cable = ConsumableItem.objects.create(code="cat6-3m", name="Cat6 kablo 3 m", kind="cable")
    return main, annex, toner, cable


@pytest.mark.django_db
def test_stock_arithmetic_over_receipts_and_issues(registry: Registry, stores) -> None:
    from gis_core.models import Department
    from modules.registers import consumables as c
    from modules.registers.models import Stock, StockMovement

    main, annex, toner, cable = stores
    printer = registry.assets["DB-0002"]
    fen = Department.objects.get(code="fen_isleri")
    c.receive(item=toner, store=main, quantity=10, supplier="Bilgi Ltd. Şti.", document="F-1")
    c.receive(item=toner, store=main, quantity=4)
    c.receive(item=toner, store=annex, quantity=5)
    c.receive(item=cable, store=main, quantity=50)
    c.issue(item=toner, store=main, quantity=3, asset=printer, note="T-42")
    c.issue(item=toner, store=main, quantity=2, room=registry.office)
    c.issue(item=toner, store=annex, quantity=1, department=fen)
    c.issue(item=cable, store=main, quantity=12, room=registry.police)

    assert c.stock_level(item=toner, store=main) == 10 + 4 - 3 - 2 == 9
    assert c.stock_level(item=toner, store=annex) == 5 - 1 == 4
    assert c.stock_level(item=toner) == 13
    assert c.stock_level(item=cable) == 38
    for item, store in ((toner, main), (toner, annex), (cable, main)):
        assert c.ledger_balance(item=item, store=store) == c.stock_level(item=item, store=store)

    # more than the store holds: refused, nothing written
    movements = StockMovement.objects.count()
    with pytest.raises(KentCBSError) as short:
        c.issue(item=toner, store=annex, quantity=5, room=registry.office)
    assert short.value.code == "REGISTERS_STOCK_INSUFFICIENT"
    assert "4" in short.value.english
    assert c.stock_level(item=toner, store=annex) == 4
    assert StockMovement.objects.count() == movements
    # an issue goes to exactly one target; quantities are positive whole numbers
    with pytest.raises(KentCBSError) as two:
        c.issue(item=toner, store=main, quantity=1, room=registry.office, department=fen)
    assert two.value.code == "REGISTERS_ISSUE_TARGET"
    with pytest.raises(KentCBSError) as none:
        c.issue(item=toner, store=main, quantity=1)
    assert none.value.code == "REGISTERS_ISSUE_TARGET"
    for bad in (0, -2):
        with pytest.raises(KentCBSError) as negative:
            c.receive(item=toner, store=main, quantity=bad)
        assert negative.value.code == "REGISTERS_BAD_QUANTITY"
    with pytest.raises(KentCBSError) as scrapped:
        c.issue(item=toner, store=main, quantity=1, asset=registry.assets["DB-0003"])
    assert scrapped.value.code == "REGISTERS_ASSET_SCRAPPED"
    assert c.stock_level(item=toner, store=main) == 9
    assert StockMovement.objects.count() == movements
    # the database keeps the stock from going negative even past the services
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Stock.objects.filter(item=toner, store=annex).update(quantity=-1)


@pytest.mark.django_db
def test_minimum_levels_raise_alerts(registry: Registry, stores) -> None:
    from modules.registers import consumables as c

    main, annex, toner, _cable = stores
    c.receive(item=toner, store=main, quantity=6)
    c.receive(item=toner, store=annex, quantity=6)
    c.set_minimum(item=toner, store=main, minimum=5)
    c.set_minimum(item=toner, store=annex, minimum=5)
    assert c.below_minimum() == []
    c.issue(item=toner, store=main, quantity=2, asset=registry.assets["DB-0002"])
    alerts = c.below_minimum()
    assert [(s.store.code, s.item.code, s.quantity) for s in alerts] == [
        ("ana-depo", "hp-cf259a", 4)]
    c.receive(item=toner, store=main, quantity=1)
    assert c.below_minimum() == []  # back at the minimum: no alert


@pytest.mark.django_db
def test_consumption_by_month_department_and_building(registry: Registry, stores) -> None:
    from gis_core.models import Department
    from modules.registers import consumables as c

    main, _annex, toner, _cable = stores
    fen = Department.objects.get(code="fen_isleri")
    c.receive(item=toner, store=main, quantity=20, at=dt.datetime(2026, 1, 5, 9, tzinfo=TZ))
    c.issue(item=toner, store=main, quantity=2, asset=registry.assets["DB-0002"],
            at=dt.datetime(2026, 3, 10, 9, tzinfo=TZ))
    c.issue(item=toner, store=main, quantity=3, asset=registry.assets["DB-0001"],
            at=dt.datetime(2026, 3, 20, 9, tzinfo=TZ))
    c.issue(item=toner, store=main, quantity=1, department=fen,
            at=dt.datetime(2026, 4, 1, 9, tzinfo=TZ))
    c.issue(item=toner, store=main, quantity=4, room=registry.police,
            at=dt.datetime(2025, 12, 31, 9, tzinfo=TZ))  # last year: not counted
    rows = [(r["month"].month, r["dept"], r["bldg"], r["quantity"])
            for r in c.consumption(year=2026)]
    assert rows == [(3, "fen_isleri", "B001", 5), (4, "fen_isleri", None, 1)]


@pytest.mark.django_db
def test_consumables_page_records_receipts_and_issues_for_it_staff(registry: Registry,
                                                                   stores) -> None:
    from django.test import Client
    from django.urls import reverse

    from modules.registers import consumables as c

    main, _annex, toner, _cable = stores
    url = reverse("registers:consumables")
    outsider = Client()
    outsider.force_login(registry.fen_viewer)
    assert outsider.get(url).status_code == 403
    tech = Client()
    tech.force_login(registry.tech)
    tech.post(url, {"action": "receive", "item": toner.pk, "store": main.pk, "quantity": "7"})
    tech.post(url, {"action": "issue", "item": toner.pk, "store": main.pk, "quantity": "2",
                    "asset": "db-0002", "ticket_number": "T-2026-00042"})
    refused = tech.post(url, {"action": "issue", "item": toner.pk, "store": main.pk,
                              "quantity": "9", "room": registry.office.pk}, follow=True)
    assert c.stock_level(item=toner, store=main) == 5
    # the helpdesk "sarf malzemesi" ticket is fulfilled by that issue
    fulfilled = c.issues_for_ticket("T-2026-00042")
    assert [(m.quantity, m.asset.inventory_number) for m in fulfilled] == [(2, "DB-0002")]
    assert "5 adet" in refused.content.decode() and "holds 5" not in refused.content.decode()
    c.set_minimum(item=toner, store=main, minimum=6)
    page = tech.get(url).content.decode()
    assert 'class="alert"' in page and "asgari 6" in page
    # this year's consumption: the two toners given to the printer (fen_isleri, B001)
    assert "<td>hp-cf259a</td><td>fen_isleri</td><td>B001</td><td>2</td>" in page
