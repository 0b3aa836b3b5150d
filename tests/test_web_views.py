"""Map viewer views and permissions: nobody sees a layer or building they may not read."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

from gis_core.demo import load_demo
from gis_core.models import Asset, Building, Department, Membership
from layers.access import can_read
from layers.registry import registry

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _user(name: str, dept: str | None, role: str = "viewer") -> User:
    user = User.objects.create_user(name, password="x")
    if dept:
        Membership.objects.create(user=user, department=Department.objects.get(code=dept),
                                  role=role)
    return user


def _config(resp) -> dict:
    html = resp.content.decode()
    start = html.index('id="map-config"')
    body = html[html.index(">", start) + 1:html.index("</script>", start)]
    return json.loads(body)


def test_anonymous_is_sent_to_login() -> None:
    resp = Client().get("/map/")
    assert resp.status_code == 302 and resp.url.startswith("/accounts/login/")
    assert Client().get("/accounts/login/").status_code == 200


def test_map_lists_only_readable_layers_and_no_external_url() -> None:
    user = _user("parkci", "park_bahceler")
    resp = _client(user).get("/map/")
    assert resp.status_code == 200
    codes = {layer["code"] for layer in _config(resp)["layers"]}
    expected = {d.code for d in registry.all() if can_read(user, d)}
    assert codes == expected
    assert "bt_varlik" not in codes or can_read(user, registry.get("bt_varlik"))
    html = resp.content.decode()
    assert "http://" not in html and "https://" not in html
    assert "/static/leaflet/leaflet.js" in html


def test_building_detail_is_permission_checked() -> None:
    load_demo(profile="odunpazari")
    building = Building.objects.filter(assets__isnull=False).first()
    assert building is not None
    outsider = _user("outsider", None)
    assert _client(outsider).get(f"/map/building/{building.pk}.json").status_code == 404
    assert _client(outsider).get("/map/search.json", {"q": building.name}).json() == {"results": []}
    staff = _user("staff", "bilgi_islem", role="technician")
    resp = _client(staff).get(f"/map/building/{building.pk}.json")
    assert resp.status_code == 200
    data = resp.json()
    assert data["name"] == building.name
    assert sum(row["n"] for row in data["assets_by_category_status"]) == \
        Asset.objects.filter(building=building).count()


def test_search_by_inventory_number_flies_to_its_building() -> None:
    load_demo(profile="odunpazari")
    asset = Asset.objects.filter(building__isnull=False).first()
    staff = _user("staff2", "bilgi_islem", role="technician")
    resp = _client(staff).get("/map/search.json", {"q": asset.inventory_number})
    results = resp.json()["results"]
    assert results and results[0]["id"] == asset.building_id
    assert 25 < results[0]["lon"] < 45 and 35 < results[0]["lat"] < 43


def test_home_and_english_switch() -> None:
    client = _client(_user("home", "bilgi_islem", role="technician"))
    assert "Katmanlar" in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert client.get("/").status_code == 200
