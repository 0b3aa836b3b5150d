"""Tables of the registers module: year-end counts (sayım) and consumables."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from gis_core.models.base import HistorySource
from modules.registers.choices import CountStatusChoices, DifferenceKindChoices


class StockCount(models.Model):
    """A year-end count (sayım) of one building or one room."""

    year = models.PositiveSmallIntegerField(_("yıl / year"))
    building = models.ForeignKey("gis_core.Building", on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("bina / building"))
    room = models.ForeignKey("gis_core.Room", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", verbose_name=_("oda / room"))
    status = models.CharField(_("durum / status"), max_length=10,
                              choices=CountStatusChoices.choices,
                              default=CountStatusChoices.OPEN)
    started_at = models.DateTimeField(auto_now_add=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords(bases=[HistorySource])

    class Meta:
        verbose_name = _("sayım / stock count")
        verbose_name_plural = _("sayımlar / stock counts")
        ordering = ["-year", "-started_at"]

    def __str__(self) -> str:
        where = f"{self.building.name} / {self.room}" if self.room_id else self.building.name
        return f"{self.year} sayımı · {where}"


class CountedItem(models.Model):
    """One inventory number seen (scanned or typed) during a count, and where."""

    count = models.ForeignKey(StockCount, on_delete=models.CASCADE, related_name="items")
    inventory_number = models.CharField(_("demirbaş no / inventory number"), max_length=40)
    room = models.ForeignKey("gis_core.Room", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", verbose_name=_("sayıldığı oda / counted in room"))
    counted_at = models.DateTimeField(auto_now_add=True)
    counted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("sayılan taşınır / counted item")
        verbose_name_plural = _("sayılan taşınırlar / counted items")
        ordering = ["count", "counted_at", "id"]
        constraints = [models.UniqueConstraint(fields=["count", "inventory_number"],
                                               name="registers_counted_once")]

    def __str__(self) -> str:
        return self.inventory_number


class CountCorrection(models.Model):
    """A correction applied to the register after a count (the asset's history has the step)."""

    count = models.ForeignKey(StockCount, on_delete=models.CASCADE, related_name="corrections")
    kind = models.CharField(_("fark / difference"), max_length=10,
                            choices=DifferenceKindChoices.choices)
    inventory_number = models.CharField(_("demirbaş no / inventory number"), max_length=40)
    asset = models.ForeignKey("gis_core.Asset", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    action = models.CharField(_("yapılan işlem / action"), max_length=300)
    at = models.DateTimeField(auto_now_add=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("sayım düzeltmesi / count correction")
        verbose_name_plural = _("sayım düzeltmeleri / count corrections")
        ordering = ["count", "at", "id"]
        constraints = [models.CheckConstraint(condition=Q(kind__in=DifferenceKindChoices.values),
                                              name="registers_correction_kind_valid")]

    def __str__(self) -> str:
        return f"{self.inventory_number}: {self.action}"
