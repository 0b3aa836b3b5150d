"""Tables of the registers module: year-end counts (sayım) and consumables."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from gis_core.models.base import HistorySource
from modules.registers.choices import (
    ConsumableKindChoices,
    CountStatusChoices,
    DifferenceKindChoices,
    MovementKindChoices,
)


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


class StoreRoom(models.Model):
    """A store room (depo) holding consumables; usually a room of a building."""

    code = models.SlugField(_("kod / code"), max_length=30, unique=True)
    name = models.CharField(_("ad / name"), max_length=120)
    building = models.ForeignKey("gis_core.Building", on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("bina / building"))
    room = models.ForeignKey("gis_core.Room", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", verbose_name=_("oda / room"))

    class Meta:
        verbose_name = _("depo / store room")
        verbose_name_plural = _("depolar / store rooms")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ConsumableItem(models.Model):
    """A consumable (sarf malzemesi): toner and drum per printer model, cables, disks ..."""

    code = models.SlugField(_("malzeme kodu / item code"), max_length=40, unique=True)
    name = models.CharField(_("ad / name"), max_length=150)
    kind = models.CharField(_("tür / kind"), max_length=10,
                            choices=ConsumableKindChoices.choices)
    unit = models.CharField(_("birim / unit"), max_length=20, default="adet")
    printer_model = models.CharField(_("uyumlu yazıcı modeli / printer model"), max_length=80,
                                     blank=True)
    is_active = models.BooleanField(_("etkin / active"), default=True)
    history = HistoricalRecords(bases=[HistorySource])

    class Meta:
        verbose_name = _("sarf malzemesi / consumable")
        verbose_name_plural = _("sarf malzemeleri / consumables")
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=Q(kind__in=ConsumableKindChoices.values),
                                              name="registers_consumable_kind_valid")]

    def __str__(self) -> str:
        return self.name


class Stock(models.Model):
    """How much of an item a store room holds, and its minimum level (alert below it)."""

    item = models.ForeignKey(ConsumableItem, on_delete=models.PROTECT, related_name="stocks")
    store = models.ForeignKey(StoreRoom, on_delete=models.PROTECT, related_name="stocks")
    quantity = models.IntegerField(_("miktar / quantity"), default=0)
    minimum = models.PositiveIntegerField(_("asgari stok / minimum level"), default=0)

    class Meta:
        verbose_name = _("stok / stock")
        verbose_name_plural = _("stoklar / stock")
        ordering = ["item", "store"]
        constraints = [
            models.UniqueConstraint(fields=["item", "store"], name="registers_stock_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=0),
                                   name="registers_stock_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.item} @ {self.store}: {self.quantity}"

    @property
    def below_minimum(self) -> bool:
        return self.quantity < self.minimum


class StockMovement(models.Model):
    """One receipt into or issue out of a store room (the ledger behind ``Stock``)."""

    item = models.ForeignKey(ConsumableItem, on_delete=models.PROTECT, related_name="movements")
    store = models.ForeignKey(StoreRoom, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(_("tür / kind"), max_length=10,
                            choices=MovementKindChoices.choices)
    quantity = models.PositiveIntegerField(_("miktar / quantity"))
    at = models.DateTimeField(_("tarih / date"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    document = models.CharField(_("belge no / document number"), max_length=60, blank=True)
    supplier = models.CharField(_("tedarikçi / supplier"), max_length=150, blank=True)
    room = models.ForeignKey("gis_core.Room", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", verbose_name=_("verilen oda / issued to room"))
    department = models.ForeignKey("gis_core.Department", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("verilen birim / issued to department"))
    asset = models.ForeignKey("gis_core.Asset", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("verilen cihaz / issued to asset"))
    note = models.CharField(_("not / note"), max_length=300, blank=True)
    #: The helpdesk ticket ("sarf malzemesi") this issue fulfils, by its number: a reference,
    #: not a foreign key, so the module never depends on the helpdesk being installed.
    ticket_number = models.CharField(_("talep no / ticket number"), max_length=30, blank=True,
                                     db_index=True)

    class Meta:
        verbose_name = _("stok hareketi / stock movement")
        verbose_name_plural = _("stok hareketleri / stock movements")
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0),
                                   name="registers_movement_quantity_positive"),
            models.CheckConstraint(condition=Q(kind__in=MovementKindChoices.values),
                                   name="registers_movement_kind_valid"),
            # a receipt goes to no one; an issue goes to exactly one room, department or asset
            models.CheckConstraint(
                condition=(Q(kind="receipt", room=None, department=None, asset=None)
                           | Q(kind="issue", room__isnull=False, department=None, asset=None)
                           | Q(kind="issue", room=None, department__isnull=False, asset=None)
                           | Q(kind="issue", room=None, department=None, asset__isnull=False)),
                name="registers_movement_target"),
        ]
        indexes = [models.Index(fields=["kind", "at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity} {self.item}"
