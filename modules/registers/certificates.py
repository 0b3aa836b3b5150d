"""Domain names, their hosting, and TLS certificates: expiries and reminders.

Reminders fire 60, 30 and 7 days before a domain's expiry, its hosting's expiry and a
certificate's expiry (:mod:`modules.registers.reminders`). :func:`read_pem` fills a
certificate's subject, issuer, serial and expiry from its PEM file (the ``cryptography``
library), so nobody copies dates by hand.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext

from modules.registers.errors import RegistersError
from modules.registers.models import Domain, TlsCertificate
from modules.registers.reminders import ReminderItem, fires_on


def _domain_item(domain: Domain) -> ReminderItem:
    return ReminderItem(unit=domain.department, kind="domain",
                        title=gettext("Domain name: {name} ({registrar})").format(
                            name=domain.name, registrar=domain.registrar),
                        due=domain.expires_on,
                        url=reverse("registers:domains") + f"#domain-{domain.pk}")


def _hosting_item(domain: Domain) -> ReminderItem:
    assert domain.hosting_expires_on is not None
    return ReminderItem(unit=domain.department, kind="hosting",
                        title=gettext("Hosting: {name} ({provider})").format(
                            name=domain.name, provider=domain.hosting_provider),
                        due=domain.hosting_expires_on,
                        url=reverse("registers:domains") + f"#domain-{domain.pk}")


def _certificate_item(cert: TlsCertificate) -> ReminderItem:
    return ReminderItem(unit=cert.department, kind="certificate",
                        title=gettext("TLS certificate: {name} ({issuer})").format(
                            name=cert.common_name, issuer=cert.issuer),
                        due=cert.expires_on,
                        url=reverse("registers:domains") + f"#certificate-{cert.pk}")


def due_reminders(*, today: dt.date) -> list[ReminderItem]:
    """Domains, hostings and certificates expiring exactly 60, 30 or 7 days after ``today``."""
    days = [today + dt.timedelta(days=n) for n in (60, 30, 7)]
    items = [_domain_item(d) for d in Domain.objects.select_related("department")
             .filter(expires_on__in=days) if fires_on(d.expires_on, today)]
    items += [_hosting_item(d) for d in Domain.objects.select_related("department")
              .filter(hosting_expires_on__in=days) if fires_on(d.hosting_expires_on, today)]
    items += [_certificate_item(c) for c in TlsCertificate.objects.select_related("department")
              .filter(expires_on__in=days) if fires_on(c.expires_on, today)]
    return items


def upcoming(*, today: dt.date, horizon: int = 60) -> list[ReminderItem]:
    """Everything expiring within ``horizon`` days or expired in the last year."""
    low, high = today - dt.timedelta(days=365), today + dt.timedelta(days=horizon)
    domains = Domain.objects.select_related("department")
    items = [_domain_item(d) for d in domains.filter(expires_on__range=(low, high))]
    items += [_hosting_item(d) for d in domains.filter(hosting_expires_on__range=(low, high))]
    items += [_certificate_item(c) for c in TlsCertificate.objects.select_related("department")
              .filter(expires_on__range=(low, high))]
    return items


def read_pem(data: bytes) -> dict[str, Any]:
    """Subject CN, issuer, serial (hex) and expiry date of a PEM or DER certificate."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        cert = (x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data
                else x509.load_der_x509_certificate(data))
    except ValueError:
        raise RegistersError("REGISTERS_CERT_UNREADABLE",
                             "The file is not a certificate (PEM or DER).") from None

    def name(value: Any) -> str:
        for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME):
            attributes = value.get_attributes_for_oid(oid)
            if attributes:
                return str(attributes[0].value)
        return value.rfc4514_string()

    return {"common_name": name(cert.subject)[:253], "issuer": name(cert.issuer)[:200],
            "serial": format(cert.serial_number, "X")[:80],
            "expires_on": cert.not_valid_after_utc.date()}
