"""A real headless Chromium opens a ticket from a building on the helpdesk load map."""

from __future__ import annotations

import shutil

import pytest
from django.conf import settings

from modules.helpdesk.models import Ticket
from tests import test_helpdesk_support as support
from tests.test_helpdesk_support import World

world = support.world

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_open_a_ticket_from_a_building_on_the_map(world: World, live_server, client,
                                                  artifacts_dir) -> None:
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM), "Debian chromium is required (bootstrap.sh installs it)"
    # The load map is declared for IT roles (kentcbs.py): a department user is refused,
    # a technician opens it and reports a fault from a building on it.
    client.force_login(world.reporter)
    assert client.get("/helpdesk/map/").status_code == 403
    client.force_login(world.tech)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    external: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(locale="tr-TR")
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session,
                              "url": live_server.url}])
        page = context.new_page()
        page.on("request", lambda request: None if request.url.startswith(live_server.url)
                or request.url.startswith("data:") else external.append(request.url))
        script_errors: list[str] = []
        page.on("pageerror", lambda error: script_errors.append(str(error)))
        page.goto(f"{live_server.url}/helpdesk/map/")
        (artifacts_dir / "map.html").write_text(page.content())
        page.wait_for_function(
            "() => [...document.querySelectorAll('path.leaflet-interactive')]"
            ".filter(p => p.getAttribute('d') !== 'M0 0').length === 2")
        page.screenshot(path=str(artifacts_dir / "map.png"))
        # The depot (B002) is the second building; click its polygon, then the popup link.
        paths = page.locator("path.leaflet-interactive")
        assert paths.count() == 2
        paths.nth(1).click(force=True)
        link = page.locator(".leaflet-popup-content a.helpdesk-new")
        link.wait_for()
        assert "Fen İşleri Şantiyesi" in page.locator(".leaflet-popup-content").inner_text()
        page.screenshot(path=str(artifacts_dir / "map_popup.png"))
        link.click()
        page.wait_for_selector("#ticket-form")
        assert page.locator("#ticket-building").inner_text() == "Fen İşleri Şantiyesi"
        page.select_option("select[name=category]", "hardware_fault")
        page.fill("input[name=title]", "Yazıcı kağıt sıkıştırıyor")
        page.fill("input[name=inventory_number]", "YOK-999")
        page.click("#ticket-form button[type=submit]")
        # An unregistered device is refused with the Turkish (and English) message.
        errors = page.locator("#form-errors").inner_text()
        assert "envanterde kayıtlı değil" in errors
        page.fill("input[name=inventory_number]", "DB-0002")
        page.click("#ticket-form button[type=submit]")
        page.wait_for_selector("#ticket-number")
        number = page.locator("#ticket-number").inner_text()
        page.screenshot(path=str(artifacts_dir / "ticket.png"))
        browser.close()
    ticket = Ticket.objects.get(number=number)
    assert ticket.building == world.depot and ticket.asset == world.printer
    assert ticket.reporter == world.tech and ticket.status == "new"
    world.printer.refresh_from_db()
    assert world.printer.status == "in_repair_internal"
    assert external == [] and script_errors == []
