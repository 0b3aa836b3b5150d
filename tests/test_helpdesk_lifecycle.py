"""Helpdesk lifecycle rules against the real database."""

from __future__ import annotations

import datetime as dt

import pytest

from modules.helpdesk import services
from modules.helpdesk.errors import AssetNotRegisteredError, HelpdeskError, TransitionError
from modules.helpdesk.models import MaintenancePlan, MaintenanceWorkItem, Ticket
from tests import test_helpdesk_support as support
from tests.test_helpdesk_support import World, at, department

world = support.world


def _repair(w: World, **kwargs: object) -> Ticket:
    return services.open_ticket(reporter=w.reporter, category="hardware_fault",
                                title="Bilgisayar açılmıyor", inventory_number="DB-0001",
                                **kwargs)


def _status(asset: object) -> str:
    asset.refresh_from_db()
    return asset.status


def test_unregistered_device_is_refused_with_a_bilingual_message(world: World) -> None:
    with pytest.raises(AssetNotRegisteredError) as caught:
        services.open_ticket(reporter=world.reporter, category="hardware_fault",
                             title="Yazıcı", inventory_number="XX-404")
    error = caught.value
    assert error.code == "HELPDESK_ASSET_NOT_REGISTERED"
    assert "XX-404" in error.english and "not in the inventory" in error.english
    turkish, english = error.text.split(" / ", 1)
    assert "envanterde kayıtlı değil" in turkish and english == error.english
    assert not Ticket.objects.exists()


def test_repair_ticket_needs_an_asset_and_scrapped_assets_are_refused(world: World) -> None:
    with pytest.raises(HelpdeskError) as caught:
        services.open_ticket(reporter=world.reporter, category="hardware_fault",
                             title="Arıza", building=world.hall)
    assert caught.value.code == "HELPDESK_ASSET_REQUIRED"
    with pytest.raises(HelpdeskError) as caught:
        services.open_ticket(reporter=world.reporter, category="hardware_fault",
                             title="Arıza", inventory_number="DB-0003")
    assert caught.value.code == "HELPDESK_ASSET_SCRAPPED"
    # A request (not a repair) does not need an asset.
    ticket = services.open_ticket(reporter=world.reporter, category="software_ebys",
                                  title="EBYS yetkisi", building=world.hall)
    assert ticket.responsible_unit.code == "yazilim"


def test_asset_status_follows_its_repair_ticket(world: World) -> None:
    ticket = _repair(world)
    assert ticket.asset == world.pc and ticket.building == world.hall
    assert ticket.room == world.room
    assert _status(world.pc) == "in_repair_internal"
    services.assign_ticket(ticket=ticket, technician=world.tech, by=world.tech)
    services.start_work(ticket=ticket, by=world.tech)
    repair = services.send_for_repair(ticket=ticket, kind="warranty", vendor_name="Dell Servis",
                                      by=world.tech)
    assert ticket.status == "waiting" and ticket.waiting_reason == "warranty"
    assert _status(world.pc) == "in_repair_warranty"
    services.record_repair_return(repair=repair, by=world.tech, cost=0)
    ticket.refresh_from_db()
    assert ticket.status == "in_progress"
    assert _status(world.pc) == "in_repair_internal"
    services.put_on_hold(ticket=ticket, reason="vendor", by=world.tech)
    assert _status(world.pc) == "in_repair_vendor"
    services.start_work(ticket=ticket, by=world.tech)
    services.resolve_ticket(ticket=ticket, by=world.tech, outcome="repaired")
    assert _status(world.pc) == "in_repair_internal"  # resolved is not closed
    services.close_ticket(ticket=ticket, by=world.reporter)
    assert _status(world.pc) == "in_service"
    from gis_core.models import AssetTransition

    assert AssetTransition.objects.filter(asset=world.pc).count() >= 5


def test_a_second_open_repair_ticket_keeps_the_asset_in_repair(world: World) -> None:
    first = _repair(world)
    second = _repair(world)
    for ticket in (first,):
        services.resolve_ticket(ticket=ticket, by=world.tech, outcome="no_fault")
        services.close_ticket(ticket=ticket, by=world.tech)
    assert _status(world.pc) == "in_repair_internal"
    services.resolve_ticket(ticket=second, by=world.tech, outcome="repaired")
    services.close_ticket(ticket=second, by=world.tech)
    assert _status(world.pc) == "in_service"


def test_sla_due_times_per_priority(world: World) -> None:
    opened = at(2026, 3, 2, 9, 0)
    critical = _repair(world, priority="critical", opened_at=opened)
    assert critical.response_due_at == opened + dt.timedelta(minutes=30)
    assert critical.resolution_due_at == opened + dt.timedelta(hours=4)
    normal = services.open_ticket(reporter=world.reporter, category="network", title="İnternet",
                                  building=world.depot, opened_at=opened)
    assert normal.priority == "normal"
    assert normal.response_due_at == opened + dt.timedelta(hours=8)
    assert normal.resolution_due_at == opened + dt.timedelta(days=3)
    low = services.open_ticket(reporter=world.reporter, category="consumables", title="Toner",
                               priority="low", building=world.depot, opened_at=opened)
    assert low.resolution_due_at == opened + dt.timedelta(days=7)
    services.resolve_ticket(ticket=critical, by=world.tech, outcome="repaired",
                            at=opened + dt.timedelta(hours=4))
    assert critical.sla_met is True  # exactly on the due time counts as met
    assert normal.responsible_unit.code == "ag_yonetimi"
    services.resolve_ticket(ticket=normal, by=world.manager, outcome="repaired",
                            at=opened + dt.timedelta(days=3, minutes=1))
    assert normal.sla_met is False


def test_reopen_keeps_the_sla_and_puts_the_asset_back_in_repair(world: World) -> None:
    opened = at(2026, 3, 2, 9, 0)
    ticket = _repair(world, priority="high", opened_at=opened)
    due = ticket.resolution_due_at
    services.resolve_ticket(ticket=ticket, by=world.tech, outcome="repaired",
                            at=opened + dt.timedelta(hours=2))
    services.close_ticket(ticket=ticket, by=world.reporter, at=opened + dt.timedelta(hours=3))
    assert _status(world.pc) == "in_service"
    services.reopen_ticket(ticket=ticket, by=world.reporter, reason="Yine açılmıyor",
                           at=opened + dt.timedelta(hours=5))
    ticket.refresh_from_db()
    assert ticket.status == "in_progress" and ticket.reopen_count == 1
    assert ticket.resolved_at is None and ticket.closed_at is None and ticket.outcome == ""
    assert ticket.resolution_due_at == due
    assert _status(world.pc) == "in_repair_internal"
    assert ticket.comments.get().body == "Yine açılmıyor"
    services.resolve_ticket(ticket=ticket, by=world.tech, outcome="repaired",
                            at=opened + dt.timedelta(days=2))
    assert ticket.sla_met is False  # measured against the original target (1 day)
    statuses = [h.status for h in ticket.history.order_by("history_date", "history_id")]
    assert statuses == ["new", "resolved", "closed", "in_progress", "resolved"]


def test_transitions_out_of_order_are_refused(world: World) -> None:
    ticket = _repair(world)
    with pytest.raises(TransitionError) as caught:
        services.close_ticket(ticket=ticket, by=world.tech)
    assert caught.value.code == "HELPDESK_BAD_TRANSITION"
    with pytest.raises(TransitionError):
        services.reopen_ticket(ticket=ticket, by=world.tech, reason="x")
    services.resolve_ticket(ticket=ticket, by=world.tech, outcome="repaired")
    with pytest.raises(TransitionError):
        services.put_on_hold(ticket=ticket, reason="parts", by=world.tech)


def test_place_and_location_of_room_and_building_tickets(world: World) -> None:
    in_room = services.open_ticket(reporter=world.reporter, category="infrastructure",
                                   title="Priz yanık", room=world.room)
    assert in_room.building == world.hall and in_room.asset is None
    # The room has no outline: the ticket stands at the point on the hall's surface.
    assert world.room.outline is None
    assert in_room.location is not None
    assert world.hall.footprint.contains(in_room.location)
    assert in_room.location.equals_exact(world.hall.footprint.point_on_surface, 1e-6)
    in_building = services.open_ticket(reporter=world.reporter, category="network",
                                       title="Bina interneti yok", building=world.depot)
    assert world.depot.footprint.contains(in_building.location)
    with pytest.raises(HelpdeskError) as caught:
        services.open_ticket(reporter=world.reporter, category="network", title="?")
    assert caught.value.code == "HELPDESK_NO_PLACE"


def test_time_spent_comments_and_repair_costs(world: World) -> None:
    ticket = _repair(world)
    services.log_time(ticket=ticket, by=world.tech, minutes=45)
    services.add_comment(ticket=ticket, by=world.reporter, body="Acil lütfen")
    services.start_work(ticket=ticket, by=world.tech)
    repair = services.send_for_repair(ticket=ticket, kind="vendor", vendor_name="ABC Bilişim",
                                      by=world.tech)
    services.record_repair_return(repair=repair, by=world.tech, cost=1250)
    repair.refresh_from_db()
    assert repair.cost == 1250 and repair.returned_at is not None
    assert ticket.work_logs.get().minutes == 45 and ticket.comments.count() == 1
    with pytest.raises(HelpdeskError):
        services.log_time(ticket=ticket, by=world.tech, minutes=0)


def test_ticket_can_end_in_a_scrapping_proposal(world: World) -> None:
    ticket = _repair(world)
    services.resolve_ticket(ticket=ticket, by=world.tech, outcome="scrapping_proposed",
                            resolution="Anakart arızalı, ekonomik değil")
    services.close_ticket(ticket=ticket, by=world.tech)
    # The asset stays out of service (in repair) until the proposal is decided; the
    # proposal carries the ticket number and the resolution.
    assert _status(world.pc) == "in_repair_internal"
    from gis_core.models import ScrappingRecord

    record = ScrappingRecord.objects.get(asset=world.pc)
    assert record.status == "proposed"
    assert record.reason == f"{ticket.number}: Anakart arızalı, ekonomik değil"


def test_maintenance_plans_produce_due_work_items_once(world: World) -> None:
    MaintenancePlan.objects.create(name="Yazıcı bakımı", asset_category="printer",
                                   interval_days=90, starts_on=dt.date(2026, 1, 1),
                                   responsible_unit=department("teknik_destek"))
    MaintenancePlan.objects.create(name="Sunucu temizliği", asset=world.pc, interval_days=180,
                                   starts_on=dt.date(2026, 1, 15),
                                   responsible_unit=department("teknik_destek"))
    # printer: 1 Jan, 1 Apr, 30 Jun (<= 1 Jul); pc: 15 Jan, 14 Jul (> 1 Jul, not yet)
    assert services.generate_due_work_items(on=dt.date(2026, 7, 1)) == 4
    assert services.generate_due_work_items(on=dt.date(2026, 7, 1)) == 0
    dues = sorted(MaintenanceWorkItem.objects.filter(asset=world.printer)
                  .values_list("due_on", flat=True))
    assert dues == [dt.date(2026, 1, 1), dt.date(2026, 4, 1), dt.date(2026, 6, 30)]
    assert not MaintenanceWorkItem.objects.filter(asset=world.scrapped).exists()


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_flushes_the_database() -> None:
    from modules.helpdesk.models import SlaTarget

    assert SlaTarget.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_sla_targets_survive_the_flush() -> None:
    from modules.helpdesk.models import SlaTarget

    assert dict(SlaTarget.objects.values_list("priority", "resolution_minutes")) == {
        "critical": 240, "high": 1440, "normal": 4320, "low": 10080}
