"""Network links between assets or buildings, and voice/data line subscriptions."""

from __future__ import annotations

import calendar
import datetime as dt

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from gis_core.choices import LinkMediumChoices, LinkStatusChoices, SubscriptionKindChoices
from gis_core.models.base import AuditedQuerySet, HistorySource


class NetworkLinkQuerySet(AuditedQuerySet):
    def touching_building(self, building: object) -> NetworkLinkQuerySet:
        """Links with an end in the building (directly or through an asset in it)."""
        return self.filter(Q(a_building=building) | Q(b_building=building)
                           | Q(a_asset__building=building) | Q(b_asset__building=building))


class NetworkLink(models.Model):
    """A LAN/WAN link; its ends are assets or buildings, its route a LineString.

    With no route given, the database draws a straight line between the ends.
    """

    a_asset = models.ForeignKey("gis_core.Asset", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="links_a",
                                verbose_name=_("A ucu cihaz / A-end device"))
    b_asset = models.ForeignKey("gis_core.Asset", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="links_b",
                                verbose_name=_("B ucu cihaz / B-end device"))
    a_building = models.ForeignKey("gis_core.Building", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="links_a",
                                   verbose_name=_("A ucu bina / A-end building"))
    b_building = models.ForeignKey("gis_core.Building", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="links_b",
                                   verbose_name=_("B ucu bina / B-end building"))
    medium = models.CharField(_("ortam / medium"), max_length=20,
                              choices=LinkMediumChoices.choices)
    capacity_mbps = models.PositiveIntegerField(_("kapasite (Mbps) / capacity (Mbps)"),
                                                null=True, blank=True)
    status = models.CharField(_("durum / status"), max_length=20,
                              choices=LinkStatusChoices.choices, default=LinkStatusChoices.ACTIVE)
    provider = models.CharField(_("servis sağlayıcı / provider"), max_length=80, blank=True)
    circuit_id = models.CharField(_("devre no / circuit id"), max_length=60, blank=True)
    route = models.LineStringField(_("güzergâh / route"), srid=settings.KENTCBS_SRID,
                                   null=True, blank=True)
    notes = models.TextField(_("notlar / notes"), blank=True)
    history = HistoricalRecords(bases=[HistorySource])

    objects = NetworkLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("ağ bağlantısı / network link")
        verbose_name_plural = _("ağ bağlantıları / network links")
        constraints = [
            models.CheckConstraint(condition=Q(a_asset__isnull=False) | Q(a_building__isnull=False),
                                   name="link_a_end_required"),
            models.CheckConstraint(condition=Q(b_asset__isnull=False) | Q(b_building__isnull=False),
                                   name="link_b_end_required"),
            models.CheckConstraint(condition=Q(medium__in=LinkMediumChoices.values),
                                   name="link_medium_valid"),
            models.CheckConstraint(condition=Q(status__in=LinkStatusChoices.values),
                                   name="link_status_valid"),
        ]

    def __str__(self) -> str:
        a = self.a_asset or self.a_building
        b = self.b_asset or self.b_building
        return f"{a} ↔ {b} ({self.get_medium_display()})"

    @property
    def length_m(self) -> float | None:
        return float(self.route.length) if self.route else None


class SubscriptionQuerySet(AuditedQuerySet):
    def active_on(self, day: dt.date) -> SubscriptionQuerySet:
        return self.filter(Q(start_date__lte=day), Q(end_date__isnull=True) | Q(end_date__gte=day))

    def payments_due(self, *, within_days: int,
                     today: dt.date | None = None) -> list[tuple[Subscription, dt.date]]:
        """Active subscriptions whose next payment falls in the next ``within_days`` days.

        Returns ``(subscription, due_date)`` pairs sorted by due date.
        """
        today = today or timezone.localdate()
        horizon = today + dt.timedelta(days=within_days)
        due = []
        for sub in self.active_on(today).select_related("building"):
            when = sub.next_payment(today)
            if when <= horizon and (sub.end_date is None or when <= sub.end_date):
                due.append((sub, when))
        return sorted(due, key=lambda pair: (pair[1], pair[0].pk))


class Subscription(models.Model):
    """A voice or data line contract (abonelik)."""

    provider = models.CharField(_("servis sağlayıcı / provider"), max_length=80)
    line_number = models.CharField(_("hat/devre no / line or circuit number"), max_length=60)
    kind = models.CharField(_("tür / kind"), max_length=20,
                            choices=SubscriptionKindChoices.choices)
    building = models.ForeignKey("gis_core.Building", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="subscriptions",
                                 verbose_name=_("bina / building"))
    link = models.ForeignKey(NetworkLink, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="subscriptions",
                             verbose_name=_("ağ bağlantısı / network link"))
    contract_number = models.CharField(_("sözleşme no / contract number"), max_length=60,
                                       blank=True)
    start_date = models.DateField(_("başlangıç / start"))
    end_date = models.DateField(_("bitiş / end"), null=True, blank=True)
    monthly_fee = models.DecimalField(_("aylık ücret (TL) / monthly fee (TRY)"),
                                      max_digits=12, decimal_places=2)
    payment_day = models.PositiveSmallIntegerField(_("ödeme günü / payment day"))
    history = HistoricalRecords(bases=[HistorySource])

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("abonelik / subscription")
        verbose_name_plural = _("abonelikler / subscriptions")
        ordering = ["provider", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "line_number"],
                                    name="subscription_unique_line"),
            models.CheckConstraint(condition=Q(payment_day__gte=1) & Q(payment_day__lte=31),
                                   name="subscription_payment_day_range"),
            models.CheckConstraint(condition=Q(monthly_fee__gte=0),
                                   name="subscription_fee_not_negative"),
            models.CheckConstraint(condition=Q(end_date__isnull=True)
                                   | Q(end_date__gte=models.F("start_date")),
                                   name="subscription_end_after_start"),
            models.CheckConstraint(condition=Q(kind__in=SubscriptionKindChoices.values),
                                   name="subscription_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.line_number}"

    def next_payment(self, today: dt.date) -> dt.date:
        """The first payment date on or after ``today`` (short months pay on their last day)."""
        def on(year: int, month: int) -> dt.date:
            last = calendar.monthrange(year, month)[1]
            return dt.date(year, month, min(self.payment_day, last))

        when = on(today.year, today.month)
        if when < today:
            year, month = (today.year + 1, 1) if today.month == 12 else (today.year,
                                                                         today.month + 1)
            when = on(year, month)
        return when
