"""Headless Chromium: a phone counts with a scanner keyboard; a building's lists print."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings

from tests.test_registers_support import Registry, pdf_text
from tests.test_registers_support import registry as registry

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_phone_count_and_building_fixture_lists(registry: Registry, live_server, client,
                                                tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from modules.registers.services import start_count

    assert shutil.which(CHROMIUM), "Debian chromium is required (bootstrap.sh installs it)"
    count = start_count(building=registry.hall, year=2026)
    client.force_login(registry.tech)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    external: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        phone = browser.new_context(locale="tr-TR", viewport={"width": 390, "height": 844},
                                    is_mobile=True, has_touch=True, accept_downloads=True)
        phone.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session,
                            "url": live_server.url}])
        page = phone.new_page()
        page.on("request", lambda request: None if request.url.startswith(live_server.url)
                or request.url.startswith("data:") else external.append(request.url))
        page.goto(f"{live_server.url}/registers/counts/{count.pk}/")
        page.select_option("select[name=room]", str(registry.office.pk))
        page.wait_for_selector("input#number")
        # a barcode-scanner keyboard types the number and presses Enter; focus comes back
        for number in ("DB-0001", "DB-0002", "DB-0010"):
            assert page.evaluate("document.activeElement.id") == "number"
            page.keyboard.type(number)
            page.keyboard.press("Enter")
            page.wait_for_selector(f"ol li:has-text('{number}')")
        assert page.locator("ol li").count() == 3
        page.goto(f"{live_server.url}/registers/counts/{count.pk}/differences/")
        rows = page.locator("table.differences tr.misplaced")
        assert rows.count() == 1 and "DB-0010" in rows.inner_text()
        # the fixture lists of the whole building, from the registers page
        page.goto(f"{live_server.url}/registers/")
        with page.expect_download() as download:
            page.evaluate("""() => { const a = document.querySelector('a.print-building');
                                     a.setAttribute('download', ''); a.click(); }""")
        body = Path(download.value.path()).read_bytes()
        browser.close()
    text = pdf_text(body, tmp_path)
    assert set(re.findall(r"DB-\d{4}", text)) == {"DB-0001", "DB-0002", "DB-0010"}
    assert text.count("DAYANIKLI TAŞINIRLAR LİSTESİ") == 2
    assert external == []
