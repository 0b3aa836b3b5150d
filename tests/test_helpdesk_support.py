"""Shared helpdesk test data, built through the core models and the helpdesk services.

Imported by the other ``test_helpdesk_*`` modules (no tests of its own).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from pyproj import Transformer

TZ = dt.timezone(dt.timedelta(hours=3))  # Europe/Istanbul (no DST since 2016)
_to_storage = Transformer.from_crs(4326, settings.KENTCBS_SRID, always_xy=True)


def at(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    """An aware local (Istanbul) time."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=TZ)


def square(lon: float, lat: float, size: float = 40.0) -> MultiPolygon:
    """A ``size`` m square footprint around (lon, lat), in the storage SRID."""
    x, y = _to_storage.transform(lon, lat)
    ring = ((x, y), (x + size, y), (x + size, y + size), (x, y + size), (x, y))
    return MultiPolygon(Polygon(ring), srid=settings.KENTCBS_SRID)


def point(lon: float, lat: float) -> Point:
    x, y = _to_storage.transform(lon, lat)
    return Point(x + 5, y + 5, srid=settings.KENTCBS_SRID)


def department(code: str) -> Any:
    from gis_core.models import Department

    return Department.objects.get(code=code)


def user(username: str, *memberships: tuple[str, str], superuser: bool = False) -> Any:
    """A user with (department code, role) memberships."""
    from gis_core.models import Membership

    account = get_user_model().objects.create_user(username=username, password="x-Test-12345",
                                                   is_superuser=superuser, is_staff=superuser)
    for code, role in memberships:
        Membership.objects.create(user=account, department=department(code), role=role)
    return account


@dataclass
class World:
    """Two buildings in two neighbourhoods, a room, three assets and the people."""

    hall: Any
    depot: Any
    room: Any
    pc: Any
    printer: Any
    scrapped: Any
    reporter: Any        # fen_isleri viewer
    colleague: Any       # fen_isleri data entry
    outsider: Any        # zabita viewer
    tech: Any            # teknik_destek technician
    tech2: Any           # teknik_destek technician
    developer: Any       # yazilim technician
    manager: Any         # bilgi_islem manager


def build_world() -> World:
    from gis_core.models import Asset, Building, Floor, Neighbourhood, Room

    n1 = Neighbourhood.objects.create(name="Arifiye", geom=square(30.51, 39.77, 500))
    n2 = Neighbourhood.objects.create(name="Büyükdere", geom=square(30.53, 39.78, 500))
    hall = Building.objects.create(name="Belediye Hizmet Binası", code="B001",
                                   footprint=square(30.512, 39.772), neighbourhood=n1)
    depot = Building.objects.create(name="Fen İşleri Şantiyesi", code="B002",
                                    footprint=square(30.532, 39.782), neighbourhood=n2)
    floor = Floor.objects.create(building=hall, number=1, name="1. kat")
    room = Room.objects.create(building=hall, floor=floor, code="101", name="Fen İşleri Ofisi")
    fen = department("fen_isleri")
    pc = Asset.objects.create(inventory_number="DB-0001", category="desktop",
                              status="in_service", brand="Dell", model="OptiPlex 7090",
                              department=fen, building=hall, room=room,
                              location=point(30.512, 39.772))
    printer = Asset.objects.create(inventory_number="DB-0002", category="printer",
                                   status="in_service", brand="HP", model="LaserJet M404",
                                   department=fen, building=depot,
                                   location=point(30.532, 39.782))
    scrapped = Asset.objects.create(inventory_number="DB-0003", category="desktop",
                                    status="scrapped", brand="Dell", model="OptiPlex 3010",
                                    department=fen, building=hall)
    return World(
        hall=hall, depot=depot, room=room, pc=pc, printer=printer, scrapped=scrapped,
        reporter=user("ayse", ("fen_isleri", "viewer")),
        colleague=user("mehmet", ("fen_isleri", "data_entry")),
        outsider=user("zeynep", ("zabita", "viewer")),
        tech=user("tekin", ("teknik_destek", "technician")),
        tech2=user("tuba", ("teknik_destek", "technician")),
        developer=user("yasin", ("yazilim", "technician")),
        manager=user("mudur", ("bilgi_islem", "manager")),
    )


@pytest.fixture
def world(db: None) -> World:
    return build_world()
