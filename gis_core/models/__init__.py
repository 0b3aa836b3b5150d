"""The core spatial domain, split by topic."""

from gis_core.models.assets import Asset, AssetTransition, ScrappingRecord
from gis_core.models.audit import BulkChange
from gis_core.models.network import NetworkLink, Subscription
from gis_core.models.organisation import Department, Membership, Municipality
from gis_core.models.places import Building, Floor, Neighbourhood, Room

__all__ = [
    "Asset", "AssetTransition", "Building", "BulkChange", "Department", "Floor", "Membership",
    "Municipality", "Neighbourhood", "NetworkLink", "Room", "ScrappingRecord", "Subscription",
]
