"""Database rule violations turned into clear, bilingual errors."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import IntegrityError

from gis_core.errors import KentCBSError

#: constraint name -> (error code, English message). Turkish lives in the catalogue.
MESSAGES: dict[str, tuple[str, str]] = {
    "asset_location_within_building": (
        "ASSET_OUTSIDE_BUILDING",
        "The asset's location lies outside its building's footprint. Place it inside the "
        "building or choose the right building."),
    "asset_room_in_building": (
        "ROOM_NOT_IN_BUILDING",
        "The room does not belong to the asset's building. Choose a room of that building."),
    "asset_scrapped_final": (
        "ASSET_SCRAPPED",
        "The asset is scrapped (hurda): it cannot be placed in service, assigned or linked."),
    "asset_scrapped_unassigned": (
        "ASSET_SCRAPPED",
        "The asset is scrapped (hurda): it cannot be placed in service, assigned or linked."),
    "asset_scrapped_linked": (
        "ASSET_STILL_LINKED",
        "The asset still has active network links. Decommission them before scrapping it."),
    "link_asset_scrapped": (
        "ASSET_SCRAPPED",
        "The asset is scrapped (hurda): it cannot be placed in service, assigned or linked."),
    "asset_inventory_number_key": (
        "INVENTORY_NUMBER_TAKEN",
        "This inventory number is already registered to another asset."),
    "asset_ip_unique": ("IP_TAKEN", "This IP address is already used by another asset."),
    "asset_mac_unique": ("MAC_TAKEN", "This MAC address is already used by another asset."),
    "asset_mac_format": ("MAC_FORMAT", "The MAC address must be six pairs of hex digits, "
                         "e.g. AA:BB:CC:DD:EE:FF."),
    "asset_room_needs_building": ("ROOM_NEEDS_BUILDING",
                                  "An asset in a room must also name its building."),
    "link_route_ends": (
        "LINK_ENDS_MISMATCH",
        "The link's route must start at its A end and finish at its B end. Redraw the route "
        "or leave it empty to draw a straight line."),
    "link_end_building_mismatch": (
        "LINK_ENDS_MISMATCH",
        "A device at an end of the link is in another building than the one given for "
        "that end."),
    "link_ends_located": ("LINK_ENDS_UNLOCATED",
                          "The ends of the link have no location; place the devices or buildings "
                          "on the map first."),
    "link_a_end_required": ("LINK_END_REQUIRED",
                            "A link needs a device or a building at each end."),
    "link_b_end_required": ("LINK_END_REQUIRED",
                            "A link needs a device or a building at each end."),
    "room_floor_in_building": ("FLOOR_NOT_IN_BUILDING",
                               "The floor does not belong to the room's building."),
    "room_outline_within_building": ("ROOM_OUTSIDE_BUILDING",
                                     "The room's outline lies outside its building."),
    "room_unique_code": ("ROOM_CODE_TAKEN", "This room code is already used in the building."),
    "building_uavt_unique": ("UAVT_TAKEN", "This UAVT building code is already registered."),
    "building_uavt_format": ("UAVT_FORMAT", "A UAVT building code has exactly 10 digits."),
    "subscription_payment_day_range": ("PAYMENT_DAY", "The payment day must be 1 to 31."),
}


def constraint_name(exc: BaseException) -> str:
    cause = exc.__cause__
    diag = getattr(cause, "diag", None)
    name = getattr(diag, "constraint_name", None) or ""
    if not name and "inventory_number" in str(exc):
        name = "asset_inventory_number_key"
    if name.endswith("inventory_number_key") or name.endswith("inventory_number_uniq"):
        name = "asset_inventory_number_key"
    return name


class RuleViolation(KentCBSError):
    """A core rule refused a write; ``constraint`` names the database rule."""

    def __init__(self, constraint: str, code: str, message: str) -> None:
        self.constraint = constraint
        super().__init__(code, message)


def explain(exc: IntegrityError) -> RuleViolation | None:
    name = constraint_name(exc)
    if name in MESSAGES:
        code, message = MESSAGES[name]
        return RuleViolation(name, code, message)
    return None


@contextlib.contextmanager
def rules_explained() -> Iterator[None]:
    """Turn a violated database rule into a :class:`RuleViolation` with a clear message."""
    try:
        yield
    except IntegrityError as exc:
        violation = explain(exc)
        if violation is None:
            raise
        raise violation from exc
