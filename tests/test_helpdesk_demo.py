"""The helpdesk demo: deterministic, idempotent, consistent with the asset rules."""

from __future__ import annotations

from django.db.models import Count

from gis_core.modules import discover, load_module_demos
from modules.helpdesk.choices import OPEN_STATUSES
from modules.helpdesk.demo import load_demo
from modules.helpdesk.models import MaintenanceWorkItem, Ticket
from modules.helpdesk.statistics import ticket_statistics, totals
from tests import test_helpdesk_support as support
from tests.test_helpdesk_support import World

world = support.world


def test_module_is_discovered_with_its_hooks(world: World) -> None:
    specs = {spec.code: spec for spec in discover()}
    spec = specs["helpdesk"]
    assert spec.app_name == "modules.helpdesk" and spec.urls == "modules.helpdesk.urls"
    assert (spec.layer_definitions_dir / "helpdesk_ticket.yaml").exists()
    summary = spec.building_panels[0](user=world.tech, building=world.hall)
    assert summary.lines == (("Açık talep", "0"), ("Süresi geçmiş talep", "0"),
                             ("Toplam talep", "0"))
    assert summary.links[0][1] == f"/helpdesk/new/?building={world.hall.pk}"
    assert spec.building_panels[0](user=None, building=world.hall) is None
    from gis_core.modules import menu_for

    def helpdesk_menu(user):  # type: ignore[no-untyped-def]
        return [i.url_name for i in menu_for(user) if i.url_name.startswith("helpdesk:")]

    assert helpdesk_menu(world.reporter) == ["helpdesk:ticket_list", "helpdesk:ticket_new"]
    assert len(helpdesk_menu(world.tech)) == 4


def test_demo_is_deterministic_idempotent_and_keeps_assets_consistent(world: World) -> None:
    first = load_demo(tickets=150)
    assert first["created"] == 150 and first["tickets"] == 150
    assert load_module_demos(profile="odunpazari")["helpdesk"]["created"] == 0  # idempotent
    manager = world.manager
    total = totals(user=manager)
    assert total.tickets == 150 and 0 < total.resolved < 150
    assert 50 <= (total.sla_compliance or 0) <= 100
    months = ticket_statistics(user=manager, by="month")
    assert months[0].key == "2025-11" and months[-1].key == "2026-10"
    assert {row.key for row in ticket_statistics(user=manager, by="building")} == {"B001", "B002"}
    assert MaintenanceWorkItem.objects.exists()
    # An asset with an open repair ticket is in repair; the others are in service
    # (or waiting for a scrapping decision after a ticket that proposed it).
    open_repairs = set(Ticket.objects.filter(category="hardware_fault", status__in=OPEN_STATUSES)
                       .values_list("asset_id", flat=True))
    for asset in (world.pc, world.printer):
        asset.refresh_from_db()
        if asset.pk in open_repairs:
            assert asset.status.startswith("in_repair"), asset.status
        elif not Ticket.objects.filter(asset=asset, outcome="scrapping_proposed",
                                       status="closed").exists():
            assert asset.status == "in_service", asset.status
    fingerprint = list(Ticket.objects.order_by("pk").values_list(
        "number", "category", "priority", "status")[:20])
    by_category = dict(Ticket.objects.values_list("category").annotate(n=Count("id")))
    # Same seed, same data: rebuild from scratch and compare.
    Ticket.objects.all().delete()
    MaintenanceWorkItem.objects.all().delete()
    load_demo(tickets=150)
    again = list(Ticket.objects.order_by("pk").values_list(
        "category", "priority", "status")[:20])
    assert again == [row[1:] for row in fingerprint]
    assert dict(Ticket.objects.values_list("category").annotate(n=Count("id"))) == by_category


def test_helpdesk_command_maintenance_and_report(world: World) -> None:
    import datetime as dt
    import io
    import json

    import pytest
    from django.core.management import call_command

    from gis_core.errors import KentCBSError
    from modules.helpdesk.models import MaintenancePlan
    from tests.test_helpdesk_support import department

    MaintenancePlan.objects.create(name="Yazıcı bakımı", asset_category="printer",
                                   interval_days=30, starts_on=dt.date(2026, 1, 1),
                                   responsible_unit=department("teknik_destek"))
    out = io.StringIO()
    call_command("helpdesk", "maintenance", "--on", "2026-03-01", stdout=out)
    assert out.getvalue().startswith("2 bakım işi")  # 1 Jan, 31 Jan (2 Mar is later)
    with pytest.raises(KentCBSError) as caught:
        call_command("helpdesk", "maintenance", "--on", "1 Mart")
    assert caught.value.code == "HELPDESK_BAD_DATE"
    load_demo(tickets=40)
    out = io.StringIO()
    call_command("helpdesk", "report", "--year", "2026", stdout=out)
    figures = json.loads(out.getvalue())
    assert figures["tickets"] == Ticket.objects.filter(opened_at__year=2026).count()
    assert figures["maintenance_due"] >= 2
