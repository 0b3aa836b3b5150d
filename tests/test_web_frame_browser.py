"""A real headless Chromium walks the app frame at 1440×900 and at 390×844.

As the demo's IT manager (bim.mudur): every page, modules included, has the one frame
(header, menu, user, language, sign-out), no page scrolls sideways, the phone header
collapses into a menu; the dashboard's figures are the database's numbers. The viewer
(zabita.izleyici) gets a clear 403 page for the dashboard and no link to it. A technician
(teknik.destek) works a ticket from the "past due" queue to "resolved", offered only the
steps the ticket's state allows. No request goes to another host; no console error.
Screenshots of every step go to test-artifacts/.
"""

from __future__ import annotations

import datetime as dt
import shutil
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from gis_core.demo import load_demo
from gis_core.models import Asset, Building, NetworkLink
from modules.helpdesk.choices import OPEN_STATUSES
from modules.helpdesk.demo import load_demo as load_helpdesk_demo
from modules.helpdesk.models import Ticket
from modules.helpdesk.services import ALLOWED, available_actions

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


def _session(username: str) -> str:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client.cookies[settings.SESSION_COOKIE_NAME].value


class Browser:
    """One signed-in Chromium page that records foreign requests and script errors."""

    def __init__(self, playwright: Any, live_server: Any, username: str, viewport: dict,
                 artifacts: Any, prefix: str) -> None:
        self.base, self.artifacts, self.prefix = live_server.url, artifacts, prefix
        self.browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        self.context = self.browser.new_context(viewport=viewport, locale="tr-TR")
        self.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                                   "value": _session(username), "url": self.base}])
        self.page = self.context.new_page()
        self.external: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: None if r.url.startswith(self.base)
                     or r.url.startswith("data:") else self.external.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(f"{self.page.url}: {m.text}")
                     if m.type == "error" else None)
        self.shots = 0

    def goto(self, path: str) -> Any:
        response = self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")
        return response

    def shot(self, name: str) -> None:
        self.shots += 1
        name = f"{self.prefix}-{self.shots:02d}-{name}.png"
        self.page.screenshot(path=str(self.artifacts / name), full_page=True)

    def no_sideways_scroll(self) -> None:
        width = self.page.evaluate("() => [document.scrollingElement.scrollWidth, innerWidth]")
        assert width[0] <= width[1], (self.page.url, width)

    def close(self) -> None:
        self.browser.close()
        assert self.external == [], self.external
        assert self.errors == [], self.errors


def _frame(b: Browser, phone: bool) -> None:
    """The one frame: brand, menu (collapsed on a phone), user, language, sign-out."""
    page = b.page
    assert page.locator("header#top .brand").count() == 1
    for selector in ("#frame-user", "#sign-out button", "#lang button[value=en]",
                     "#nav-home", "#nav-map", "#nav-helpdesk"):
        assert page.locator(selector).count() == 1, (page.url, selector)
    assert page.locator("main#main").count() == 1
    if phone:
        assert page.locator("#nav-toggle").is_visible()
        assert not page.locator("#frame-nav").is_visible()
    else:
        assert not page.locator("#nav-toggle").is_visible()
        assert page.locator("#nav-map").is_visible() and page.locator("#sign-out").is_visible()
    b.no_sideways_scroll()


@pytest.fixture
def demo(db: None) -> dict[str, Any]:
    load_demo(profile="odunpazari", modules=False)
    load_helpdesk_demo(tickets=150)
    return {}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_frame_dashboard_and_past_due_ticket(size: str, demo: dict, live_server,
                                             artifacts_dir, monkeypatch) -> None:
    from playwright.sync_api import sync_playwright

    # The figures are checked against the database while Playwright's loop runs in this
    # thread: Django's guard against the ORM in async code does not apply to this test.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    assert shutil.which(CHROMIUM), "Debian chromium is required (bootstrap.sh installs it)"
    phone = size == "phone"
    ticket = Ticket.objects.order_by("pk").first()
    building = Building.objects.order_by("code").first()
    pages = ["/", "/map/", "/reports/", "/upload/", "/dashboard/", "/dashboard/assets/",
             "/dashboard/links/?status=down", "/helpdesk/", "/helpdesk/?queue=overdue",
             "/helpdesk/new/", f"/helpdesk/tickets/{ticket.pk}/", "/helpdesk/statistics/",
             "/helpdesk/map/", f"/helpdesk/buildings/{building.pk}/", "/helpdesk/report/2026/"]
    with sync_playwright() as playwright:
        # -- every page as the IT manager -----------------------------------------------
        b = Browser(playwright, live_server, "bim.mudur", VIEWPORTS[size], artifacts_dir,
                    f"{size}-manager")
        for path in pages:
            response = b.goto(path)
            assert response.status == 200, path
            _frame(b, phone)
            b.shot(path.strip("/").replace("/", "_").replace("?", "_") or "home")
        if phone:  # the collapsed menu opens, lists the module's pages, and fits the screen
            b.page.click("#nav-toggle")
            assert b.page.locator("#frame-nav").is_visible()
            b.page.click("#nav-helpdesk summary")
            assert b.page.locator("#nav-helpdesk-ticket_list").is_visible()
            b.no_sideways_scroll()
            b.shot("menu-open")
        # -- the dashboard's figures are the database's numbers -------------------------
        b.goto("/dashboard/")
        figures = {el.get_attribute("data-figure"): el for el in
                   b.page.locator("[data-figure]").all()}
        open_tickets = Ticket.objects.filter(status__in=OPEN_STATUSES)
        now = timezone.now()
        overdue = open_tickets.filter(resolution_due_at__lt=now).count()

        def headline(code: str) -> str:
            return figures[code].locator(".headline").inner_text()

        assert headline("helpdesk_open_by_unit") == str(open_tickets.count())
        share = round(100 * overdue / open_tickets.count(), 1)
        assert float(headline("helpdesk_past_sla").rstrip(" %").replace(",", ".")) == share
        assert headline("assets_by_category") == str(Asset.objects.count())
        assert headline("links_down") == str(NetworkLink.objects.filter(status="down").count())
        soon = timezone.localdate() + dt.timedelta(days=90)
        assert headline("warranties_ending") == str(
            Asset.objects.exclude(status="scrapped").filter(
                warranty_end__gte=timezone.localdate(), warranty_end__lte=soon).count())
        # Time to resolve: twelve months, every one in the table and the chart, same numbers.
        months = figures["helpdesk_time_to_resolve"]
        table = [float(v) for v in months.locator(".figure-table td.num").evaluate_all(
            "cells => cells.map(c => c.dataset.value)")]
        bars = [float(v) for v in months.locator("svg rect").evaluate_all(
            "rects => rects.map(r => r.dataset.value)")]
        assert len(table) == 12 and table == bars
        assert table[-1] == 0  # the demo year ends in October: December has none resolved
        # Each figure links to the list behind it: the past-due headline opens that queue.
        figures["helpdesk_past_sla"].locator(".headline").click()
        b.page.wait_for_load_state("networkidle")
        assert "queue=overdue" in b.page.url
        assert b.page.locator("#queues a[aria-current=page]").get_attribute(
            "data-queue") == "overdue"
        assert overdue > 0
        assert b.page.locator(".pager .summary").inner_text().startswith(f"{overdue} kayıttan")
        assert b.page.locator("#tickets tbody tr.overdue").count() == min(overdue, 25)
        b.shot("dashboard-to-overdue")
        b.close()

        # -- a viewer: no dashboard link, and a clear 403 page ----------------------------
        b = Browser(playwright, live_server, "zabita.izleyici", VIEWPORTS[size],
                    artifacts_dir, f"{size}-viewer")
        b.goto("/")
        assert b.page.locator("#nav-dashboard").count() == 0
        response = b.goto("/dashboard/")
        assert response.status == 403
        # Chromium logs every 4xx answer as a console error: this one is the expected answer.
        b.errors = [e for e in b.errors if "/dashboard/: Failed to load resource" not in e]
        assert "yöneticiler" in b.page.locator("#error-message").inner_text()
        assert b.page.locator("header#top #frame-user").count() == 1
        b.no_sideways_scroll()
        b.shot("dashboard-403")
        b.close()

        # -- a technician works a past-due ticket to "resolved" ---------------------------
        b = Browser(playwright, live_server, "teknik.destek", VIEWPORTS[size], artifacts_dir,
                    f"{size}-technician")
        tech = User.objects.get(username="teknik.destek")
        b.goto("/helpdesk/?queue=overdue&sort=due")
        first = b.page.locator("#tickets tbody tr").first
        assert "overdue" in (first.get_attribute("class") or "")
        number = first.get_attribute("data-number")
        b.shot("overdue-queue")
        first.locator("a").first.click()
        b.page.wait_for_load_state("networkidle")
        assert b.page.locator("#ticket-number").inner_text() == number
        assert b.page.locator("#ticket-overdue").is_visible()
        worked = Ticket.objects.get(number=number)
        assert worked.status in OPEN_STATUSES and worked.resolution_due_at < now
        for _step in range(4):
            worked.refresh_from_db()
            offered = b.page.locator("[data-action]").evaluate_all(
                "forms => forms.map(f => f.dataset.action)")
            assert offered == available_actions(ticket=worked, user=tech)
            # Only the steps the lifecycle allows from this state, each with a heading.
            allowed = ALLOWED[worked.status]
            if "resolve" not in offered:
                break
            assert ("start" in offered) == ("in_progress" in allowed
                                             and worked.status != "in_progress")
            assert "close" not in offered and "reopen" not in offered
            for form in b.page.locator("#actions form").all():
                assert form.locator("h3").inner_text().strip()
            b.shot(f"ticket-{worked.status}")
            if "start" in offered:
                b.page.click("form[data-action=start] button")
            else:
                b.page.select_option("form[data-action=resolve] select[name=outcome]", "repaired")
                b.page.fill("form[data-action=resolve] textarea[name=text]", "Toner değişti")
                b.page.click("form[data-action=resolve] button")
            b.page.wait_for_load_state("networkidle")
        worked.refresh_from_db()
        assert worked.status == "resolved" and worked.outcome == "repaired"
        assert b.page.locator("#ticket-status").inner_text().startswith("Çözüldü")
        offered = b.page.locator("[data-action]").evaluate_all(
            "forms => forms.map(f => f.dataset.action)")
        assert offered == ["log_time", "close", "reopen", "comment"]
        assert b.page.locator("#ticket-overdue").count() == 0
        b.no_sideways_scroll()
        b.shot("ticket-resolved")
        # The history reads in words, one language: no "İşlemde in progress".
        history = b.page.locator("#history").inner_text()
        assert "in progress" not in history and "Çözüldü" in history
        # The asset picker: a few letters of an inventory number, in lower case, then Enter.
        device = (Asset.objects.filter(status="in_service", building__isnull=False)
                  .order_by("inventory_number").first())
        b.goto("/helpdesk/new/")
        _frame(b, phone)
        b.page.fill("#picker-q", device.inventory_number.lower())
        b.page.locator("#picker-results li").first.wait_for()
        b.shot("picker")
        b.page.press("#picker-q", "ArrowDown")
        b.page.press("#picker-q", "Enter")
        assert device.inventory_number in b.page.locator("#picker-chosen").inner_text()
        assert b.page.input_value("input[name=inventory_number]") == device.inventory_number
        b.page.select_option("select[name=category]", "hardware_fault")
        b.page.fill("input[name=title]", "Ekran açılmıyor")
        b.page.click("#ticket-form button[type=submit]")
        b.page.wait_for_selector("#ticket-number")
        opened = Ticket.objects.get(number=b.page.locator("#ticket-number").inner_text())
        assert opened.asset == device and opened.building_id == device.building_id
        b.shot("picked-ticket")
        b.close()
