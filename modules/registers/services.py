"""Writes of the registers module: year-end counts and their corrections.

Keyword-only, one transaction each. Changes to assets go through
``gis_core.services`` (``transition_asset``, ``register_asset``, ``save_with_rules``), so
the asset's history (simple_history and lifecycle steps) records every correction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from gis_core.choices import AssetStatusChoices
from modules.registers.choices import CountStatusChoices, DifferenceKindChoices
from modules.registers.errors import RegistersError
from modules.registers.models import CountCorrection, CountedItem, StockCount

#: Statuses of an asset that is expected in its room at a count (not in repair, not hurda).
EXPECTED_STATUSES = (AssetStatusChoices.IN_SERVICE, AssetStatusChoices.IN_STOCK)


def _actor(user: Any) -> Any:
    from gis_core.audit import current

    user = user if user is not None else current().user
    return user if getattr(user, "is_authenticated", False) else None


@transaction.atomic
def start_count(*, building: Any, year: int, room: Any = None, user: Any = None) -> StockCount:
    """Open a count of ``building`` (or of one of its rooms) for ``year``."""
    if room is not None and room.building_id != building.pk:
        raise RegistersError("REGISTERS_ROOM_NOT_IN_BUILDING",
                             "Room {room} is not in building {building}.",
                             room=str(room), building=building.name)
    return StockCount.objects.create(building=building, room=room, year=year,
                                     started_by=_actor(user))


def normalise_number(value: str) -> str:
    """What a barcode scanner or a keyboard sent, without spaces and control characters."""
    return "".join(ch for ch in value.strip() if ch.isprintable() and not ch.isspace())


@transaction.atomic
def record_counted(*, count: StockCount, inventory_number: str, room: Any = None,
                   user: Any = None) -> tuple[CountedItem, bool]:
    """Record one inventory number seen in ``room``; ``(item, False)`` when already counted."""
    from gis_core.models import Asset

    count = StockCount.objects.select_for_update().get(pk=count.pk)
    if count.status != CountStatusChoices.OPEN:
        raise RegistersError("REGISTERS_COUNT_CLOSED", "This count is closed.")
    number = normalise_number(inventory_number)
    if not number or len(number) > 40:
        raise RegistersError("REGISTERS_BAD_NUMBER",
                             "'{value}' is not an inventory number.", value=inventory_number[:60])
    room = room if room is not None else count.room
    if room is None:
        raise RegistersError("REGISTERS_COUNT_ROOM_REQUIRED",
                             "Choose the room you are counting in.")
    if room.building_id != count.building_id or (count.room_id and room.pk != count.room_id):
        raise RegistersError("REGISTERS_ROOM_NOT_IN_COUNT",
                             "Room {room} is not part of this count.", room=str(room))
    registered = Asset.objects.filter(inventory_number__iexact=number).first()
    if registered is not None:
        number = registered.inventory_number  # the register's spelling
    item, created = CountedItem.objects.get_or_create(
        count=count, inventory_number=number,
        defaults={"room": room, "counted_by": _actor(user)})
    return item, created


@transaction.atomic
def remove_counted(*, count: StockCount, inventory_number: str) -> None:
    """Take back a number entered by mistake (open counts only)."""
    if count.status != CountStatusChoices.OPEN:
        raise RegistersError("REGISTERS_COUNT_CLOSED", "This count is closed.")
    CountedItem.objects.filter(count=count, inventory_number=inventory_number).delete()


@dataclass(frozen=True)
class Difference:
    """One line of the differences list of a count."""

    kind: str
    inventory_number: str
    asset: Any | None
    registered_room: Any | None
    counted_room: Any | None
    note: str = ""

    @property
    def kind_label(self) -> str:
        return str(DifferenceKindChoices(self.kind).label)


def expected_assets(count: StockCount) -> Any:
    """The register's side of the count: assets placed in its building or room."""
    from gis_core.models import Asset

    assets = Asset.objects.filter(building=count.building, status__in=EXPECTED_STATUSES)
    if count.room_id:
        assets = assets.filter(room=count.room)
    return assets.select_related("room", "building").order_by("inventory_number")


def differences(count: StockCount) -> list[Difference]:
    """Missing, extra and misplaced items of ``count`` (sorted by kind, then number)."""
    from gis_core.models import Asset

    expected = {a.inventory_number: a for a in expected_assets(count)}
    items = list(count.items.select_related("room"))
    found = {a.inventory_number: a for a in Asset.objects.filter(
        inventory_number__in=[i.inventory_number for i in items]).select_related("room")}
    out: list[Difference] = []
    for item in items:
        asset = found.get(item.inventory_number)
        if asset is None:
            out.append(Difference(DifferenceKindChoices.EXTRA, item.inventory_number, None,
                                  None, item.room, gettext("not registered")))
        elif asset.status == AssetStatusChoices.SCRAPPED:
            out.append(Difference(DifferenceKindChoices.EXTRA, item.inventory_number, asset,
                                  asset.room, item.room, gettext("registered as scrapped")))
        elif asset.room_id != item.room_id:
            out.append(Difference(DifferenceKindChoices.MISPLACED, item.inventory_number, asset,
                                  asset.room, item.room))
    counted = {i.inventory_number for i in items}
    for number, asset in expected.items():
        if number not in counted:
            out.append(Difference(DifferenceKindChoices.MISSING, number, asset, asset.room,
                                  None))
    order = {DifferenceKindChoices.MISSING: 0, DifferenceKindChoices.EXTRA: 1,
             DifferenceKindChoices.MISPLACED: 2}
    return sorted(out, key=lambda d: (order[DifferenceKindChoices(d.kind)], d.inventory_number))


def _point_in(room: Any) -> Any:
    """A point inside ``room`` (its outline, else its building's footprint)."""
    return (room.outline or room.building.footprint).point_on_surface


@transaction.atomic
def apply_corrections(*, count: StockCount, user: Any = None) -> list[CountCorrection]:
    """Bring the register in line with what was counted, through the core services.

    * in the wrong room: the asset is moved to the room it was counted in;
    * missing: the asset leaves the building and room (status "in stock" when it was in
      service) with the reason "not found at the count"; writing it off is the commission's
      decision (a scrapping record), not the count's;
    * extra, not registered: the number is registered in the room it was counted in
      (category "other", to be completed);
    * extra with a scrapped record: left alone (a scrapped asset cannot come back) and kept
      in the differences list.
    """
    from gis_core.models import Asset
    from gis_core.services import register_asset, save_with_rules, transition_asset

    count = StockCount.objects.select_for_update().get(pk=count.pk)
    if count.status != CountStatusChoices.OPEN:
        raise RegistersError("REGISTERS_COUNT_CLOSED", "This count is closed.")
    by = _actor(user)
    reason = f"{count.year} yıl sonu sayımı / year-end count #{count.pk}"
    done: list[CountCorrection] = []
    for diff in differences(count):
        asset = diff.asset
        if diff.kind == DifferenceKindChoices.MISPLACED and asset is not None:
            asset = Asset.objects.get(pk=asset.pk)
            before = str(asset.room or "-")
            if asset.building_id != count.building_id or diff.counted_room.outline:
                asset.location = _point_in(diff.counted_room)
            asset.building = count.building
            asset.room = diff.counted_room
            save_with_rules(asset)
            action = f"oda düzeltildi: {before} → {diff.counted_room} / room corrected"
        elif diff.kind == DifferenceKindChoices.MISSING and asset is not None:
            if asset.status == AssetStatusChoices.IN_SERVICE:
                transition_asset(asset=asset, to_status=AssetStatusChoices.IN_STOCK, user=by,
                                 reason=f"sayımda bulunamadı / not found: {reason}")
            asset = Asset.objects.get(pk=asset.pk)
            asset.room = None
            asset.building = None
            asset.notes = (asset.notes + "\n" if asset.notes else "") + (
                f"{reason}: bulunamadı, konumu kayıttan çıkarıldı / not found, location cleared")
            save_with_rules(asset)
            action = "bulunamadı: bina ve oda kaydı kaldırıldı / not found: location cleared"
        elif diff.kind == DifferenceKindChoices.EXTRA and asset is None:
            asset = register_asset(asset=Asset(
                inventory_number=diff.inventory_number, category="other",
                status=AssetStatusChoices.IN_SERVICE, building=count.building,
                room=diff.counted_room, location=_point_in(diff.counted_room),
                notes=f"{reason}: kayıtsız bulundu, bilgileri tamamlanmalı / found unregistered"),
                user=by, reason=f"sayımda bulundu / found at the count: {reason}")
            action = "kayda alındı / registered"
        else:
            continue
        done.append(CountCorrection.objects.create(
            count=count, kind=diff.kind, inventory_number=diff.inventory_number, asset=asset,
            action=action[:300], user=by))
    return done


@transaction.atomic
def close_count(*, count: StockCount) -> StockCount:
    """Close the count: no more numbers, no more corrections."""
    count = StockCount.objects.select_for_update().get(pk=count.pk)
    count.status = CountStatusChoices.CLOSED
    count.closed_at = timezone.now()
    count.save()
    return count

