"""Renewals for the yearly activity report: licences, domains, hosting, TLS certificates and
e-signature cards / KEP accounts whose end date was moved later during a year.

A renewal is a change recorded in the model's history (django-simple-history) that moved an
end or expiry date later than it was in the record's previous history step; it is dated when
the change was made (``history_date``, in the local time zone). A record created with its
date, a date moved earlier (a correction) or a date cleared (a licence made perpetual) is not
a renewal. The registers keep one record per licence, domain, certificate and card and
renew it in place (the models have no "replaces" link), so a new record is never counted as
the renewal of another.

Each producer has the shape ``producer(*, year) -> list[(kind, name, renewed_on,
valid_until)]`` named in :data:`modules.registers.activity_report.RENEWAL_PRODUCERS`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext

Row = tuple[str, str, dt.date, dt.date]


def _year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    return (timezone.make_aware(dt.datetime(year, 1, 1)),
            timezone.make_aware(dt.datetime(year + 1, 1, 1)))


def _moved_later(model: type[models.Model], field: str, *, year: int,
                 kind: str | Callable[[Any], str], name: Callable[[Any], str]) -> list[Row]:
    """Every history step of ``model`` in ``year`` that moved ``field`` later."""
    start, end = _year_bounds(year)
    history = model.history.model  # type: ignore[attr-defined]
    changed = set(history.objects.filter(history_type="~", history_date__gte=start,
                                         history_date__lt=end)
                  .values_list("id", flat=True))
    rows: list[Row] = []
    steps = (history.objects.filter(id__in=changed, history_date__lt=end)
             .order_by("id", "history_date", "history_id"))
    previous: Any = None
    for step in steps:
        if previous is not None and previous.id == step.id and step.history_type == "~":
            before, after = getattr(previous, field), getattr(step, field)
            if (before is not None and after is not None and after > before
                    and step.history_date >= start):
                label = kind(step) if callable(kind) else kind
                rows.append((label, name(step), timezone.localdate(step.history_date), after))
        previous = step
    return rows


def licences(*, year: int) -> list[Row]:
    """Software licences whose end date was moved later in ``year``."""
    from modules.registers.models import SoftwareLicence

    return _moved_later(SoftwareLicence, "ends_on", year=year, kind=gettext("Licence"),
                        name=lambda step: step.product)


def domains(*, year: int) -> list[Row]:
    """Domain names and their hosting, and TLS certificates, renewed in ``year``."""
    from modules.registers.models import Domain, TlsCertificate

    return [*_moved_later(Domain, "expires_on", year=year, kind=gettext("Domain name"),
                          name=lambda step: step.name),
            *_moved_later(Domain, "hosting_expires_on", year=year, kind=gettext("Hosting"),
                          name=lambda step: step.name),
            *_moved_later(TlsCertificate, "expires_on", year=year,
                          kind=gettext("TLS certificate"), name=lambda step: step.common_name)]


def esign_cards(*, year: int) -> list[Row]:
    """E-signature cards and KEP accounts renewed in ``year`` (named by serial and issuer,
    never by their holder: the holder is personal data)."""
    from modules.registers.models import ESignatureCard

    words = {"esign": gettext("E-signature card"), "kep": gettext("KEP account")}
    return _moved_later(ESignatureCard, "expires_on", year=year,
                        kind=lambda step: words.get(step.kind, step.kind),
                        name=lambda step: f"{step.serial} ({step.issuer})")
