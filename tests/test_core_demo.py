"""The demo municipality: deterministic, idempotent, and every rule holds."""

from __future__ import annotations

import pytest
from django.db import connection

from gis_core.demo import load_demo
from gis_core.errors import KentCBSError
from gis_core.models import Asset, AssetTransition, Building, Municipality, NetworkLink

pytestmark = pytest.mark.django_db


def test_demo_loads_a_coherent_municipality_and_a_second_load_changes_nothing() -> None:
    first = load_demo(profile="odunpazari")
    assert first["buildings"] == 12 and first["neighbourhoods"] == 85
    assert 250 <= first["assets"] <= 350 and first["links"] == 11
    ids = sorted(Asset.objects.values_list("inventory_number", flat=True))
    second = load_demo(profile="odunpazari")
    core = ("neighbourhoods", "buildings", "rooms", "assets", "links", "subscriptions")
    assert {k: second[k] for k in core} == {k: first[k] for k in core}
    assert sorted(Asset.objects.values_list("inventory_number", flat=True)) == ids

    with connection.cursor() as cursor:
        # Every placed asset lies inside its building; every link ends at its switches.
        cursor.execute("""SELECT count(*) FROM gis_core_asset a JOIN gis_core_building b
                          ON a.building_id = b.id WHERE a.location IS NOT NULL
                          AND NOT ST_Covers(b.footprint, a.location)""")
        assert cursor.fetchone()[0] == 0
        cursor.execute("""SELECT count(*) FROM gis_core_networklink l
                          JOIN gis_core_asset a ON a.id = l.a_asset_id
                          JOIN gis_core_asset b ON b.id = l.b_asset_id
                          WHERE NOT (ST_DWithin(ST_StartPoint(l.route), a.location, 1)
                                 AND ST_DWithin(ST_EndPoint(l.route), b.location, 1))""")
        assert cursor.fetchone()[0] == 0
        # Every room is a polygon on its floor, inside its building (the oda layer is
        # spatial: QGIS and GDAL read it as polygons, not as features without geometry).
        cursor.execute("""SELECT count(*), count(r.outline), count(*) FILTER (
                              WHERE NOT ST_Covers(b.footprint, r.outline))
                          FROM gis_core_room r JOIN gis_core_building b
                          ON r.building_id = b.id""")
        assert cursor.fetchone() == (first["rooms"], first["rooms"], 0)
    # Scrapped assets are unassigned and unlinked; every asset's lifecycle starts recorded.
    scrapped = Asset.objects.filter(status="scrapped")
    assert scrapped.exists() and not scrapped.exclude(assigned_person="").exists()
    assert not NetworkLink.objects.filter(a_asset__status="scrapped").exists()
    assert AssetTransition.objects.filter(from_status="").count() == Asset.objects.count()
    # Buildings sit in the neighbourhood that holds them.
    hall = Building.objects.get(code="HB-001")
    assert hall.neighbourhood is not None
    assert hall.neighbourhood.geom.contains(hall.footprint.point_on_surface)


def test_demo_of_another_profile_is_refused_on_the_same_database() -> None:
    load_demo(profile="odunpazari")
    with pytest.raises(KentCBSError) as info:
        load_demo(profile="efeler")
    assert info.value.code == "DEMO_OTHER_PROFILE"


def test_efeler_demo_uses_efeler_names() -> None:
    counts = load_demo(profile="efeler")
    assert counts["neighbourhoods"] == 83
    assert Municipality.objects.get().name == "Efeler"
