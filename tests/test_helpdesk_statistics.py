"""Helpdesk statistics against hand-computed figures on fixed data."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from modules.helpdesk import services
from modules.helpdesk.statistics import activity_report, ticket_statistics, totals
from tests import test_helpdesk_support as support
from tests.test_helpdesk_support import World, at

world = support.world

H = dt.timedelta(hours=1)


@pytest.fixture
def fixed(world: World) -> World:
    """Five tickets (hand-computed figures in the tests below).

    | # | building | category | priority | opened | resolved after | due | technician |
    |---|---|---|---|---|---|---|---|
    | 1 | hall  | hardware_fault (Dell) | critical | 2026-01-05 09:00 | 3 h  | 4 h  | tekin |
    | 2 | hall  | network              | normal   | 2026-01-20 10:00 | 80 h | 72 h | tuba  |
    | 3 | depot | consumables (HP)     | low      | 2026-02-03 09:00 | 24 h | 168 h| tekin |
    | 4 | depot | software_ebys        | high     | 2026-02-10 09:00 | open | 24 h | —     |
    | 5 | depot | hardware_fault (HP)  | normal   | 2026-02-15 09:00 | 10 h | 72 h | tuba  |
    """
    w = world
    t1 = services.open_ticket(reporter=w.reporter, category="hardware_fault", title="PC",
                              inventory_number="DB-0001", priority="critical",
                              opened_at=at(2026, 1, 5, 9))
    services.log_time(ticket=t1, by=w.tech, minutes=60)
    services.resolve_ticket(ticket=t1, by=w.tech, outcome="repaired", at=t1.opened_at + 3 * H)
    t2 = services.open_ticket(reporter=w.colleague, category="network", title="Ağ",
                              building=w.hall, opened_at=at(2026, 1, 20, 10),
                              responsible_unit="teknik_destek")
    services.log_time(ticket=t2, by=w.tech2, minutes=30)
    services.resolve_ticket(ticket=t2, by=w.tech2, outcome="repaired", at=t2.opened_at + 80 * H)
    t3 = services.open_ticket(reporter=w.reporter, category="consumables", title="Toner",
                              inventory_number="DB-0002", priority="low",
                              opened_at=at(2026, 2, 3, 9))
    services.resolve_ticket(ticket=t3, by=w.tech, outcome="fulfilled", at=t3.opened_at + 24 * H)
    services.open_ticket(reporter=w.outsider, category="software_ebys", title="EBYS",
                         building=w.depot, priority="high", opened_at=at(2026, 2, 10, 9))
    t5 = services.open_ticket(reporter=w.reporter, category="hardware_fault", title="Yazıcı",
                              inventory_number="DB-0002", opened_at=at(2026, 2, 15, 9))
    services.assign_ticket(ticket=t5, technician=w.tech2, by=w.tech2, at=t5.opened_at + H)
    repair = services.send_for_repair(ticket=t5, kind="vendor", vendor_name="ABC",
                                      by=w.tech2, at=t5.opened_at + 2 * H)
    services.record_repair_return(repair=repair, by=w.tech2, cost=500,
                                  at=t5.opened_at + 8 * H)
    services.resolve_ticket(ticket=t5, by=w.tech2, outcome="repaired", at=t5.opened_at + 10 * H)
    services.close_ticket(ticket=t5, by=w.reporter, at=t5.opened_at + 12 * H)
    return w


def _by_key(rows: list) -> dict:
    return {row.key: row for row in rows}


def test_by_building(fixed: World) -> None:
    rows = _by_key(ticket_statistics(user=fixed.manager, by="building"))
    hall, depot = rows["B001"], rows["B002"]
    assert (hall.tickets, hall.open, hall.resolved, hall.sla_met) == (2, 0, 2, 1)
    assert hall.mean_hours_to_resolve == 41.5 and hall.sla_compliance == 50.0
    assert hall.minutes_spent == 90 and hall.label == "Belediye Hizmet Binası"
    assert (depot.tickets, depot.open, depot.resolved, depot.sla_met) == (3, 1, 2, 2)
    assert depot.mean_hours_to_resolve == 17.0 and depot.sla_compliance == 100.0
    # First response: T1 resolved at 3 h (due 30 min) late, T2 at 80 h (due 8 h) late;
    # T3 at 24 h (due 24 h) in time, T4 never, T5 assigned after 1 h (due 8 h) in time.
    assert (hall.response_met, depot.response_met) == (0, 2)


def test_by_month_technician_department_category_model_neighbourhood(fixed: World) -> None:
    user = fixed.manager
    months = ticket_statistics(user=user, by="month")
    assert [(r.key, r.tickets, r.resolved) for r in months] == [("2026-01", 2, 2),
                                                                ("2026-02", 3, 2)]
    techs = _by_key(ticket_statistics(user=user, by="technician"))
    assert (techs["tekin"].tickets, techs["tekin"].mean_hours_to_resolve,
            techs["tekin"].sla_compliance) == (2, 13.5, 100.0)
    assert (techs["tuba"].tickets, techs["tuba"].mean_hours_to_resolve,
            techs["tuba"].sla_compliance) == (2, 45.0, 50.0)
    assert techs[None].tickets == 1 and techs[None].resolved == 0
    assert techs[None].sla_compliance is None
    departments = _by_key(ticket_statistics(user=user, by="department"))
    assert departments["fen_isleri"].tickets == 4 and departments["zabita"].tickets == 1
    categories = _by_key(ticket_statistics(user=user, by="category"))
    assert categories["hardware_fault"].tickets == 2
    assert categories["hardware_fault"].mean_hours_to_resolve == 6.5
    assert categories["hardware_fault"].label == "Donanım arızası"
    models = _by_key(ticket_statistics(user=user, by="asset_model"))
    assert models["HP LaserJet M404"].tickets == 2 and models["Dell OptiPlex 7090"].tickets == 1
    assert models[None].tickets == 2
    places = _by_key(ticket_statistics(user=user, by="neighbourhood"))
    assert places["Arifiye"].tickets == 2 and places["Büyükdere"].tickets == 3
    units = _by_key(ticket_statistics(user=user, by="unit"))
    assert units["teknik_destek"].tickets == 4 and units["yazilim"].tickets == 1


def test_totals_period_and_permissions(fixed: World) -> None:
    total = totals(user=fixed.manager)
    assert (total.tickets, total.open, total.resolved, total.sla_met) == (5, 1, 4, 3)
    assert total.mean_hours_to_resolve == 29.25 and total.sla_compliance == 75.0
    assert total.minutes_spent == 90
    february = totals(user=fixed.manager, date_from=dt.date(2026, 2, 1),
                      date_to=dt.date(2026, 2, 28))
    assert february.tickets == 3
    # A department user's statistics cover their department's tickets only.
    assert totals(user=fixed.reporter).tickets == 4
    assert totals(user=fixed.outsider).tickets == 1
    # The developer (yazilim) works on the EBYS ticket only.
    assert totals(user=fixed.developer).tickets == 1


def test_activity_report_figures(fixed: World) -> None:
    report = activity_report(user=fixed.manager, year=2026)
    assert report["totals"].tickets == 5 and report["hours_spent"] == 1.5
    assert report["repairs"] == {"vendor": {"count": 1, "cost": 500}}
    assert report["scrapping_proposals"] == 0 and report["reopened"] == 0
    # Every month of the year is a row (an empty month as 0, so the chart matches the table).
    months = report["by_month"]
    assert [r.key for r in months] == [f"2026-{m:02d}" for m in range(1, 13)]
    assert [r.tickets for r in months if r.tickets] == [2, 3] and sum(
        r.tickets for r in months) == 5
    assert activity_report(user=fixed.manager, year=2025)["totals"].tickets == 0


def test_csv_and_excel_exports(fixed: World, client) -> None:
    client.force_login(fixed.manager)
    response = client.get("/helpdesk/statistics/export.csv", {"by": "building"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0].startswith("anahtar")
    body = {row[0]: row for row in rows[1:]}
    assert body["B001"][2:10] == ["2", "0", "2", "1", "50.0", "41.5", "90", "0"]
    response = client.get("/helpdesk/statistics/export.xlsx", {"by": "month"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[1][:3] == ["2026-01", "2026-01", 2] and values[2][2] == 3


def test_pages_render_with_local_assets_only(fixed: World, client) -> None:
    import re

    from modules.helpdesk.models import Ticket

    client.force_login(fixed.manager)
    ticket = Ticket.objects.get(title="EBYS")
    pages = ("/helpdesk/", "/helpdesk/statistics/?by=month", "/helpdesk/map/",
             f"/helpdesk/buildings/{fixed.hall.pk}/", "/helpdesk/report/2026/",
             f"/helpdesk/tickets/{ticket.pk}/")
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        sources = re.findall(r'(?:src|href)="(https?:[^"]+)"', html)
        assert sources == [], (url, sources)
    map_html = client.get("/helpdesk/map/").content.decode()
    assert "/static/leaflet/leaflet.js" in map_html
    assert "helpdesk-new" in map_html and "<svg" in client.get(
        "/helpdesk/statistics/").content.decode()
