"""The demo municipality: deterministic, idempotent, every rule holds, and a city on the map."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from etl.models import Batch, Quarantine
from gis_core.demo import MISTAKEN_UPLOADS, STAGES, UPLOADS, load_demo
from gis_core.errors import KentCBSError
from gis_core.models import Asset, AssetTransition, Building, NetworkLink
from layers.registry import registry
from tests.conftest import kentcbs
from tests.test_core_municipality import Database
from tests.test_core_municipality import new_database as new_database  # a database of its own

pytestmark = pytest.mark.django_db

#: The least each department layer of the demo city holds (issue 17, section 4).
AT_LEAST = {"yol": 300, "bina": 5000, "numarataj": 5000, "yesil_alan": 20, "aydinlatma": 1000}


def _scalar(sql: str, params: list[object] | None = None) -> object:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _assert_the_city_holds_together() -> None:
    """Spatial and referential checks over the loaded city, all in PostGIS."""
    # Every building inside the municipality; neighbourhoods tile the boundary exactly.
    assert _scalar("""SELECT count(*) FROM cbs.bina b, gis_core_municipality m
                      WHERE NOT ST_Within(b.geom, m.boundary)""") == 0
    assert _scalar("""SELECT abs(ST_Area(m.boundary) - ST_Area(ST_Union(n.geom)))
                             + abs(sum(ST_Area(n.geom)) - ST_Area(ST_Union(n.geom)))
                      FROM gis_core_neighbourhood n, gis_core_municipality m
                      GROUP BY m.boundary""") < 1.0
    # UAVT codes: ten digits, one per building, one address per building at its entrance
    # (outside the footprint, within 1 m of it) and within 25 m of the street it names.
    assert _scalar("SELECT count(*) FROM cbs.bina WHERE uavt_bina_kodu !~ '^[0-9]{10}$'") == 0
    assert _scalar("""SELECT count(*) FROM cbs.numarataj n LEFT JOIN cbs.bina b
                      ON b.uavt_bina_kodu = n.uavt_bina_kodu
                      WHERE b.id IS NULL OR ST_Intersects(n.geom, b.geom)
                         OR NOT ST_DWithin(n.geom, b.geom, 1)""") == 0
    assert _scalar("""SELECT count(*) FROM cbs.numarataj n WHERE NOT EXISTS (
                          SELECT 1 FROM cbs.yol y WHERE y.yol_adi = n.sokak_adi
                          AND y.yol_tipi = n.yol_tipi AND ST_DWithin(y.geom, n.geom, 25))""") == 0
    assert _scalar("SELECT count(DISTINCT yol_tipi) FROM cbs.yol "
                   "WHERE yol_tipi IN ('Cadde', 'Sokak', 'Bulvar')") == 3
    # Poles stand beside a street; buildings overlap neither each other nor a street.
    assert _scalar("""SELECT count(*) FROM cbs.aydinlatma a WHERE NOT EXISTS (
                          SELECT 1 FROM cbs.yol y WHERE ST_DWithin(y.geom, a.geom, 20))""") == 0
    assert _scalar("""SELECT count(*) FROM cbs.bina a JOIN cbs.bina b
                      ON a.id < b.id AND ST_Intersects(a.geom, b.geom)""") == 0
    assert _scalar("""SELECT count(*) FROM cbs.bina b JOIN cbs.yol y
                      ON ST_Intersects(b.geom, y.geom)""") == 0
    # The service buildings stand on footprints of the city, with their UAVT code.
    assert _scalar("""SELECT count(*) FROM gis_core_building h JOIN cbs.bina b
                      ON b.uavt_bina_kodu = h.uavt_code
                      WHERE ST_Equals(b.geom, h.footprint)""") == Building.objects.count()
    # A floor plan: every room a polygon inside its building, rooms of a floor apart;
    # every asset inside its room.
    assert _scalar("""SELECT count(*) FROM gis_core_room r JOIN gis_core_building b
                      ON r.building_id = b.id
                      WHERE r.outline IS NULL OR NOT ST_CoveredBy(r.outline, b.footprint)""") == 0
    assert _scalar("""SELECT count(*) FROM gis_core_room a JOIN gis_core_room b
                      ON a.floor_id = b.floor_id AND a.id < b.id
                      AND ST_Overlaps(a.outline, b.outline)""") == 0
    assert _scalar("""SELECT count(*) FROM gis_core_asset a LEFT JOIN gis_core_room r
                      ON a.room_id = r.id
                      WHERE r.id IS NULL OR a.location IS NULL
                         OR NOT ST_Within(a.location, r.outline)""") == 0


def _assert_the_mistakes_are_reported() -> None:
    """The two uploads with mistakes: per-feature reasons, and a refusal with its code."""
    (layer, name, _crs), (road_layer, road_name, _hint) = MISTAKEN_UPLOADS
    survey = Batch.objects.get(layer_code=layer, file_name=name)
    # the "X Mahallesi" row is normalised (VALUE_NORMALISED, a warning), not rejected
    assert (survey.status, survey.count_read, survey.count_rejected) == ("loaded", 40, 7)
    assert survey.count_updated == 10 and survey.report_json and survey.report_html
    codes = {error["code"] for row in Quarantine.objects.filter(batch=survey)
             for error in row.errors}
    assert codes == {"GEOM_INVALID", "CODELIST", "PATTERN", "RANGE"}
    assert _scalar("SELECT count(*) FROM cbs.bina WHERE batch_id = %s", [survey.pk]) == 10
    roads = Batch.objects.get(layer_code=road_layer, file_name=road_name)
    assert (roads.status, roads.reason_code) == ("refused", "CRS_WRONG_ZONE")
    assert not Quarantine.objects.filter(batch=roads).exists()


def _assert_ogc_serves_every_collection() -> None:
    """cbs.admin reads every collection it is offered, each with features."""
    from ogc_api.config import forget_extents

    forget_extents()
    client = Client()
    client.force_login(get_user_model().objects.get(username="cbs.admin"))
    listed = client.get("/ogc/collections?f=json")
    assert listed.status_code == 200
    ids = {c["id"] for c in listed.json()["collections"]}
    assert {*AT_LEAST, "mahalle", "oda", "bina_hizmet"} <= ids
    empty = []
    for code in sorted(ids):
        page = client.get(f"/ogc/collections/{code}/items?limit=1&f=json")
        assert page.status_code == 200, code
        if not page.json()["features"]:
            empty.append(code)
    assert empty == []


@pytest.mark.django_db(transaction=True)
def test_demo_loads_a_living_city_and_a_second_load_changes_nothing() -> None:
    first = load_demo(profile="odunpazari")
    assert first["buildings"] == 12 and first["neighbourhoods"] == 85
    assert 250 <= first["assets"] <= 350 and first["links"] == 11
    layers = first["layers"]
    assert isinstance(layers, dict)
    assert {code: layers[code] >= least for code, least in AT_LEAST.items()} == dict.fromkeys(
        AT_LEAST, True), layers
    # Every department layer arrived as an upload of its owner department.
    for code, name in UPLOADS:
        batch = Batch.objects.get(layer_code=code, file_name=name)
        assert batch.status == "loaded" and batch.count_rejected == 0, (name, batch.message)
        assert batch.department == registry.get(code).owner and batch.user is not None
    ids = sorted(Asset.objects.values_list("inventory_number", flat=True))
    batches = list(Batch.objects.order_by("pk").values_list("pk", flat=True))

    second = load_demo(profile="odunpazari")
    # The same, except the accounts the helpdesk demo added after the first count.
    assert {**second, "users": 0, "modules": 0} == {**first, "users": 0, "modules": 0}
    assert second["modules"]["helpdesk"]["created"] == 0  # type: ignore[index]
    assert sorted(Asset.objects.values_list("inventory_number", flat=True)) == ids
    assert list(Batch.objects.order_by("pk").values_list("pk", flat=True)) == batches

    _assert_the_city_holds_together()
    _assert_the_mistakes_are_reported()
    _assert_ogc_serves_every_collection()

    with connection.cursor() as cursor:
        # Every link ends at its switches.
        cursor.execute("""SELECT count(*) FROM gis_core_networklink l
                          JOIN gis_core_asset a ON a.id = l.a_asset_id
                          JOIN gis_core_asset b ON b.id = l.b_asset_id
                          WHERE NOT (ST_DWithin(ST_StartPoint(l.route), a.location, 1)
                                 AND ST_DWithin(ST_EndPoint(l.route), b.location, 1))""")
        assert cursor.fetchone()[0] == 0
    # Scrapped assets are unassigned and unlinked; every asset's lifecycle starts recorded.
    scrapped = Asset.objects.filter(status="scrapped")
    assert scrapped.exists() and not scrapped.exclude(assigned_person="").exists()
    assert not NetworkLink.objects.filter(a_asset__status="scrapped").exists()
    assert AssetTransition.objects.filter(from_status="").count() == Asset.objects.count()
    # Buildings sit in the neighbourhood that holds them, at their address.
    hall = Building.objects.get(code="HB-001")
    assert hall.neighbourhood is not None
    assert hall.neighbourhood.geom.contains(hall.footprint.point_on_surface)
    assert _scalar("""SELECT count(*) FROM cbs.numarataj WHERE uavt_bina_kodu = %s
                      AND kapi_no = %s AND mahalle_adi = %s""",
                   [hall.uavt_code, hall.door_number, hall.neighbourhood.name]) == 1


def test_demo_of_another_profile_is_refused_on_the_same_database() -> None:
    load_demo(profile="odunpazari", modules=False, city=False)
    # What was done, stage by stage (kentcbs demo --timings, bench/demo_build.py).
    assert [stage for stage, _wall, _cpu in STAGES] == [
        "users, municipality", "city plan", "buildings, rooms, assets"]
    assert all(wall > 0 and cpu >= 0 for _stage, wall, cpu in STAGES)
    load_demo(profile="odunpazari", modules=False, city=False)
    assert [stage for stage, _wall, _cpu in STAGES] == ["users, municipality"]
    with pytest.raises(KentCBSError) as info:
        load_demo(profile="efeler")
    assert info.value.code == "DEMO_OTHER_PROFILE"


def test_demo_on_a_database_not_yet_migrated_says_to_migrate_first() -> None:
    from django.core.management import call_command

    # the last migration of an app forgotten (rolled back with the test's transaction)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE id = "
                       "(SELECT max(id) FROM django_migrations WHERE app = 'gis_core')")
    with pytest.raises(KentCBSError) as info:
        call_command("demo", "--no-modules")
    assert info.value.code == "DB_NOT_MIGRATED"
    assert "kentcbs migrate" in info.value.english
    assert not Building.objects.exists()  # nothing was loaded


def test_efeler_demo_is_set_up_in_its_own_zone_with_efeler_names(new_database: Database) -> None:
    """``kentcbs demo --profile efeler`` on an empty database of its own: the municipality
    is set up as any other (``set_up_municipality``), in Efeler's zone (EPSG:5253, not the
    shared test database's 5254), with Efeler's 83 official names and its city inside."""
    env = {**new_database.env(), "KENTCBS_PROFILE": "efeler"}
    migrated = kentcbs("migrate", "--no-input", "-v", "0", env=env, timeout=600)
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    done = kentcbs("demo", "--profile", "efeler", "--no-modules", env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    q = new_database.query
    assert q("SELECT code, name, province, srid, ST_SRID(boundary) FROM "
             "gis_core_municipality") == [("efeler", "Efeler", "Aydın", 5253, 5253)]
    assert q("SELECT count(*) FROM gis_core_neighbourhood")[0][0] == 83
    assert q("SELECT count(*) FROM layers_codelistentry WHERE list_name = 'mahalle'"
             )[0][0] == 83
    for layer, least in AT_LEAST.items():
        assert q(f"SELECT count(*) FROM cbs.{layer}")[0][0] >= least, layer
    assert q("""SELECT count(*) FROM cbs.bina b, gis_core_municipality m
                WHERE NOT ST_Within(b.geom, m.boundary)""")[0][0] == 0
    assert q("""SELECT count(DISTINCT b.mahalle_adi) FROM cbs.bina b
                JOIN gis_core_neighbourhood n ON n.name = b.mahalle_adi""")[0][0] >= 5
    # Rooms are used by the departments of their building.
    assert q("""SELECT count(*) FROM gis_core_room r WHERE r.department_id IS NULL
                OR NOT EXISTS (SELECT 1 FROM gis_core_building_departments d
                               WHERE d.building_id = r.building_id
                                 AND d.department_id = r.department_id)""")[0][0] == 0
