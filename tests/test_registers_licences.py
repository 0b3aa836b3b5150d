"""Issue #21 §2: software licences (seats, over-assignment refused), domains and TLS
certificates, e-signature cards and KEP accounts (holders as personal data: shown to the
allowed roles only, reads logged, purged after the retention); pages, admin, demo."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from modules.registers import esign, licences, reminders
from modules.registers.errors import RegistersError
from modules.registers.models import (
    Domain,
    ESignatureCard,
    LicenceAssignment,
    PersonalDataPurge,
    SoftwareLicence,
    TlsCertificate,
)
from tests.people import member, member_of, signed_in
from tests.test_registers_support import asset, build_registry

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 12, 7)


def _access_log(layer: str = esign.LOG_LAYER) -> list[Any]:
    from ogc_api.models import AccessLog

    return list(AccessLog.objects.filter(layer=layer).order_by("id"))


def _licence(seats: int = 2, **fields: Any) -> SoftwareLicence:
    return SoftwareLicence.objects.create(product="AutoCAD", vendor="Autodesk", seats=seats,
                                          **fields)


# -- licences ---------------------------------------------------------------------------------

def test_seats_in_use_and_over_assignment_refused_in_turkish_first() -> None:
    registry = build_registry()
    licence = _licence(seats=2)
    one, two = registry.assets["DB-0001"], registry.assets["DB-0002"]
    licences.assign(licence=licence, asset=one)
    licences.assign(licence=licence, user=registry.tech)
    row = licences.with_usage().get(pk=licence.pk)
    assert (row.seats, row.in_use, row.free) == (2, 2, 0)
    with pytest.raises(RegistersError) as refused:
        licences.assign(licence=licence, asset=two)
    assert refused.value.code == "REGISTERS_LICENCE_FULL"
    turkish, english = refused.value.text.split(" / ", 1)
    assert "AutoCAD için 2 lisans var ve hepsi kullanımda" in turkish
    assert english.startswith("AutoCAD has 2 seats and all are in use")
    assert LicenceAssignment.objects.filter(licence=licence).count() == 2
    # releasing a seat makes room again
    licences.release(assignment=LicenceAssignment.objects.get(licence=licence, asset=one))
    licences.assign(licence=licence, asset=two)
    assert licences.with_usage().get(pk=licence.pk).in_use == 2


def test_same_target_twice_scrapped_device_and_seats_below_use_are_refused() -> None:
    registry = build_registry()
    licence = _licence(seats=3)
    device = registry.assets["DB-0001"]
    licences.assign(licence=licence, asset=device)
    with pytest.raises(RegistersError) as twice:
        licences.assign(licence=licence, asset=device)
    assert twice.value.code == "REGISTERS_LICENCE_ALREADY"
    with pytest.raises(RegistersError) as neither:
        licences.assign(licence=licence)
    assert neither.value.code == "REGISTERS_LICENCE_TARGET"
    scrapped = asset("DB-0099", room=registry.office, department="fen_isleri",
                     status="scrapped")
    with pytest.raises(RegistersError) as gone:
        licences.assign(licence=licence, asset=scrapped)
    assert gone.value.code == "REGISTERS_ASSET_SCRAPPED"
    licences.assign(licence=licence, user=registry.tech)
    with pytest.raises(RegistersError) as fewer:
        licences.set_seats(licence=licence, seats=1)
    assert fewer.value.code == "REGISTERS_LICENCE_SEATS_IN_USE"
    assert licences.set_seats(licence=licence, seats=2).seats == 2


def test_the_database_refuses_over_assignment_by_any_path() -> None:
    from django.db import IntegrityError, transaction

    registry = build_registry()
    licence = _licence(seats=1)
    LicenceAssignment.objects.create(licence=licence, asset=registry.assets["DB-0001"])
    with pytest.raises(IntegrityError), transaction.atomic():
        LicenceAssignment.objects.create(licence=licence, asset=registry.assets["DB-0002"])
    licence.refresh_from_db()
    licence.seats = 2
    licence.save()
    LicenceAssignment.objects.create(licence=licence, user=registry.tech)
    with pytest.raises(IntegrityError), transaction.atomic():
        SoftwareLicence.objects.filter(pk=licence.pk).update(seats=1)
    assert LicenceAssignment.objects.filter(licence=licence).count() == 2


def test_licence_pages_assign_refuse_and_edit() -> None:
    registry = build_registry()
    licence = _licence(seats=1, ends_on=TODAY + dt.timedelta(days=30),
                       starts_on=TODAY - dt.timedelta(days=335))
    tech = signed_in(registry.tech)
    listing = tech.get(reverse("registers:licences"))
    assert listing.status_code == 200
    assert "AutoCAD" in listing.content.decode()
    assert signed_in(registry.fen_viewer).get(reverse("registers:licences")).status_code == 403
    detail = reverse("registers:licence_detail", args=[licence.pk])
    assert tech.post(detail, {"asset": "db-0001"}).status_code == 302
    assert licence.assignments.get().asset == registry.assets["DB-0001"]
    page = tech.post(detail, {"asset": "DB-0002"}, follow=True).content.decode()
    assert "AutoCAD için 1 lisans var ve hepsi kullanımda" in page
    page = tech.post(detail, {"username": "kimse-yok"}, follow=True).content.decode()
    assert "&#x27;kimse-yok&#x27; adlı kullanıcı yok" in page
    # the edit form refuses fewer seats than in use
    edit = tech.post(reverse("registers:licence_edit", args=[licence.pk]), {
        "product": "AutoCAD", "vendor": "Autodesk", "seats": "0"})
    assert edit.status_code == 200
    SoftwareLicence.objects.filter(pk=licence.pk, seats=1).get()
    created = tech.post(reverse("registers:licence_new"), {
        "product": "Netcad GIS", "seats": "5", "ends_on": "2027-03-01"})
    assert created.status_code == 302
    new = SoftwareLicence.objects.get(product="Netcad GIS")
    assert new.history.first().history_user == registry.tech


# -- domains and certificates -----------------------------------------------------------------

def _certificate_pem(common_name: str, not_after: dt.datetime) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Belediye CA")])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(key.public_key()).serial_number(0xBEEF01)
            .not_valid_before(not_after - dt.timedelta(days=365)).not_valid_after(not_after)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


def test_certificate_read_from_its_file_on_the_page() -> None:
    registry = build_registry()
    pem = _certificate_pem("kentrehberi.bel.tr", dt.datetime(2027, 2, 5, 12, tzinfo=dt.UTC))
    tech = signed_in(registry.tech)
    response = tech.post(reverse("registers:certificate_new"),
                         {"pem": SimpleUploadedFile("cert.pem", pem)})
    assert response.status_code == 302, response.content.decode()[:2000]
    cert = TlsCertificate.objects.get()
    assert (cert.common_name, cert.issuer, cert.serial, cert.expires_on) == (
        "kentrehberi.bel.tr", "Test Belediye CA", "BEEF01", dt.date(2027, 2, 5))
    bad = tech.post(reverse("registers:certificate_new"),
                    {"pem": SimpleUploadedFile("cert.pem", b"not a certificate")})
    assert bad.status_code == 200
    assert "Dosya bir sertifika değil" in bad.content.decode()
    domain = tech.post(reverse("registers:domain_new"), {
        "name": "belediye.bel.tr", "registrar": "NIC.tr", "expires_on": "2027-01-06"})
    assert domain.status_code == 302
    page = tech.get(reverse("registers:domains")).content.decode()
    assert "belediye.bel.tr" in page and "kentrehberi.bel.tr" in page


# -- e-signature cards and KEP accounts: personal data ----------------------------------------

def _cards() -> tuple[ESignatureCard, ESignatureCard]:
    from gis_core.models import Department

    unit = Department.objects.get(code="mali_hizmetler")
    card = ESignatureCard.objects.create(kind="esign", holder_name="Zeynep Kurt",
                                         serial="A1B2C3", issuer="Kamu SM",
                                         expires_on=TODAY + dt.timedelta(days=30),
                                         department=unit)
    kep = ESignatureCard.objects.create(kind="kep", holder_name="Ali Özdemir",
                                        kep_address="ali.ozdemir@belediye.hs01.kep.tr",
                                        serial="K-77", issuer="PTT KEP",
                                        expires_on=TODAY + dt.timedelta(days=300),
                                        department=unit)
    return card, kep


def test_holders_shown_to_allowed_roles_only_and_every_read_logged() -> None:
    registry = build_registry()
    card, _kep = _cards()
    network = member("ag.yonetici", "ag_yonetimi", "network_admin")
    outside_manager = member("mali.mudur", "mali_hizmetler", "manager")
    # a technician of the IT directorate (teknik_destek is under bilgi_islem) sees holders
    assert esign.may_see_holders(registry.tech)
    assert not esign.may_see_holders(network)
    assert not esign.may_see_holders(outside_manager)
    tech = signed_in(registry.tech)
    page = tech.get(reverse("registers:esign")).content.decode()
    assert "Zeynep Kurt" in page and "ali.ozdemir@belediye.hs01.kep.tr" in page
    log = _access_log()
    assert len(log) == 1 and log[0].user == registry.tech and log[0].via == "web"
    assert log[0].query == f"cards={card.pk},{_kep.pk}"
    detail = tech.get(reverse("registers:esign_detail", args=[card.pk])).content.decode()
    assert "Zeynep Kurt" in detail
    assert [e.query for e in _access_log()][-1] == f"cards={card.pk}"
    # an IT network admin sees the cards but not who holds them, and nothing is logged
    other = signed_in(network)
    page = other.get(reverse("registers:esign")).content.decode()
    assert "A1B2C3" in page and "Zeynep Kurt" not in page and "Ali Özdemir" not in page
    detail = other.get(reverse("registers:esign_detail", args=[card.pk])).content.decode()
    assert "Zeynep Kurt" not in detail and "görme yetkiniz yok" in detail
    edit = other.get(reverse("registers:esign_edit", args=[card.pk])).content.decode()
    assert "Zeynep Kurt" not in edit
    assert len(_access_log()) == 2
    # outside the IT roles the pages are closed
    assert signed_in(outside_manager).get(reverse("registers:esign")).status_code == 403
    # editing without the holder fields keeps the holder
    response = other.post(reverse("registers:esign_edit", args=[card.pk]), {
        "kind": "esign", "serial": "A1B2C3", "issuer": "Kamu SM",
        "expires_on": "2027-06-30"})
    assert response.status_code == 302
    card.refresh_from_db()
    assert (card.holder_name, card.expires_on) == ("Zeynep Kurt", dt.date(2027, 6, 30))


def test_admin_hides_holders_from_others_and_logs_reads() -> None:
    card, _kep = _cards()
    admin = member_of("kok", superuser=True)
    admin.is_staff = True
    admin.save()
    client = signed_in(admin)
    page = client.get(reverse("admin:registers_esignaturecard_change", args=[card.pk]))
    assert page.status_code == 200 and "Zeynep Kurt" in page.content.decode()
    assert [(e.via, e.query) for e in _access_log()] == [("admin", f"cards={card.pk}")]
    listing = client.get(reverse("admin:registers_esignaturecard_changelist"))
    assert listing.status_code == 200 and "Zeynep Kurt" not in listing.content.decode()


def test_purge_clears_holders_past_retention_with_their_history(settings: Any) -> None:
    settings.KENTCBS_REGISTERS_ESIGN_RETENTION_DAYS = 730
    old = ESignatureCard.objects.create(kind="esign", holder_name="Hasan Polat", serial="OLD-1",
                                        issuer="E-Tuğra", expires_on=TODAY - dt.timedelta(
                                            days=800))
    old.issuer = "E-Tuğra EBG"
    old.save()  # a second history row carrying the holder
    revoked = ESignatureCard.objects.create(kind="kep", holder_name="Gül Erdoğan",
                                            kep_address="gul@x.hs01.kep.tr", serial="KEP-2",
                                            issuer="PTT KEP", expires_on=TODAY,
                                            revoked_on=TODAY - dt.timedelta(days=731))
    recent = ESignatureCard.objects.create(kind="esign", holder_name="Murat Güneş",
                                           serial="NEW-3", issuer="Kamu SM",
                                           expires_on=TODAY - dt.timedelta(days=100))
    call_command("registers", "purge", "--today", TODAY.isoformat())
    for card in (old, revoked):
        card.refresh_from_db()
        assert (card.holder_name, card.kep_address) == ("", "")
        assert card.holder_purged_at is not None
        assert not card.history.exclude(holder_name="", kep_address="").exists()
    recent.refresh_from_db()
    assert recent.holder_name == "Murat Güneş" and recent.holder_purged_at is None
    assert recent.history.filter(holder_name="Murat Güneş").exists()
    record = PersonalDataPurge.objects.get()
    assert (record.cards, record.history_rows) == (2, 3)
    assert record.before == TODAY - dt.timedelta(days=730)
    assert record.actor.startswith("shell")
    # a second run finds nothing more
    call_command("registers", "purge", "--today", TODAY.isoformat())
    assert PersonalDataPurge.objects.order_by("-id").first().cards == 0


# -- attachments: building panel, dashboard, demo ---------------------------------------------

def test_building_panel_dashboard_figure_and_menu() -> None:
    from gis_core.modules import building_summaries, dashboard_figures, menu_for

    registry = build_registry()
    licence = _licence(seats=5, ends_on=dt.date.today() - dt.timedelta(days=3))
    licences.assign(licence=licence, asset=registry.assets["DB-0001"])
    panels = {s.title_en: s for s in building_summaries(user=registry.tech,
                                                         building=registry.hall)}
    assert dict(panels["Software licences"].lines)["Kullanılan lisans"] == "1"
    assert "Software licences" not in {s.title_en for s in building_summaries(
        user=registry.fen_viewer, building=registry.hall)}
    figure = next(f for f in dashboard_figures(user=registry.tech)
                  if f.code == "registers_expiring")
    assert figure.value == "1 / 1"
    assert not [f for f in dashboard_figures(user=registry.fen_viewer)
                if f.code == "registers_expiring"]
    urls = {item.url_name for item in menu_for(registry.tech)}
    assert {"registers:licences", "registers:domains", "registers:esign",
            "registers:reminders"} <= urls
    viewer_urls = {item.url_name for item in menu_for(registry.fen_viewer)}
    assert "registers:licences" not in viewer_urls and "registers:reminders" in viewer_urls


def test_demo_has_items_due_today_and_overdue() -> None:
    from modules.registers.demo import load_licences_demo

    build_registry()
    result = load_licences_demo(today=TODAY)
    assert result["created"] > 0
    assert load_licences_demo(today=TODAY)["created"] == 0  # idempotent
    due = reminders.collect(today=TODAY)
    kinds = {item.kind for item in due}
    assert {"licence", "domain", "hosting", "certificate", "esign", "kep"} <= kinds
    assert {(item.due - TODAY).days for item in due} == {60, 30, 7}
    coming = reminders.upcoming(today=TODAY)
    assert any(item.due < TODAY for item in coming)
    assert Domain.objects.count() == 4 and ESignatureCard.objects.count() == 8
    assert all(item.title.find("Koç") < 0 for item in due)  # no holder names in reminders
