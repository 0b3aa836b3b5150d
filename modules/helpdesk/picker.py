"""The asset picker of the ticket form: devices, rooms and buildings by a few letters.

Searches inventory numbers (and host names), room codes and names, and building names
and codes, folded by Turkish rules on both sides (``selectors.search_key``).
A user who may read the asset layer (``bt_varlik``) finds every registered device, a
reader of the building layer every building and room; everyone else finds those of their
own departments. Scrapped devices are not offered (they cannot be repaired). No personal
data (the assigned person) is returned.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from modules.helpdesk.selectors import search_expression, search_key

#: Results per kind.
LIMIT = 8


def _may_read(user: Any, code: str) -> bool:
    from layers.access import can_read
    from layers.registry import registry

    try:
        return can_read(user, registry.get(code))
    except KeyError:
        return False


def _matching(queryset: QuerySet[Any], needle: str, *fields: str) -> QuerySet[Any]:
    aliases = {f"p_{i}": search_expression(field) for i, field in enumerate(fields)}
    condition = Q()
    for alias in aliases:
        condition |= Q(**{f"{alias}__contains": needle})
    return queryset.annotate(**aliases).filter(condition)


def pick(*, user: Any, text: str) -> list[dict[str, Any]]:
    """Up to ``LIMIT`` assets, rooms and buildings matching ``text`` (2 characters or more).

    Each result: ``kind`` (asset, room, building), ``label``, ``detail``, and what the form
    needs: ``inventory_number``, ``building`` (id), ``room`` (id or ``None``).
    """
    from gis_core.models import Asset, Building, Room
    from gis_core.selectors import user_access

    text = text.replace("\x00", "").strip()[:60]
    if len(text) < 2:
        return []
    needle = search_key(text)
    access = user_access(user)
    own = Q(departments__code__in=access.departments)
    buildings = Building.objects.all()
    if not _may_read(user, "bina_hizmet"):
        buildings = buildings.filter(own).distinct()
    assets = Asset.objects.exclude(status="scrapped").select_related("building", "room")
    if not _may_read(user, "bt_varlik"):
        assets = assets.filter(department__code__in=access.departments)
    results: list[dict[str, Any]] = []
    category_labels = dict(Asset._meta.get_field("category").choices or [])
    for asset in _matching(assets, needle, "inventory_number", "hostname").order_by(
            "inventory_number")[:LIMIT]:
        place = " / ".join(part for part in (
            asset.building.name if asset.building else "", asset.room.code if asset.room else "")
            if part)
        results.append({"kind": "asset", "label": asset.inventory_number,
                        "detail": " · ".join(part for part in (
                            str(category_labels.get(asset.category, asset.category)),
                            f"{asset.brand} {asset.model}".strip(), place) if part),
                        "inventory_number": asset.inventory_number,
                        "building": asset.building_id, "room": asset.room_id})
    rooms = Room.objects.filter(building__in=buildings.values("pk")).select_related("building")
    for room in _matching(rooms, needle, "code", "name").order_by("building__name", "code")[:LIMIT]:
        results.append({"kind": "room", "label": f"{room.building.name} / {room.code}",
                        "detail": room.name, "inventory_number": "",
                        "building": room.building_id, "room": room.pk})
    for building in _matching(buildings, needle, "name", "code").order_by("name")[:LIMIT]:
        results.append({"kind": "building", "label": building.name, "detail": building.code,
                        "inventory_number": "", "building": building.pk, "room": None})
    return results
