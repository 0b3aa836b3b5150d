"""The yearly activity report (issue #21 §5): every figure equals a number computed here by
hand from the data this test makes; the page, XLSX and PDF carry the same figures; managers
and GIS admins only."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.people import member, signed_in
from tests.test_registers_support import Registry, pdf_text
from tests.test_registers_support import registry as registry


def rows(report, code: str) -> list[tuple]:
    return [tuple(row) for row in report.table(code).rows]


def batch(department: str, *, read: int, loaded: int, status: str = "loaded",
          policy: str = "normal", created: dt.datetime | None = None):
    from etl.models import Batch

    made = Batch.objects.create(layer_code="yesil_alan", department=department,
                                file_name="park.gpkg", sha256=f"{read:064d}", count_read=read,
                                count_loaded=loaded, status=status, policy=policy)
    if created is not None:
        Batch.objects.filter(pk=made.pk).update(created=created)
    return made


@pytest.mark.django_db
def test_the_report_figures_equal_hand_counts(registry: Registry, tmp_path) -> None:
    from gis_core.models import Department, Subscription
    from modules.registers import consumables, payments
    from modules.registers.activity_report import activity_report
    from modules.registers.models import ConsumableItem, StoreRoom

    year = timezone.localdate().year
    end = dt.date(year, 12, 31)
    manager = member("mudur", "bilgi_islem", "manager")
    assets = registry.assets
    # purchase dates: DB-0001 this year (age 0), DB-0002 two and a half years before the
    # year's end (1-3), DB-0010 six years before (5-10), DB-0020 none; DB-0003 was created
    # scrapped (not scrapped *in* the year)
    for number, bought in (("DB-0001", dt.date(year, 3, 1)), ("DB-0002", dt.date(year - 2, 7, 1)),
                           ("DB-0010", dt.date(year - 6, 1, 15))):
        assets[number].purchase_date = bought
        assets[number].save()
    # scrapped during the year: DB-0020 (a desktop)
    assets["DB-0020"].status = "scrapped"
    assets["DB-0020"].save()

    # consumables: 12 received, 3 issued to Fen İşleri, 2 to a room, 1 to the printer
    store = StoreRoom.objects.create(code="depo", name="Ana Depo", building=registry.hall)
    toner = ConsumableItem.objects.create(code="t59", name="HP 59A toner", kind="toner")
    consumables.receive(item=toner, store=store, quantity=12)
    fen = Department.objects.get(code="fen_isleri")
    consumables.issue(item=toner, store=store, quantity=3, department=fen)
    consumables.issue(item=toner, store=store, quantity=2, room=registry.office)
    consumables.issue(item=toner, store=store, quantity=1, asset=assets["DB-0002"])

    # line payments: two instalments paid by Fen İşleri this year
    sub = Subscription.objects.create(provider="Türksat", line_number="K-1", kind="internet",
                                      building=registry.hall, start_date=dt.date(year, 1, 1),
                                      monthly_fee=Decimal("400"), payment_day=10)
    payments.set_billing(subscription=sub, period_months=1, amount=Decimal("400"),
                         first_due=dt.date(year, 1, 10), paying_department=fen, today=end)
    for month in (1, 2):
        payments.record_payment(subscription=sub, due_date=dt.date(year, month, 10),
                                amount=Decimal("400"), paid_on=dt.date(year, month, 9),
                                today=end)

    # uploads: Park ve Bahçeler sends 100 (90 accepted) and 50 (50) features, one refused
    # file (an upload without a score), one dry run and one last year's batch (neither counts)
    batch("park_bahceler", read=100, loaded=90)
    batch("park_bahceler", read=50, loaded=50)
    batch("park_bahceler", read=0, loaded=0, status="refused")
    batch("park_bahceler", read=70, loaded=0, status="dry_run", policy="dry_run")
    batch("park_bahceler", read=40, loaded=40,
          created=timezone.make_aware(dt.datetime(year - 1, 6, 1)))

    report = activity_report(user=manager, year=year, today=end)
    assert report.as_of == end
    # the register at the year's end: 5 assets (two scrapped)
    assert rows(report, "assets_by_category") == [("Masaüstü bilgisayar", 3), ("Monitör", 1),
                                                  ("Yazıcı", 1)]
    assert rows(report, "assets_by_status") == [("Kullanımda", 3), ("Hurda", 2)]
    assert rows(report, "assets_by_age") == [("0-1 yıl", 1), ("1-3 yıl", 1), ("5-10 yıl", 1)]
    assert rows(report, "assets_acquired_scrapped") == [("Masaüstü bilgisayar", 1, 1)]
    assert rows(report, "consumables_issued") == [("HP 59A toner", "adet", 3 + 2 + 1, 3)]
    assert rows(report, "consumables_by_department") == [("Fen İşleri Müdürlüğü", 3),
                                                         ("Oda veya cihaza", 2 + 1)]
    assert rows(report, "line_payments") == [("Fen İşleri Müdürlüğü", 2, Decimal("800.00"))]
    assert rows(report, "uploads_quality") == [
        ("Park ve Bahçeler Müdürlüğü", 3, 150, 140, round(100 * 140 / 150, 1))]
    assert rows(report, "renewals") == []

    # the page, the workbook and the PDF say the same
    client = signed_in(manager)
    page = client.get(f"/registers/report/{year}/").content.decode()
    assert "Park ve Bahçeler Müdürlüğü" in page and "93.3" in page.replace(",", ".")
    from openpyxl import load_workbook

    response = client.get(f"/registers/report/{year}.xlsx")
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["uploads_quality"]
    assert [c.value for c in sheet[3]] == ["Park ve Bahçeler Müdürlüğü", 3, 150, 140, 93.3]
    assert [c.value for c in book["line_payments"][3]] == ["Fen İşleri Müdürlüğü", 2, 800.0]
    text = " ".join(pdf_text(client.get(f"/registers/report/{year}.pdf").content,
                             tmp_path).split())
    assert "Kategoriye göre BT varlıkları" in text and "Park ve Bahçeler Müdürlüğü" in text
    assert "HP 59A toner" in text and "Yaşa göre" in text


@pytest.mark.django_db
def test_tickets_and_uptime_come_from_the_modules_declarations(registry: Registry) -> None:
    from gis_core.models import Department
    from modules.helpdesk.models import Ticket
    from modules.netops.models import Alert, AssetReachability
    from modules.registers.activity_report import activity_report

    year = timezone.localdate().year - 1  # a whole past year
    tz = timezone.get_current_timezone()

    def at(month: int, day: int, hour: int = 9) -> dt.datetime:
        return dt.datetime(year, month, day, hour, tzinfo=tz)

    manager = member("mudur", "bilgi_islem", "manager")
    destek = Department.objects.get(code="teknik_destek")
    yazilim = Department.objects.get(code="yazilim")
    fen = Department.objects.get(code="fen_isleri")
    # (category, unit, opened, resolved, resolution due)
    made = [("hardware_fault", destek, at(1, 5), at(1, 5, 15), at(1, 6)),    # in time
            ("hardware_fault", destek, at(1, 20), at(1, 25), at(1, 21)),     # late
            ("hardware_fault", destek, at(3, 2), None, at(3, 3)),            # still open
            ("software_ebys", yazilim, at(3, 9), at(3, 9, 11), at(3, 10))]   # in time
    for n, (category, unit, opened, resolved, due) in enumerate(made, 1):
        Ticket.objects.create(number=f"T-{n}", title=f"talep {n}", category=category,
                              priority="normal", status="resolved" if resolved else "new",
                              reporter=registry.fen_viewer, reporter_department=fen,
                              responsible_unit=unit, opened_at=opened, resolved_at=resolved,
                              response_due_at=due, resolution_due_at=due)
    # two monitored devices in the hall; one was down 6 hours, in two outages
    for number in ("DB-0001", "DB-0010"):
        AssetReachability.objects.create(asset=registry.assets[number], state="up")
    for opened, closed in ((at(2, 1, 8), at(2, 1, 12)), (at(5, 1, 8), at(5, 1, 10))):
        Alert.objects.create(asset=registry.assets["DB-0001"], building=registry.hall,
                             source="probe", title="erişilemiyor", opened_at=opened,
                             closed_at=closed)

    report = activity_report(user=manager, year=year)
    by_category = {r[0]: r[1:] for r in rows(report, "tickets_by_category")}
    # (tickets, open, resolved, resolved in time, compliance %)
    assert by_category["Donanım arızası"] == (3, 1, 2, 1, 50.0)
    assert by_category["Yazılım talebi: EBYS"] == (1, 0, 1, 1, 100.0)
    by_unit = {r[0]: r[1:] for r in rows(report, "tickets_by_unit")}
    assert by_unit[destek.name] == (3, 1, 2, 1, 50.0)
    by_month = {r[0]: r[1] for r in rows(report, "tickets_by_month")}
    assert (by_month[f"{year}-01"], by_month[f"{year}-03"], by_month[f"{year}-02"]) == (2, 2, 0)
    assert len(by_month) == 12

    hours = (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days * 24
    assert rows(report, "network_uptime") == [
        (registry.hall.name, 2, 2, 6.0, round(100 * (1 - 6 / (2 * hours)), 3))]


@pytest.mark.django_db
def test_only_managers_and_gis_admins_open_the_report(registry: Registry) -> None:
    year = timezone.localdate().year
    assert signed_in(registry.tech).get(f"/registers/report/{year}/").status_code == 403
    assert signed_in(registry.fen_viewer).get(f"/registers/report/{year}.xlsx").status_code == 403
    gis = signed_in(member("cbs", "cbs", "gis_admin"))
    assert gis.get(f"/registers/report/{year}/").status_code == 200
    assert gis.get("/registers/report/").status_code == 302
    future = gis.get(f"/registers/report/{year + 1}/")
    assert future.status_code == 404 and "faaliyet raporu yok" in future.content.decode()


@pytest.mark.django_db
def test_the_command_writes_the_workbook(registry: Registry, tmp_path) -> None:
    from django.core.management import call_command
    from openpyxl import load_workbook

    from gis_core.errors import KentCBSError

    year = timezone.localdate().year
    member("mudur", "bilgi_islem", "manager")
    out = tmp_path / "rapor.xlsx"
    call_command("registers", "activity-report", "--year", str(year), "--user", "mudur",
                 "--out", str(out))
    book = load_workbook(out)
    # the registry's five assets, by category: three desktops, a monitor, a printer
    assert [tuple(c.value for c in row) for row in book["assets_by_category"].iter_rows(
        min_row=3, max_row=5)] == [("Masaüstü bilgisayar", 3), ("Monitör", 1), ("Yazıcı", 1)]
    with pytest.raises(KentCBSError) as nobody:
        call_command("registers", "activity-report", "--year", str(year), "--user", "kimse",
                     "--out", str(out))
    assert nobody.value.code == "REGISTERS_REPORT_USER"
