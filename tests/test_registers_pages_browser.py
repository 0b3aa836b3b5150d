"""Issue #21: every registers page in headless Chromium, as an IT technician (the activity
report as the IT manager: technicians may not open it), on a desktop (1440x900) and a phone
(390x844), in Turkish and in English: no sideways scroll, no console error, and each page in
one language: no Turkish words of the module in English mode, no English ones in Turkish
mode. Screenshots go to test-artifacts/registers/."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.people import member_of
from tests.test_registers_support import Registry
from tests.test_registers_support import registry as registry

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "registers"
SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
PO = (Path(__file__).resolve().parent.parent / "modules" / "registers" / "locale" / "tr"
      / "LC_MESSAGES" / "django.po")

# the page's own text: the module's <main>, without the report's Turkish tables (lang="tr")
TEXT = """() => { const main = document.querySelector('main').cloneNode(true);
  main.querySelectorAll('[lang=tr], script, style').forEach(e => e.remove());
  return main.innerText; }"""


def _catalogue() -> list[tuple[str, str]]:
    """(English, Turkish) of the module's own UI words: translated, without placeholders."""
    text = PO.read_text(encoding="utf-8")
    pairs = []
    found = re.findall(r'^msgid "(.+)"\nmsgstr "(.+)"$', text, re.M)
    all_english = " ".join(english for english, _turkish in found)
    all_turkish = " ".join(turkish for _english, turkish in found)
    for english, turkish in found:
        english, turkish = english.rstrip(".:"), turkish.rstrip(".:")
        if english == turkish or re.search(r"[{%<]", english + turkish):
            continue
        # a word of both languages ("not": Turkish "note", English "not") proves nothing
        if _found(turkish, all_english) or _found(english, all_turkish):
            continue
        pairs.append((english, turkish))
    return pairs


def _data_words() -> list[str]:
    """Names in the database (buildings, units, rooms ...): data, in whatever language."""
    from gis_core.models import Asset, Building, Department, Room, Subscription
    from modules.registers.models import (
        ConsumableItem,
        Domain,
        ESignatureCard,
        SoftwareLicence,
        StoreRoom,
        TlsCertificate,
    )

    fields: list[tuple[Any, tuple[str, ...]]] = [
        (Domain, ("name", "registrar", "hosting_provider", "note")),
        (TlsCertificate, ("common_name", "issuer", "note")),
        (SoftwareLicence, ("product", "vendor", "contract", "note")),
        (ESignatureCard, ("issuer", "serial")), (Asset, ("brand", "model"))]
    words = [value for model, names in fields for row in model.objects.values_list(*names)
             for value in row if value]
    words += [*Department.objects.values_list("name", flat=True),
             *Building.objects.values_list("name", flat=True),
             *(str(r) for r in Room.objects.all()), *(str(s) for s in StoreRoom.objects.all()),
             *(str(i) for i in ConsumableItem.objects.all()),
             *(str(s) for s in Subscription.objects.all())]
    return sorted({w for w in words if w}, key=len, reverse=True)


def _found(phrase: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text) is not None


def _pages(registry: Registry) -> list[tuple[str, str]]:
    from modules.registers.models import (
        Domain,
        ESignatureCard,
        SoftwareLicence,
        StockCount,
        TlsCertificate,
    )

    licence = SoftwareLicence.objects.order_by("pk").first()
    domain = Domain.objects.order_by("pk").first()
    cert = TlsCertificate.objects.order_by("pk").first()
    card = ESignatureCard.objects.order_by("pk").first()
    count = StockCount.objects.order_by("pk").first()
    assert licence and domain and cert and card and count
    year = dt.date.today().year
    return [
        ("index", "/registers/"), ("consumables", "/registers/consumables/"),
        ("counts", "/registers/counts/"), ("count", f"/registers/counts/{count.pk}/"),
        ("differences", f"/registers/counts/{count.pk}/differences/"),
        ("licences", "/registers/licences/"), ("licence_new", "/registers/licences/new/"),
        ("licence", f"/registers/licences/{licence.pk}/"),
        ("licence_edit", f"/registers/licences/{licence.pk}/edit/"),
        ("domains", "/registers/domains/"), ("domain_new", "/registers/domains/new/"),
        ("domain_edit", f"/registers/domains/{domain.pk}/edit/"),
        ("certificate_new", "/registers/certificates/new/"),
        ("certificate_edit", f"/registers/certificates/{cert.pk}/edit/"),
        ("esign", "/registers/esign/"), ("esign_new", "/registers/esign/new/"),
        ("esign_card", f"/registers/esign/{card.pk}/"),
        ("esign_edit", f"/registers/esign/{card.pk}/edit/"),
        ("reminders", "/registers/reminders/"), ("lines", "/registers/lines/"),
        ("report", f"/registers/report/{year}/"),
    ]


def _data(registry: Registry) -> None:
    from django.utils import timezone

    from gis_core.models import Subscription
    from modules.registers import kentcbs, payments
    from modules.registers.reminders import remind
    from modules.registers.services import record_counted, start_count

    kentcbs.load_demo()
    today = timezone.localdate()
    month = (today.replace(day=1) - dt.timedelta(days=40)).replace(day=1)
    line = Subscription.objects.create(provider="Türk Telekom", line_number="0222 555 55 55",
                                       kind="data", building=registry.hall, start_date=month,
                                       monthly_fee=Decimal("750"), payment_day=1)
    payments.set_billing(subscription=line, period_months=1, amount=Decimal("750"),
                         first_due=month)
    count = start_count(building=registry.hall, year=today.year)
    record_counted(count=count, inventory_number="DB-0010", room=registry.office,
                   user=registry.tech)
    remind(today=today)  # a digest row (sent or not: no SMTP server here)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_registers_page_in_one_language_on_desktop_and_phone(
        registry: Registry, live_server, client) -> None:
    from django.test import Client
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM), "Debian chromium is required (bootstrap.sh installs it)"
    _data(registry)
    manager = member_of("bim.mudur", ("bilgi_islem", "manager"))
    sessions = {}
    for name, user in (("tech", registry.tech), ("manager", manager)):
        browser_client = Client()
        browser_client.force_login(user)
        sessions[name] = browser_client.cookies[settings.SESSION_COOKIE_NAME].value
    catalogue = _catalogue()
    data = _data_words()
    pages = _pages(registry)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    seen = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for size, viewport in SIZES.items():
            for language in ("tr", "en"):
                context = browser.new_context(
                    locale="tr-TR" if language == "tr" else "en-GB", viewport=viewport,
                    is_mobile=size == "phone", has_touch=size == "phone")
                context.add_cookies([
                    {"name": settings.LANGUAGE_COOKIE_NAME, "value": language,
                     "url": live_server.url}])
                for name, path in pages:
                    who = "manager" if name == "report" else "tech"
                    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                                          "value": sessions[who], "url": live_server.url}])
                    page = context.new_page()
                    errors: list[str] = []
                    page.on("console", lambda m, errors=errors: errors.append(m.text)
                            if m.type == "error" else None)
                    page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                    response = page.goto(live_server.url + path)
                    assert response is not None
                    where = f"{name} {size} {language}"
                    if response.status != 200:
                        problems.append(f"{where}: HTTP {response.status}")
                        page.close()
                        continue
                    page.screenshot(path=str(ARTIFACTS / f"{name}-{size}-{language}.png"),
                                    full_page=True)
                    seen += 1
                    width = page.evaluate("document.documentElement.scrollWidth")
                    if width > viewport["width"]:
                        problems.append(f"{where}: {width} px wide")
                    problems.extend(f"{where}: console: {e}" for e in errors)
                    text = page.evaluate(TEXT)
                    for word in data:
                        text = text.replace(word, " ")
                    for english, turkish in catalogue:
                        wrong = turkish if language == "en" else english
                        if _found(wrong, text):
                            problems.append(f"{where}: {wrong!r} ({language} page)")
                    page.close()
                context.close()
        browser.close()
    assert seen == 2 * 2 * len(pages)
    assert problems == [], "\n".join(problems)
