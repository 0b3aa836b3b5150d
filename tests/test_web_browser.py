"""A real headless Chromium signs in, opens the map, toggles a layer and searches an asset."""

from __future__ import annotations

import shutil

import pytest
from django.contrib.auth.models import User

from gis_core.demo import load_demo
from gis_core.models import Asset, Department, Membership

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_sign_in_map_toggle_search(live_server, artifacts_dir) -> None:
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM), "Debian chromium is required (bootstrap.sh installs it)"
    load_demo(profile="odunpazari")
    user = User.objects.create_user("webtech", password="x-Test-12345")
    Membership.objects.create(user=user, department=Department.objects.get(code="teknik_destek"),
                              role="technician")
    asset = Asset.objects.filter(building__isnull=False).order_by("inventory_number").first()
    inventory, building_name = asset.inventory_number, asset.building.name
    external: list[str] = []
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.on("request", lambda r: None if r.url.startswith(live_server.url)
                or r.url.startswith("data:") else external.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", "webtech")
        page.fill("#id_password", "x-Test-12345")
        page.screenshot(path=str(artifacts_dir / "1-sign-in.png"))
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        page.goto(f"{live_server.url}/map/")
        page.wait_for_selector(".leaflet-container")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(artifacts_dir / "2-map.png"))
        box = page.locator("input[data-layer=bt_varlik]")
        box.check()
        page.wait_for_load_state("networkidle")
        assert box.is_checked()
        page.screenshot(path=str(artifacts_dir / "3-toggle.png"))
        page.fill("#q", inventory)
        page.click("#search button")
        page.wait_for_selector("#asset-list")
        assert inventory in page.inner_text("#asset-list")
        assert building_name in page.inner_text("#bname")
        page.wait_for_timeout(1500)
        page.screenshot(path=str(artifacts_dir / "4-search-building.png"))
        browser.close()
    assert external == []
    assert errors == []
