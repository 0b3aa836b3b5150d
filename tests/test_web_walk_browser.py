"""One walk through the department web client in a real headless Chromium, as each demo role,
at 1440×900 and at 390×844 (issue 19's "done when").

Per role: the map opens; a road, a park and an asset are identified where the role may read
their layer (and are absent where it may not); the road layer's table is opened, filtered,
exported as CSV, XLSX and GeoPackage and each file opened; an A4 PDF is printed and its
text (``pdftotext``) holds the title and the legend's layer names; ``/dashboard/`` answers
to managers and GIS administrators only; a technician works a ticket from the "past due"
queue to "resolved", offered only the actions its state allows. No request leaves the
app's host; no page logs a console error. Every step is a screenshot in test-artifacts/.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from gis_core.demo import load_demo
from layers.access import readable_layers
from modules.helpdesk.choices import OPEN_STATUSES
from modules.helpdesk.demo import load_demo as load_helpdesk_demo
from modules.helpdesk.models import Ticket
from modules.helpdesk.services import available_actions
from tests.test_web_frame_browser import CHROMIUM, VIEWPORTS, Browser
from tests.test_web_map_tools import STREET, _click, _load_street_and_park

#: The demo's roles: (username, may open the dashboard, works tickets).
ROLES = [("bim.mudur", True, False), ("zabita.izleyici", False, False),
         ("teknik.destek", False, True), ("fen.veri", False, False), ("cbs.admin", True, False)]
LAYERS = "mahalle,yol,yesil_alan,bt_varlik,bina_hizmet"


@pytest.fixture
def town(db: None, tmp_path: Path) -> dict[str, Any]:
    load_demo(profile="odunpazari", modules=False, city=False)
    load_helpdesk_demo(tickets=150)
    return _load_street_and_park(tmp_path)


def _drawer(b: Browser, phone: bool, open_: bool) -> None:
    """On a phone the side panel is a drawer: open or close it."""
    if not phone:
        return
    is_open = b.page.evaluate("document.body.classList.contains('drawer-open')")
    if is_open != open_:
        b.page.click("#drawer-toggle" if open_ else "#drawer-close")
        b.page.wait_for_function(
            "document.querySelector('#side').getBoundingClientRect()" +
            (".left >= 0" if open_ else ".right <= 0"))


def _map_walk(b: Browser, town: dict[str, Any], readable: set[str], phone: bool,
              tmp_path: Path) -> None:
    import openpyxl
    import pyogrio

    page = b.page
    lon, lat = town["street"]
    b.goto(f"/map/#map=18/{lat:.6f}/{lon:.6f}&layers={LAYERS}")
    page.wait_for_selector("body[data-map-ready='1']")
    page.wait_for_load_state("networkidle")
    b.no_sideways_scroll()
    b.shot("map")
    # Identify a road, a park and an asset: found where the role may read the layer.
    for name, code, zoom in (("street", "yol", 18), ("park", "yesil_alan", 18),
                             ("asset", "bt_varlik", 19)):
        lonlat = town[name]
        page.evaluate("([lat, lon, z]) => window.kentcbsMap.setView([lat, lon], z, "
                      "{animate: false})", [lonlat[1], lonlat[0], zoom])
        page.wait_for_load_state("networkidle")
        with page.expect_response(lambda r: "/map/identify.json" in r.url) as answer:
            _click(page, lonlat)
        assert answer.value.status == 200
        page.wait_for_function("document.querySelector('#identify h3') !== null")
        section = page.locator(f"#identify .identified[data-layer={code}]")
        if code in readable:
            section.wait_for(state="attached")
            if phone:  # the drawer opens itself on the answer
                page.wait_for_function(
                    "document.querySelector('#side').getBoundingClientRect().left >= 0")
            assert section.is_visible()
            if name == "asset":
                assert town["inventory"] in section.text_content()
        else:
            assert section.count() == 0, (code, "shown to a role that may not read it")
        text = page.inner_text("#identify")
        assert "None" not in text and "null" not in text
        b.no_sideways_scroll()
        b.shot(f"identify-{name}")
        _drawer(b, phone, False)

    # The road layer's table: filter, export, open each file.
    _drawer(b, phone, True)
    page.click(".open-table[data-table=yol]")
    page.wait_for_selector("body[data-table-loaded^='yol:0:']")
    page.select_option("#filter-field", "yol_adi")
    page.select_option("#filter-op", "LIKE")
    page.fill("#filter-value", STREET[:4])
    page.click("#table-filter button:not([type=button])")
    page.wait_for_function("document.querySelectorAll('#attr-table tbody tr').length === 1")
    assert STREET in page.inner_text("#attr-table tbody")
    b.no_sideways_scroll()
    b.shot("table-filtered")
    files = {}
    for fmt in ("csv", "xlsx", "gpkg"):
        with page.expect_download() as download:
            page.click(f"#export-{fmt}")
        files[fmt] = tmp_path / f"{b.prefix}.{fmt}"
        download.value.save_as(files[fmt])
    rows = list(csv.DictReader(io.StringIO(files["csv"].read_text(encoding="utf-8-sig"))))
    assert [row["yol_adi"] for row in rows] == [STREET]
    sheet = list(openpyxl.load_workbook(files["xlsx"], read_only=True).active.values)
    assert len(sheet) == 2 and STREET in sheet[1]
    assert list(pyogrio.read_dataframe(files["gpkg"])["yol_adi"]) == [STREET]
    page.click("#table-close")

    # Print an A4 PDF of the view: the title and the legend's layer names are in its text.
    _drawer(b, phone, True)
    title = f"Pafta {b.prefix}"
    page.fill("#print-title", title)
    b.shot("print-form")
    with b.context.expect_event("request", predicate=lambda r: "/map/print.pdf" in r.url
                                ) as asked:
        page.click("#print-button")
    pdf_url = asked.value.url
    assert "paper=A4" in pdf_url
    pdf = b.context.request.get(pdf_url)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    path = b.artifacts / f"{b.prefix}-print.pdf"
    path.write_bytes(pdf.body())
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert title in text
    legend_titles = page.locator("#toggles input[data-layer]:checked").evaluate_all(
        "boxes => boxes.map(b => b.closest('label').innerText.trim())")
    assert legend_titles
    for name in legend_titles:
        assert name in " ".join(text.split()), (name, text)
    for popup in b.context.pages[1:]:  # the tab the button opened
        popup.close()


def _work_past_due_ticket(b: Browser, user: User) -> None:
    page = b.page
    b.goto("/helpdesk/?queue=overdue&sort=due")
    first = page.locator("#tickets tbody tr").first
    assert "overdue" in (first.get_attribute("class") or "")
    number = first.get_attribute("data-number")
    b.no_sideways_scroll()
    b.shot("overdue-queue")
    first.locator("a").first.click()
    page.wait_for_load_state("networkidle")
    worked = Ticket.objects.get(number=number)
    assert worked.status in OPEN_STATUSES
    for _step in range(4):
        worked.refresh_from_db()
        offered = page.locator("[data-action]").evaluate_all(
            "forms => forms.map(f => f.dataset.action)")
        assert offered == available_actions(ticket=worked, user=user)
        if "resolve" not in offered:
            break
        # An open ticket: no closing or reopening offered, each offered action labelled.
        assert "close" not in offered and "reopen" not in offered
        for form in page.locator("#actions form").all():
            assert form.locator("h3").inner_text().strip()
        b.shot(f"ticket-{worked.status}")
        if "start" in offered:
            page.click("form[data-action=start] button")
        else:
            page.select_option("form[data-action=resolve] select[name=outcome]", "repaired")
            page.fill("form[data-action=resolve] textarea[name=text]", "Toner değişti")
            page.click("form[data-action=resolve] button")
        page.wait_for_load_state("networkidle")
    worked.refresh_from_db()
    assert worked.status == "resolved"
    assert page.locator("#ticket-status").inner_text().startswith("Çözüldü")
    assert page.locator("#ticket-overdue").count() == 0
    # A resolved ticket offers closing and reopening, no more working steps.
    offered = page.locator("[data-action]").evaluate_all(
        "forms => forms.map(f => f.dataset.action)")
    assert "close" in offered and "reopen" in offered and "resolve" not in offered
    b.no_sideways_scroll()
    b.shot("ticket-resolved")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize(("username", "dashboard", "tickets"), ROLES,
                         ids=[role[0] for role in ROLES])
def test_walk_as_each_demo_role(username: str, dashboard: bool, tickets: bool, size: str,
                                town: dict[str, Any], live_server, artifacts_dir,
                                tmp_path: Path, monkeypatch) -> None:
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    assert shutil.which(CHROMIUM), "Debian chromium is required (bootstrap.sh installs it)"
    assert shutil.which("pdftotext"), "poppler-utils is required (bootstrap.sh installs it)"
    user = User.objects.get(username=username)
    readable = {layer.code for layer in readable_layers(user)}
    assert {"yol", "yesil_alan"} <= readable
    phone = size == "phone"
    with sync_playwright() as playwright:
        b = Browser(playwright, live_server, username, VIEWPORTS[size], artifacts_dir,
                    f"{size}-{username}")
        b.goto("/")
        b.no_sideways_scroll()
        b.shot("home")
        _map_walk(b, town, readable, phone, tmp_path)
        response = b.goto("/dashboard/")
        if dashboard:
            assert response.status == 200
            assert b.page.locator("[data-figure]").count() >= 5
        else:
            assert response.status == 403
            # Chromium logs every 4xx answer as a console error: this one is expected.
            b.errors = [e for e in b.errors if "/dashboard/: Failed to load resource" not in e]
            assert b.page.locator("#nav-dashboard").count() == 0
        b.no_sideways_scroll()
        b.shot("dashboard")
        if tickets:
            _work_past_due_ticket(b, user)
        b.close()
