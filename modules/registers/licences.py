"""Software licences: seats owned, seats in use, assignment to assets or users, renewals.

A licence owns ``seats``; each ``LicenceAssignment`` uses one. :func:`assign` locks the
licence row (``SELECT ... FOR UPDATE``) before counting, so two concurrent assignments cannot
both take the last seat; one more than owned is refused (``REGISTERS_LICENCE_FULL``), and
lowering the seats below those in use is refused too (``REGISTERS_LICENCE_SEATS_IN_USE``).
Renewal reminders fire 60, 30 and 7 days before ``ends_on`` (:mod:`modules.registers.reminders`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F, QuerySet
from django.urls import reverse
from django.utils.translation import gettext

from modules.registers.errors import RegistersError
from modules.registers.models import LicenceAssignment, SoftwareLicence
from modules.registers.reminders import ReminderItem, fires_on


def with_usage() -> QuerySet[SoftwareLicence]:
    """Licences with ``in_use`` (assigned seats) annotated."""
    return (SoftwareLicence.objects.select_related("department")
            .annotate(in_use=Count("assignments"))
            .annotate(free=F("seats") - F("in_use")))


@transaction.atomic
def assign(*, licence: SoftwareLicence, asset: Any = None, user: Any = None,
           by: Any = None) -> LicenceAssignment:
    """Give one seat of ``licence`` to ``asset`` or ``user`` (exactly one)."""
    if (asset is None) == (user is None):
        raise RegistersError("REGISTERS_LICENCE_TARGET",
                             "A licence seat goes to exactly one device or one user.")
    if asset is not None and asset.status == "scrapped":
        raise RegistersError("REGISTERS_ASSET_SCRAPPED",
                             "Device {number} is scrapped: nothing is issued to it.",
                             number=asset.inventory_number)
    locked = SoftwareLicence.objects.select_for_update().get(pk=licence.pk)
    in_use = locked.assignments.count()
    if in_use >= locked.seats:
        raise RegistersError("REGISTERS_LICENCE_FULL",
                             "{product} has {seats} seats and all are in use; release one or "
                             "buy more before assigning another.",
                             product=locked.product, seats=locked.seats)
    target = asset if asset is not None else user
    if locked.assignments.filter(asset=asset, user=user).exists():
        raise RegistersError("REGISTERS_LICENCE_ALREADY", "{target} already has {product}.",
                             target=str(target), product=locked.product)
    try:
        with transaction.atomic():
            return LicenceAssignment.objects.create(
                licence=locked, asset=asset, user=user,
                assigned_by=by if getattr(by, "is_authenticated", False) else None)
    except IntegrityError:
        raise RegistersError("REGISTERS_LICENCE_ALREADY", "{target} already has {product}.",
                             target=str(target), product=locked.product) from None


@transaction.atomic
def release(*, assignment: LicenceAssignment) -> None:
    """Free a seat."""
    SoftwareLicence.objects.select_for_update().get(pk=assignment.licence_id)
    assignment.delete()


@transaction.atomic
def set_seats(*, licence: SoftwareLicence, seats: int) -> SoftwareLicence:
    """Change the seats owned; never below the seats in use."""
    locked = SoftwareLicence.objects.select_for_update().get(pk=licence.pk)
    in_use = locked.assignments.count()
    if seats < in_use or seats <= 0:
        raise RegistersError("REGISTERS_LICENCE_SEATS_IN_USE",
                             "{product} has {in_use} seats in use; it cannot own {seats}.",
                             product=locked.product, in_use=in_use, seats=seats)
    locked.seats = seats
    locked.save(update_fields=["seats"])
    return locked


def _item(licence: SoftwareLicence) -> ReminderItem:
    assert licence.ends_on is not None
    return ReminderItem(unit=licence.department, kind="licence",
                        title=gettext("Licence renewal: {product} ({seats} seats)").format(
                            product=licence.product, seats=licence.seats),
                        due=licence.ends_on,
                        url=reverse("registers:licence_detail", args=[licence.pk]))


def due_reminders(*, today: dt.date) -> list[ReminderItem]:
    """Licences ending exactly 60, 30 or 7 days after ``today``."""
    days = [today + dt.timedelta(days=n) for n in (60, 30, 7)]
    return [_item(lic) for lic in SoftwareLicence.objects.select_related("department")
            .filter(ends_on__in=days) if fires_on(lic.ends_on, today)]


def upcoming(*, today: dt.date, horizon: int = 60) -> list[ReminderItem]:
    """Licences ending within ``horizon`` days, or ended in the last year (not renewed)."""
    qs = SoftwareLicence.objects.select_related("department").filter(
        ends_on__lte=today + dt.timedelta(days=horizon),
        ends_on__gte=today - dt.timedelta(days=365))
    return [_item(lic) for lic in qs]


def building_panel(*, user: Any, building: Any) -> Any:
    """The building panel's licence line: seats used by the building's devices (IT staff)."""
    from gis_core.modules import BuildingSummary
    from gis_core.selectors import is_it_staff

    if not is_it_staff(user):
        return None
    used = LicenceAssignment.objects.filter(asset__building=building)
    if not used.exists():
        return None
    products = used.values("licence").distinct().count()
    return BuildingSummary(
        title_tr="Yazılım lisansları", title_en="Software licences",
        lines=((gettext("Seats used"), str(used.count())),
               (gettext("Products"), str(products))),
        links=((gettext("Licences"), reverse("registers:licences")),))
