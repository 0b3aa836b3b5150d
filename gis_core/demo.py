"""Deterministic demo municipality: `kentcbs demo [--profile efeler]`.

Everything is generated from a fixed seed, through the same services users go
through (so every database rule is checked), and loading twice changes nothing.
Neighbourhood names are the official ones of the district, read from the
registry's ``mahalle`` code list file; the polygons are made up.

The city (``gis_core.demo_city``) is drawn inside the municipality's stored
boundary: its streets, buildings, address points, parks and lighting poles
reach the department layers as uploads of their owner departments through the
ETL (``etl.services.ingest``, GeoPackages written to a temporary folder), with
two more uploads carrying a department's usual mistakes so the reports page has
something to show. The service buildings stand on footprints of that city, with
a floor plan of rooms on every floor and their assets inside the rooms.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import random
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Point
from django.db import transaction
from pyproj import Transformer

from gis_core.audit import audit_context
from gis_core.demo_city import City, build_city
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

#: Building use (bina_kullanim) of the service buildings that are not offices.
BUILDING_USES = {"Kültür Merkezi": "Sosyal Tesis", "Kadın ve Aile Danışma Merkezi": "Sosyal Tesis",
                 "Gençlik Merkezi": "Sosyal Tesis", "Sosyal Tesisler": "Sosyal Tesis",
                 "Destek Hizmetleri Deposu": "Depo", "Temizlik İşleri Garajı": "Depo"}

#: The city's uploads: (layer, file name); each is sent by the layer's owner department.
UPLOADS = [
    ("bina", "bina_taban_alanlari_2026.gpkg"),
    ("numarataj", "numarataj_adres_noktalari_2026.gpkg"),
    ("yol", "yol_orta_hatlari_2026.gpkg"),
    ("aydinlatma", "aydinlatma_direkleri_2026.gpkg"),
    ("yesil_alan", "park_ve_yesil_alanlar_2026.gpkg"),
]
#: Uploads with mistakes: (layer, file name, CRS the sender gives or None).
MISTAKEN_UPLOADS = [
    ("bina", "bina_kat_ilavesi_guncelleme.gpkg", None),
    ("yol", "imar_plani_yeni_yollar_cad.gpkg", "wrong zone"),
]
#: Who sends a department's uploads in the demo.
SENDERS = {"imar_sehircilik": "imar.veri", "fen_isleri": "fen.veri", "park_bahceler": "park.veri"}

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
    # One hash for the one demo password (PBKDF2 takes ~0.3 s a time, on purpose).
    hashed = make_password(_password())
    user_model.objects.get_or_create(
        username="admin", defaults={"is_staff": True, "is_superuser": True, "password": hashed})
    for username, first, last, department, role in USERS:
        user, _created = user_model.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last,
                                         "is_staff": role == "gis_admin", "password": hashed})
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


def _ensure_municipality(profile_code: str) -> Municipality:
    """The municipality, set up as any municipality is
    (:func:`gis_core.municipality.set_up_municipality`) from a made-up boundary around the
    profile's centre; the profile is only data (district, province, centre)."""
    existing = Municipality.objects.filter(code=profile_code).first()
    if existing is not None:
        return existing
    from gis_core.municipality import municipality_code, set_up_municipality
    from layers.official import district

    profile = get_profile(profile_code)
    code = municipality_code(district(profile.province, profile.name))
    if code != profile_code:
        raise KentCBSError(
            "DEMO_PROFILE_CODE", "The demo profile '{profile}' names the district {district}, "
            "whose code is '{code}': the profile's code must be the district's.",
            profile=profile_code, district=profile.name, code=code)
    rng = random.Random(SEED)  # noqa: S311 - deterministic demo data, not security
    # Drawn in the profile's own TM zone, handed over in lon/lat as a boundary file's would be.
    to_zone = Transformer.from_crs(4326, profile.srid, always_xy=True)
    to_lonlat = Transformer.from_crs(profile.srid, 4326, always_xy=True)
    cx, cy = to_zone.transform(*profile.centre)
    lonlat = shapely.transform(_boundary(rng, cx, cy),
                               lambda xy: np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1])))
    # The made-up town (~185 km²) is smaller than any real district: no area check.
    return set_up_municipality(province=profile.province, name=profile.name,
                               boundary_lonlat=lonlat, check_area=False)


def _plan_city(municipality: Municipality) -> City:
    """Draw the city inside the municipality's stored boundary (deterministic)."""
    if municipality.boundary is None:
        raise KentCBSError(
            "DEMO_NO_BOUNDARY",
            "The municipality '{name}' has no boundary: the demo city is drawn inside it.",
            name=municipality.name)
    import geopandas as gpd

    boundary = shapely.from_wkb(bytes(municipality.boundary.wkb))
    stored = list(Neighbourhood.objects.order_by("name").values_list("name", "geom"))
    existing = (gpd.GeoDataFrame({"name": [n for n, _g in stored]},
                                 geometry=[shapely.from_wkb(bytes(g.wkb)) for _n, g in stored])
                if stored else None)
    names = [n for n, _g in stored] or _neighbourhood_names(municipality.code)
    return build_city(
        boundary, names, srid=settings.KENTCBS_SRID, province=municipality.province,
        service_buildings=[(name, floors, BUILDING_USES.get(name, "Kamu Hizmet"))
                           for name, _depts, floors in BUILDINGS],
        neighbourhoods=existing)


@transaction.atomic
def _ensure_neighbourhoods(city: City) -> None:
    if Neighbourhood.objects.exists():
        return
    Neighbourhood.objects.bulk_create(
        Neighbourhood(name=name, geom=_multi(geom))
        for name, geom in zip(city.neighbourhoods["name"], city.neighbourhoods.geometry,
                              strict=True))


def _uploads_missing() -> bool:
    from etl.models import Batch

    wanted = {(layer, name) for layer, name in UPLOADS}
    wanted |= {(layer, name) for layer, name, _crs in MISTAKEN_UPLOADS}
    done = set(Batch.objects.exclude(status="failed").values_list("layer_code", "file_name"))
    return not wanted <= done


def _wrong_zone() -> str:
    """A neighbouring TM zone: the wrong choice in an upload form's CRS list."""
    srid = settings.KENTCBS_SRID
    return f"EPSG:{srid + 1 if srid == 5253 else srid - 1}"


def _ingest_city(city: City) -> None:
    """Send every layer of the city through the ETL as its owner department would.

    An upload already recorded (a batch with the same layer and file name that did not
    fail) is not sent again, so a second run adds no batch.
    """
    from etl.models import Batch
    from etl.services import ingest
    from layers.registry import registry

    user_model = get_user_model()
    plan: list[tuple[str, str, Any, str | None]] = [
        (layer, name, city.layers[layer], None) for layer, name in UPLOADS]
    plan += [(layer, name, city.mistakes[layer], _wrong_zone() if crs else None)
             for layer, name, crs in MISTAKEN_UPLOADS]
    with tempfile.TemporaryDirectory(prefix="kentcbs-demo-") as folder:
        for layer, name, frame, crs in plan:
            if Batch.objects.filter(layer_code=layer, file_name=name).exclude(
                    status="failed").exists():
                continue
            path = Path(folder) / name
            with warnings.catch_warnings():
                # A file sent with a CRS given by hand has none of its own (a CAD export).
                warnings.filterwarnings("ignore", "'crs' was not provided", UserWarning)
                (frame.set_crs(None, allow_override=True) if crs else frame).to_file(
                    path, layer=layer, driver="GPKG", engine="pyogrio")
            owner = str(registry.get(layer).owner)
            sender = user_model.objects.filter(username=SENDERS.get(owner, "")).first()
            ingest(layer=layer, path=path, department=owner, user=sender, crs=crs)


def _floor_plan(site: Any, count: int) -> list[tuple[float, float, float, float]]:
    """Rooms of one floor in the footprint's frame: two rows along a 2.4 m corridor.

    Each is ``(u0, u1, v0, v1)`` metres along and across the footprint, 0.25 m inside its
    outer walls, with 0.2 m walls between rooms.
    """
    wall, corridor = 0.25, 2.4
    width = (site.length - 2 * wall) / count
    rows = [(wall, site.depth / 2 - corridor / 2), (site.depth / 2 + corridor / 2,
                                                     site.depth - wall)]
    return [(wall + k * width, wall + (k + 1) * width - 0.2, v0, v1)
            for v0, v1 in rows for k in range(count)]


def _in_frame(site: Any, u: float, v: float) -> tuple[float, float]:
    ox, oy = site.origin
    return (ox + site.along[0] * u + site.across[0] * v,
            oy + site.along[1] * u + site.across[1] * v)


@transaction.atomic
def _load_core(city: City) -> None:
    rng = random.Random(SEED)  # noqa: S311 - deterministic demo data, not security
    departments = {d.code: d for d in Department.objects.all()}
    neighbourhoods = {n.name: n for n in Neighbourhood.objects.all()}

    buildings: list[Building] = []
    room_boxes: dict[int, tuple[Any, tuple[float, float, float, float]]] = {}
    for number, ((name, dept_codes, floors), site) in enumerate(
            zip(BUILDINGS, city.service_sites, strict=True), start=1):
        building = Building.objects.create(
            code=f"HB-{number:03d}", name=name, footprint=_multi(site.footprint),
            uavt_code=site.uavt_code, neighbourhood=neighbourhoods.get(site.neighbourhood),
            street=site.street, door_number=site.door_number, floor_count=floors)
        building.departments.set([departments[c] for c in dept_codes])
        buildings.append(building)
        per_row = max(2, round(site.length / 9))
        for level in range(floors):
            floor = Floor.objects.create(building=building, number=level,
                                         name="Zemin kat" if level == 0 else f"{level}. kat")
            for room_no, box in enumerate(_floor_plan(site, per_row), start=1):
                u0, u1, v0, v1 = box
                outline = shapely.Polygon([_in_frame(site, u, v) for u, v in
                                           ((u0, v0), (u1, v0), (u1, v1), (u0, v1))])
                room = Room.objects.create(
                    building=building, floor=floor, code=f"{level}{room_no:02d}",
                    outline=_geos(outline),
                    # a floor per department, round the building's departments
                    department=departments[dept_codes[level % len(dept_codes)]],
                    name=("Sistem odası" if room_no == 1 else
                          rng.choice(["Ofis", "Ofis", "Ofis", "Toplantı salonu", "Arşiv",
                                      "Müdür odası", "Bekleme salonu"])))
                room_boxes[room.pk] = (site, box)

    categories = [c for c, _w, _m in CATEGORIES]
    weights = [w for _c, w, _m in CATEGORIES]
    models_by_category = {c: m for c, _w, m in CATEGORIES}
    serial = 0
    core_switches: dict[int, Asset] = {}
    for building_index, building in enumerate(buildings, start=1):
        rooms = list(building.rooms.order_by("code"))
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
            site, (u0, u1, v0, v1) = room_boxes[room.pk]
            x, y = _in_frame(site, rng.uniform(u0 + 0.4, u1 - 0.4), rng.uniform(v0 + 0.4, v1 - 0.4))
            networked = category in {"desktop", "laptop", "printer", "access_point", "ip_phone",
                                     "ip_camera", "pdks_terminal", "kiosk", "switch", "router",
                                     "firewall", "server", "storage", "pbx", "modem"}
            personal = category in {"desktop", "laptop", "ip_phone"}
            asset = Asset(
                inventory_number=f"255.03.02/{2018 + serial % 7}/{serial:05d}",
                tasinir_code="255.03.02.01", category=category,
                status="in_service", brand=brand, model=model,
                serial_number=f"SN{rng.randrange(16**8):08X}",
                department=room.department,
                assigned_person=rng.choice(PERSON_NAMES) if personal else "",
                building=building, room=room,
                location=Point(x, y, srid=settings.KENTCBS_SRID),
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


def _layer_counts() -> dict[str, int]:
    """Features in each department layer the city fills (``cbs.<code>`` tables)."""
    from django.db import connection
    from psycopg2 import sql

    from layers.registry import registry

    counts = {}
    with connection.cursor() as cursor:
        for layer, _name in UPLOADS:
            schema, table = str(registry.get(layer).backing.table).split(".", 1)
            cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(
                sql.Identifier(schema, table)).as_string(cursor.connection))
            counts[layer] = int(cursor.fetchone()[0])
    return counts


def _upload_summary() -> dict[str, str]:
    """``{file: "status loaded/read [reason]"}`` of the demo's uploads (the latest batch each)."""
    from etl.models import Batch

    files = [name for _l, name in UPLOADS] + [name for _l, name, _c in MISTAKEN_UPLOADS]
    summary = {}
    for batch in Batch.objects.filter(file_name__in=files).order_by("pk"):
        summary[batch.file_name] = (f"{batch.status} {batch.count_loaded}/{batch.count_read}"
                                    + (f" {batch.reason_code}" if batch.reason_code else ""))
    return summary


def load_demo(*, profile: str | None = None, modules: bool = True,
              city: bool = True) -> dict[str, object]:
    """Load the demo municipality; idempotent. Returns counts of what is there afterwards.

    ``modules=False`` leaves out the modules' demo data (a year of helpdesk
    tickets), for tests that need only the core. ``city=False`` leaves out the
    department layers' uploads (the neighbourhoods and service buildings are still
    placed in the drawn city), for tests that need neither.
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
    STAGES.clear()
    with audit_context(source="shell"):
        with _stage("users, municipality"):
            users = _ensure_users()
            municipality = _ensure_municipality(profile)
        missing = (not Neighbourhood.objects.exists() or not Building.objects.exists()
                   or (city and _uploads_missing()))
        if missing:  # drawn only when something of it is not there yet
            with _stage("city plan"):
                plan = _plan_city(municipality)
                _ensure_neighbourhoods(plan)
            if city:
                with _stage("city uploads (ETL)"):
                    _ingest_city(plan)
            if not Building.objects.exists():
                with _stage("buildings, rooms, assets"):
                    _load_core(plan)
        counts: dict[str, object] = {
            "profile": profile, "users": users,
            "neighbourhoods": Neighbourhood.objects.count(),
            "buildings": Building.objects.count(), "rooms": Room.objects.count(),
            "assets": Asset.objects.count(), "links": NetworkLink.objects.count(),
            "subscriptions": Subscription.objects.count(),
            "layers": _layer_counts(), "uploads": _upload_summary(),
        }
        # Modules' demos run after the core's, each module's hook in turn
        # (gis_core.modules.load_module_demos; the core names no module).
        from gis_core.modules import discover

        demos: dict[str, Any] = {}
        if modules:
            for spec in discover():
                if spec.demo:
                    with _stage(f"module {spec.code}"):
                        demos[spec.code] = spec.demo(profile=profile)
        counts["modules"] = demos
    return counts


#: ``(stage, wall seconds, CPU seconds)`` of the last :func:`load_demo` in this process
#: (``kentcbs demo --timings`` prints them; ``bench/demo_build.py`` reads them).
STAGES: list[tuple[str, float, float]] = []


def _cpu_seconds() -> float:
    """CPU time of this process and of its children that ended (the ETL's readers)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


@contextlib.contextmanager
def _stage(name: str) -> Iterator[None]:
    wall, cpu = time.perf_counter(), _cpu_seconds()
    try:
        yield
    finally:
        STAGES.append((name, time.perf_counter() - wall, _cpu_seconds() - cpu))
