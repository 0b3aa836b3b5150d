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


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_phone_records_an_overdue_line_payment(registry: Registry, live_server, client) -> None:
    """On a phone (390 px) the payments page fits the screen, and "Ödendi" takes the overdue
    instalment off the list and the building off the map's table."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone
    from playwright.sync_api import sync_playwright

    from gis_core.models import Subscription
    from modules.registers import payments
    from modules.registers.models import LineBuildingStatus

    today = timezone.localdate()
    month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)  # last month
    line = Subscription.objects.create(provider="Türk Telekom", line_number="0222 555 55 55",
                                       kind="data", building=registry.hall, start_date=month,
                                       end_date=month + dt.timedelta(days=20),
                                       monthly_fee=Decimal("750"), payment_day=1)
    payments.set_billing(subscription=line, period_months=1, amount=Decimal("750"),
                         first_due=month)
    assert LineBuildingStatus.objects.filter(building=registry.hall).exists()
    client.force_login(registry.tech)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        phone = browser.new_context(locale="tr-TR", viewport={"width": 390, "height": 844},
                                    is_mobile=True, has_touch=True)
        phone.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session,
                            "url": live_server.url}])
        page = phone.new_page()
        page.goto(f"{live_server.url}/registers/lines/")
        row = page.locator("table.overdue tr.alert")
        assert row.count() == 1 and "0222 555 55 55" in row.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        row.locator("button").click()
        page.wait_for_selector("text=Ödeme kaydedildi")
        assert page.locator("table.overdue tr.alert").count() == 0
        browser.close()
    assert not LineBuildingStatus.objects.exists()
    assert payments.overdue(today=today) == []
