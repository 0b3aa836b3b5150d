"""Line payments (issue #21 §3): due dates from the billing plan, payments against them, the
due and overdue lists, monthly cost per building and department, reminders, and the map."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from gis_core.errors import KentCBSError
from tests.people import member, signed_in
from tests.test_registers_support import Registry
from tests.test_registers_support import registry as registry

D = dt.date
TODAY = D(2026, 12, 9)


def line(building, number: str, *, fee: str, day: int, start: D, end: D | None = None):
    from gis_core.models import Subscription

    return Subscription.objects.create(provider="Türk Telekom", line_number=number, kind="data",
                                       building=building, start_date=start, end_date=end,
                                       monthly_fee=Decimal(fee), payment_day=day)


@pytest.fixture
def lines(registry: Registry):
    from gis_core.models import Department
    from modules.registers import payments

    fen = Department.objects.get(code="fen_isleri")
    zabita = Department.objects.get(code="zabita")
    # quarterly, paid on the 31st (short months: their last day), contract ends 31.01.2027
    hall = line(registry.hall, "0222 111 11 11", fee="500", day=31, start=D(2026, 1, 1),
                end=D(2027, 1, 31))
    payments.set_billing(subscription=hall, period_months=3, amount=Decimal("1500.00"),
                         first_due=D(2026, 1, 31), paying_department=fen, today=TODAY)
    # monthly on the 15th, from November
    annex = line(registry.annex, "0222 222 22 22", fee="250", day=15, start=D(2026, 11, 1))
    payments.set_billing(subscription=annex, period_months=1, amount=Decimal("250.00"),
                         first_due=D(2026, 11, 15), paying_department=zabita, today=TODAY)
    # no billing plan: no due dates, its core monthly fee counts as its cost
    spare = line(registry.hall, "0222 333 33 33", fee="100", day=1, start=D(2026, 6, 1))
    return hall, annex, spare


def test_due_dates_follow_period_amount_and_contract_end(lines) -> None:
    from modules.registers import payments
    from modules.registers.models import LineBilling

    hall, annex, _spare = lines
    assert payments.due_dates(LineBilling.objects.get(subscription=hall),
                              until=D(2030, 1, 1)) == [
        D(2026, 1, 31), D(2026, 4, 30), D(2026, 7, 31), D(2026, 10, 31), D(2027, 1, 31)]
    assert payments.due_dates(LineBilling.objects.get(subscription=annex),
                              until=D(2027, 2, 20)) == [
        D(2026, 11, 15), D(2026, 12, 15), D(2027, 1, 15), D(2027, 2, 15)]


def test_an_overdue_payment_is_in_the_due_list_and_on_the_map(registry: Registry, lines) -> None:
    from gis_core.models import Building
    from gis_core.modules import building_summaries
    from modules.registers import payments
    from modules.registers.models import LineBuildingStatus

    hall, annex, spare = lines
    for due in (D(2026, 1, 31), D(2026, 4, 30), D(2026, 7, 31)):
        payments.record_payment(subscription=hall, due_date=due, amount=Decimal("1500"),
                                paid_on=due, today=TODAY)
    # the October instalment is paid in part: 500 TL still open
    payments.record_payment(subscription=hall, due_date=D(2026, 10, 31),
                            amount=Decimal("1000"), paid_on=D(2026, 11, 2), reference="D-77",
                            today=TODAY)
    payments.record_payment(subscription=annex, due_date=D(2026, 11, 15),
                            amount=Decimal("250"), paid_on=D(2026, 11, 14), today=TODAY)

    overdue = payments.overdue(today=TODAY)
    assert [(i.subscription, i.due_date, i.outstanding) for i in overdue] == [
        (hall, D(2026, 10, 31), Decimal("500.00"))]
    assert [(i.subscription, i.due_date, i.outstanding)
            for i in payments.due_this_month(today=TODAY)] == [
        (annex, D(2026, 12, 15), Decimal("250.00"))]

    # refused: a date that is no due date, a line without a plan, a zero amount
    for kwargs, code in (({"subscription": hall, "due_date": D(2026, 11, 30)},
                          "REGISTERS_LINE_NOT_DUE"),
                         ({"subscription": spare, "due_date": D(2026, 11, 1)},
                          "REGISTERS_LINE_NOT_BILLED")):
        with pytest.raises(KentCBSError) as refused:
            payments.record_payment(amount=Decimal("1"), paid_on=TODAY, today=TODAY, **kwargs)
        assert refused.value.code == code
    with pytest.raises(KentCBSError) as zero:
        payments.record_payment(subscription=annex, due_date=D(2026, 12, 15), amount=Decimal(0),
                                paid_on=TODAY, today=TODAY)
    assert zero.value.code == "REGISTERS_PAYMENT_AMOUNT"
    with pytest.raises(KentCBSError) as twice:  # the same receipt entered again
        payments.record_payment(subscription=annex, due_date=D(2026, 11, 15),
                                amount=Decimal("250"), paid_on=TODAY, today=TODAY)
    assert twice.value.code == "REGISTERS_DUE_ALREADY_PAID"

    # the map: the hall (one overdue line, 500 TL since 31.10) and nothing else
    status = LineBuildingStatus.objects.get()
    assert (status.building, status.overdue_lines, status.overdue_amount, status.oldest_due) \
        == (registry.hall, 1, Decimal("500.00"), D(2026, 10, 31))
    assert registry.hall.footprint.contains(status.location)
    reader = signed_in(member("bt", "bilgi_islem", "technician"))
    features = reader.get("/ogc/collections/hat_odeme_gecikmesi/items?f=json").json()["features"]
    assert [(f["properties"]["bina_kodu"], f["properties"]["geciken_hat"],
             float(f["properties"]["geciken_tutar"]), f["properties"]["en_eski_vade"])
            for f in features] == [("B001", 1, 500.0, "2026-10-31")]
    # not for other departments
    outsider = signed_in(member("zb", "zabita", "viewer"))
    assert outsider.get("/ogc/collections/hat_odeme_gecikmesi/items?f=json").status_code == 404
    # the building panel says so
    panels = building_summaries(user=registry.tech,
                                building=Building.objects.get(pk=registry.hall.pk))
    lines_panel = next(p for p in panels if p.title_en == "Line payments")
    assert dict(lines_panel.lines)["Gecikmiş hat ödemesi"].startswith("1 hat, 500.00 TL")

    # paid in full: off the list and off the map
    payments.record_payment(subscription=hall, due_date=D(2026, 10, 31), amount=Decimal("500"),
                            paid_on=TODAY, today=TODAY)
    assert payments.overdue(today=TODAY) == []
    assert not LineBuildingStatus.objects.exists()
    assert reader.get("/ogc/collections/hat_odeme_gecikmesi/items?f=json").json()[
        "features"] == []
    # ... until the next due date passes unpaid (the daily refresh)
    assert payments.refresh_overdue_map(today=D(2026, 12, 16)) == 1
    assert LineBuildingStatus.objects.get().building == registry.annex


def test_monthly_cost_per_building_and_department(lines) -> None:
    from modules.registers import payments

    costs = payments.monthly_costs(month=D(2026, 12, 1))
    # hall: 1500 / 3 + the unplanned line's 100; annex: 250
    assert [(r.label, r.lines, r.monthly) for r in costs["buildings"]] == [
        ("Belediye Hizmet Binası", 2, Decimal("600.00")), ("Çarşı Ek Binası", 1, Decimal("250.00"))]
    by_department = {r.label: (r.lines, r.monthly) for r in costs["departments"]}
    assert by_department == {"Fen İşleri Müdürlüğü": (1, Decimal("500.00")),
                             "Zabıta Müdürlüğü": (1, Decimal("250.00")),
                             "—": (1, Decimal("100.00"))}
    # before the annex's and the spare line's contracts began: the hall's line only
    earlier = payments.monthly_costs(month=D(2026, 3, 1))
    assert [(r.label, r.monthly) for r in earlier["buildings"]] == [
        ("Belediye Hizmet Binası", Decimal("500.00"))]


def test_due_reminders_in_the_shared_shape(lines) -> None:
    from modules.registers import payments
    from modules.registers.reminder_items import ReminderItem

    hall, _annex, spare = lines
    for due in (D(2026, 1, 31), D(2026, 4, 30), D(2026, 7, 31)):
        payments.record_payment(subscription=hall, due_date=due, amount=Decimal("1500"),
                                paid_on=due, today=TODAY)
    reminders = payments.due_reminders(today=TODAY)
    assert all(isinstance(r, ReminderItem) for r in reminders)
    assert [(r.unit.code if r.unit else None, r.kind, r.due) for r in reminders] == [
        ("fen_isleri", "line_payment_overdue", D(2026, 10, 31)),
        ("zabita", "line_payment_overdue", D(2026, 11, 15)),
        ("zabita", "line_payment_due", D(2026, 12, 15)),
        ("fen_isleri", "line_contract_end", D(2027, 1, 31)),
    ]
    assert all(r.url.startswith("/registers/lines/#line-") for r in reminders)
    # 60 days' notice: on 1 December 2026 the contract end (61 days away) is not yet reminded
    early = payments.due_reminders(today=D(2026, 12, 1))
    assert "line_contract_end" not in {r.kind for r in early}
    # a line without a plan: its contract end is reminded too (60 days, the IT list)
    spare.end_date = D(2027, 2, 1)
    spare.save()
    ends = [(r.unit, r.due) for r in payments.due_reminders(today=TODAY)
            if r.kind == "line_contract_end"]
    assert ends == [(hall.billing.paying_department, D(2027, 1, 31)), (None, D(2027, 2, 1))]


def test_the_payments_page_lists_and_records(registry: Registry) -> None:
    from django.utils import timezone

    from modules.registers import payments

    today = timezone.localdate()
    month_start = today.replace(day=1)
    two_months_ago = (month_start - dt.timedelta(days=40)).replace(day=1)
    hall = line(registry.hall, "0222 444 44 44", fee="300", day=1, start=two_months_ago)
    payments.set_billing(subscription=hall, period_months=1, amount=Decimal("300"),
                         first_due=two_months_ago)
    client = signed_in(registry.tech)
    page = client.get("/registers/lines/").content.decode()
    assert "0222 444 44 44" in page and two_months_ago.strftime("%d.%m.%Y") in page
    response = client.post("/registers/lines/", {
        "line": hall.pk, "due_date": two_months_ago.isoformat(), "amount": "300",
        "paid_on": today.isoformat(), "reference": "D-1"})
    assert response.status_code == 302
    # the oldest instalment is paid: the overdue list now starts a month later
    assert two_months_ago not in {i.due_date for i in payments.overdue(today=today)}
    bad = client.post("/registers/lines/", {"line": hall.pk, "due_date": "dün", "amount": "1"},
                      follow=True).content.decode()
    assert "bir tarih değil" in bad
    assert signed_in(registry.fen_viewer).get("/registers/lines/").status_code == 403


def test_the_daily_refresh_command(registry: Registry, lines) -> None:
    from django.core.management import call_command

    from modules.registers.models import LineBuildingStatus

    # nothing paid: on 1 February 2026 the hall's January instalment is overdue
    call_command("registers", "payments-refresh", "--today", "2026-02-01")
    assert list(LineBuildingStatus.objects.values_list("building__code", "overdue_amount")) == [
        ("B001", Decimal("1500.00"))]
    call_command("registers", "payments-refresh", "--today", "2026-01-15")
    assert not LineBuildingStatus.objects.exists()


def test_the_demo_plans_leave_some_lines_overdue(registry: Registry) -> None:
    from modules.registers import payments
    from modules.registers.models import LineBilling, LineBuildingStatus

    for n in range(4):
        line(registry.hall if n % 2 else registry.annex, f"D-{n}", fee="100", day=5,
             start=D(2025, 1, 1))
    first = payments.load_demo(today=TODAY)
    assert first["plans"] == 4 == LineBilling.objects.count()
    # lines 0 and 3 (every third) leave their last instalment before today unpaid
    late = {item.subscription.line_number for item in payments.overdue(today=TODAY)}
    assert late == {"D-0", "D-3"}
    assert set(LineBuildingStatus.objects.values_list("building__code", flat=True)) == {
        "B001", "B002"}
    # the unpaid instalments of 5 December are also in this month's list
    assert {i.subscription.line_number for i in payments.due_this_month(today=TODAY)} == late
    assert payments.load_demo(today=TODAY)["payments"] == 0  # idempotent
