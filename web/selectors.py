"""Permission-aware reads for the map viewer and the home page.

Every decision goes through ``layers.access`` with the registry layer that
governs the data: ``bina_hizmet`` for buildings (and so their floors and rooms),
``bt_varlik`` for the assets in them, ``ag_baglanti`` for network links. The OGC
API asks the same questions for the same layers, so the viewer never shows what
the API would refuse.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from django.conf import settings
from django.contrib.gis.db.models.functions import Area, AsGeoJSON, Transform
from django.contrib.gis.geos import Point
from django.db.models import Count, Q

from gis_core.models import Asset, Building, Department, Municipality, NetworkLink
from gis_core.modules import building_summaries
from gis_core.selectors import user_access
from layers.access import can_edit, can_read, readable_layers
from layers.codelists import codelist
from layers.registry import registry

#: Registry layers that govern what the building panel shows.
BUILDING_LAYER = "bina_hizmet"
ASSET_LAYER = "bt_varlik"
LINK_LAYER = "ag_baglanti"
#: How many assets the panel lists by name (the counts cover all of them).
ASSET_LIST_LIMIT = 200


def _may(user: Any, code: str) -> bool:
    try:
        return can_read(user, registry.get(code))
    except KeyError:
        return False


def may_read_buildings(*, user: Any) -> bool:
    """Whether ``user`` may read the building layer (and so building details)."""
    return _may(user, BUILDING_LAYER)


def building_at(*, user: Any, lon: float, lat: float) -> int | None:
    """The id of the building whose footprint holds the WGS84 point, if the user may read it."""
    if not may_read_buildings(user=user):
        return None
    point = Point(lon, lat, srid=4326)
    point.transform(int(settings.KENTCBS_SRID))
    # The smallest footprint wins where footprints nest (an annex inside a campus).
    return (Building.objects.filter(footprint__intersects=point)
            .annotate(size=Area("footprint")).order_by("size", "pk")
            .values_list("pk", flat=True).first())


def _labels(list_name: str) -> dict[str, tuple[str, str]]:
    return {entry.code: (entry.label_tr, entry.label_en) for entry in codelist(list_name)}


def building_detail(*, user: Any, building_id: int) -> dict[str, Any] | None:
    """Floors and rooms, assets by category and status, links and module panels.

    Returns
    -------
    dict or None
        ``None`` when the building does not exist or the user may not read the
        building layer (the caller answers 404 either way: no existence leak).
        Assets are present only for readers of ``bt_varlik``, links only for
        readers of ``ag_baglanti``; no personal data (assigned person) is included.
    """
    if not may_read_buildings(user=user):
        return None
    building = (Building.objects.filter(pk=building_id)
                .annotate(wgs=AsGeoJSON(Transform("footprint", 4326), precision=7))
                .select_related("neighbourhood").first())
    if building is None:
        return None
    floors = []
    rooms_by_floor: dict[int | None, list[dict[str, str]]] = {}
    for room in building.rooms.order_by("code"):
        rooms_by_floor.setdefault(room.floor_id, []).append({"code": room.code,
                                                             "name": room.name})
    for floor in building.floors.order_by("number"):
        floors.append({"number": floor.number, "name": floor.name,
                       "rooms": rooms_by_floor.pop(floor.pk, [])})
    unplaced = [room for rooms in rooms_by_floor.values() for room in rooms]
    data: dict[str, Any] = {
        "id": building.pk,
        "code": building.code,
        "name": building.name,
        "uavt_code": building.uavt_code,
        "address": " ".join(part for part in (building.street, building.door_number) if part),
        "neighbourhood": building.neighbourhood.name if building.neighbourhood else "",
        "departments": [d.name for d in building.departments.order_by("name")],
        "footprint": json.loads(building.wgs),
        "floors": floors,
        "rooms_without_floor": unplaced,
        "rooms": [room for floor in floors for room in floor["rooms"]] + unplaced,
        "assets_visible": _may(user, ASSET_LAYER),
        "links_visible": _may(user, LINK_LAYER),
        "assets_by_category_status": [],
        "assets": [],
        "asset_count": 0,
        "links": [],
    }
    if data["assets_visible"]:
        categories = _labels("bt_varlik_kategori")
        states = _labels("bt_varlik_durum")
        assets = Asset.objects.filter(building=building)
        counts = (assets.values("category", "status").annotate(n=Count("id"))
                  .order_by("category", "status"))
        data["assets_by_category_status"] = [
            {"category": row["category"], "status": row["status"], "n": row["n"],
             "category_label": categories.get(row["category"], (row["category"],) * 2),
             "status_label": states.get(row["status"], (row["status"],) * 2)}
            for row in counts]
        data["asset_count"] = sum(row["n"] for row in counts)
        data["assets"] = [
            {"inventory_number": a.inventory_number, "category": a.category,
             "status": a.status, "hostname": a.hostname,
             "room": a.room.code if a.room_id else ""}
            for a in assets.select_related("room").order_by("inventory_number")
            [:ASSET_LIST_LIMIT]]
    if data["links_visible"]:
        media = _labels("ag_ortam")
        states = _labels("ag_durum")
        links = (NetworkLink.objects.filter(Q(a_building=building) | Q(b_building=building))
                 .select_related("a_building", "b_building").order_by("pk"))
        for link in links:
            other = link.b_building if link.a_building_id == building.pk else link.a_building
            data["links"].append({
                "id": link.pk, "medium": link.medium, "status": link.status,
                "medium_label": media.get(link.medium, (link.medium,) * 2),
                "status_label": states.get(link.status, (link.status,) * 2),
                "capacity_mbps": link.capacity_mbps,
                "other_building": other.name if other else "",
                "other_building_id": other.pk if other else None})
    data["panels"] = [
        {"title_tr": s.title_tr, "title_en": s.title_en,
         "lines": [list(line) for line in s.lines], "links": [list(link) for link in s.links]}
        for s in building_summaries(user=user, building=building)]
    return data


def _is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return text.isascii()


def search(*, user: Any, query: str) -> list[dict[str, Any]]:
    """Buildings and assets matching an inventory number, name, UAVT code, IP or hostname.

    Results carry a WGS84 point to fly to. Buildings need read access to the
    building layer; assets also to the asset layer.
    """
    # PostgreSQL text cannot hold NUL: a query with one matches nothing it could store
    query = query.replace("\x00", "").strip()[:100]
    if not query or not may_read_buildings(user=user):
        return []
    results: list[dict[str, Any]] = []
    # name__icontains compares in the column's Turkish collation (gis_core.lookups).
    buildings = (Building.objects.filter(Q(name__icontains=query) | Q(uavt_code=query)
                                         | Q(code__iexact=query))
                 .order_by("name")[:10])
    for b in buildings:
        pt = b.footprint.point_on_surface.transform(4326, clone=True)
        results.append({"kind": "building", "id": b.pk, "label": b.name,
                        "lat": pt.y, "lon": pt.x})
    if not _may(user, ASSET_LAYER):
        return results
    asset_q = Q(inventory_number__iexact=query) | Q(hostname__iexact=query)
    if _is_ip_address(query):  # "١.٢.٣.٤" or "999.1.1.1" would fail PostgreSQL's inet cast
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


def legend_entries(layer: Any, *, lang: str) -> list[dict[str, Any]]:
    """Legend lines of a layer: its own style, then one line per style rule."""
    from web.layer_reads import value_labels
    from web.maps import path_style, rule_styles

    base = path_style(layer)
    entries = [{"label": layer.title.text(lang), "style": base}]
    words: dict[str, dict[str, str]] = {}
    for rule in rule_styles(layer):
        field = rule["field"]
        if field not in words:
            words[field] = value_labels(layer, field, lang=lang)
        entries.append({"label": words[field].get(rule["value"], rule["value"]),
                        "style": {**base, **rule["style"]}, "rule": True})
    return entries


def map_layers(*, layers: list[Any], lang: str = "tr", user: Any = None
               ) -> list[dict[str, Any]]:
    """Title, geometry type, minimum zoom, legend, label field and the fields ``user`` may
    see of ``layers`` (the user's readable layers, from ``layers.access.readable_layers``),
    for the map page and its attribute tables."""
    from layers.access import visible_fields
    from ogc_api.generalise import lowest_zoom as min_zoom
    from web.layer_reads import value_labels

    out = []
    for layer in layers:
        shown = visible_fields(user, layer) if user is not None else layer.public_fields
        out.append({"code": layer.code, "title": layer.title.text(lang),
                    "title_tr": layer.title.tr, "title_en": layer.title.en,
                    "geometry_type": layer.geometry_type, "min_zoom": min_zoom(layer),
                    "legend": legend_entries(layer, lang=lang),
                    "label": layer.style.label if layer.style.label in shown else None,
                    "fields": [{"name": name, "title": layer.field(name).title.text(lang),
                                "type": layer.field(name).type,
                                # A list whose words are its codes (neighbourhood names)
                                # needs no words in the page.
                                "labels": {code: text for code, text in value_labels(
                                    layer, name, lang=lang).items() if text != code}}
                               for name in shown]})
    return out


def municipality_boundary() -> str | None:
    """The municipality boundary as WGS84 GeoJSON (simplified to ~5 m), or ``None``."""
    row = (Municipality.objects.filter(boundary__isnull=False)
           .annotate(wgs=AsGeoJSON(Transform("boundary", 4326), precision=6))
           .values_list("wgs", flat=True).first())
    return row


def department_home(*, user: Any) -> dict[str, Any]:
    """What a member of staff sees first: their departments, layers, buildings and uploads."""
    from web.reports import visible_batches

    access = user_access(user)
    direct = sorted({code for code, _role in access.memberships})
    departments = list(Department.objects.filter(code__in=direct).order_by("name"))
    layers = []
    for layer in readable_layers(user):
        layers.append({"code": layer.code, "title_tr": layer.title.tr,
                       "title_en": layer.title.en, "owner": layer.owner,
                       "own": layer.owner in access.departments,
                       "editable": can_edit(user, layer)})
    layers.sort(key=lambda item: (not item["own"], not item["editable"], item["title_tr"]))
    buildings: list[Building] = []
    if may_read_buildings(user=user):
        # the page lists names: no footprint travels or becomes a geometry
        buildings = list(Building.objects.filter(departments__code__in=direct).distinct()
                         .only("pk", "name", "code").order_by("name")[:50])
    uploads = list(visible_batches(user=user).filter(department__in=direct)[:10])
    return {"departments": departments, "roles": sorted(access.roles), "layers": layers,
            "buildings": buildings, "uploads": uploads}


def srid() -> int:
    """The TM zone SRID of this installation."""
    return int(settings.KENTCBS_SRID)
