"""Headless Chromium on pygeoapi's HTML pages: stored <script>/<img onerror> never run,
nothing loads from the internet, and the Django session opens restricted layers."""

from __future__ import annotations

import shutil

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from tests.test_ogc_api import OgcSite
from tests.test_ogc_api import ogc as ogc  # the live-server fixture

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.django_db(transaction=True)]


def test_html_pages_in_a_browser(ogc: OgcSite, live_server, client, artifacts_dir) -> None:
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM), "Debian chromium is required (bootstrap.sh installs it)"
    client.force_login(get_user_model().objects.get(username="ogc_admin"))
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    dialogs: list[str] = []
    external: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        anonymous = browser.new_context()
        page = anonymous.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.on("request", lambda request: None if request.url.startswith(live_server.url)
                or request.url.startswith("data:") else external.append(request.url))
        for path in [f"/collections/yol/items/{ogc.yol_ids[0]}?f=html",
                     "/collections/yol/items?f=html&limit=5", "/collections/yol?f=html"]:
            page.goto(f"{ogc.url}{path}")  # waits for the load event (scripts have run)
            # every image has loaded or failed (an injected onerror has fired by then) and
            # no request is left: conditions, not a time
            page.wait_for_load_state("networkidle")
            page.wait_for_function("() => Array.from(document.images).every(i => i.complete)")
        (artifacts_dir / "item.html").write_text(page.content())
        assert dialogs == []
        assert external == []
        page.goto(f"{ogc.url}/collections?f=html")
        assert "/collections/bina" not in page.content()
        logged_in = browser.new_context()
        logged_in.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session,
                                "url": live_server.url}])
        page = logged_in.new_page()
        page.goto(f"{ogc.url}/collections?f=html")
        assert "/collections/bina" in page.content()
        answer = page.goto(f"{ogc.url}/collections/bina/items?f=json")
        assert answer is not None and answer.status == 200
        browser.close()


def test_swagger_redoc_and_maps_load_only_from_this_server(ogc: OgcSite, live_server) -> None:
    """Swagger UI and ReDoc render, pygeoapi's maps have Leaflet; nothing from another host,
    not even a request the pages' Content-Security-Policy would refuse (ReDoc's bundle is
    served without its CDN logo)."""
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM), "Debian chromium is required (bootstrap.sh installs it)"
    external: list[str] = []
    failed: list[str] = []
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_context().new_page()
        blocked: list[str] = []
        page.on("request", lambda request: None if request.url.startswith(live_server.url)
                or request.url.startswith(("data:", "blob:")) else external.append(request.url))
        page.on("requestfailed", lambda request: blocked.append(request.url)
                if request.failure == "csp" else None)
        page.on("response", lambda response: failed.append(response.url)
                if response.status >= 400 else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{ogc.url}/openapi?f=html")
        page.wait_for_selector(".swagger-ui .info .title", timeout=30000)
        assert "KentCBS" in page.inner_text(".swagger-ui .info .title")
        page.goto(f"{ogc.url}/openapi?f=html&ui=redoc")
        page.wait_for_selector("h1", timeout=30000)
        assert "KentCBS" in page.inner_text("h1")
        for path in ["/collections/yol?f=html", "/collections/yol/items?f=html",
                     f"/collections/yol/items/{ogc.yol_ids[1]}?f=html", "/?f=html",
                     "/collections?f=html", "/collections/yol/schema?f=html"]:
            page.goto(f"{ogc.url}{path}", wait_until="networkidle")
            if "/collections/yol" in path and "schema" not in path:
                assert page.evaluate("typeof L") == "object", path
                assert page.locator(".leaflet-container").count() == 1, path
        browser.close()
    assert external == []
    assert blocked == []
    assert failed == []
    assert errors == []
