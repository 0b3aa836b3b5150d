"""No page of the app references another host: Chromium walks the main pages.

For anonymous callers and a few roles, a real headless Chromium signs in through
the form, opens every main page of the app (modules included, error pages too),
waits until the network is idle and records every request it made. Every one must
go to the test server (``data:`` and ``blob:`` URLs stay in the browser). The
OGC API's own HTML pages are tested in tests/test_ogc_browser.py.
"""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from gis_core.demo import load_demo
from tests.people import member, member_of

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
PASSWORD = "x"  # tests.people's password

#: Pages every signed-in role opens (a 403 or 404 page is a page too).
SIGNED_IN_PAGES = ["/", "/map/", "/reports/", "/upload/", "/helpdesk/", "/helpdesk/new/",
                   "/helpdesk/statistics/", "/helpdesk/map/",
                   f"/helpdesk/report/{dt.date.today().year}/", "/yok-boyle-bir-sayfa/"]
ANONYMOUS_PAGES = ["/", "/accounts/login/", "/yok-boyle-bir-sayfa/"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_main_pages_load_nothing_from_another_host(live_server, artifacts_dir) -> None:
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM), "Debian chromium is required (bootstrap.sh installs it)"
    load_demo(profile="odunpazari")
    member("gezgin.park", "park_bahceler", "data_entry")
    member("gezgin.tek", "bilgi_islem", "technician")
    member_of("gezgin.cbs", ("cbs", "gis_admin"))
    roles = {"anonymous": None, "data_entry": "gezgin.park", "technician": "gezgin.tek",
             "gis_admin": "gezgin.cbs"}
    external: list[str] = []
    visited: list[tuple[str, str, int]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for role, username in roles.items():
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.on("request", lambda r, role=role, page=page: None
                    if r.url.startswith((live_server.url + "/", "data:", "blob:"))
                    else external.append(f"{role} {page.url} -> {r.url}"))
            pages = ANONYMOUS_PAGES
            if username:
                page.goto(f"{live_server.url}/accounts/login/")
                page.fill("#id_username", username)
                page.fill("#id_password", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(f"{live_server.url}/")
                pages = SIGNED_IN_PAGES
            for path in pages:
                response = page.goto(f"{live_server.url}{path}")
                page.wait_for_load_state("networkidle")
                visited.append((role, path, response.status if response else 0))
                page.screenshot(path=str(artifacts_dir / f"{role}{path.replace('/', '_')}.png"))
            if username:  # signing out ends on KentCBS's sign-in page
                page.goto(f"{live_server.url}/")
                page.click("header#top form.inline button")
                page.wait_for_url(f"{live_server.url}/accounts/login/")
                assert page.locator("#id_username").count() == 1
            context.close()
        browser.close()
    assert external == [], "\n".join(external)
    assert all(status < 500 for _role, _path, status in visited), visited
    assert len(visited) == len(ANONYMOUS_PAGES) + 3 * len(SIGNED_IN_PAGES)
