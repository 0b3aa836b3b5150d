"""Issue #21 §6: ``kentcbs registers remind``: one digest e-mail per responsible unit to a
real SMTP server (aiosmtpd), on the right days (60, 30, 7 before) under a frozen clock, never
twice a day, retried after a failure; the same items on the reminders page."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from email import message_from_bytes
from email.header import decode_header, make_header
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.urls import reverse

from modules.registers import reminders
from modules.registers.models import (
    Domain,
    ESignatureCard,
    ReminderDigest,
    SoftwareLicence,
    TlsCertificate,
)
from tests.conftest import free_port
from tests.people import member, signed_in

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 12, 7)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str, str]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        message = message_from_bytes(envelope.content)
        subject = str(make_header(decode_header(message["Subject"])))
        body = message.get_payload(decode=True).decode(message.get_content_charset() or "utf-8")
        self.messages.append((sorted(envelope.rcpt_tos), subject, body))
        return "250 OK"


def _mailer(settings: Any, port: int) -> None:
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": port,
                                                "timeout": 5}}}


@pytest.fixture
def inbox(settings: Any) -> Iterator[Inbox]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    _mailer(settings, port)
    try:
        yield handler
    finally:
        controller.stop()


def _unit(code: str) -> Any:
    from gis_core.models import Department

    return Department.objects.get(code=code)


def _people() -> dict[str, Any]:
    people = {"bim": member("bim.mudur", "bilgi_islem", "manager"),
              "mali": member("mali.veri", "mali_hizmetler", "data_entry"),
              "mali2": member("mali.mudur", "mali_hizmetler", "manager"),
              "cbs": member("cbs.admin", "cbs", "gis_admin"),
              "zabita": member("zabita.izleyici", "zabita", "viewer")}
    for name, user in people.items():
        user.email = f"{name}@belediye.bel.tr"
        user.save()
    return people


def _registers() -> None:
    """One item per kind, each due on its own day after TODAY."""
    SoftwareLicence.objects.create(product="Netcad GIS", seats=8, department=_unit("cbs"),
                                   ends_on=TODAY + dt.timedelta(days=60))
    Domain.objects.create(name="belediye.bel.tr", registrar="NIC.tr",
                          expires_on=TODAY + dt.timedelta(days=30),  # no unit: IT directorate
                          hosting_provider="Natro",
                          hosting_expires_on=TODAY + dt.timedelta(days=45))
    TlsCertificate.objects.create(common_name="*.belediye.bel.tr", issuer="Sectigo",
                                  expires_on=TODAY + dt.timedelta(days=8))
    ESignatureCard.objects.create(kind="esign", holder_name="Zeynep Kurt", serial="A1B2C3",
                                  issuer="Kamu SM", expires_on=TODAY + dt.timedelta(days=7),
                                  department=_unit("mali_hizmetler"))
    ESignatureCard.objects.create(kind="kep", holder_name="Ali Özdemir", serial="K-9",
                                  issuer="PTT KEP", expires_on=TODAY + dt.timedelta(days=7),
                                  revoked_on=TODAY, department=_unit("mali_hizmetler"))


def test_one_digest_per_unit_to_its_members(inbox: Inbox) -> None:
    _people()
    _registers()
    result = reminders.remind(today=TODAY)
    assert (result.items, result.digests, result.sent) == (3, 3, 3)
    by_rcpt = {tuple(rcpt): (subject, body) for rcpt, subject, body in inbox.messages}
    assert set(by_rcpt) == {("bim@belediye.bel.tr",), ("cbs@belediye.bel.tr",),
                            ("mali2@belediye.bel.tr", "mali@belediye.bel.tr")}
    subject, body = by_rcpt[("mali2@belediye.bel.tr", "mali@belediye.bel.tr")]
    assert subject == "[KentCBS] 07.12.2026 hatırlatmaları: Mali Hizmetler Müdürlüğü (1)"
    assert "E-imza kartı: seri A1B2C3 (Kamu SM)" in body and "7 gün kaldı" in body
    assert "Zeynep Kurt" not in body  # the holder is personal data: never in a digest
    assert "K-9" not in body  # revoked cards are not reminded of
    assert "belediye.bel.tr (NIC.tr)" in by_rcpt[("bim@belediye.bel.tr",)][1]
    assert "Netcad GIS" in by_rcpt[("cbs@belediye.bel.tr",)][1]
    assert ReminderDigest.objects.filter(day=TODAY, sent_at__isnull=False).count() == 3


def test_fires_60_30_7_days_before_and_on_no_other_day_under_a_frozen_clock(
        inbox: Inbox) -> None:
    _people()
    due = TODAY + dt.timedelta(days=70)
    SoftwareLicence.objects.create(product="AutoCAD", seats=3, department=_unit("cbs"),
                                   ends_on=due)
    fired = []
    start = due - dt.timedelta(days=70)
    for offset in range(0, 75):
        day = start + dt.timedelta(days=offset)
        before = len(inbox.messages)
        # 06:00 in Türkiye (UTC+3) of that day: the scheduler's usual hour
        with time_machine.travel(dt.datetime(day.year, day.month, day.day, 3, 0,
                                             tzinfo=dt.UTC), tick=False):
            call_command("registers", "remind", stdout=io.StringIO())
        if len(inbox.messages) > before:
            fired.append((due - day).days)
    assert fired == [60, 30, 7]
    assert [d.day for d in ReminderDigest.objects.order_by("day")] == [
        due - dt.timedelta(days=n) for n in (60, 30, 7)]


def test_a_second_run_the_same_day_sends_nothing(inbox: Inbox) -> None:
    _people()
    _registers()
    out = io.StringIO()
    call_command("registers", "remind", "--today", TODAY.isoformat(), stdout=out)
    assert "3 gönderildi;" in out.getvalue() and "3 sent;" in out.getvalue()
    assert len(inbox.messages) == 3
    out = io.StringIO()
    call_command("registers", "remind", "--today", TODAY.isoformat(), stdout=out)
    assert len(inbox.messages) == 3
    assert "0 gönderildi; 3 zaten gönderilmişti" in out.getvalue()
    assert ReminderDigest.objects.count() == 3


def test_a_failed_digest_is_retried_by_the_next_run(settings: Any) -> None:
    from gis_core.errors import KentCBSError

    _people()
    _registers()
    _mailer(settings, free_port())  # nothing listens there
    with pytest.raises(KentCBSError) as failed:
        call_command("registers", "remind", "--today", TODAY.isoformat(),
                     stdout=io.StringIO())
    assert failed.value.code == "REGISTERS_DIGEST_NOT_SENT"
    assert "gönderilemedi" in failed.value.text
    assert ReminderDigest.objects.filter(sent_at__isnull=True).exclude(error="").count() == 3
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        _mailer(settings, port)
        result = reminders.remind(today=TODAY)
    finally:
        controller.stop()
    assert (result.sent, result.skipped) == (3, 0) and len(handler.messages) == 3
    assert not ReminderDigest.objects.filter(sent_at__isnull=True).exists()


def test_other_sources_share_the_shape(inbox: Inbox) -> None:
    """A source from another register (e.g. line payments) only returns ReminderItems."""
    _people()

    def payments(*, today: dt.date) -> list[reminders.ReminderItem]:
        return [reminders.ReminderItem(unit=_unit("zabita"), kind="payment",
                                       title="Hat ödemesi / line payment: ADSL Zabıta",
                                       due=today + dt.timedelta(days=7),
                                       url="/registers/payments/")]

    result = reminders.remind(today=TODAY, sources=[payments])
    assert result.sent == 1
    [(rcpt, _subject, body)] = inbox.messages
    assert rcpt == ["zabita@belediye.bel.tr"] and "ADSL Zabıta" in body


def test_the_page_shows_the_same_items_per_unit(inbox: Inbox) -> None:
    people = _people()
    _registers()
    with time_machine.travel(dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC), tick=False):
        reminders.remind()
        mali = signed_in(people["mali"]).get(reverse("registers:reminders")).content.decode()
        it = signed_in(people["bim"]).get(reverse("registers:reminders")).content.decode()
    assert "seri A1B2C3" in mali and "Netcad GIS" not in mali
    assert "belediye.bel.tr (NIC.tr)" not in mali
    assert "Zeynep Kurt" not in mali
    for text in ("seri A1B2C3", "Netcad GIS", "belediye.bel.tr (NIC.tr)",
                 "Barındırma: belediye.bel.tr", "*.belediye.bel.tr"):
        assert text in it
    assert "gönderildi" in it and "serial" not in it and "hosting" not in it


def test_a_unit_without_addresses_is_reminded_through_the_it_directorate(inbox: Inbox) -> None:
    _people()
    ESignatureCard.objects.create(kind="esign", holder_name="Kemal Aslan", serial="Z-1",
                                  issuer="Kamu SM", expires_on=TODAY + dt.timedelta(days=30),
                                  department=_unit("kultur_sosyal"))  # nobody there
    result = reminders.remind(today=TODAY)
    assert (result.sent, result.failed) == (1, 0)
    [(rcpt, _subject, body)] = inbox.messages
    assert rcpt == ["bim@belediye.bel.tr"] and "Z-1" in body
    digest = ReminderDigest.objects.get()
    assert digest.department.code == "kultur_sosyal"
    assert digest.recipients == ["bim@belediye.bel.tr"]
