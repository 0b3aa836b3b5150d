"""Daily reminders of what expires or falls due, one digest per responsible unit.

Every register that has due dates offers a *source*: ``source(*, today) -> list[ReminderItem]``
returning the items that should be reminded of on ``today`` (licences, domains, hosting, TLS
certificates, e-signature cards and KEP accounts, and line payments
(``modules.registers.payments.due_reminders``: overdue instalments every day)).
:func:`remind` groups the items by unit and sends one e-mail per unit (SMTP through
``settings.MAILERS``) to the unit's active members; a unit with no unit of its own goes to the
IT directorate (``KENTCBS_REGISTERS_IT_UNIT``), and so does the digest of a unit none of whose
members has an e-mail address. Each digest is stored (``ReminderDigest``,
one per unit and day), so a second run on the same day sends nothing new; a digest whose
e-mail failed is retried by the next run. ``kentcbs registers remind`` runs it daily (cron or
a systemd timer) and then rebuilds the overdue-lines map (``payments.refresh_overdue_map``);
the page ``/registers/reminders/`` shows the same items.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from modules.registers.reminder_items import ReminderItem

logger = logging.getLogger(__name__)

#: Days before the due date on which a reminder fires (and on no other day).
REMINDER_DAYS = (60, 30, 7)


Source = Callable[..., list[ReminderItem]]


def fires_on(due: dt.date | None, today: dt.date) -> bool:
    """Whether a due date is reminded of on ``today``: exactly 60, 30 or 7 days before."""
    return due is not None and (due - today).days in REMINDER_DAYS


def _sources() -> list[Source]:
    from modules.registers import certificates, esign, licences, payments

    return [licences.due_reminders, certificates.due_reminders, esign.due_reminders,
            payments.due_reminders]


#: The sources :func:`collect` asks; a callable so that the list is read at run time.
SOURCES: Callable[[], list[Source]] = _sources


def collect(*, today: dt.date, sources: Sequence[Source] | None = None) -> list[ReminderItem]:
    """Every source's items for ``today``, by due date."""
    items: list[ReminderItem] = []
    for source in (SOURCES() if sources is None else sources):
        items.extend(source(today=today))
    return sorted(items, key=lambda i: (i.due, i.kind, i.title))


def it_unit() -> Any:
    from gis_core.models import Department

    code = getattr(settings, "KENTCBS_REGISTERS_IT_UNIT", "bilgi_islem")
    return Department.objects.filter(code=code).first()


def by_unit(items: Sequence[ReminderItem]) -> dict[Any, list[ReminderItem]]:
    """Items grouped by the responsible unit (``None`` becomes the IT directorate)."""
    fallback = it_unit()
    groups: dict[Any, list[ReminderItem]] = {}
    for item in items:
        unit = item.unit if item.unit is not None else fallback
        if unit is None:
            logger.warning("registers: no unit for reminder %s and no IT unit", item.title)
            continue
        groups.setdefault(unit, []).append(item)
    return groups


def _emails(unit: Any) -> list[str]:
    from django.contrib.auth import get_user_model

    from gis_core.models import Membership

    users = Membership.objects.filter(department=unit, user__is_active=True).values_list(
        "user_id", flat=True)
    return sorted({e for e in get_user_model().objects.filter(pk__in=users)
                   .values_list("email", flat=True) if e})


def recipients(unit: Any) -> list[str]:
    """E-mail addresses of the unit's active members; when none of them has one, the IT
    directorate's (so that no reminder is lost silently)."""
    emails = _emails(unit)
    if not emails:
        fallback = it_unit()
        if fallback is not None and fallback != unit:
            emails = _emails(fallback)
    return emails


def _absolute(url: str) -> str:
    base = str(getattr(settings, "KENTCBS_SITE_URL", "") or "").rstrip("/")
    return f"{base}{url}" if base and url.startswith("/") else url


def digest_text(unit: Any, items: Sequence[dict[str, Any]], today: dt.date) -> tuple[str, str]:
    """Subject and body of one unit's digest, in the active language (:func:`remind` makes it
    the site's language, ``LANGUAGE_CODE``)."""
    subject = gettext("[KentCBS] Reminders of {day}: {unit} ({count})").format(
        day=f"{today:%d.%m.%Y}", unit=unit.name, count=len(items))
    lines = [gettext("{unit}: coming due and overdue").format(unit=unit.name), ""]
    for item in items:
        due = dt.date.fromisoformat(item["due"])
        days = int(item["days"])
        when = (gettext("{days} days left") if days >= 0 else gettext("{days} days overdue"))
        lines.append(f"- {due:%d.%m.%Y} ({when.format(days=abs(days))}): {item['title']}")
        if item.get("url"):
            lines.append(f"  {_absolute(item['url'])}")
    return subject, "\n".join(lines) + "\n"


@dataclass(frozen=True)
class RemindResult:
    items: int
    digests: int
    sent: int
    skipped: int
    failed: int


def remind(*, today: dt.date | None = None,
           sources: Sequence[Source] | None = None) -> RemindResult:
    """Send today's digests (one per unit); already sent digests of the day are skipped."""
    today = today or timezone.localdate()
    with translation.override(settings.LANGUAGE_CODE):
        return _remind(today=today, sources=sources)


def _remind(*, today: dt.date, sources: Sequence[Source] | None) -> RemindResult:
    from modules.registers.models import ReminderDigest

    items = collect(today=today, sources=sources)
    sent = skipped = failed = 0
    groups = by_unit(items)
    for unit, unit_items in sorted(groups.items(), key=lambda g: g[0].code):
        with transaction.atomic():
            digest, _created = ReminderDigest.objects.select_for_update().get_or_create(
                day=today, department=unit,
                defaults={"items": [i.as_json(today) for i in unit_items],
                          "recipients": recipients(unit)})
            if digest.sent_at is not None:
                skipped += 1
                continue
            if not digest.recipients:
                digest.recipients = recipients(unit)
            if not digest.recipients:
                # stored as the English msgid; the page shows it in the reader's language
                digest.error = gettext_noop("no recipients")
                digest.save(update_fields=["recipients", "error"])
                failed += 1
                continue
            subject, body = digest_text(unit, digest.items, today)
            try:
                send_mail(subject, body, None, list(digest.recipients))
            except (OSError, smtplib.SMTPException) as exc:
                logger.warning("registers: digest for %s not sent: %s", unit.code, exc)
                digest.error = str(exc)[:300]
                digest.save(update_fields=["recipients", "error"])
                failed += 1
                continue
            digest.sent_at = timezone.now()
            digest.error = ""
            digest.save(update_fields=["recipients", "sent_at", "error"])
            sent += 1
    return RemindResult(items=len(items), digests=len(groups), sent=sent, skipped=skipped,
                        failed=failed)


def upcoming(*, today: dt.date, horizon: int = 60) -> list[ReminderItem]:
    """Everything due within ``horizon`` days or already overdue (for the page)."""
    from modules.registers import certificates, esign, licences, payments

    items: list[ReminderItem] = []
    for source in (licences.upcoming, certificates.upcoming, esign.upcoming, payments.upcoming):
        items.extend(source(today=today, horizon=horizon))
    return sorted(items, key=lambda i: (i.due, i.kind, i.title))


def visible_to(user: Any, items: Sequence[ReminderItem]) -> list[ReminderItem]:
    """IT staff see every item; others only those of their own units (or units below them)."""
    from gis_core.selectors import is_it_staff, user_access

    if is_it_staff(user):
        return list(items)
    departments = user_access(user).departments
    fallback = it_unit()
    out = []
    for item in items:
        unit = item.unit if item.unit is not None else fallback
        if unit is not None and unit.code in departments:
            out.append(item)
    return out


#: What each ``ReminderItem.kind`` is called (dashboard rows, reminders page).
KIND_WORDS = {"licence": gettext_lazy("Licence"), "domain": gettext_lazy("Domain name"),
              "hosting": gettext_lazy("Hosting"), "certificate": gettext_lazy("TLS certificate"),
              "esign": gettext_lazy("E-signature card"), "kep": gettext_lazy("KEP account"),
              "line_payment_overdue": gettext_lazy("Line payment (overdue)"),
              "line_payment_due": gettext_lazy("Line payment"),
              "line_contract_end": gettext_lazy("Line contract end")}


def kind_word(kind: str) -> str:
    return str(KIND_WORDS.get(kind, kind))


def dashboard_figures(*, user: Any) -> list[Any]:
    """Expiring in 60 days or overdue, by kind (IT staff)."""
    from django.urls import reverse

    from gis_core.modules import DashboardFigure
    from gis_core.selectors import is_it_staff

    if not is_it_staff(user):
        return []
    today = timezone.localdate()
    items = upcoming(today=today)
    url = reverse("registers:reminders")
    counts: dict[str, int] = {}
    for item in items:
        counts[item.kind] = counts.get(item.kind, 0) + 1
    overdue = sum(1 for i in items if i.due < today)
    return [DashboardFigure(
        code="registers_expiring", title_tr="Süresi dolanlar ve dolmak üzere olanlar",
        title_en="Expired and expiring", value=f"{overdue} / {len(items)}", url=url,
        rows=tuple((kind_word(k), float(n), url) for k, n in sorted(counts.items())),
        unit_tr="kayıt", unit_en="items",
        note_tr="Süresi geçmiş ya da 60 gün içinde bitecek lisans, alan adı, barındırma, "
                "sertifika, e-imza, KEP kayıtları ve hat ödemeleri.",
        note_en="Overdue or ending within 60 days: licences, domains, hosting, certificates, "
                "e-signature cards, KEP accounts and line payments.")]
