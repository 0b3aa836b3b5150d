"""Deterministic demo municipality: `kentcbs demo [--profile efeler]`.

Everything is generated from a fixed seed, through the same services users go
through (so every database rule is checked), and loading twice changes nothing.
Neighbourhood names are the official ones of the district, read from the
registry's ``mahalle`` code list file; the boundary and the polygons are made up.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import random

import shapely
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Point
from django.db import transaction
from pyproj import Transformer

from gis_core.audit import audit_context
from gis_core.errors import KentCBSError
from gis_core.models import (
    Asset,
    Building,
    Department,
    Floor,
    Membership,
    Municipality,
    Neighbourhood,
    NetworkLink,
    Room,
    Subscription,
)
from gis_core.profiles import get_profile
from gis_core.services import decide_scrapping, propose_scrapping, register_asset, transition_asset

SEED = 5393  # the number of the Municipal Law

BUILDINGS = [
    # name, departments, floors
    ("Belediye Hizmet Binası", ["bilgi_islem", "yazi_isleri", "mali_hizmetler",
                                "insan_kaynaklari", "imar_sehircilik"], 5),
    ("Fen İşleri Şantiyesi", ["fen_isleri"], 2),
    ("Zabıta Müdürlüğü Binası", ["zabita"], 2),
    ("Park ve Bahçeler Müdürlüğü", ["park_bahceler"], 2),
    ("Temizlik İşleri Garajı", ["temizlik_isleri"], 1),
    ("Kültür Merkezi", ["kultur_sosyal"], 3),
    ("Emlak ve İstimlak Binası", ["emlak_istimlak"], 2),
    ("Destek Hizmetleri Deposu", ["destek_hizmetleri"], 1),
    ("Kadın ve Aile Danışma Merkezi", ["kultur_sosyal"], 2),
    ("Gençlik Merkezi", ["kultur_sosyal"], 2),
    ("Hal Müdürlüğü Binası", ["mali_hizmetler"], 1),
    ("Sosyal Tesisler", ["destek_hizmetleri"], 2),
]

#: category, weight, brands/models
CATEGORIES = [
    ("desktop", 30, [("Dell", "OptiPlex 7010"), ("HP", "ProDesk 400 G9"),
                     ("Lenovo", "ThinkCentre M70q")]),
    ("laptop", 8, [("Lenovo", "ThinkPad E14"), ("HP", "ProBook 450 G10")]),
    ("monitor", 20, [("Dell", "P2422H"), ("Philips", "243V7")]),
    ("printer", 8, [("HP", "LaserJet M404dn"), ("Canon", "i-SENSYS MF455dw")]),
    ("scanner", 3, [("Fujitsu", "fi-8170")]),
    ("access_point", 4, [("Aruba", "AP-505")]),
    ("ip_phone", 10, [("Yealink", "T33G"), ("Cisco", "CP-7821")]),
    ("ip_camera", 4, [("Hikvision", "DS-2CD2143G2")]),
    ("ups", 3, [("APC", "Smart-UPS 1500")]),
    ("pdks_terminal", 2, [("ZKTeco", "SpeedFace-V5L")]),
    ("kiosk", 1, [("Elo", "I-Series 4")]),
    ("other", 1, [("Epson", "EB-X49")]),
]

USERS = [
    # username, first, last, department, role
    ("cbs.admin", "Elif", "Yılmaz", "cbs", "gis_admin"),
    ("fen.veri", "Mehmet", "Kaya", "fen_isleri", "data_entry"),
    ("imar.veri", "Ayşe", "Demir", "imar_sehircilik", "data_entry"),
    ("park.veri", "Fatma", "Çelik", "park_bahceler", "data_entry"),
    ("teknik.destek", "Mustafa", "Şahin", "teknik_destek", "technician"),
    ("ag.yonetici", "Emre", "Öztürk", "ag_yonetimi", "network_admin"),
    ("bim.mudur", "Hülya", "Aydın", "bilgi_islem", "manager"),
    ("zabita.izleyici", "Burak", "Arslan", "zabita", "viewer"),
    # A manager outside the IT directorate: reads bt_varlik (role manager) but not its
    # personal field zimmetli_kisi (access.personal: bilgi_islem), so the hiding is exercised.
    ("mali.mudur", "Serkan", "Yıldız", "mali_hizmetler", "manager"),
]

PERSON_NAMES = ["Ahmet Koç", "Zeynep Kurt", "Ali Özdemir", "Selin Aksoy", "Hasan Polat",
                "Gül Erdoğan", "Murat Güneş", "Derya Yıldız", "Kemal Aslan", "Esra Doğan"]


def _password() -> str:
    return os.environ.get("KENTCBS_DEMO_PASSWORD", "kentcbs-demo")


def _neighbourhood_names(profile: str) -> list[str]:
    # The official names live once, in the registry's neighbourhood code list.
    from layers.codelists import official_neighbourhood_names

    return official_neighbourhood_names(profile)


def _ensure_users() -> int:
    user_model = get_user_model()
    admin, created = user_model.objects.get_or_create(
        username="admin", defaults={"is_staff": True, "is_superuser": True})
    if created:
        admin.set_password(_password())
        admin.save()
    for username, first, last, department, role in USERS:
        user, created = user_model.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last,
                                         "is_staff": role == "gis_admin"})
        if created:
            user.set_password(_password())
            user.save()
        Membership.objects.get_or_create(user=user, role=role,
                                         department=Department.objects.get(code=department))
    return user_model.objects.count()


def _geos(geom: shapely.Geometry) -> GEOSGeometry:
    return GEOSGeometry(shapely.to_wkb(geom, hex=True), srid=settings.KENTCBS_SRID)


def _multi(geom: shapely.Geometry) -> MultiPolygon:
    polygon = _geos(geom)
    return polygon if isinstance(polygon, MultiPolygon) else MultiPolygon(polygon,
                                                                          srid=polygon.srid)


def _boundary(rng: random.Random, cx: float, cy: float) -> shapely.Polygon:
    ring = []
    for i in range(24):
        angle = 2 * math.pi * i / 24
        radius = rng.uniform(6500, 9000)
        ring.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return shapely.Polygon(ring)


def _neighbourhoods(rng: random.Random, boundary: shapely.Polygon, names: list[str],
                    cx: float, cy: float) -> list[Neighbourhood]:
    seeds: list[tuple[float, float]] = []
    while len(seeds) < len(names):
        # Denser near the centre, as a town is.
        x, y = cx + rng.gauss(0, 3000), cy + rng.gauss(0, 3000)
        if boundary.contains(shapely.Point(x, y)):
            seeds.append((x, y))
    cells = shapely.voronoi_polygons(shapely.MultiPoint(seeds), extend_to=boundary)
    cells_by_seed = {}
    for cell in shapely.get_parts(cells):
        for index, seed in enumerate(seeds):
            if cell.contains(shapely.Point(seed)):
                cells_by_seed[index] = cell.intersection(boundary)
    result = []
    for index, name in enumerate(names):
        result.append(Neighbourhood.objects.create(name=name, geom=_multi(cells_by_seed[index])))
    return result


def _rect(cx: float, cy: float, width: float, height: float) -> shapely.Polygon:
    return shapely.box(cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)


def _room_outline(footprint: shapely.Polygon, number: int, count: int) -> shapely.Polygon:
    """Room ``number`` of ``count`` on a floor: a strip of the building's footprint.

    Every floor has the building's outline, so the rooms of different floors overlap
    in plan, as indoor data does.
    """
    minx, miny, maxx, maxy = footprint.bounds
    width = (maxx - minx) / count
    return shapely.box(minx + (number - 1) * width, miny, minx + number * width, maxy)


@transaction.atomic
def _load_core(profile_code: str) -> None:
    rng = random.Random(SEED)  # noqa: S311 - deterministic demo data, not security
    profile = get_profile(profile_code)
    to_storage = Transformer.from_crs(4326, settings.KENTCBS_SRID, always_xy=True)
    cx, cy = to_storage.transform(*profile.centre)
    boundary = _boundary(rng, cx, cy)
    Municipality.objects.create(code=profile.code, name=profile.name, province=profile.province,
                                srid=profile.srid, boundary=_multi(boundary))
    neighbourhoods = _neighbourhoods(rng, boundary, _neighbourhood_names(profile.code), cx, cy)
    departments = {d.code: d for d in Department.objects.all()}

    buildings: list[Building] = []
    for number, (name, dept_codes, floors) in enumerate(BUILDINGS, start=1):
        distance = 0 if number == 1 else rng.uniform(400, 4500)
        angle = rng.uniform(0, 2 * math.pi)
        bx, by = cx + distance * math.cos(angle), cy + distance * math.sin(angle)
        footprint = _rect(bx, by, rng.uniform(35, 70), rng.uniform(20, 40))
        inner = shapely.Point(bx, by)
        home = next((n for n in neighbourhoods if n.geom.contains(_geos(inner))), None)
        building = Building.objects.create(
            code=f"HB-{number:03d}", name=name, footprint=_multi(footprint),
            uavt_code=f"{rng.randrange(10**9, 10**10)}", neighbourhood=home,
            street=rng.choice(["Atatürk Bulvarı", "İstiklal Caddesi", "Cumhuriyet Caddesi",
                               "Hürriyet Sokak", "Zafer Caddesi", "Gazi Bulvarı"]),
            door_number=str(rng.randint(1, 180)), floor_count=floors)
        building.departments.set([departments[c] for c in dept_codes])
        building._rect = footprint  # type: ignore[attr-defined]
        building._depts = [departments[c] for c in dept_codes]  # type: ignore[attr-defined]
        buildings.append(building)
        for level in range(floors):
            floor = Floor.objects.create(building=building, number=level,
                                         name="Zemin kat" if level == 0 else f"{level}. kat")
            room_count = rng.randint(3, 6)
            for room_no in range(1, room_count + 1):
                Room.objects.create(building=building, floor=floor,
                                    code=f"{level}{room_no:02d}",
                                    outline=_geos(_room_outline(footprint, room_no, room_count)),
                                    name=rng.choice(["Ofis", "Toplantı salonu", "Arşiv",
                                                     "Sistem odası" if room_no == 1 else "Ofis",
                                                     "Müdür odası", "Bekleme salonu"]))

    categories = [c for c, _w, _m in CATEGORIES]
    weights = [w for _c, w, _m in CATEGORIES]
    models_by_category = {c: m for c, _w, m in CATEGORIES}
    serial = 0
    core_switches: dict[int, Asset] = {}
    for building_index, building in enumerate(buildings, start=1):
        rooms = list(building.rooms.order_by("code"))
        minx, miny, maxx, maxy = building._rect.bounds  # type: ignore[attr-defined]


        count = 45 if building_index == 1 else rng.randint(15, 25)
        plan = ["switch", "router" if building_index == 1 else "modem"]
        if building_index == 1:
            plan += ["firewall", "server", "server", "storage", "pbx"]
        plan += rng.choices(categories, weights=weights, k=count)
        for position, category in enumerate(plan):
            serial += 1
            brand, model = rng.choice(models_by_category.get(category, [("Cisco", "C9200L-24P")])
                                      if category not in {"switch", "router", "firewall", "server",
                                                          "storage", "pbx", "modem"}
                                      else {"switch": [("Cisco", "C9200L-24P")],
                                            "router": [("Cisco", "ISR 4331")],
                                            "firewall": [("Fortinet", "FortiGate 100F")],
                                            "server": [("Dell", "PowerEdge R650")],
                                            "storage": [("Dell", "PowerVault ME5012")],
                                            "pbx": [("Karel", "MS48")],
                                            "modem": [("Zyxel", "VMG3625")]}[category])
            room = rooms[0] if position < 7 else rng.choice(rooms)
            networked = category in {"desktop", "laptop", "printer", "access_point", "ip_phone",
                                     "ip_camera", "pdks_terminal", "kiosk", "switch", "router",
                                     "firewall", "server", "storage", "pbx", "modem"}
            personal = category in {"desktop", "laptop", "ip_phone"}
            asset = Asset(
                inventory_number=f"255.03.02/{2018 + serial % 7}/{serial:05d}",
                tasinir_code="255.03.02.01", category=category,
                status="in_service", brand=brand, model=model,
                serial_number=f"SN{rng.randrange(16**8):08X}",
                department=rng.choice(building._depts),  # type: ignore[attr-defined]
                assigned_person=rng.choice(PERSON_NAMES) if personal else "",
                building=building, room=room,
                location=Point(rng.uniform(minx + 1, maxx - 1), rng.uniform(miny + 1, maxy - 1),
                               srid=settings.KENTCBS_SRID),
                hostname=(f"{building.code.lower()}-{category[:2]}{serial:04d}"
                          if networked else ""),
                ip_address=(f"10.{building_index}.{serial // 250}.{serial % 250 + 2}"
                            if networked else None),
                mac_address=(f"02:4B:43:{serial >> 16 & 255:02X}:{serial >> 8 & 255:02X}:"
                             f"{serial & 255:02X}" if networked else ""),
            )
            asset.purchase_date = dt.date(2018 + serial % 7, 1 + serial % 12, 1 + serial % 28)
            asset.warranty_end = asset.purchase_date.replace(year=asset.purchase_date.year + 3)
            register_asset(asset=asset, reason="demo")
            if category == "switch" and building.pk not in core_switches:
                core_switches[building.pk] = asset
            elif position > 7:
                roll = rng.random()
                if roll < 0.04:
                    transition_asset(asset=asset, to_status=rng.choice(
                        ["in_repair_internal", "in_repair_vendor", "in_repair_warranty"]),
                        reason="demo: arıza / fault")
                elif roll < 0.07:
                    transition_asset(asset=asset, to_status="in_stock", reason="demo: depo")
                elif roll < 0.09:
                    record = propose_scrapping(asset=asset,
                                               reason="Onarımı ekonomik değil / uneconomic repair")
                    decide_scrapping(record=record, approve=True,
                                     decision_number=f"2026/{serial}")

    # Core network: fibre from the main building to nearby ones, metro ethernet or radio
    # links further out; every link ends at the core switches.
    hub = buildings[0]
    for building in buildings[1:]:
        distance = hub.footprint.centroid.distance(building.footprint.centroid)
        medium = ("fiber_sm" if distance < 2000 else
                  rng.choice(["metro_ethernet", "wireless_p2p"]))
        link = NetworkLink.objects.create(
            a_asset=core_switches[hub.pk], b_asset=core_switches[building.pk], medium=medium,
            capacity_mbps={"fiber_sm": 10000, "metro_ethernet": 1000,
                           "wireless_p2p": 500}[medium],
            provider="" if medium != "metro_ethernet" else "Türk Telekom",
            circuit_id="" if medium != "metro_ethernet" else f"ME-{rng.randrange(10**6):06d}",
            status="active" if rng.random() > 0.1 else "degraded")
        if medium == "metro_ethernet":
            Subscription.objects.create(
                provider="Türk Telekom", line_number=link.circuit_id, kind="metro_ethernet",
                building=building, link=link, contract_number=f"TT-2025-{link.pk:04d}",
                start_date="2025-01-01", monthly_fee=rng.choice([4250, 5400, 6800]),
                payment_day=rng.choice([5, 10, 15, 20, 28]))
    Subscription.objects.create(
        provider="Türk Telekom", line_number="FTTB-1000-HB001", kind="internet", building=hub,
        contract_number="TT-2024-0001", start_date="2024-01-01", monthly_fee=18500,
        payment_day=15)
    for building in buildings:
        Subscription.objects.create(
            provider="Türk Telekom", line_number=f"0222 {rng.randrange(2000000, 2999999)}",
            kind="voice" if building is not hub else "pbx_trunk", building=building,
            start_date="2023-06-01", monthly_fee=rng.choice([180, 240, 3200 if building is hub
                                                              else 240]),
            payment_day=rng.choice([1, 12, 26, 31]))


def load_demo(*, profile: str | None = None, modules: bool = True) -> dict[str, object]:
    """Load the demo municipality; idempotent. Returns counts of what is there afterwards.

    ``modules=False`` leaves out the modules' demo data (a year of helpdesk
    tickets), for tests that need only the core.
    """
    profile = profile or settings.KENTCBS_PROFILE
    get_profile(profile)
    other = Municipality.objects.exclude(code=profile).first()
    if other is not None:
        raise KentCBSError(
            "DEMO_OTHER_PROFILE",
            "This database already holds the municipality '{existing}'. One deployment serves "
            "one municipality: load '{wanted}' into a new database (KENTCBS_HOME or "
            "DATABASE_URL).", existing=other.code, wanted=profile)
    with audit_context(source="shell"):
        users = _ensure_users()
        if not Municipality.objects.filter(code=profile).exists():
            _load_core(profile)
        counts: dict[str, object] = {
            "profile": profile, "users": users,
            "neighbourhoods": Neighbourhood.objects.count(),
            "buildings": Building.objects.count(), "rooms": Room.objects.count(),
            "assets": Asset.objects.count(), "links": NetworkLink.objects.count(),
            "subscriptions": Subscription.objects.count(),
        }
        # Modules' demos run after the core's (gis_core.modules; the core names no module).
        from gis_core.modules import load_module_demos

        counts["modules"] = load_module_demos(profile=profile) if modules else {}
    return counts
