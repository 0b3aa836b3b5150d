"""A year of plausible helpdesk tickets (deterministic), so statistics and the map say something.

Runs after the core demo (buildings, rooms, assets, departments) through
``gis_core.modules.load_module_demos``. Tickets go through the real services,
so assets follow their repair tickets exactly as in use. Idempotent: nothing is
added when tickets exist.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from modules.helpdesk import services
from modules.helpdesk.models import MaintenancePlan, MaintenanceWorkItem, Ticket
from modules.helpdesk.selectors import IT_DEPARTMENTS

SEED = 20261123
TZ = dt.timezone(dt.timedelta(hours=3))
#: The demo year: 1 November 2025 to 31 October 2026 (fixed, not relative to today).
START = dt.datetime(2025, 11, 1, tzinfo=TZ)
DAYS = 365
TICKETS = 900

CATEGORY_WEIGHTS = {
    "hardware_fault": 30, "software_ebys": 14, "software_cbs": 5, "software_ybs": 8,
    "network": 12, "account": 9, "e_signature": 7, "consumables": 8, "infrastructure": 3,
    "other": 4,
}
PRIORITY_WEIGHTS = {"critical": 4, "high": 18, "normal": 58, "low": 20}
TITLES = {
    "hardware_fault": ["Bilgisayar açılmıyor", "Yazıcı kağıt sıkıştırıyor",
                       "Ekran görüntü vermiyor", "Klavye arızalı", "Mavi ekran hatası",
                       "Tarayıcı çalışmıyor"],
    "software_ebys": ["EBYS'ye giriş yapılamıyor", "EBYS evrak havale hatası",
                      "EBYS imza akışı takıldı"],
    "software_cbs": ["CBS katmanı görünmüyor", "Ruhsat katmanı güncellemesi"],
    "software_ybs": ["Tahakkuk ekranı hata veriyor", "Rapor çıktısı alınamıyor"],
    "network": ["İnternet bağlantısı yok", "Ağ yavaş", "Wi-Fi çekmiyor"],
    "account": ["Şifre sıfırlama", "Yeni personel hesabı", "Klasör yetkisi"],
    "e_signature": ["E-imza kartı okunmuyor", "E-imza süresi doldu"],
    "consumables": ["Toner talebi", "Kartuş talebi", "Ağ kablosu talebi"],
    "infrastructure": ["Priz arızası", "Kablo kanalı hasarlı"],
    "other": ["Projeksiyon kurulumu", "Toplantı odası desteği"],
}
TECHNICIANS = {"teknik_destek": ["demo_teknik1", "demo_teknik2", "demo_teknik3"],
               "ag_yonetimi": ["demo_ag1"], "yazilim": ["demo_yazilim1", "demo_yazilim2"],
               "cbs": ["demo_cbs1"]}


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _user(username: str, department: Any, role: str) -> Any:
    from gis_core.models import Membership

    account, created = get_user_model().objects.get_or_create(username=username)
    if created:
        account.set_unusable_password()
        account.save()
    Membership.objects.get_or_create(user=account, department=department,
                                     defaults={"role": role})
    return account


def _reporters(departments: list[Any]) -> list[Any]:
    """One or two staff per department (existing members first, else demo users)."""
    from gis_core.models import Membership

    reporters = []
    for department in departments:
        members = [m.user for m in Membership.objects.filter(department=department)
                   .select_related("user").order_by("user__username")[:2]]
        reporters.extend(members or [_user(f"demo_{department.code}", department, "viewer")])
    return reporters


@transaction.atomic
def load_demo(*, profile: str | None = None, tickets: int = TICKETS) -> dict[str, Any]:
    """Load the helpdesk demo (idempotent): ``tickets`` over the demo year; returns counts."""
    from gis_core.audit import audit_context
    from gis_core.models import Asset, Building, Department

    if Ticket.objects.exists():
        return {"tickets": Ticket.objects.count(), "created": 0}
    buildings = list(Building.objects.order_by("code"))
    if not buildings:
        return {"tickets": 0, "created": 0}
    rng = random.Random(SEED)  # noqa: S311 (demo data, not security)
    units = {code: Department.objects.get(code=code) for code in TECHNICIANS}
    technicians = {code: [_user(name, units[code], "technician") for name in names]
                   for code, names in TECHNICIANS.items()}
    departments = list(Department.objects.exclude(code__in=IT_DEPARTMENTS).order_by("code"))
    reporters = _reporters(departments)
    assets_by_building: dict[int, list[Any]] = {}
    for asset in (Asset.objects.exclude(status="scrapped").filter(building__isnull=False)
                  .order_by("inventory_number")):
        assets_by_building.setdefault(asset.building_id, []).append(asset)
    # Busy buildings: weight by the number of assets and a building-specific factor.
    weights = [(1 + len(assets_by_building.get(b.pk, []))) * rng.lognormvariate(0, 0.8)
               for b in buildings]
    offsets = sorted(rng.uniform(0, DAYS) for _ in range(tickets))
    created = 0
    with audit_context(source="system"):
        for offset in offsets:
            opened = START + dt.timedelta(days=offset)
            opened = opened.replace(hour=8 + int(rng.random() * 9), minute=rng.randrange(60))
            if opened.weekday() >= 5:  # offices are closed at weekends: the next Monday,
                opened += dt.timedelta(days=7 - opened.weekday())
                if opened >= START + dt.timedelta(days=DAYS):  # or the Friday before
                    opened -= dt.timedelta(days=3)
            building = rng.choices(buildings, weights=weights)[0]
            category = _pick(rng, CATEGORY_WEIGHTS)
            candidates = [a for a in assets_by_building.get(building.pk, [])
                          if a.status != "scrapped"]
            asset = rng.choice(candidates) if candidates and (
                category == "hardware_fault" or rng.random() < 0.2) else None
            if category == "hardware_fault" and asset is None:
                category = "network"
            reporter = rng.choice(reporters)
            ticket = services.open_ticket(
                reporter=reporter, category=category, title=rng.choice(TITLES[category]),
                priority=_pick(rng, PRIORITY_WEIGHTS), asset=asset,
                building=None if asset else building, opened_at=opened)
            _progress(rng, ticket, technicians[ticket.responsible_unit.code], reporter)
            created += 1
    items = _maintenance(rng, units["teknik_destek"], technicians["teknik_destek"])
    return {"tickets": Ticket.objects.count(), "created": created, "work_items": items}


def _progress(rng: random.Random, ticket: Ticket, staff: list[Any], reporter: Any) -> None:
    """Play a plausible life for ``ticket`` up to the end of the demo year."""
    end = START + dt.timedelta(days=DAYS)
    technician = rng.choice(staff)
    target = (ticket.resolution_due_at - ticket.opened_at).total_seconds()
    # ~80 % within the SLA; the rest up to three times over.
    duration = target * (rng.uniform(0.05, 0.95) if rng.random() < 0.8 else rng.uniform(1.05, 3))
    t = ticket.opened_at + dt.timedelta(minutes=rng.uniform(5, 90))
    if t >= end:
        return
    services.assign_ticket(ticket=ticket, technician=technician, by=technician, at=t)
    services.start_work(ticket=ticket, by=technician, at=t)
    services.log_time(ticket=ticket, by=technician, minutes=rng.choice([15, 30, 45, 60, 90, 120]),
                      at=t)
    resolved_at = ticket.opened_at + dt.timedelta(seconds=duration)
    if ticket.category == "hardware_fault" and rng.random() < 0.12:
        warranty = bool(ticket.asset.warranty_end and ticket.asset.warranty_end > t.date())
        sent = t + dt.timedelta(hours=2)
        repair = services.send_for_repair(
            ticket=ticket, kind="warranty" if warranty else "vendor",
            vendor_name="Garanti servisi" if warranty else rng.choice(
                ["Anadolu Bilişim", "Eskişehir Teknik Servis", "Ege Bilgisayar"]),
            by=technician, at=sent)
        resolved_at = max(resolved_at, sent + dt.timedelta(days=rng.uniform(3, 15)))
        if resolved_at >= end:
            return
        services.record_repair_return(repair=repair, by=technician,
                                      cost=0 if warranty else rng.choice([450, 900, 1750, 3200]),
                                      at=resolved_at - dt.timedelta(hours=3))
    if resolved_at >= end:
        return
    outcome = {"hardware_fault": "repaired", "consumables": "fulfilled",
               "account": "fulfilled"}.get(ticket.category, "repaired")
    if ticket.category == "hardware_fault" and rng.random() < 0.04:
        outcome = "scrapping_proposed"
    services.resolve_ticket(ticket=ticket, by=technician, outcome=outcome, at=resolved_at)
    closed_at = resolved_at + dt.timedelta(hours=rng.uniform(1, 72))
    if closed_at < end:
        services.close_ticket(ticket=ticket, by=reporter if rng.random() < 0.5 else technician,
                              at=closed_at)
        if outcome != "scrapping_proposed" and rng.random() < 0.03:
            services.reopen_ticket(ticket=ticket, by=reporter, reason="Sorun tekrarladı",
                                   at=closed_at + dt.timedelta(days=1))


def _maintenance(rng: random.Random, unit: Any, staff: list[Any]) -> int:
    plans = [("Yazıcı periyodik bakımı", "printer", 90), ("Bilgisayar temizliği", "desktop", 180)]
    for name, category, days in plans:
        MaintenancePlan.objects.get_or_create(
            name=name, defaults={"asset_category": category, "interval_days": days,
                                 "starts_on": START.date(), "responsible_unit": unit})
    end = (START + dt.timedelta(days=DAYS)).date()
    services.generate_due_work_items(on=end)
    done = 0
    for item in MaintenanceWorkItem.objects.filter(due_on__lt=end - dt.timedelta(days=14),
                                                   done_at=None).order_by("pk"):
        if rng.random() < 0.9:
            due = dt.datetime.combine(item.due_on, dt.time(10), tzinfo=TZ)
            services.complete_work_item(item=item, by=rng.choice(staff),
                                        at=due + dt.timedelta(days=rng.randrange(10)))
            done += 1
    return MaintenanceWorkItem.objects.count()
