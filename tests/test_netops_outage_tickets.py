"""An outage opens a helpdesk ticket when configured (KENTCBS_NETOPS_OUTAGE_TICKETS), through
the declared attachment ``ModuleSpec.outage_handlers`` (``gis_core.modules.report_outage``):
netops never imports the helpdesk. One ticket per outage, not per check; the recovery is
noted on it; with the helpdesk switched off an outage is recorded without error."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.test.utils import modify_settings

from modules.netops import monitoring
from modules.netops.models import Alert
from tests.conftest import ROOT
from tests.people import member, signed_in

pytestmark = pytest.mark.django_db
X0, Y0 = 550_000, 4_408_000


def _world():  # type: ignore[no-untyped-def]
    from django.conf import settings

    from gis_core.models import Asset, Building, Department, NetworkLink

    srid = settings.KENTCBS_SRID

    def building(code: str, dx: int) -> Building:
        x = X0 + dx
        made = Building.objects.create(code=code, name=f"Bina {code}", footprint=MultiPolygon(
            Polygon(((x, Y0), (x + 30, Y0), (x + 30, Y0 + 30), (x, Y0 + 30), (x, Y0))),
            srid=srid))
        made.departments.add(Department.objects.get(code="zabita"))
        return made

    hall, other = building("T1", 0), building("T2", 400)
    switch = Asset.objects.create(inventory_number="SW-T1", category="switch",
                                  status="in_service", building=hall, ip_address="192.0.2.61",
                                  location=Point(X0 + 10, Y0 + 10, srid=srid))
    far = Asset.objects.create(inventory_number="SW-T2", category="switch",
                               status="in_service", building=other, ip_address="192.0.2.62",
                               location=Point(X0 + 410, Y0 + 10, srid=srid))
    link = NetworkLink.objects.create(a_asset=switch, b_asset=far, medium="fiber_sm")
    return hall, other, switch, far, link


def test_netops_does_not_import_the_helpdesk() -> None:
    for path in Path(ROOT, "modules", "netops").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        names += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        assert not [n for n in names if "helpdesk" in n], path


def test_one_ticket_per_outage_noted_on_recovery(settings) -> None:
    from modules.helpdesk.models import Ticket, TicketComment

    settings.KENTCBS_NETOPS_OUTAGE_TICKETS = True
    hall, _other, switch, far, _link = _world()
    monitoring.record_state(asset=far, up=True, source="probe")
    monitoring.record_state(asset=switch, up=True, source="probe")
    assert not Ticket.objects.exists()  # coming up is no outage

    monitoring.record_state(asset=switch, up=False, source="probe", detail="tcp/22: timed out")
    monitoring.record_state(asset=switch, up=False, source="probe")  # the same outage
    monitoring.record_state(asset=switch, up=False, source="zabbix")
    asset_ticket = Ticket.objects.get(asset=switch)
    assert (asset_ticket.category, asset_ticket.priority, asset_ticket.status,
            asset_ticket.responsible_unit.code, asset_ticket.building) == (
        "network", "high", "new", "ag_yonetimi", hall)
    assert asset_ticket.title == "Erişilemiyor / Down: SW-T1 (192.0.2.61, Bina T1)"
    switch.refresh_from_db()
    assert switch.status == "in_service"  # not "in repair": the probe keeps watching it
    alert = Alert.objects.get(asset=switch)
    assert alert.receipts == [{"module": "helpdesk", "ref": str(asset_ticket.pk),
                               "label": asset_ticket.number,
                               "url": f"/helpdesk/tickets/{asset_ticket.pk}/"}]
    # the link through the switch went down too: one ticket on its building
    link_ticket = Ticket.objects.exclude(pk=asset_ticket.pk).get()
    assert link_ticket.asset is None and link_ticket.title.startswith("Bağlantı kesik")
    assert Ticket.objects.count() == 2

    monitoring.record_state(asset=switch, up=True, source="probe")
    comment = TicketComment.objects.get(ticket=asset_ticket)
    assert comment.body.startswith("Kesinti sona erdi / outage over: Erişilemiyor / Down: SW-T1")
    assert TicketComment.objects.filter(ticket=link_ticket).count() == 1
    assert Ticket.objects.count() == 2  # a recovery opens nothing

    monitoring.record_state(asset=switch, up=False, source="probe")  # a new outage
    assert Ticket.objects.filter(asset=switch).count() == 2
    page = signed_in(member("ag", "ag_yonetimi", "network_admin")).get("/netops/alerts/")
    assert asset_ticket.number in page.content.decode()


def test_not_configured_no_ticket(settings) -> None:
    from modules.helpdesk.models import Ticket

    settings.KENTCBS_NETOPS_OUTAGE_TICKETS = False
    _hall, _other, switch, _far, _link = _world()
    monitoring.record_state(asset=switch, up=False, source="probe")
    assert not Ticket.objects.exists()
    assert Alert.objects.get(asset=switch).receipts == []


def test_with_the_helpdesk_switched_off_an_outage_is_recorded_without_error(settings) -> None:
    from django.db import connection

    from gis_core.modules import discover

    settings.KENTCBS_NETOPS_OUTAGE_TICKETS = True
    _hall, _other, switch, _far, _link = _world()
    with modify_settings(INSTALLED_APPS={"remove": ["modules.helpdesk"]}):
        assert "helpdesk" not in [spec.code for spec in discover()]
        assert monitoring.record_state(asset=switch, up=False, source="probe")
        monitoring.record_state(asset=switch, up=True, source="probe")
    alert = Alert.objects.get(asset=switch)
    assert alert.closed_at is not None and alert.receipts == []
    with connection.cursor() as cursor:  # the helpdesk's table, untouched
        cursor.execute("SELECT count(*) FROM helpdesk_ticket")
        assert cursor.fetchone() == (0,)


def test_a_failing_handler_loses_neither_the_outage_nor_the_others(settings, monkeypatch) -> None:
    """A handler's typed error is logged and undone in its savepoint; the alert stays."""
    from modules.helpdesk.errors import HelpdeskError

    def broken(**kwargs):  # type: ignore[no-untyped-def]
        raise HelpdeskError("HELPDESK_NO_SLA", "No SLA target is defined for priority 'x'.")

    settings.KENTCBS_NETOPS_OUTAGE_TICKETS = True
    monkeypatch.setattr("modules.helpdesk.outages.outage_ticket", broken)
    _hall, _other, switch, _far, _link = _world()
    assert monitoring.record_state(asset=switch, up=False, source="probe")
    alert = Alert.objects.get(asset=switch)
    assert alert.closed_at is None and alert.receipts == []
