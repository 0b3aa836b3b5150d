"""Neighbourhoods, service buildings, floors and rooms."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.gis.db.models.functions import Distance, PointOnSurface
from django.contrib.gis.geos import GEOSGeometry
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from gis_core.models.base import TURKISH, AuditedQuerySet, HistorySource

SRID = settings.KENTCBS_SRID


class Neighbourhood(models.Model):
    """A mahalle, with its official name from the national list."""

    name = models.CharField(_("ad / name"), max_length=120, unique=True, db_collation=TURKISH)
    uavt_code = models.CharField(_("UAVT mahalle kodu / UAVT code"), max_length=20, blank=True)
    geom = models.MultiPolygonField(_("sınır / boundary"), srid=SRID)

    class Meta:
        verbose_name = _("mahalle / neighbourhood")
        verbose_name_plural = _("mahalleler / neighbourhoods")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BuildingQuerySet(AuditedQuerySet):
    def in_neighbourhood(self, neighbourhood: Neighbourhood) -> BuildingQuerySet:
        """Buildings whose footprint's inner point lies in the neighbourhood."""
        return self.annotate(_inner=PointOnSurface("footprint")).filter(
            _inner__within=neighbourhood.geom)

    def nearest_to(self, point: GEOSGeometry) -> BuildingQuerySet:
        """Buildings ordered by distance (metres, in the TM zone) from ``point``."""
        if point.srid and point.srid != SRID:
            point = point.transform(SRID, clone=True)
        return self.annotate(distance=Distance("footprint", point)).order_by("distance")

    def nearest(self, point: GEOSGeometry) -> Building | None:
        return self.nearest_to(point).first()


class Building(models.Model):
    """A hizmet binası (municipal service building)."""

    code = models.CharField(_("bina kodu / building code"), max_length=20, unique=True)
    name = models.CharField(_("ad / name"), max_length=150, db_collation=TURKISH)
    footprint = models.MultiPolygonField(_("taban alanı / footprint"), srid=SRID)
    uavt_code = models.CharField(_("UAVT bina kodu / UAVT building code"), max_length=10,
                                 blank=True, help_text=_("10 haneli / 10 digits"))
    neighbourhood = models.ForeignKey(Neighbourhood, null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="buildings",
                                      verbose_name=_("mahalle / neighbourhood"))
    street = models.CharField(_("cadde/sokak / street"), max_length=150, blank=True)
    door_number = models.CharField(_("dış kapı no / door number"), max_length=20, blank=True)
    departments = models.ManyToManyField("gis_core.Department", blank=True,
                                         related_name="buildings",
                                         verbose_name=_("kullanan birimler / departments"))
    floor_count = models.PositiveSmallIntegerField(_("kat sayısı / floors"), default=1)
    history = HistoricalRecords(bases=[HistorySource], m2m_fields=[departments])

    objects = BuildingQuerySet.as_manager()

    class Meta:
        verbose_name = _("hizmet binası / service building")
        verbose_name_plural = _("hizmet binaları / service buildings")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["uavt_code"], condition=~Q(uavt_code=""),
                                    name="building_uavt_unique"),
            models.CheckConstraint(condition=Q(uavt_code="") | Q(uavt_code__regex=r"^[0-9]{10}$"),
                                   name="building_uavt_format"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def area_m2(self) -> float:
        """Footprint area in square metres (the storage SRID is the metric TM zone)."""
        return float(self.footprint.area)

    @property
    def address(self) -> str:
        parts = [self.neighbourhood.name + " Mah." if self.neighbourhood else "",
                 self.street, f"No: {self.door_number}" if self.door_number else ""]
        return " ".join(p for p in parts if p)

    def asset_counts(self) -> list[dict[str, object]]:
        """Counts of this building's assets by category and status."""
        return list(self.assets.values("category", "status").annotate(count=Count("id"))
                    .order_by("category", "status"))


class Floor(models.Model):
    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="floors",
                                 verbose_name=_("bina / building"))
    number = models.SmallIntegerField(_("kat no / floor number"),
                                      help_text=_("0 zemin, -1 bodrum / 0 ground, -1 basement"))
    name = models.CharField(_("ad / name"), max_length=60, blank=True)
    history = HistoricalRecords(bases=[HistorySource])

    objects = AuditedQuerySet.as_manager()

    class Meta:
        verbose_name = _("kat / floor")
        verbose_name_plural = _("katlar / floors")
        ordering = ["building", "number"]
        constraints = [models.UniqueConstraint(fields=["building", "number"],
                                               name="floor_unique_number")]

    def __str__(self) -> str:
        return self.name or f"{self.number}. kat"


class Room(models.Model):
    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="rooms",
                                 verbose_name=_("bina / building"))
    floor = models.ForeignKey(Floor, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="rooms", verbose_name=_("kat / floor"))
    code = models.CharField(_("oda kodu / room code"), max_length=20)
    name = models.CharField(_("ad / name"), max_length=120, blank=True)
    outline = models.PolygonField(_("oda sınırı / outline"), srid=SRID, null=True, blank=True)
    #: The department that uses the room (a building often houses several).
    department = models.ForeignKey("gis_core.Department", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="rooms",
                                   verbose_name=_("birim / department"))
    history = HistoricalRecords(bases=[HistorySource])

    objects = AuditedQuerySet.as_manager()

    class Meta:
        verbose_name = _("oda / room")
        verbose_name_plural = _("odalar / rooms")
        ordering = ["building", "code"]
        constraints = [models.UniqueConstraint(fields=["building", "code"],
                                               name="room_unique_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}".strip()
