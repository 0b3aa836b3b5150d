"""IT assets (demirbaş) placed in buildings and rooms, with their lifecycle."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from gis_core.choices import (
    AssetCategoryChoices,
    AssetStatusChoices,
    AuditSourceChoices,
    ScrappingStatusChoices,
)
from gis_core.models.base import AuditedQuerySet, HistorySource

MAC_PATTERN = r"^([0-9A-F]{2}:){5}[0-9A-F]{2}$"


class AssetQuerySet(AuditedQuerySet):
    def in_building(self, building: object) -> AssetQuerySet:
        return self.filter(building=building)

    def in_room(self, room: object) -> AssetQuerySet:
        return self.filter(room=room)

    def of_department(self, code: str, *, include_units: bool = True) -> AssetQuerySet:
        """Assets of a department (and its units) across every building."""
        from gis_core.models import Department

        if include_units:
            return self.filter(department__in=Department.objects.with_descendants(code))
        return self.filter(department__code=code)

    def active(self) -> AssetQuerySet:
        return self.exclude(status=AssetStatusChoices.SCRAPPED)

    def counts_by_building(self) -> list[dict[str, object]]:
        """Counts by building, category and status, aggregated in SQL."""
        return list(self.values("building_id", "building__name", "category", "status")
                    .annotate(count=Count("id")).order_by("building__name", "category", "status"))


class Asset(models.Model):
    """A registered IT device (demirbaş), placed at building and room level."""

    inventory_number = models.CharField(_("demirbaş no / inventory number"), max_length=40,
                                        unique=True)
    tasinir_code = models.CharField(_("taşınır kodu / movable property code"), max_length=40,
                                    blank=True)
    category = models.CharField(_("kategori / category"), max_length=20,
                                choices=AssetCategoryChoices.choices)
    status = models.CharField(_("durum / status"), max_length=20,
                              choices=AssetStatusChoices.choices,
                              default=AssetStatusChoices.IN_STOCK)
    brand = models.CharField(_("marka / brand"), max_length=60, blank=True)
    model = models.CharField(_("model / model"), max_length=80, blank=True)
    serial_number = models.CharField(_("seri no / serial number"), max_length=80, blank=True)
    purchase_date = models.DateField(_("alım tarihi / purchase date"), null=True, blank=True)
    warranty_end = models.DateField(_("garanti bitişi / warranty end"), null=True, blank=True)
    department = models.ForeignKey("gis_core.Department", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="assets",
                                   verbose_name=_("müdürlük/birim / department"))
    assigned_person = models.CharField(
        _("zimmetli kişi / assigned person"), max_length=120, blank=True,
        help_text=_("Kişisel veri (KVKK) / personal data (KVKK)"))
    building = models.ForeignKey("gis_core.Building", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="assets",
                                 verbose_name=_("bina / building"))
    room = models.ForeignKey("gis_core.Room", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="assets", verbose_name=_("oda / room"))
    location = models.PointField(_("konum / location"), srid=settings.KENTCBS_SRID,
                                 null=True, blank=True)
    hostname = models.CharField(_("bilgisayar adı / hostname"), max_length=63, blank=True)
    ip_address = models.GenericIPAddressField(_("IP adresi / IP address"), null=True,
                                              blank=True)
    mac_address = models.CharField(_("MAC adresi / MAC address"), max_length=17, blank=True,
                                   help_text="AA:BB:CC:DD:EE:FF")
    notes = models.TextField(_("notlar / notes"), blank=True)
    history = HistoricalRecords(bases=[HistorySource])

    objects = AssetQuerySet.as_manager()

    class Meta:
        verbose_name = _("BT varlığı / IT asset")
        verbose_name_plural = _("BT varlıkları / IT assets")
        ordering = ["inventory_number"]
        constraints = [
            models.CheckConstraint(condition=Q(category__in=AssetCategoryChoices.values),
                                   name="asset_category_valid"),
            models.CheckConstraint(condition=Q(status__in=AssetStatusChoices.values),
                                   name="asset_status_valid"),
            models.UniqueConstraint(fields=["ip_address"], condition=Q(ip_address__isnull=False),
                                    name="asset_ip_unique"),
            models.UniqueConstraint(fields=["mac_address"], condition=~Q(mac_address=""),
                                    name="asset_mac_unique"),
            models.CheckConstraint(condition=Q(mac_address="") | Q(mac_address__regex=MAC_PATTERN),
                                   name="asset_mac_format"),
            models.CheckConstraint(
                condition=~Q(status=AssetStatusChoices.SCRAPPED) | Q(assigned_person=""),
                name="asset_scrapped_unassigned"),
            models.CheckConstraint(condition=Q(room__isnull=True) | Q(building__isnull=False),
                                   name="asset_room_needs_building"),
        ]
        indexes = [models.Index(fields=["building", "category", "status"])]

    def __str__(self) -> str:
        return f"{self.inventory_number} {self.get_category_display()}"

    def save(self, *args: object, **kwargs: object) -> None:
        # Normalise MAC to upper case with colons; storage rules live in the database.
        if self.mac_address:
            raw = "".join(ch for ch in self.mac_address.upper() if ch in "0123456789ABCDEF")
            if len(raw) == 12:
                self.mac_address = ":".join(raw[i:i + 2] for i in range(0, 12, 2))
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class AssetTransition(models.Model):
    """One lifecycle step of an asset: who moved it from which status to which, and why."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=20, choices=AssetStatusChoices.choices,
                                   blank=True)
    to_status = models.CharField(max_length=20, choices=AssetStatusChoices.choices)
    at = models.DateTimeField(_("zaman / time"), auto_now_add=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(max_length=10, choices=AuditSourceChoices.choices,
                              default="system")
    reason = models.CharField(_("gerekçe / reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("durum değişikliği / status change")
        verbose_name_plural = _("durum değişiklikleri / status changes")
        ordering = ["asset", "at", "id"]

    def __str__(self) -> str:
        return f"{self.asset}: {self.from_status or '∅'} → {self.to_status}"


class ScrappingRecord(models.Model):
    """A hurda (scrapping) record: proposed, then approved by a commission decision."""

    asset = models.OneToOneField(Asset, on_delete=models.PROTECT, related_name="scrapping")
    status = models.CharField(max_length=10, choices=ScrappingStatusChoices.choices,
                              default=ScrappingStatusChoices.PROPOSED)
    reason = models.TextField(_("gerekçe / reason"))
    proposed_at = models.DateTimeField(auto_now_add=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    decision_number = models.CharField(_("komisyon karar no / decision number"),
                                       max_length=40, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    history = HistoricalRecords(bases=[HistorySource])

    class Meta:
        verbose_name = _("hurda kaydı / scrapping record")
        verbose_name_plural = _("hurda kayıtları / scrapping records")

    def __str__(self) -> str:
        return f"{self.asset} · {self.get_status_display()}"
