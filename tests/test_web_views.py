"""Map viewer views and permissions: nobody sees a layer or building they may not read.

The map page, its JSON endpoints and the OGC API tiles it draws answer the same
permission question (``layers.access``) the same way.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from gis_core.demo import load_demo
from gis_core.models import Asset, Building
from gis_core.profiles import get_profile
from tests.people import member, signed_in

pytestmark = pytest.mark.django_db


def _user(name: str, dept: str | None, role: str = "viewer") -> User:
    return member(name, dept, role)


def _config(resp) -> dict:
    html = resp.content.decode()
    start = html.index('id="map-config"')
    body = html[html.index(">", start) + 1:html.index("</script>", start)]
    return json.loads(body)


def _inside(building: Building) -> dict[str, float]:
    point = building.footprint.point_on_surface.transform(4326, clone=True)
    return {"lon": point.x, "lat": point.y}


def test_anonymous_is_sent_to_login() -> None:
    for url in ("/map/", "/map/building/1.json", "/map/search.json?q=x",
                "/map/building-at.json?lon=30&lat=39"):
        resp = Client().get(url)
        assert resp.status_code == 302 and resp.url.startswith("/accounts/login/"), url
    assert Client().get("/accounts/login/").status_code == 200


PUBLIC = {"mahalle", "yol", "yesil_alan"}


# Written down from the layer definitions' access blocks (not asked of layers.access).
@pytest.mark.parametrize(("dept", "role", "expected"), [
    ("park_bahceler", "data_entry", PUBLIC | {"bina_hizmet", "numarataj", "aydinlatma"}),
    ("bilgi_islem", "technician", PUBLIC | {"bina_hizmet", "numarataj", "bina", "aydinlatma",
                                            "oda", "bt_varlik", "ag_baglanti",
                                            "helpdesk_ticket", "ag_bina_durumu",
                                            "hat_odeme_gecikmesi"}),
    ("zabita", "viewer", PUBLIC | {"bina_hizmet", "numarataj", "bina", "aydinlatma"}),
    ("kultur_sosyal", "viewer", PUBLIC | {"bina_hizmet"}),
    ("mali_hizmetler", "manager", PUBLIC | {"bina_hizmet", "numarataj", "bina", "aydinlatma",
                                            "oda", "bt_varlik"}),
])
def test_map_offers_exactly_the_readable_layers_as_local_vector_tiles(
        dept: str, role: str, expected: set[str]) -> None:
    user = _user(f"u_{dept}", dept, role)
    resp = signed_in(user).get("/map/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert set(_config(resp)["layers"]) == expected
    assert set(re.findall(r'data-layer="([a-z_]+)"', html)) == expected
    assert set(re.findall(r"/ogc/collections/([a-z_]+)/tiles/WebMercatorQuad/\{z\}", html)) \
        == expected
    # Everything the page loads comes from the app: Leaflet, VectorGrid, proj4.
    assert not re.search(r"""(?:src|href)=["'](?:https?:)?//""", html)
    assert "unpkg.com" not in html and "cdn" not in html.lower()
    for asset in ("/static/leaflet/leaflet.js",
                  "/static/vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js",
                  "/static/vendor/proj4/proj4.js"):
        assert asset in html
    # No layer arrives as GeoJSON inside the page.
    assert '"FeatureCollection"' not in html


def test_an_operator_may_configure_a_basemap(settings) -> None:
    settings.KENTCBS_TILE_URL = "https://tiles.belediye.example/{z}/{x}/{y}.png"
    html = signed_in(_user("harita", "cbs", "gis_admin")).get("/map/").content.decode()
    assert "https://tiles.belediye.example/{z}/{x}/{y}.png" in html
    assert "L.tileLayer" in html


def test_static_assets_of_the_map_are_served_by_the_app(live_server) -> None:
    import urllib.request

    for path in ("/static/vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js",
                 "/static/vendor/proj4/proj4.js", "/static/leaflet/leaflet.js",
                 "/static/web/map.js"):
        with urllib.request.urlopen(live_server.url + path) as response:
            assert response.status == 200 and len(response.read()) > 1000, path


def test_tiles_follow_the_same_permission_as_the_map() -> None:
    load_demo(profile="odunpazari", modules=False)
    park = signed_in(_user("parkci", "park_bahceler", "data_entry"))
    staff = signed_in(_user("bimci", "bilgi_islem", "technician"))
    # z15 tile over the demo town centre.
    lon, lat = get_profile("odunpazari").centre
    import math

    z = 15
    x = int((lon + 180) / 360 * 2**z)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z)
    url = f"/ogc/collections/ag_baglanti/tiles/WebMercatorQuad/{z}/{y}/{x}"
    assert park.get(url).status_code == 404
    ok = staff.get(url)
    assert ok.status_code == 200
    assert ok["Content-Type"] == "application/vnd.mapbox-vector-tile"


def test_map_opens_the_requested_layers_and_building() -> None:
    load_demo(profile="odunpazari", modules=False)
    building = Building.objects.order_by("code").first()
    user = _user("acan", "bilgi_islem", "technician")
    config = _config(signed_in(user).get(f"/map/?layers=yol,bt_varlik,nope&building={building.pk}"))
    assert config["visible"] == ["bt_varlik", "yol"]
    assert config["building"] == building.pk
    assert config["srid"] in (5253, 5254) and "+proj=tmerc" in config["proj4"]
    # A layer the user may not read cannot be switched on by URL.
    park = _user("parkci2", "park_bahceler", "data_entry")
    config = _config(signed_in(park).get("/map/?layers=bt_varlik,yol"))
    assert config["visible"] == ["yol"] and "bt_varlik" not in config["layers"]
    # Nothing readable asked: the default layers the user may read (not ag_baglanti).
    config = _config(signed_in(park).get("/map/?layers=bt_varlik"))
    assert config["visible"] == ["bina_hizmet", "mahalle"]


def test_building_detail_is_permission_checked_part_by_part() -> None:
    load_demo(profile="odunpazari", modules=False)
    building = (Building.objects.filter(assets__isnull=False, links_a__isnull=False)
                .distinct().first())
    assert building is not None
    outsider = _user("outsider", None)
    assert signed_in(outsider).get(f"/map/building/{building.pk}.json").status_code == 404
    assert signed_in(outsider).get("/map/search.json",
                                 {"q": building.name}).json() == {"results": []}
    assert signed_in(outsider).get("/map/building-at.json",
                                 _inside(building)).json() == {"id": None}
    # Any member of staff reads the service buildings, not the IT assets or links.
    viewer = signed_in(_user("zabitaci", "zabita", "viewer"))
    data = viewer.get(f"/map/building/{building.pk}.json").json()
    assert data["name"] == building.name and data["floors"]
    assert data["assets_visible"] is False and data["assets"] == []
    assert data["assets_by_category_status"] == [] and data["links"] == []
    # IT staff see assets by category and status, links and the helpdesk panel.
    staff = signed_in(_user("staff", "bilgi_islem", role="technician"))
    data = staff.get(f"/map/building/{building.pk}.json").json()
    assert sum(row["n"] for row in data["assets_by_category_status"]) == \
        Asset.objects.filter(building=building).count()
    assert data["links"] and all(link["medium_label"][0] for link in data["links"])
    assert any(panel["title_en"] == "Tickets" for panel in data["panels"])
    assert data["footprint"]["type"] == "MultiPolygon"
    # No personal data in the panel: no assigned person's name, for any asset listed.
    people = set(Asset.objects.filter(building=building).exclude(assigned_person="")
                 .values_list("assigned_person", flat=True))
    assert people, "the demo building has assets assigned to people"
    body = staff.get(f"/map/building/{building.pk}.json").content.decode("utf-8")
    text = json.dumps(data, ensure_ascii=False)
    for person in people:
        assert person not in text and person not in body, person
    assert staff.get("/map/building/999999.json").status_code == 404


def test_click_finds_the_building_under_the_point() -> None:
    load_demo(profile="odunpazari", modules=False)
    building = Building.objects.order_by("code").first()
    staff = signed_in(_user("tiklayan", "bilgi_islem", "technician"))
    assert staff.get("/map/building-at.json", _inside(building)).json() == {"id": building.pk}
    lon, lat = get_profile("odunpazari").centre
    assert staff.get("/map/building-at.json", {"lon": lon + 0.3, "lat": lat}).json() == \
        {"id": None}
    bad = staff.get("/map/building-at.json", {"lon": "x", "lat": "1e999"})
    assert bad.status_code == 400 and "/" in bad.json()["error"]


def test_search_finds_assets_only_for_readers_of_the_asset_layer() -> None:
    load_demo(profile="odunpazari", modules=False)
    asset = Asset.objects.filter(building__isnull=False, ip_address__isnull=False).first()
    staff = signed_in(_user("staff2", "bilgi_islem", role="technician"))
    for query in (asset.inventory_number, str(asset.ip_address)):
        results = staff.get("/map/search.json", {"q": query}).json()["results"]
        assert results and results[0]["id"] == asset.building_id, query
        assert 25 < results[0]["lon"] < 45 and 35 < results[0]["lat"] < 43
    viewer = signed_in(_user("viewer2", "zabita", "viewer"))
    assert viewer.get("/map/search.json", {"q": asset.inventory_number}).json() == \
        {"results": []}
    by_name = viewer.get("/map/search.json", {"q": asset.building.name}).json()["results"]
    assert by_name and by_name[0]["kind"] == "building"
    # Case-insensitive the Turkish way, whatever the database's default collation:
    # "itfaiye" and "İTFAİYE" find "İtfaiye", "ışıklar" finds "Işıklar"; "ı" is not "i".
    building = Building.objects.create(code="HB-T1", name="Işıklar İtfaiye Binası",
                                       footprint=asset.building.footprint)
    for query in ("ışıklar", "IŞIKLAR", "itfaiye", "İTFAİYE", "BİNASI"):
        found = viewer.get("/map/search.json", {"q": query}).json()["results"]
        assert building.pk in {r["id"] for r in found}, query
    for query in ("isiklar", "ITFAIYE"):
        found = viewer.get("/map/search.json", {"q": query}).json()["results"]
        assert building.pk not in {r["id"] for r in found}, query


def test_department_home_shows_its_layers_buildings_and_uploads(tmp_path: Path) -> None:
    from etl.services import ingest

    load_demo(profile="odunpazari", modules=False)
    user = _user("fenci", "fen_isleri", "data_entry")
    lon, lat = get_profile("odunpazari").centre
    upload = tmp_path / "yollar.geojson"
    upload.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"yol_kodu": "1001", "yol_adi": "Deneme",
                                           "yol_tipi": "Sokak"},
         "geometry": {"type": "LineString", "coordinates": [[lon, lat],
                                                            [lon + 0.001, lat]]}}]}))
    batch = ingest(layer="yol", path=upload, department="fen_isleri", user=user,
                   dry_run=True)
    other = ingest(layer="yol", path=upload, department="imar_sehircilik", dry_run=True)
    html = signed_in(user).get("/").content.decode()
    assert "Fen İşleri" in html
    assert f"/reports/{batch.pk}/" in html and f"/reports/{other.pk}/" not in html
    assert "/map/?layers=yol" in html and "/upload/?layer=yol" in html
    assert "/upload/?layer=bina" not in html  # fen_isleri may not edit building footprints


def test_turkish_first_then_the_english_switch() -> None:
    client = signed_in(_user("home", "bilgi_islem", role="technician"))
    # The browser asks for English; the municipality's pages start in Turkish.
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "Katmanlar" in html and "Harita" in html
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/").content.decode()
    assert "Layers" in html and "Katmanlar" not in html
    assert "Network links" in client.get("/map/").content.decode()
