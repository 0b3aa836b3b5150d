"""Model-backed layers: ``migrate`` creates the view cbs.v_<code> over the core table,
with exactly the definition's columns (joined names, blank text as NULL)."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.db import connection

from layers.registry import registry
from layers.services import plan_layer

pytestmark = pytest.mark.django_db

MODEL_BACKED = ["ag_baglanti", "bina_hizmet", "bt_varlik", "mahalle", "oda"]


def view_columns(code: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT column_name FROM information_schema.columns "
                       "WHERE table_schema = 'cbs' AND table_name = %s ORDER BY ordinal_position",
                       [f"v_{code}"])
        return [row[0] for row in cursor.fetchall()]


def square(x: float, y: float, size: float = 20) -> MultiPolygon:
    return MultiPolygon(Polygon.from_bbox((x, y, x + size, y + size)), srid=5254)


@pytest.mark.parametrize("code", MODEL_BACKED)
def test_migrate_created_the_view(code: str) -> None:
    layer = registry.get(code)
    assert layer.is_model_backed and layer.backing.table == f"cbs.v_{code}"
    assert view_columns(code) == ["id", "geom", *layer.field_names]
    assert plan_layer(layer).action == "none"


def test_view_shows_joined_and_cleaned_values() -> None:
    from gis_core.models import Asset, Building, Department, Neighbourhood

    mahalle = Neighbourhood.objects.create(name="Akarbaşı", uavt_code="12345",
                                           geom=square(420000, 4400000, 500))
    building = Building.objects.create(code="HB-01", name="Belediye Hizmet Binası",
                                       footprint=square(420100, 4400100),
                                       neighbourhood=mahalle, street="Atatürk Bulvarı",
                                       door_number="", floor_count=4)
    Asset.objects.create(inventory_number="DM-2024-0001", category="desktop",
                         status="in_service", department=Department.objects.get(code="yazilim"),
                         building=building, assigned_person="Ayşe Yılmaz",
                         ip_address="10.20.30.40", location=Point(420110, 4400110, srid=5254))
    with connection.cursor() as cursor:
        cursor.execute("SELECT kod, ad, mahalle_adi, sokak_adi, kapi_no, kat_sayisi, "
                       "ST_SRID(geom), GeometryType(geom) FROM cbs.v_bina_hizmet")
        assert cursor.fetchall() == [("HB-01", "Belediye Hizmet Binası", "Akarbaşı",
                                      "Atatürk Bulvarı", None, 4, 5254, "MULTIPOLYGON")]
        cursor.execute("SELECT demirbas_no, kategori, durum, birim_kodu, bina_kodu, "
                       "zimmetli_kisi, ip_adresi FROM cbs.v_bt_varlik")
        assert cursor.fetchall() == [("DM-2024-0001", "desktop", "in_service", "yazilim",
                                      "HB-01", "Ayşe Yılmaz", "10.20.30.40")]
        cursor.execute("SELECT ad, uavt_kodu FROM cbs.v_mahalle")
        assert cursor.fetchall() == [("Akarbaşı", "12345")]


def test_neighbourhood_code_list_is_the_district_s_official_list() -> None:
    """The national registry's list, whatever neighbourhood polygons are loaded."""
    from gis_core.models import Neighbourhood
    from layers.codelists import codes
    from layers.official import district

    official = set(district("Eskişehir", "Odunpazarı").neighbourhood_names)
    assert len(official) == 85
    assert codes("mahalle") == official
    Neighbourhood.objects.create(name="Vişnelik", geom=square(0, 0))
    Neighbourhood.objects.create(name="Şirintepe", geom=square(100, 0))
    assert codes("mahalle") == official
