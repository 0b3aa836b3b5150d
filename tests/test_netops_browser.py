"""Headless Chromium: every netops page as a network administrator, on a desktop (1440x900)
and a phone (390x844), in Turkish and in English. Each page shows one language only (no
"tr / en" glued text), fits the screen's width, logs no console error; screenshots go to
test-artifacts/ for a person to look at."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User

from tests.test_netops_links import UNREACHABLE, _world
from tests.test_netops_links import listener as listener  # the probe port fixture

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
VIEWPORTS = {"desktop": (1440, 900), "phone": (390, 844)}
#: Words that belong to one language only: seen on a page in the other, a msgid or a
#: translation is missing.
ONLY = {
    "tr": ("Ağ uyarıları", "Kesinti geçmişi", "Yedekleme kaydı", "IP sorgusu", "sürüyor",
           "Durum değişiklikleri", "Karşılaştır", "Sorgula", "Demirbaş", "zamanında",
           "erişilemiyor", "Bağlantı"),
    "en": ("Network alerts", "Outage history", "Backup register", "IP lookup", "ongoing",
           "State changes", "Compare", "Look up", "Asset", "on time", "unreachable", "Link"),
}
#: A letter, " / ", a letter: two languages glued ("Bağlantı kesik / Link down").
GLUED = re.compile(r"[^\W\d_] / [^\W\d_]")


def _network() -> dict[str, object]:
    """Two buildings joined by a fibre link, the far switch down (an asset and a link
    outage), a backup register with one failed and one overdue system, two versions of a
    switch's configuration, and one DHCP lease of the far switch's MAC."""
    from django.utils import timezone

    from gis_core.models import Asset
    from modules.netops import monitoring
    from modules.netops.backups import check_overdue, record_config, report_run
    from modules.netops.models import BackupTarget, DhcpLease

    _hub, far, _park, _core, edge, _to_far, _to_park, _planned = _world()
    monitoring.probe_all(timeout=0.3)
    Asset.objects.filter(pk=edge.pk).update(mac_address="00:11:22:33:44:55")
    now = timezone.now()
    for code, name, kind, policy, ok in (
            ("kentcbs-db", "KentCBS veritabanı", "database", "daily", True),
            ("ebys", "EBYS sunucusu", "server", "daily", False),
            ("switch-configs", "Ağ cihazı yapılandırmaları", "network_config", "hourly", True)):
        BackupTarget.objects.create(code=code, name=name, kind=kind, importance="critical",
                                    policy=policy)
        report_run(code=code, ok=ok, actor="test", at=now - dt.timedelta(hours=3))
    check_overdue()
    config = "hostname SW-7\ninterface Gi0/1\n description uplink\n"
    record_config(device="sw-7.belediye.local", text=config, source="oxidized", actor="test")
    record_config(device="sw-7.belediye.local", text=config.replace("uplink", "uplink-fiber")
                  + "interface Gi0/2\n shutdown\n", source="oxidized", actor="test")
    DhcpLease.objects.create(ip_address="10.40.0.21", mac_address="00:11:22:33:44:55",
                             starts_at=now - dt.timedelta(days=1), ends_at=None, utc_offset=180,
                             hostname="sw-7", server="dhcp1", source_format="isc",
                             source_name="dhcpd.leases", source_line=1)
    return {"far": far, "unreachable": UNREACHABLE}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_netops_page_in_both_languages_on_desktop_and_phone(
        listener, live_server, client, artifacts_dir: Path) -> None:
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM), "Debian chromium is required (bootstrap.sh installs it)"
    world = _network()
    far = world["far"]
    client.force_login(User.objects.get(username="ag"))  # network administrator
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    pages = {"alerts": "/netops/alerts/", "backups": "/netops/backups/",
             "whois": "/netops/whois/", "config": "/netops/configs/sw-7.belediye.local/",
             "outages": f"/netops/buildings/{far.pk}/outages/"}  # type: ignore[attr-defined]
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for language in ("tr", "en"):
            for screen, (width, height) in VIEWPORTS.items():
                context = browser.new_context(
                    locale="tr-TR" if language == "tr" else "en-GB",
                    viewport={"width": width, "height": height},
                    is_mobile=screen == "phone", has_touch=screen == "phone")
                context.add_cookies([
                    {"name": settings.SESSION_COOKIE_NAME, "value": session,
                     "url": live_server.url},
                    {"name": settings.LANGUAGE_COOKIE_NAME, "value": language,
                     "url": live_server.url}])
                page = context.new_page()
                errors: list[str] = []
                page.on("console", lambda m, e=errors: e.append(m.text)
                        if m.type == "error" else None)
                page.on("pageerror", lambda exc, e=errors: e.append(str(exc)))
                for name, url in pages.items():
                    where = f"{name} {language} {screen}"
                    response = page.goto(f"{live_server.url}{url}")
                    assert response is not None and response.status == 200, where
                    if name == "whois":  # a lookup, answered with the asset and building
                        assert page.input_value("input[name=at]"), where  # starts at now
                        page.fill("input[name=ip]", "10.40.0.21")
                        page.fill("input[name=at]", dt.datetime.now().strftime("%Y-%m-%dT%H:%M"))
                        page.fill("input[name=reason]", "Savcılık yazısı 2026/123")
                        page.click("main button[type=submit]")
                        page.wait_for_selector("section.result")
                        assert "00:11:22:33:44:55" in page.inner_text("section.result"), where
                    assert page.evaluate("document.documentElement.lang") == language, where
                    text = page.inner_text("main")
                    for glued in GLUED.findall(text):
                        problems.append(f"{where}: glued text around '{glued}'")
                    other = "en" if language == "tr" else "tr"
                    problems += [f"{where}: '{word}' of the other language"
                                 for word in ONLY[other] if re.search(
                                     rf"(?<!\w){re.escape(word)}(?!\w)", text)]
                    wide = page.evaluate("document.documentElement.scrollWidth")
                    if wide > width:
                        problems.append(f"{where}: {wide} px wide in a {width} px window")
                    page.screenshot(path=str(artifacts_dir / f"{name}_{language}_{screen}.png"),
                                    full_page=True)
                problems += [f"{language} {screen}: console: {e}" for e in errors]
                context.close()
        browser.close()
    assert problems == []
