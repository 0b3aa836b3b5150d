"""Consumables (sarf malzemesi): stock per store room, receipts, issues, minimum levels.

``Stock`` holds the running quantity (never negative: a database rule); every change is
one ``StockMovement`` written in the same transaction, so the ledger and the stock agree
(:func:`ledger_balance`). Issues go to exactly one room, department or asset.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Case, F, IntegerField, Sum, When
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from gis_core.choices import AssetStatusChoices
from modules.registers.choices import MovementKindChoices
from modules.registers.errors import RegistersError
from modules.registers.models import ConsumableItem, Stock, StockMovement, StoreRoom


def _actor(user: Any) -> Any:
    from gis_core.audit import current

    user = user if user is not None else current().user
    return user if getattr(user, "is_authenticated", False) else None


def _quantity(quantity: int) -> int:
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
        raise RegistersError("REGISTERS_BAD_QUANTITY",
                             "The quantity must be a whole number above zero (given: {value}).",
                             value=quantity)
    return quantity


def _locked_stock(item: ConsumableItem, store: StoreRoom) -> Stock:
    Stock.objects.get_or_create(item=item, store=store)
    return Stock.objects.select_for_update().get(item=item, store=store)


@transaction.atomic
def set_minimum(*, item: ConsumableItem, store: StoreRoom, minimum: int) -> Stock:
    """The level under which ``store`` raises an alert for ``item``."""
    if minimum < 0:
        raise RegistersError("REGISTERS_BAD_QUANTITY",
                             "The quantity must be a whole number above zero (given: {value}).",
                             value=minimum)
    stock = _locked_stock(item, store)
    stock.minimum = minimum
    stock.save(update_fields=["minimum"])
    return stock


@transaction.atomic
def receive(*, item: ConsumableItem, store: StoreRoom, quantity: int, user: Any = None,
            supplier: str = "", document: str = "", at: dt.datetime | None = None,
            ) -> StockMovement:
    """Take ``quantity`` of ``item`` into ``store`` (a delivery, a transfer in)."""
    quantity = _quantity(quantity)
    stock = _locked_stock(item, store)
    stock.quantity = F("quantity") + quantity
    stock.save(update_fields=["quantity"])
    return StockMovement.objects.create(
        item=item, store=store, kind=MovementKindChoices.RECEIPT, quantity=quantity,
        at=at or timezone.now(), user=_actor(user), supplier=supplier[:150],
        document=document[:60])


@transaction.atomic
def issue(*, item: ConsumableItem, store: StoreRoom, quantity: int, room: Any = None,
          department: Any = None, asset: Any = None, user: Any = None, note: str = "",
          document: str = "", ticket_number: str = "",
          at: dt.datetime | None = None) -> StockMovement:
    """Give ``quantity`` of ``item`` from ``store`` to one room, department or asset.

    ``ticket_number``: the helpdesk "sarf malzemesi" ticket the issue fulfils (a reference).
    """
    quantity = _quantity(quantity)
    if sum(target is not None for target in (room, department, asset)) != 1:
        raise RegistersError("REGISTERS_ISSUE_TARGET",
                             "An issue goes to exactly one room, department or device.")
    if asset is not None and asset.status == AssetStatusChoices.SCRAPPED:
        raise RegistersError("REGISTERS_ASSET_SCRAPPED",
                             "Device {number} is scrapped: nothing is issued to it.",
                             number=asset.inventory_number)
    if not item.is_active:
        raise RegistersError("REGISTERS_ITEM_INACTIVE", "{item} is no longer in use.",
                             item=item.name)
    stock = _locked_stock(item, store)
    if stock.quantity < quantity:
        raise RegistersError("REGISTERS_STOCK_INSUFFICIENT",
                             "{store} holds {available} {unit} of {item}; {wanted} asked.",
                             store=store.name, available=stock.quantity, unit=item.unit,
                             item=item.name, wanted=quantity)
    stock.quantity = F("quantity") - quantity
    stock.save(update_fields=["quantity"])
    return StockMovement.objects.create(
        item=item, store=store, kind=MovementKindChoices.ISSUE, quantity=quantity,
        at=at or timezone.now(), user=_actor(user), room=room, department=department,
        asset=asset, note=note[:300], document=document[:60],
        ticket_number=ticket_number.strip()[:30])


def issues_for_ticket(number: str) -> list[StockMovement]:
    """The issues that fulfilled the helpdesk ticket ``number``."""
    return list(StockMovement.objects.filter(kind=MovementKindChoices.ISSUE,
                                             ticket_number=number.strip())
                .select_related("item", "store").order_by("at", "id"))


def stock_level(*, item: ConsumableItem, store: StoreRoom | None = None) -> int:
    """The quantity of ``item`` in ``store`` (every store when ``None``)."""
    stocks = Stock.objects.filter(item=item)
    if store is not None:
        stocks = stocks.filter(store=store)
    return int(stocks.aggregate(total=Coalesce(Sum("quantity"), 0))["total"])


def ledger_balance(*, item: ConsumableItem, store: StoreRoom) -> int:
    """Receipts minus issues of the ledger (equals :func:`stock_level` by construction)."""
    signed = Case(When(kind=MovementKindChoices.RECEIPT, then=F("quantity")),
                  default=-F("quantity"), output_field=IntegerField())
    total = StockMovement.objects.filter(item=item, store=store).aggregate(
        total=Coalesce(Sum(signed), 0))["total"]
    return int(total)


def below_minimum() -> list[Stock]:
    """Stock rows under their minimum level (the alerts), by store and item."""
    return list(Stock.objects.filter(minimum__gt=0, quantity__lt=F("minimum"))
                .select_related("item", "store").order_by("store__name", "item__name"))


def consumption(*, year: int) -> list[dict[str, Any]]:
    """Issued quantities of ``year`` by month, item, department and building (SQL).

    The department is the issue's department, else the asset's; the building is the
    room's, else the asset's.
    """
    return list(
        StockMovement.objects.filter(kind=MovementKindChoices.ISSUE, at__year=year)
        .annotate(month=TruncMonth("at"),
                  dept=Coalesce("department__code", "asset__department__code"),
                  bldg=Coalesce("room__building__code", "asset__building__code"))
        .values("month", "item__code", "dept", "bldg")
        .annotate(quantity=Sum("quantity"))
        .order_by("month", "item__code", "dept", "bldg"))


__all__ = ["below_minimum", "consumption", "issue", "ledger_balance", "receive",
           "set_minimum", "stock_level"]
