"""Typed helpdesk errors (stable codes, Turkish and English messages)."""

from __future__ import annotations

from gis_core.errors import KentCBSError


class HelpdeskError(KentCBSError):
    """A helpdesk rule was broken; the message says which, in Turkish and English."""


class AssetNotRegisteredError(HelpdeskError):
    """A repair was requested for a device without an inventory record."""

    def __init__(self, inventory_number: str) -> None:
        super().__init__(
            "HELPDESK_ASSET_NOT_REGISTERED",
            "Device '{inventory_number}' is not in the inventory: only registered assets "
            "(with an inventory number) are repaired. Ask the IT directorate to register it first.",
            inventory_number=inventory_number,
        )


class TransitionError(HelpdeskError):
    """A lifecycle step not allowed from the ticket's current status."""

    def __init__(self, number: str, current: str, target: str) -> None:
        super().__init__(
            "HELPDESK_BAD_TRANSITION",
            "Ticket {number} cannot go from '{current}' to '{target}'.",
            number=number, current=current, target=target,
        )


class HelpdeskPermissionError(HelpdeskError):
    """The user may not do this to this ticket."""

    def __init__(self, number: str) -> None:
        super().__init__(
            "HELPDESK_FORBIDDEN",
            "You are not allowed to change ticket {number}.",
            number=number,
        )
