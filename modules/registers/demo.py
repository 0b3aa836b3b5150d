"""Registers demo data (deterministic, idempotent): store rooms, consumables and their stock.

Toner and drum for every printer model of the demo assets, cables and disks; receipts at
the start of the demo year, issues to printers, rooms and departments over the year; a few
items end below their minimum level so the alerts show.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

SEED = 21
START = dt.datetime(2025, 11, 3, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))


def load_demo(*, profile: str | None = None) -> dict[str, Any]:
    """Load the registers demo; returns counts. Does nothing when store rooms exist."""
    from django.utils.text import slugify

    from gis_core.audit import audit_context
    from gis_core.models import Asset, Building, Department, Room
    from modules.registers import consumables
    from modules.registers.errors import RegistersError
    from modules.registers.models import ConsumableItem, StockMovement, StoreRoom

    load_licences_demo()
    if StoreRoom.objects.exists():
        return {"stores": StoreRoom.objects.count(), "movements": StockMovement.objects.count(),
                "created": 0}
    buildings = list(Building.objects.order_by("code")[:2])
    if not buildings:
        return {"stores": 0, "movements": 0, "created": 0}
    rng = random.Random(SEED)  # noqa: S311 (demo data, not security)
    stores = [StoreRoom.objects.create(code=f"depo-{b.code.lower()}", name=f"{b.name} deposu",
                                       building=b, room=Room.objects.filter(building=b).first())
              for b in buildings]
    printers = list(Asset.objects.filter(category="printer", building__isnull=False)
                    .exclude(status="scrapped").order_by("inventory_number"))
    models = sorted({(p.brand, p.model) for p in printers if p.model})[:6]
    items = []
    for brand, model in models:
        for kind, label in (("toner", "toner"), ("drum", "drum ünitesi")):
            items.append(ConsumableItem.objects.create(
                code=slugify(f"{kind}-{brand}-{model}")[:40], name=f"{brand} {model} {label}",
                kind=kind, printer_model=model))
    items += [ConsumableItem.objects.create(code="cat6-kablo-3m", name="Cat6 ağ kablosu 3 m",
                                            kind="cable"),
              ConsumableItem.objects.create(code="ssd-480", name="SSD 480 GB", kind="disk")]
    departments = list(Department.objects.filter(is_active=True).order_by("code")[:8])
    rooms = list(Room.objects.order_by("id")[:20])
    with audit_context(source="system"):
        for item in items:
            for store in stores:
                consumables.receive(item=item, store=store, quantity=rng.randint(6, 20),
                                    supplier="Demo Bilişim Ltd. Şti.", document="FTR-2025-001",
                                    at=START)
                consumables.set_minimum(item=item, store=store, minimum=rng.randint(3, 8))
        for day in range(0, 360, 4):
            item, store = rng.choice(items), rng.choice(stores)
            targets: dict[str, Any] = {}
            fitting = [p for p in printers if p.model == item.printer_model]
            if item.printer_model and fitting:
                targets["asset"] = rng.choice(fitting)
            elif rooms and rng.random() < 0.5:
                targets["room"] = rng.choice(rooms)
            elif departments:
                targets["department"] = rng.choice(departments)
            else:
                continue
            try:
                consumables.issue(item=item, store=store, quantity=rng.randint(1, 3),
                                  at=START + dt.timedelta(days=day), **targets)
            except RegistersError:
                continue  # out of stock: the demo just skips that request
    return {"stores": len(stores), "movements": StockMovement.objects.count(),
            "created": len(items)}


def load_licences_demo(*, today: dt.date | None = None) -> dict[str, int]:
    """Licences, domains, TLS certificates, e-signature cards and KEP accounts (issue #21 §2).

    Dates are relative to ``today`` so that, whenever the demo is loaded, some items are
    overdue, some fire a reminder today (60, 30 and 7 days ahead) and most are far away.
    Idempotent: does nothing when licences exist.
    """
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from gis_core.audit import audit_context
    from gis_core.models import Asset, Department
    from modules.registers import licences
    from modules.registers.models import Domain, ESignatureCard, SoftwareLicence, TlsCertificate

    if SoftwareLicence.objects.exists():
        return {"licences": SoftwareLicence.objects.count(), "created": 0}
    today = today or timezone.localdate()
    rng = random.Random(SEED + 2)  # noqa: S311 (demo data, not security)

    def day(offset: int) -> dt.date:
        return today + dt.timedelta(days=offset)

    units = {d.code: d for d in Department.objects.filter(code__in=[
        "bilgi_islem", "yazilim", "cbs", "ag_yonetimi", "mali_hizmetler", "imar_sehircilik",
        "yazi_isleri", "insan_kaynaklari", "zabita"])}
    it = units.get("bilgi_islem")
    with audit_context(source="system"):
        rows = [  # product, vendor, seats, end (days from today), unit
            ("Microsoft 365 E3", "Microsoft", 40, 30, "bilgi_islem"),
            ("ESET PROTECT Entry (antivirüs)", "ESET", 60, 7, "bilgi_islem"),
            ("AutoCAD", "Autodesk", 6, 60, "imar_sehircilik"),
            ("QGIS destek paketi", "QGIS.org", 10, -12, "cbs"),
            ("Netcad GIS", "Netcad", 8, 150, "cbs"),
            ("Adobe Acrobat Pro", "Adobe", 5, 210, "yazi_isleri"),
            ("Veeam Backup & Replication", "Veeam", 4, 45, "ag_yonetimi"),
            ("Windows Server 2022 Standard", "Microsoft", 6, None, "bilgi_islem"),
        ]
        made = []
        for product, vendor, seats, end, unit in rows:
            made.append(SoftwareLicence.objects.create(
                product=product, vendor=vendor, seats=seats,
                starts_on=day(end - 365) if end is not None else day(-700),
                ends_on=day(end) if end is not None else None,
                department=units.get(unit, it), contract=f"SZL-{today.year}-{len(made) + 1:03d}"))
        computers = list(Asset.objects.filter(category__in=["desktop", "laptop"])
                         .exclude(status="scrapped").order_by("inventory_number")[:80])
        for licence in made[:3]:
            for asset in rng.sample(computers, min(len(computers), licence.seats - 2)):
                licences.assign(licence=licence, asset=asset)
        users = list(get_user_model().objects.order_by("username")[:4])
        for user in users:
            licences.assign(licence=made[5], user=user)
        domains = [  # name, registrar, end, hosting, hosting end, unit
            ("belediye.bel.tr", "NIC.tr (TRABIS)", 60, "Belediye veri merkezi", None,
             "bilgi_islem"),
            ("kentrehberi.bel.tr", "NIC.tr (TRABIS)", 400, "Türk Telekom Bulut", 30, "cbs"),
            ("ebelediye.bel.tr", "NIC.tr (TRABIS)", -5, "Belediye veri merkezi", None,
             "yazilim"),
            ("kultur-festivali.com.tr", "Natro", 7, "Natro Hosting", 7, "bilgi_islem"),
        ]
        for name, registrar, end, host, host_end, unit in domains:
            domain = Domain.objects.create(
                name=name, registrar=registrar, expires_on=day(end), hosting_provider=host,
                hosting_expires_on=day(host_end) if host_end is not None else None,
                department=units.get(unit, it))
            TlsCertificate.objects.create(
                common_name=name if not name.startswith("belediye") else f"*.{name}",
                domain=domain, issuer="Sectigo RSA Domain Validation Secure Server CA"
                if end > 0 else "R11 (Let's Encrypt)", serial=f"{rng.getrandbits(64):016X}",
                expires_on=day({60: 30, 400: 200, -5: -3, 7: 60}[end]),
                department=units.get(unit, it))
        people = ["Ahmet Koç", "Zeynep Kurt", "Ali Özdemir", "Selin Aksoy", "Hasan Polat",
                  "Gül Erdoğan", "Murat Güneş", "Derya Yıldız"]
        cards = [  # kind, issuer, end, unit
            ("esign", "Kamu SM (TÜBİTAK BİLGEM)", 7, "mali_hizmetler"),
            ("esign", "Kamu SM (TÜBİTAK BİLGEM)", 30, "yazi_isleri"),
            ("esign", "Kamu SM (TÜBİTAK BİLGEM)", 500, "insan_kaynaklari"),
            ("esign", "E-Tuğra", -20, "imar_sehircilik"),
            ("esign", "TÜRKTRUST", 60, "zabita"),
            ("kep", "PTT KEP", 240, "yazi_isleri"),
            ("kep", "TürkKEP", 30, "mali_hizmetler"),
            ("kep", "PTT KEP", -40, "bilgi_islem"),
        ]
        for n, (kind, issuer, end, unit) in enumerate(cards):
            holder = people[n % len(people)]
            ESignatureCard.objects.create(
                kind=kind, holder_name=holder, serial=f"{rng.getrandbits(40):010X}",
                kep_address=(f"{holder.split()[0].lower()}@belediye.hs01.kep.tr"
                             .replace("ü", "u").replace("ö", "o").replace("ş", "s")
                             .replace("ğ", "g").replace("ı", "i").replace("ç", "c")
                             if kind == "kep" else ""),
                issuer=issuer, issued_on=day(end - 3 * 365), expires_on=day(end),
                department=units.get(unit, it))
    return {"licences": len(made), "domains": len(domains), "cards": len(cards),
            "created": len(made) + len(domains) + len(cards)}
