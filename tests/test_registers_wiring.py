"""Issue #21: the registers wired together: line payments in the daily reminder digest, on the
reminders page and the dashboard figure; ``kentcbs registers remind`` also refreshes the
overdue-lines map; licence, domain, certificate and e-signature renewals in the activity
report (numbers by hand)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.management import call_command

from tests.people import member, signed_in
from tests.test_registers_payments import lines as lines
from tests.test_registers_remind import Inbox
from tests.test_registers_remind import inbox as inbox
from tests.test_registers_support import Registry
from tests.test_registers_support import registry as registry

D = dt.date
pytestmark = pytest.mark.django_db
TODAY = D(2026, 12, 9)


def _at(day: D, hour: int = 3) -> dt.datetime:
    """``hour`` o'clock UTC of ``day`` (06:00 in Türkiye: the scheduler's usual hour)."""
    return dt.datetime(day.year, day.month, day.day, hour, 0, tzinfo=dt.UTC)


def test_an_overdue_line_payment_reaches_its_paying_unit_and_the_map(
        registry: Registry, lines: Any, inbox: Inbox) -> None:
    from modules.registers import payments
    from modules.registers.models import LineBuildingStatus, ReminderDigest

    hall, annex, _spare = lines
    fen = member("fen.mudur", "fen_isleri", "manager")
    fen.email = "fen@belediye.bel.tr"
    fen.save()
    zabita = member("zabita.mudur", "zabita", "manager")
    zabita.email = "zabita@belediye.bel.tr"
    zabita.save()
    # the hall's line is paid up to July; the annex's line fully (November and December)
    for due in (D(2026, 1, 31), D(2026, 4, 30), D(2026, 7, 31)):
        payments.record_payment(subscription=hall, due_date=due, amount=Decimal("1500"),
                                paid_on=due, today=D(2026, 8, 1))
    for due in (D(2026, 11, 15), D(2026, 12, 15)):
        payments.record_payment(subscription=annex, due_date=due, amount=Decimal("250"),
                                paid_on=due, today=D(2026, 8, 1))
    LineBuildingStatus.objects.all().delete()  # as if the map had not been refreshed
    out = io.StringIO()
    with time_machine.travel(_at(TODAY), tick=False):
        call_command("registers", "remind", stdout=out)
    digests = {tuple(rcpt): body for rcpt, _subject, body in inbox.messages}
    assert set(digests) == {("fen@belediye.bel.tr",)}
    body = digests[("fen@belediye.bel.tr",)]
    # the October instalment (1500 TL, unpaid): overdue for 39 days; the contract end too
    assert "0222 111 11 11" in body and "31.10.2026" in body and "1500,00 TL" in body
    assert "hattının 31.10.2026 vadeli 1500,00 TL ödemesi gecikti" in body
    assert "39 gün gecikmiş" in body
    assert "31.01.2027" in body
    digest = ReminderDigest.objects.get(day=TODAY)
    assert digest.department.code == "fen_isleri"
    assert [(i["kind"], i["due"]) for i in digest.items] == [
        ("line_payment_overdue", "2026-10-31"), ("line_contract_end", "2027-01-31")]
    # the same daily run rebuilt the map: the hall's building has one overdue line
    assert list(LineBuildingStatus.objects.values_list(
        "building__code", "overdue_lines", "overdue_amount", "oldest_due")) == [
        ("B001", 1, Decimal("1500.00"), D(2026, 10, 31))]
    text = out.getvalue()
    assert "1 gönderildi" in text and "gecikmiş hat ödemesi olan 1 bina" in text
    # nothing overdue any more: the next run empties the map
    payments.record_payment(subscription=hall, due_date=D(2026, 10, 31),
                            amount=Decimal("1500"), paid_on=TODAY, today=D(2026, 8, 1))
    with time_machine.travel(_at(TODAY + dt.timedelta(days=1)), tick=False):
        call_command("registers", "remind", stdout=io.StringIO())
    assert not LineBuildingStatus.objects.exists()


def test_line_payments_on_the_reminders_page_and_the_dashboard(
        registry: Registry, lines: Any) -> None:
    from modules.registers import reminders

    _hall, _annex, _spare = lines
    items = reminders.upcoming(today=TODAY)
    # nothing paid: the hall's four past instalments and the annex's November one are
    # overdue, the annex's December one due within 60 days, the hall's contract ends in 53
    kinds = [(i.kind, i.due) for i in items if i.kind.startswith("line_")]
    assert kinds == [
        ("line_payment_overdue", D(2026, 1, 31)), ("line_payment_overdue", D(2026, 4, 30)),
        ("line_payment_overdue", D(2026, 7, 31)), ("line_payment_overdue", D(2026, 10, 31)),
        ("line_payment_overdue", D(2026, 11, 15)), ("line_payment_due", D(2026, 12, 15)),
        ("line_payment_due", D(2027, 1, 15)), ("line_contract_end", D(2027, 1, 31)),
        ("line_payment_due", D(2027, 1, 31))]
    with time_machine.travel(_at(TODAY, 9), tick=False):
        page = signed_in(registry.tech).get("/registers/reminders/").content.decode()
        figures = reminders.dashboard_figures(user=registry.tech)
    assert "0222 111 11 11" in page and "0222 222 22 22" in page
    assert "0222 111 11 11 hattının 31.10.2026 vadeli 1500,00 TL ödemesi gecikti" in page
    assert "31.01.2026 <strong class=\"alert\">312 gündür gecikmiş</strong>" in page
    (figure,) = figures
    assert figure.value == "5 / 9"
    rows = {label: value for label, value, _url in figure.rows}
    assert rows == {"Hat ödemesi (gecikmiş)": 5.0, "Hat ödemesi": 3.0,
                    "Hat sözleşmesi bitişi": 1.0}


def test_renewals_in_the_activity_report(registry: Registry) -> None:
    from gis_core.models import Department
    from modules.registers.activity_report import activity_report
    from modules.registers.models import (
        Domain,
        ESignatureCard,
        SoftwareLicence,
        TlsCertificate,
    )

    cbs = Department.objects.get(code="cbs")
    with time_machine.travel(_at(D(2025, 3, 1), 9), tick=False):
        netcad = SoftwareLicence.objects.create(product="Netcad GIS", seats=8, department=cbs,
                                                ends_on=D(2025, 12, 31))
        autocad = SoftwareLicence.objects.create(product="AutoCAD", seats=2,
                                                 ends_on=D(2026, 6, 30))
        domain = Domain.objects.create(name="belediye.bel.tr", registrar="NIC.tr",
                                       expires_on=D(2026, 2, 1), hosting_provider="Natro",
                                       hosting_expires_on=D(2026, 5, 1))
        cert = TlsCertificate.objects.create(common_name="*.belediye.bel.tr", issuer="Sectigo",
                                             expires_on=D(2026, 4, 10))
        card = ESignatureCard.objects.create(kind="esign", holder_name="Zeynep Kurt",
                                             serial="A1B2C3", issuer="Kamu SM",
                                             expires_on=D(2026, 3, 1))
        kep = ESignatureCard.objects.create(kind="kep", holder_name="Ali Özdemir",
                                            serial="K-9", issuer="PTT KEP",
                                            expires_on=D(2026, 9, 1))
    # 2025: Netcad renewed on 20 December (a 2025 renewal, not one of 2026)
    with time_machine.travel(_at(D(2025, 12, 20), 9), tick=False):
        netcad.ends_on = D(2026, 12, 31)
        netcad.save()
    with time_machine.travel(_at(D(2026, 1, 15), 9), tick=False):
        domain.expires_on = D(2027, 2, 1)  # the domain for a year
        domain.save()
        netcad.note = "fatura 2026/14"  # a change that moves no date: no renewal
        netcad.save()
    with time_machine.travel(_at(D(2026, 4, 2), 9), tick=False):
        cert.expires_on = D(2027, 4, 10)
        cert.save()
        domain.hosting_expires_on = D(2027, 5, 1)  # the hosting, a second step
        domain.save()
    with time_machine.travel(_at(D(2026, 2, 20), 9), tick=False):
        card.expires_on = D(2029, 3, 1)
        card.save()
    with time_machine.travel(_at(D(2026, 6, 1), 9), tick=False):
        autocad.ends_on = D(2026, 5, 31)  # a correction to an earlier date: not a renewal
        autocad.save()
        kep.expires_on = D(2027, 9, 1)
        kep.save()
    # created in 2026 with its date: a new licence, not a renewal
    with time_machine.travel(_at(D(2026, 7, 1), 9), tick=False):
        SoftwareLicence.objects.create(product="ArcGIS Pro", seats=1, ends_on=D(2027, 7, 1))
    # 31 December 23:30 in Türkiye is still 2026 (20:30 UTC): counted in 2026
    with time_machine.travel(dt.datetime(2026, 12, 31, 20, 30, tzinfo=dt.UTC), tick=False):
        autocad.ends_on = D(2027, 5, 31)
        autocad.save()

    manager = member("bim.mudur", "bilgi_islem", "manager")

    def renewals(year: int) -> list[tuple[Any, ...]]:
        report = activity_report(user=manager, year=year, today=D(2027, 1, 10))
        return [tuple(str(v) for v in row) for row in report.table("renewals").rows]

    assert renewals(2026) == [
        ("Alan adı", "belediye.bel.tr", "2026-01-15", "2027-02-01"),
        ("E-imza kartı", "A1B2C3 (Kamu SM)", "2026-02-20", "2029-03-01"),
        ("TLS sertifikası", "*.belediye.bel.tr", "2026-04-02", "2027-04-10"),
        ("Barındırma", "belediye.bel.tr", "2026-04-02", "2027-05-01"),
        ("KEP hesabı", "K-9 (PTT KEP)", "2026-06-01", "2027-09-01"),
        ("Lisans", "AutoCAD", "2026-12-31", "2027-05-31"),
    ]
    assert renewals(2025) == [("Lisans", "Netcad GIS", "2025-12-20", "2026-12-31")]
    # the holder is personal data: never in the report
    assert "Zeynep" not in repr(renewals(2026))


def test_the_map_is_refreshed_even_when_a_digest_cannot_be_sent(
        registry: Registry, lines: Any, settings: Any) -> None:
    from gis_core.errors import KentCBSError
    from modules.registers.models import LineBuildingStatus
    from tests.conftest import free_port
    from tests.test_registers_remind import _mailer

    fen = member("fen.mudur", "fen_isleri", "manager")
    fen.email = "fen@belediye.bel.tr"
    fen.save()
    LineBuildingStatus.objects.all().delete()
    _mailer(settings, free_port())  # nothing listens there
    with time_machine.travel(_at(TODAY), tick=False), \
            pytest.raises(KentCBSError) as failed:
        call_command("registers", "remind", stdout=io.StringIO())
    assert failed.value.code == "REGISTERS_DIGEST_NOT_SENT"
    # nothing paid: both buildings have overdue lines (the hall's and the annex's)
    assert sorted(LineBuildingStatus.objects.values_list("building__code", flat=True)) == [
        "B001", "B002"]
