"""Core rules (accepted and refused) and the spatial questions, on the real PostGIS."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.gis.geos import LineString, MultiPolygon, Point, Polygon

from gis_core.audit import audit_context
from gis_core.constraints import RuleViolation
from gis_core.errors import KentCBSError
from gis_core.models import (
    Asset,
    AssetTransition,
    Building,
    BulkChange,
    Department,
    Floor,
    Neighbourhood,
    NetworkLink,
    Room,
    Subscription,
)
from gis_core.services import (
    decide_scrapping,
    propose_scrapping,
    register_asset,
    save_with_rules,
    transition_asset,
)

pytestmark = pytest.mark.django_db
SRID = settings.KENTCBS_SRID
X0, Y0 = 544_000, 4_402_000


def square(x: float, y: float, size: float = 50) -> MultiPolygon:
    return MultiPolygon(Polygon(((x, y), (x + size, y), (x + size, y + size), (x, y + size),
                                 (x, y))), srid=SRID)


def pt(x: float, y: float) -> Point:
    return Point(x, y, srid=SRID)


@pytest.fixture
def hall() -> Building:
    return Building.objects.create(code="B1", name="Hizmet Binası", footprint=square(X0, Y0))


@pytest.fixture
def depot() -> Building:
    return Building.objects.create(code="B2", name="Şantiye", footprint=square(X0 + 1000, Y0))


def asset(building: Building, number: str, x: float, y: float, **extra: object) -> Asset:
    return register_asset(asset=Asset(inventory_number=number, category=extra.pop(
        "category", "switch"), building=building, location=pt(x, y), **extra))


def refused(code: str, obj: object) -> RuleViolation:
    with pytest.raises(RuleViolation) as info:
        save_with_rules(obj)
    assert info.value.code == code
    return info.value


def test_asset_point_must_lie_in_its_building(hall: Building) -> None:
    asset(hall, "A-1", X0 + 10, Y0 + 10)
    error = refused("ASSET_OUTSIDE_BUILDING",
                    Asset(inventory_number="A-2", category="desktop", building=hall,
                          location=pt(X0 + 500, Y0)))
    assert " / " in error.text  # Turkish first, then English
    # A new footprint that would leave the asset outside is refused as well.
    hall.footprint = square(X0 + 20, Y0 + 20)
    refused("ASSET_OUTSIDE_BUILDING", hall)


def test_room_and_floor_belong_to_the_building(hall: Building, depot: Building) -> None:
    floor = Floor.objects.create(building=hall, number=1)
    room = save_with_rules(Room(building=hall, floor=floor, code="101"))
    refused("FLOOR_NOT_IN_BUILDING", Room(building=depot, floor=floor, code="201"))
    save_with_rules(Asset(inventory_number="A-3", category="printer", building=hall, room=room,
                          location=pt(X0 + 5, Y0 + 5)))
    refused("ROOM_NOT_IN_BUILDING", Asset(inventory_number="A-4", category="printer",
                                          building=depot, room=room))


def test_inventory_number_ip_and_mac_are_not_reused(hall: Building) -> None:
    first = asset(hall, "A-10", X0 + 1, Y0 + 1, ip_address="10.1.0.10",
                  mac_address="aa-bb-cc-dd-ee-ff")
    assert first.mac_address == "AA:BB:CC:DD:EE:FF"
    refused("INVENTORY_NUMBER_TAKEN", Asset(inventory_number="A-10", category="desktop"))
    refused("IP_TAKEN", Asset(inventory_number="A-11", category="desktop",
                              ip_address="10.1.0.10"))
    refused("MAC_TAKEN", Asset(inventory_number="A-12", category="desktop",
                               mac_address="AA:BB:CC:DD:EE:FF"))
    # Unset IPs and MACs may repeat.
    save_with_rules(Asset(inventory_number="A-13", category="monitor"))
    save_with_rules(Asset(inventory_number="A-14", category="monitor"))


def test_link_route_ends_at_its_endpoints(hall: Building, depot: Building) -> None:
    a = asset(hall, "SW-1", X0 + 10, Y0 + 10)
    b = asset(depot, "SW-2", X0 + 1010, Y0 + 10)
    straight = save_with_rules(NetworkLink(a_asset=a, b_asset=b, medium="fiber_sm"))
    straight.refresh_from_db()
    assert straight.route.coords == ((X0 + 10, Y0 + 10), (X0 + 1010, Y0 + 10))
    assert straight.a_building == hall and straight.b_building == depot  # filled in
    assert straight.length_m == pytest.approx(1000)
    routed = LineString((X0 + 10, Y0 + 10), (X0 + 500, Y0 + 300), (X0 + 1010, Y0 + 10),
                        srid=SRID)
    save_with_rules(NetworkLink(a_asset=a, b_asset=b, medium="fiber_mm", route=routed))
    wrong = LineString((X0 + 200, Y0 + 10), (X0 + 1010, Y0 + 10), srid=SRID)
    refused("LINK_ENDS_MISMATCH", NetworkLink(a_asset=a, b_asset=b, medium="copper",
                                              route=wrong))
    # Building ends: the route ends inside each footprint.
    save_with_rules(NetworkLink(a_building=hall, b_building=depot, medium="leased_line",
                                route=LineString((X0 + 25, Y0 + 25), (X0 + 1025, Y0 + 25),
                                                 srid=SRID)))
    refused("LINK_ENDS_MISMATCH", NetworkLink(a_asset=a, a_building=depot, b_building=hall,
                                              medium="copper"))


def test_lifecycle_transitions_are_checked_and_recorded(hall: Building) -> None:
    pc = asset(hall, "PC-1", X0 + 5, Y0 + 5, category="desktop", status="in_stock",
               assigned_person="Ayşe Yılmaz")
    transition_asset(asset=pc, to_status="in_service", reason="teslim")
    transition_asset(asset=pc, to_status="in_repair_warranty", reason="arıza")
    with pytest.raises(KentCBSError) as info:
        transition_asset(asset=pc, to_status="scrapped")
    assert info.value.code == "SCRAPPING_RECORD_REQUIRED"
    record = propose_scrapping(asset=pc, reason="onarım ekonomik değil")
    decide_scrapping(record=record, approve=True, decision_number="2026/7")
    pc.refresh_from_db()
    assert pc.status == "scrapped" and pc.assigned_person == ""
    steps = list(AssetTransition.objects.filter(asset=pc).values_list("from_status",
                                                                       "to_status"))
    assert steps == [("", "in_stock"), ("in_stock", "in_service"),
                     ("in_service", "in_repair_warranty"), ("in_repair_warranty", "scrapped")]
    with pytest.raises(KentCBSError) as info:
        transition_asset(asset=pc, to_status="in_service")
    assert info.value.code == "ASSET_SCRAPPED"
    # The database refuses it too, whoever writes.
    pc.status = "in_service"
    refused("ASSET_SCRAPPED", pc)
    pc.refresh_from_db()
    pc.assigned_person = "Biri"
    refused("ASSET_SCRAPPED", pc)


def test_scrapped_assets_cannot_be_linked_and_linked_ones_cannot_be_scrapped(
        hall: Building, depot: Building) -> None:
    a = asset(hall, "SW-1", X0 + 10, Y0 + 10)
    b = asset(depot, "SW-2", X0 + 1010, Y0 + 10)
    dead = asset(depot, "SW-3", X0 + 1020, Y0 + 20)
    link = save_with_rules(NetworkLink(a_asset=a, b_asset=b, medium="fiber_sm"))
    with pytest.raises(RuleViolation) as info:
        decide_scrapping(record=propose_scrapping(asset=b, reason="x"), approve=True)
    assert info.value.code == "ASSET_STILL_LINKED"
    decide_scrapping(record=propose_scrapping(asset=dead, reason="x"), approve=True)
    refused("ASSET_SCRAPPED", NetworkLink(a_asset=a, b_asset=dead, medium="copper"))
    assert link.pk


def test_history_and_bulk_writes_record_their_source(hall: Building) -> None:
    with audit_context(source="etl"):
        pc = asset(hall, "PC-9", X0 + 5, Y0 + 5, category="desktop")
        Asset.objects.filter(pk=pc.pk).update(brand="Dell")
    assert pc.history.first().history_source == "etl"
    change = BulkChange.objects.get(target="gis_core.Asset")
    assert (change.source, change.action, change.count) == ("etl", "update", 1)


def test_audit_looks_the_request_user_up_only_for_a_change(hall: Building) -> None:
    """The web hands the audit the request's lazy user: a request that changes nothing
    never loads it; a change loads it once; an anonymous caller is recorded as nobody."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import AnonymousUser
    from django.utils.functional import SimpleLazyObject

    staff = get_user_model().objects.create_user("audit.staff")
    looked_up: list[str] = []

    def lazy(user):
        return SimpleLazyObject(lambda: looked_up.append(user.username or "anonymous") or user)

    with audit_context(user=lazy(staff), source="web") as ctx:
        assert looked_up == []
        pc = asset(hall, "PC-7", X0 + 7, Y0 + 7, category="desktop")
    assert looked_up == ["audit.staff"] and ctx.user == staff
    assert pc.history.first().history_user == staff
    with audit_context(user=lazy(AnonymousUser()), source="web") as ctx:
        pc.brand = "HP"
        pc.save()
    assert ctx.user is None and pc.history.first().history_user is None


def test_payments_due_in_the_next_days() -> None:
    common = {"provider": "Türk Telekom", "kind": "data", "monthly_fee": 100,
              "start_date": dt.date(2025, 1, 1)}
    end_of_month = Subscription.objects.create(line_number="L31", payment_day=31, **common)
    Subscription.objects.create(line_number="L15", payment_day=15, **common)
    Subscription.objects.create(line_number="OLD", payment_day=27, **{
        **common, "end_date": dt.date(2025, 12, 31)})
    due = Subscription.objects.payments_due(within_days=5, today=dt.date(2026, 2, 25))
    assert due == [(end_of_month, dt.date(2026, 2, 28))]  # February pays on its last day
    due = Subscription.objects.payments_due(within_days=20, today=dt.date(2026, 2, 25))
    assert [(s.line_number, d) for s, d in due] == [("L31", dt.date(2026, 2, 28)),
                                                    ("L15", dt.date(2026, 3, 15))]


def test_spatial_questions(hall: Building, depot: Building) -> None:
    n = Neighbourhood.objects.create(name="Yenidoğan", geom=square(X0 - 100, Y0 - 100, 300))
    floor = Floor.objects.create(building=hall, number=0)
    room = Room.objects.create(building=hall, floor=floor, code="001")
    it = Department.objects.get(code="teknik_destek")
    a = asset(hall, "SW-1", X0 + 10, Y0 + 10, room=room, department=it)
    b = asset(depot, "SW-2", X0 + 1010, Y0 + 10)
    asset(hall, "PC-1", X0 + 20, Y0 + 20, category="desktop", department=it)
    link = save_with_rules(NetworkLink(a_asset=a, b_asset=b, medium="fiber_sm"))

    assert set(Asset.objects.in_building(hall).values_list("inventory_number", flat=True)) == {
        "SW-1", "PC-1"}
    assert list(Asset.objects.in_room(room)) == [a]
    assert set(Building.objects.in_neighbourhood(n)) == {hall}
    assert list(NetworkLink.objects.touching_building(depot)) == [link]
    assert Building.objects.nearest(pt(X0 + 990, Y0 - 30)) == depot
    # A WGS84 point is transformed before measuring.
    far = Building.objects.nearest_to(pt(X0 + 1200, Y0).transform(4326, clone=True)).first()
    assert far == depot
    # The directorate's assets include its units'.
    assert Asset.objects.of_department("bilgi_islem").count() == 2
    assert Asset.objects.of_department("bilgi_islem", include_units=False).count() == 0
    counts = {(row["building__name"], row["category"], row["status"]): row["count"]
              for row in Asset.objects.counts_by_building()}
    assert counts == {("Hizmet Binası", "desktop", "in_stock"): 1,
                      ("Hizmet Binası", "switch", "in_stock"): 1,
                      ("Şantiye", "switch", "in_stock"): 1}
    assert hall.area_m2 == pytest.approx(2500)
