"""A real headless Chromium uses the map viewer as department staff do.

Sign in, open the map (vector tiles from the app's OGC API), toggle a layer,
click a building and see its assets and links, search an inventory number,
switch to English. A screenshot of each step is kept in test-artifacts/. The
browser must make no request to any other host and log no console error.
"""

from __future__ import annotations

import shutil

import pytest
from django.contrib.auth.models import User

from gis_core.demo import load_demo
from gis_core.models import Asset, Building, Department, Membership

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_sign_in_map_toggle_click_search(live_server, artifacts_dir) -> None:
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM), "Debian chromium is required (bootstrap.sh installs it)"
    load_demo(profile="odunpazari", modules=False)
    user = User.objects.create_user("webtech", password="x-Test-12345")
    Membership.objects.create(user=user, department=Department.objects.get(code="bilgi_islem"),
                              role="technician")
    # A building with assets and a link, clicked at a point inside its footprint.
    clicked = (Building.objects.filter(assets__isnull=False, links_a__isnull=False)
               .distinct().order_by("code").first())
    inside = clicked.footprint.point_on_surface.transform(4326, clone=True)
    clicked_assets = Asset.objects.filter(building=clicked).count()
    asset = (Asset.objects.filter(building__isnull=False).exclude(building=clicked)
             .order_by("inventory_number").first())
    inventory, building_name = asset.inventory_number, asset.building.name
    external: list[str] = []
    errors: list[str] = []
    tiles: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.on("request", lambda r: None if r.url.startswith(live_server.url)
                or r.url.startswith("data:") else external.append(r.url))
        page.on("request", lambda r: tiles.append(r.url) if "/tiles/WebMercatorQuad/" in r.url
                else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", "webtech")
        page.fill("#id_password", "x-Test-12345")
        page.screenshot(path=str(artifacts_dir / "1-sign-in.png"))
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        assert "Haritayı" in page.inner_text("body") or "Harita" in page.inner_text("header")

        page.goto(f"{live_server.url}/map/")
        page.wait_for_selector(".leaflet-container")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(artifacts_dir / "2-map.png"))
        assert any("/collections/bina_hizmet/tiles/" in url for url in tiles), tiles[:5]
        assert not any("/collections/yol/tiles/" in url for url in tiles)

        box = page.locator("input[data-layer=yol]")
        box.check()
        page.wait_for_load_state("networkidle")
        assert box.is_checked()
        assert any("/collections/yol/tiles/" in url for url in tiles)
        page.screenshot(path=str(artifacts_dir / "3-toggle.png"))

        # Click the building where it is drawn on the map.
        page.evaluate("([lat, lon]) => window.kentcbsMap.setView([lat, lon], 19, "
                      "{animate: false})", [inside.y, inside.x])
        page.wait_for_load_state("networkidle")
        point = page.evaluate("([lat, lon]) => { var p = window.kentcbsMap"
                              ".latLngToContainerPoint([lat, lon]); var r = window.kentcbsMap"
                              ".getContainer().getBoundingClientRect();"
                              " return [r.left + p.x, r.top + p.y]; }", [inside.y, inside.x])
        page.mouse.click(point[0], point[1])
        page.wait_for_selector("#assets li")
        assert clicked.name in page.inner_text("#bname")
        shown = sum(int(line.rsplit(":", 1)[1]) for line in
                    page.locator("#assets li").all_inner_texts())
        assert shown == clicked_assets
        assert page.locator("#links li").count() >= 1
        page.screenshot(path=str(artifacts_dir / "4-click-building.png"))

        page.fill("#q", inventory)
        page.click("#search button")
        page.wait_for_function("name => document.getElementById('bname') &&"
                               " document.getElementById('bname').textContent === name",
                               arg=building_name)
        page.locator("#asset-list").evaluate("el => el.parentElement.open = true")
        assert inventory in page.inner_text("#asset-list")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(artifacts_dir / "5-search.png"))

        assert page.inner_text("#nav-map") == "Harita"
        page.click("#lang button[value=en]")
        page.wait_for_selector(".leaflet-container")
        assert page.inner_text("#nav-map") == "Map"
        page.screenshot(path=str(artifacts_dir / "6-english.png"))
        browser.close()
    assert external == []
    assert errors == []
