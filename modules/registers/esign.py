"""E-signature cards and KEP accounts: expiries, reminders, and the holders as personal data.

The holder's name and KEP address are personal data (KVKK, Law 6698):

* shown only to :func:`may_see_holders` (superusers, and managers and technicians of the IT
  directorate: those who allocate cards); everybody else sees the card without its holder;
* every read that shows a holder is written to the project's personal-data access log
  (``ogc_api.services.record_access``, layer ``registers.esign``), the same log the OGC API
  and the web reports write;
* :func:`purge` clears the holder of cards expired or revoked longer than
  ``KENTCBS_REGISTERS_ESIGN_RETENTION_DAYS`` ago, in the card and in its history rows, and
  records the run (``PersonalDataPurge``): ``kentcbs registers purge``.

Reminders (60, 30, 7 days before expiry) never carry the holder's name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from modules.registers.models import ESignatureCard, PersonalDataPurge
from modules.registers.reminders import ReminderItem, fires_on

LOG_LAYER = "registers.esign"
HOLDER_ROLES = frozenset({"manager", "technician"})


def may_see_holders(user: Any) -> bool:
    """Superusers, and managers and technicians of the IT directorate."""
    from gis_core.selectors import is_it_staff, user_access

    access = user_access(user)
    if not access.is_authenticated:
        return False
    if access.is_superuser:
        return True
    unit = getattr(settings, "KENTCBS_REGISTERS_IT_UNIT", "bilgi_islem")
    return is_it_staff(user) and any(
        role in HOLDER_ROLES and code in _unit_and_below(unit)
        for code, role in access.memberships)


def _unit_and_below(code: str) -> set[str]:
    from gis_core.models import Department

    return set(Department.objects.with_descendants(code).values_list("code", flat=True))


def log_read(*, user: Any, cards: Iterable[ESignatureCard], path: str, via: str = "web") -> None:
    """Write one access-log row for a read that showed the holders of ``cards``."""
    from ogc_api.services import record_access

    shown = [c for c in cards if c.holder_name or c.kep_address]
    if not shown:
        return
    record_access(user=user, layer=LOG_LAYER, path=path,
                  query="cards=" + ",".join(str(c.pk) for c in shown), via=via)


def _item(card: ESignatureCard) -> ReminderItem:
    return ReminderItem(unit=card.department, kind=card.kind,
                        title=gettext("{kind}: serial {serial} ({issuer})").format(
                            kind=card.get_kind_display(), serial=card.serial,
                            issuer=card.issuer),
                        due=card.expires_on,
                        url=reverse("registers:esign_detail", args=[card.pk]))


def _active() -> Any:
    return ESignatureCard.objects.select_related("department").filter(revoked_on__isnull=True)


def due_reminders(*, today: dt.date) -> list[ReminderItem]:
    """Cards and KEP accounts (not revoked) expiring exactly 60, 30 or 7 days after ``today``."""
    days = [today + dt.timedelta(days=n) for n in (60, 30, 7)]
    return [_item(c) for c in _active().filter(expires_on__in=days)
            if fires_on(c.expires_on, today)]


def upcoming(*, today: dt.date, horizon: int = 60) -> list[ReminderItem]:
    """Cards expiring within ``horizon`` days or expired in the last year (not revoked)."""
    return [_item(c) for c in _active().filter(
        expires_on__range=(today - dt.timedelta(days=365), today + dt.timedelta(days=horizon)))]


def retention_days() -> int:
    return int(getattr(settings, "KENTCBS_REGISTERS_ESIGN_RETENTION_DAYS", 730))


@transaction.atomic
def purge(*, actor: str, today: dt.date | None = None) -> PersonalDataPurge:
    """Clear the holders of cards ended (expired or revoked) before the retention."""
    today = today or timezone.localdate()
    before = today - dt.timedelta(days=retention_days())
    ended = (Q(expires_on__lt=before) | Q(revoked_on__lt=before))
    cards = ESignatureCard.objects.filter(ended).exclude(holder_name="", kep_address="")
    ids = list(cards.values_list("pk", flat=True))
    now = timezone.now()
    # A queryset update: the purge itself must not write the holder into a new history row.
    count = ESignatureCard.objects.filter(pk__in=ids).update(
        holder_name="", kep_address="", holder_purged_at=now)
    rows = ESignatureCard.history.model.objects.exclude(holder_name="", kep_address="")
    history = rows.filter(id__in=ids).update(holder_name="", kep_address="")
    # cards deleted since: their history rows are all that is left of the holder
    history += rows.exclude(id__in=ESignatureCard.objects.values("pk")).filter(
        history_date__date__lt=before).update(holder_name="", kep_address="")
    return PersonalDataPurge.objects.create(actor=actor[:150], before=before, cards=count,
                                            history_rows=history)
