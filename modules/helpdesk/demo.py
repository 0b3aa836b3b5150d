"""A year of plausible helpdesk tickets (deterministic), so statistics and the map say something.

Runs after the core demo (buildings, rooms, assets, departments) through
``gis_core.modules.load_module_demos``. Tickets follow the services' lifecycle
step by step and are written in bulk (:class:`_Play`); assets change status through
the core's service, so they follow their repair tickets exactly as in use.
Idempotent: nothing is added when tickets exist.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from modules.helpdesk import services
from modules.helpdesk.choices import (
    DEFAULT_UNIT,
    OPEN_STATUSES,
    REPAIR_CATEGORIES,
    TicketOutcomeChoices,
    TicketStatusChoices,
)
from modules.helpdesk.errors import TransitionError
from modules.helpdesk.models import (
    MaintenancePlan,
    MaintenanceWorkItem,
    SlaTarget,
    Ticket,
    TicketComment,
    VendorRepair,
    WorkLog,
)
from modules.helpdesk.selectors import IT_DEPARTMENTS

S = TicketStatusChoices
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
    units = {d.code: d for d in Department.objects.all()}
    technicians = {code: [_user(name, units[code], "technician") for name in names]
                   for code, names in TECHNICIANS.items()}
    departments = list(Department.objects.exclude(code__in=IT_DEPARTMENTS).order_by("code"))
    reporters = _reporters(departments)
    assets_by_building: dict[int, list[Any]] = {}
    for asset in (Asset.objects.exclude(status="scrapped").filter(building__isnull=False)
                  .select_related("room", "building").order_by("inventory_number")):
        assets_by_building.setdefault(asset.building_id, []).append(asset)
    # Busy buildings: weight by the number of assets and a building-specific factor.
    weights = [(1 + len(assets_by_building.get(b.pk, []))) * rng.lognormvariate(0, 0.8)
               for b in buildings]
    offsets = sorted(rng.uniform(0, DAYS) for _ in range(tickets))
    with audit_context(source="system"):
        play = _Play(units, reporters, tickets)
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
            ticket = play.open(
                reporter=reporter, category=category, title=rng.choice(TITLES[category]),
                priority=_pick(rng, PRIORITY_WEIGHTS), asset=asset,
                building=None if asset else building, opened_at=opened)
            _progress(rng, play, ticket, technicians[ticket.responsible_unit.code], reporter)
            play.done(ticket)
        play.write()
    items = _maintenance(rng, units["teknik_destek"], technicians["teknik_destek"])
    return {"tickets": Ticket.objects.count(), "created": len(play.tickets),
            "work_items": items}


class _Play:
    """The demo year's tickets played in memory, following the lifecycle of
    :mod:`modules.helpdesk.services` step by step (its ``ALLOWED`` transitions, SLA targets,
    default units and asset rules), and written in bulk at the end: the tickets in their
    final state, one history row per step (dated at the step, by its user, with the
    service's reason), work logs, vendor repairs and comments.

    The services write a ticket's every step as an UPDATE and a history INSERT, some 30
    statements per ticket; played here, 900 tickets take a handful of bulk INSERTs. The
    assets still change status through the core's service
    (:func:`gis_core.services.transition_asset`), which checks the asset lifecycle and
    records every transition. The demo's actors are the units' own technicians and the
    tickets' reporters, whom the services' permission checks always let through.
    """

    def __init__(self, units: dict[str, Any], reporters: list[Any], count: int) -> None:
        from gis_core.audit import current
        from gis_core.models import Membership

        self.units = units
        self.sla = {t.priority: (t.response_minutes, t.resolution_minutes)
                    for t in SlaTarget.objects.all()}
        ids = {r.pk for r in reporters}
        self.reporter_departments: dict[int, Any] = {}
        for membership in (Membership.objects.filter(user_id__in=ids)
                           .select_related("department").order_by("pk")):
            self.reporter_departments.setdefault(membership.user_id, membership.department)
        with connection.cursor() as cursor:  # the services' numbers: the table's sequence
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
                           "FROM generate_series(1, %s)", [Ticket._meta.db_table, count])
            self.pks = sorted(int(row[0]) for row in cursor.fetchall())
        self.context = current()
        # simple_history builds a manager class at every ``Model.history``: read it once
        self.ticket_history = Ticket.history.model  # type: ignore[attr-defined]
        self.ticket_fields = [f.attname for f in Ticket._meta.concrete_fields]
        self.tickets: list[Ticket] = []
        self.history: list[Any] = []
        self.logs: list[WorkLog] = []
        self.repairs: list[tuple[VendorRepair, list[tuple[Any, dt.datetime, str]]]] = []
        self.comments: list[TicketComment] = []
        self.open_repairs: dict[int, int] = {}  # asset id -> open repair tickets so far

    # -- steps -------------------------------------------------------------------------
    def _record(self, ticket: Ticket, by: Any, at: dt.datetime, reason: str,
                kind: str = "~") -> None:
        values = {name: getattr(ticket, name) for name in self.ticket_fields}
        # The ticket page orders its steps by date: two steps at one minute (assigned and
        # started) stay in their order a microsecond apart.
        last = self.history[-1] if kind == "~" and self.history else None
        if last is not None and at <= last.history_date:
            at = last.history_date + dt.timedelta(microseconds=1)
        self.history.append(self.ticket_history(
            **values, history_date=at, history_type=kind, history_user_id=by.pk,
            history_change_reason=reason, history_source=self.context.source,
            history_request_id=self.context.request_id))

    @staticmethod
    def _move(ticket: Ticket, target: str) -> None:
        if target not in services.ALLOWED.get(ticket.status, frozenset()):
            raise TransitionError(ticket.number, ticket.status, target)
        ticket.status = target

    @staticmethod
    def _is_repair(ticket: Ticket) -> bool:
        return ticket.category in REPAIR_CATEGORIES and ticket.asset_id is not None

    @staticmethod
    def _asset_status(asset: Any, status: str, *, by: Any, reason: str) -> None:
        from gis_core.services import transition_asset

        if asset.status not in (status, services.SCRAPPED):
            transition_asset(asset=asset, to_status=status, user=by, reason=reason)
            asset.status = status

    def open(self, *, reporter: Any, category: str, title: str, priority: str, asset: Any,
             building: Any, opened_at: dt.datetime) -> Ticket:
        room = asset.room if asset is not None else None
        building = building or (asset.building if asset is not None else None)
        location = (services._point_of(getattr(asset, "location", None))
                    or services._point_of(getattr(room, "outline", None))
                    or services._point_of(getattr(building, "footprint", None)))
        response, resolution = self.sla[priority]
        pk = self.pks[len(self.tickets)]
        ticket = Ticket(
            pk=pk, number=f"HD-{timezone.localtime(opened_at).year}-{pk:06d}", title=title,
            category=category, priority=priority, reporter=reporter,
            reporter_department=self.reporter_departments[reporter.pk],
            responsible_unit=self.units[DEFAULT_UNIT.get(category, "teknik_destek")],
            asset=asset, room=room, building=building, location=location,
            opened_at=opened_at, response_due_at=opened_at + dt.timedelta(minutes=response),
            resolution_due_at=opened_at + dt.timedelta(minutes=resolution))
        self.tickets.append(ticket)
        self._record(ticket, reporter, opened_at, "opened", "+")
        if self._is_repair(ticket):
            self._asset_status(asset, services.REPAIR_STATUS[None], by=reporter,
                               reason=f"{ticket.number}: arıza kaydı / repair ticket")
        return ticket

    def assign(self, ticket: Ticket, technician: Any, at: dt.datetime) -> None:
        self._move(ticket, S.ASSIGNED)
        ticket.technician = technician
        ticket.assigned_at = ticket.assigned_at or at
        self._record(ticket, technician, at, "assigned")

    def start(self, ticket: Ticket, by: Any, at: dt.datetime) -> None:
        was_waiting = ticket.status == S.WAITING
        self._move(ticket, S.IN_PROGRESS)
        ticket.started_at = ticket.started_at or at
        if ticket.technician_id is None:
            ticket.technician = by
            ticket.assigned_at = ticket.assigned_at or ticket.started_at
        ticket.waiting_reason = ""
        self._record(ticket, by, at, "in progress")
        if was_waiting and self._is_repair(ticket):
            self._asset_status(ticket.asset, services.REPAIR_STATUS[None], by=by,
                               reason=f"{ticket.number}: iç onarım / internal repair")

    def log_time(self, ticket: Ticket, by: Any, minutes: int, at: dt.datetime) -> None:
        self.logs.append(WorkLog(ticket=ticket, technician=by, minutes=minutes, logged_at=at))

    def send_for_repair(self, ticket: Ticket, kind: str, vendor_name: str, by: Any,
                        at: dt.datetime) -> list[tuple[Any, dt.datetime, str]]:
        self._move(ticket, S.WAITING)
        ticket.waiting_reason = kind
        ticket.started_at = ticket.started_at or at
        self._record(ticket, by, at, f"waiting: {kind}")
        if self._is_repair(ticket) and kind in services.REPAIR_STATUS:
            self._asset_status(ticket.asset, services.REPAIR_STATUS[kind], by=by,
                               reason=f"{ticket.number}: {kind}")
        steps = [(by, at, "+")]
        self.repairs.append((VendorRepair(ticket=ticket, kind=kind, vendor_name=vendor_name,
                                          sent_at=at), steps))
        return steps

    def repair_returned(self, ticket: Ticket, steps: list[tuple[Any, dt.datetime, str]],
                        by: Any, cost: int, at: dt.datetime) -> None:
        repair = self.repairs[-1][0]
        repair.returned_at = at
        repair.cost = Decimal(cost)
        steps.append((by, at, "~"))
        if ticket.status == S.WAITING:
            self.start(ticket, by, at)

    def resolve(self, ticket: Ticket, by: Any, outcome: str, at: dt.datetime) -> None:
        self._move(ticket, S.RESOLVED)
        ticket.outcome = outcome
        ticket.resolution = ""
        ticket.resolved_at = at
        ticket.started_at = ticket.started_at or at
        if ticket.technician_id is None:
            ticket.technician = by
        ticket.waiting_reason = ""
        self._record(ticket, by, at, "resolved")

    def close(self, ticket: Ticket, by: Any, at: dt.datetime) -> None:
        from gis_core.services import propose_scrapping

        self._move(ticket, S.CLOSED)
        ticket.closed_at = at
        self._record(ticket, by, at, "closed")
        if self._is_repair(ticket) and not self.open_repairs.get(ticket.asset_id):
            if ticket.outcome == TicketOutcomeChoices.SCRAPPING_PROPOSED:
                propose_scrapping(asset=ticket.asset, user=by,
                                  reason=f"{ticket.number}: {ticket.resolution or ticket.title}")
            else:
                self._asset_status(ticket.asset, services.IN_SERVICE, by=by,
                                   reason=f"{ticket.number}: onarım tamamlandı / repaired")

    def reopen(self, ticket: Ticket, by: Any, reason: str, at: dt.datetime) -> None:
        was_closed = ticket.status == S.CLOSED
        self._move(ticket, S.IN_PROGRESS)
        ticket.reopen_count += 1
        ticket.resolved_at = None
        ticket.closed_at = None
        ticket.outcome = ""
        self._record(ticket, by, at, f"reopened: {reason}")
        self.comments.append(TicketComment(ticket=ticket, author=by, body=reason,
                                           created_at=at))
        if was_closed and self._is_repair(ticket):
            self._asset_status(ticket.asset, services.REPAIR_STATUS[None], by=by,
                               reason=f"{ticket.number}: yeniden açıldı / reopened")

    def done(self, ticket: Ticket) -> None:
        """The ticket's year is played: an open repair holds its asset for later tickets."""
        if self._is_repair(ticket) and ticket.status in OPEN_STATUSES:
            self.open_repairs[ticket.asset_id] = self.open_repairs.get(ticket.asset_id, 0) + 1

    # -- the writes ----------------------------------------------------------------------
    def write(self) -> None:
        Ticket.objects.bulk_create(self.tickets, batch_size=1000)
        self.ticket_history.objects.bulk_create(self.history, batch_size=2000)
        WorkLog.objects.bulk_create(self.logs, batch_size=2000)
        TicketComment.objects.bulk_create(self.comments)
        repairs = VendorRepair.objects.bulk_create([r for r, _steps in self.repairs])
        fields = VendorRepair._meta.concrete_fields
        history = VendorRepair.history.model  # type: ignore[attr-defined]
        rows = []
        for repair, steps in zip(repairs, (s for _r, s in self.repairs), strict=True):
            returned, cost = repair.returned_at, repair.cost
            for by, at, kind in steps:  # as it was at each step
                repair.returned_at, repair.cost = ((None, Decimal(0)) if kind == "+"
                                                   else (returned, cost))
                rows.append(history(
                    **{f.attname: getattr(repair, f.attname) for f in fields},
                    history_date=at, history_type=kind, history_user_id=by.pk,
                    history_source=self.context.source,
                    history_request_id=self.context.request_id))
            repair.returned_at, repair.cost = returned, cost
        history.objects.bulk_create(rows)


def _progress(rng: random.Random, play: _Play, ticket: Ticket, staff: list[Any],
              reporter: Any) -> None:
    """Play a plausible life for ``ticket`` up to the end of the demo year."""
    end = START + dt.timedelta(days=DAYS)
    technician = rng.choice(staff)
    target = (ticket.resolution_due_at - ticket.opened_at).total_seconds()
    # ~80 % within the SLA; the rest up to three times over.
    duration = target * (rng.uniform(0.05, 0.95) if rng.random() < 0.8 else rng.uniform(1.05, 3))
    t = ticket.opened_at + dt.timedelta(minutes=rng.uniform(5, 90))
    if t >= end:
        return
    play.assign(ticket, technician, t)
    play.start(ticket, technician, t)
    play.log_time(ticket, technician, rng.choice([15, 30, 45, 60, 90, 120]), t)
    resolved_at = ticket.opened_at + dt.timedelta(seconds=duration)
    if ticket.category == "hardware_fault" and rng.random() < 0.12:
        warranty = bool(ticket.asset.warranty_end and ticket.asset.warranty_end > t.date())
        sent = t + dt.timedelta(hours=2)
        steps = play.send_for_repair(
            ticket, "warranty" if warranty else "vendor",
            "Garanti servisi" if warranty else rng.choice(
                ["Anadolu Bilişim", "Eskişehir Teknik Servis", "Ege Bilgisayar"]),
            technician, sent)
        resolved_at = max(resolved_at, sent + dt.timedelta(days=rng.uniform(3, 15)))
        if resolved_at >= end:
            return
        play.repair_returned(ticket, steps, technician,
                             0 if warranty else rng.choice([450, 900, 1750, 3200]),
                             resolved_at - dt.timedelta(hours=3))
    if resolved_at >= end:
        return
    outcome = {"hardware_fault": "repaired", "consumables": "fulfilled",
               "account": "fulfilled"}.get(ticket.category, "repaired")
    if ticket.category == "hardware_fault" and rng.random() < 0.04:
        outcome = "scrapping_proposed"
    play.resolve(ticket, technician, outcome, resolved_at)
    closed_at = resolved_at + dt.timedelta(hours=rng.uniform(1, 72))
    if closed_at < end:
        play.close(ticket, reporter if rng.random() < 0.5 else technician, closed_at)
        if outcome != "scrapping_proposed" and rng.random() < 0.03:
            play.reopen(ticket, reporter, "Sorun tekrarladı", closed_at + dt.timedelta(days=1))


def _maintenance(rng: random.Random, unit: Any, staff: list[Any]) -> int:
    plans = [("Yazıcı periyodik bakımı", "printer", 90), ("Bilgisayar temizliği", "desktop", 180)]
    for name, category, days in plans:
        MaintenancePlan.objects.get_or_create(
            name=name, defaults={"asset_category": category, "interval_days": days,
                                 "starts_on": START.date(), "responsible_unit": unit})
    end = (START + dt.timedelta(days=DAYS)).date()
    services.generate_due_work_items(on=end)
    done = []
    for item in MaintenanceWorkItem.objects.filter(due_on__lt=end - dt.timedelta(days=14),
                                                   done_at=None).order_by("pk"):
        if rng.random() < 0.9:  # as services.complete_work_item, in one bulk update
            due = dt.datetime.combine(item.due_on, dt.time(10), tzinfo=TZ)
            item.done_by = rng.choice(staff)
            item.done_at = due + dt.timedelta(days=rng.randrange(10))
            done.append(item)
    MaintenanceWorkItem.objects.bulk_update(done, ["done_at", "done_by"], batch_size=1000)
    return MaintenanceWorkItem.objects.count()
