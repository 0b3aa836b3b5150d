"""Permission-aware reads for the map viewer (every decision goes through layers.access)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Count, Q

from gis_core.models import Asset, Building, NetworkLink
from layers.access import can_read
from layers.registry import registry

#: Registry layer that governs who may see buildings and their detail.
BUILDING_LAYER = "bina_hizmet"


def may_read_buildings(*, user: Any) -> bool:
    """Whether ``user`` may read the building layer (and so building details)."""
    return can_read(user, registry.get(BUILDING_LAYER))


def building_detail(*, user: Any, building_id: int) -> dict[str, Any] | None:
    """Floors, rooms, assets by category and status and links of one building.

    Returns
    -------
    dict or None
        ``None`` when the building does not exist or the user may not read it.
    """
    if not may_read_buildings(user=user):
        return None
    building = Building.objects.filter(pk=building_id).first()
    if building is None:
        return None
    assets = Asset.objects.filter(building=building)
    by_cat = list(assets.values("category", "status").annotate(n=Count("id"))
                  .order_by("category", "status"))
    links = NetworkLink.objects.filter(Q(a_building=building) | Q(b_building=building))
    panels: list[dict[str, Any]] = []
    return {
        "id": building.pk,
        "code": building.code,
        "name": building.name,
        "uavt_code": building.uavt_code,
        "floors": [{"number": f.number, "name": f.name} for f in building.floors.all()],
        "rooms": [{"code": r.code, "name": r.name} for r in building.rooms.all()],
        "assets_by_category_status": by_cat,
        "assets": [{"inventory_number": a.inventory_number, "category": a.category,
                    "status": a.status, "hostname": a.hostname}
                   for a in assets.order_by("inventory_number")[:200]],
        "links": [{"medium": link.medium, "status": link.status,
                   "capacity_mbps": link.capacity_mbps} for link in links],
        "panels": panels,
    }


def search(*, user: Any, query: str) -> list[dict[str, Any]]:
    """Buildings and assets matching an inventory number, name, UAVT code, IP or hostname.

    Results carry a WGS84 point to fly to. Empty when the user may not read buildings.
    """
    query = query.strip()
    if not query or not may_read_buildings(user=user):
        return []
    results: list[dict[str, Any]] = []
    for b in Building.objects.filter(Q(name__icontains=query) | Q(uavt_code=query)
                                     | Q(code__iexact=query))[:10]:
        pt = b.footprint.point_on_surface.transform(4326, clone=True)
        results.append({"kind": "building", "id": b.pk, "label": b.name,
                        "lat": pt.y, "lon": pt.x})
    asset_q = Q(inventory_number__iexact=query) | Q(hostname__iexact=query)
    if query.replace(".", "").isdigit() and query.count(".") == 3:
        asset_q |= Q(ip_address=query)
    for a in Asset.objects.filter(asset_q).select_related("building")[:10]:
        if a.building is None:
            continue
        geom = a.location or a.building.footprint.point_on_surface
        pt = geom.transform(4326, clone=True)
        results.append({"kind": "asset", "id": a.building.pk,
                        "label": f"{a.inventory_number} — {a.building.name}",
                        "lat": pt.y, "lon": pt.x})
    return results


def map_layers(*, user: Any) -> list[dict[str, Any]]:
    """Readable layers with their OGC collection id, title and style, for the map page."""
    from layers.access import readable_layers

    out = []
    for layer in readable_layers(user):
        style = layer.style.model_dump() if hasattr(layer.style, "model_dump") else {}
        out.append({"code": layer.code, "title_tr": layer.title.tr, "title_en": layer.title.en,
                    "geometry_type": layer.geometry_type, "style": style})
    return out


def srid() -> int:
    """The TM zone SRID of this installation."""
    return int(settings.KENTCBS_SRID)
