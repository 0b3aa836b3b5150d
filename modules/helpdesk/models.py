"""Helpdesk models: tickets, comments, work logs, vendor repairs, SLA targets, maintenance.

Writes go through :mod:`modules.helpdesk.services`; reads that depend on the
user go through :mod:`modules.helpdesk.selectors`.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from gis_core.models.base import AuditedQuerySet, HistorySource
from modules.helpdesk.choices import (
    RepairKindChoices,
    TicketCategoryChoices,
    TicketOutcomeChoices,
    TicketPriorityChoices,
    TicketStatusChoices,
    WaitingReasonChoices,
)


class SlaTarget(models.Model):
    """Service-level targets of one priority (calendar minutes)."""

    priority = models.CharField(_("öncelik"), max_length=20, choices=TicketPriorityChoices.choices,
                                unique=True)
    response_minutes = models.PositiveIntegerField(_("ilk müdahale süresi (dk)"))
    resolution_minutes = models.PositiveIntegerField(_("çözüm süresi (dk)"))

    class Meta:
        verbose_name = _("SLA hedefi")
        verbose_name_plural = _("SLA hedefleri")

    def __str__(self) -> str:
        return f"{self.priority}: {self.resolution_minutes} dk"


class Ticket(models.Model):
    """A fault or request (arıza / talep) about an asset, a room or a building."""

    number = models.CharField(_("talep numarası"), max_length=20, unique=True)
    title = models.CharField(_("konu"), max_length=200)
    description = models.TextField(_("açıklama"), blank=True)
    category = models.CharField(_("kategori"), max_length=30,
                                choices=TicketCategoryChoices.choices)
    priority = models.CharField(_("öncelik"), max_length=20, choices=TicketPriorityChoices.choices,
                                default=TicketPriorityChoices.NORMAL)
    status = models.CharField(_("durum"), max_length=20, choices=TicketStatusChoices.choices,
                              default=TicketStatusChoices.NEW, db_index=True)
    waiting_reason = models.CharField(_("bekleme nedeni"), max_length=20, blank=True,
                                      choices=WaitingReasonChoices.choices)
    outcome = models.CharField(_("sonuç"), max_length=30, blank=True,
                               choices=TicketOutcomeChoices.choices)
    resolution = models.TextField(_("çözüm açıklaması"), blank=True)

    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="helpdesk_reported", verbose_name=_("bildiren"))
    reporter_department = models.ForeignKey(
        "gis_core.Department", on_delete=models.PROTECT, related_name="+",
        verbose_name=_("bildiren birim"))
    responsible_unit = models.ForeignKey(
        "gis_core.Department", on_delete=models.PROTECT, related_name="+",
        verbose_name=_("sorumlu birim"))
    technician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="helpdesk_assigned",
                                   verbose_name=_("teknisyen"))

    asset = models.ForeignKey("gis_core.Asset", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="helpdesk_tickets", verbose_name=_("demirbaş"))
    room = models.ForeignKey("gis_core.Room", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+", verbose_name=_("oda"))
    building = models.ForeignKey("gis_core.Building", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="+", verbose_name=_("bina"))
    #: Where the fault was reported (asset location, room or building point), fixed at opening.
    location = models.PointField(_("konum"), srid=settings.KENTCBS_SRID, null=True, blank=True)

    opened_at = models.DateTimeField(_("açılış"), default=timezone.now, db_index=True)
    assigned_at = models.DateTimeField(_("atanma"), null=True, blank=True)
    started_at = models.DateTimeField(_("müdahale başlangıcı"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("çözüm"), null=True, blank=True)
    closed_at = models.DateTimeField(_("kapanış"), null=True, blank=True)
    response_due_at = models.DateTimeField(_("ilk müdahale son tarihi"))
    resolution_due_at = models.DateTimeField(_("çözüm son tarihi"))
    reopen_count = models.PositiveIntegerField(_("yeniden açılma sayısı"), default=0)

    history = HistoricalRecords(bases=[HistorySource])

    class Meta:
        verbose_name = _("arıza / talep")
        verbose_name_plural = _("arızalar / talepler")
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["responsible_unit", "status"]),
                   models.Index(fields=["reporter_department", "opened_at"])]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status not in {TicketStatusChoices.RESOLVED, TicketStatusChoices.CLOSED}

    @property
    def is_overdue(self) -> bool:
        """Open and past its resolution due time (the lists' and the ticket's flag)."""
        return self.is_open and self.resolution_due_at < timezone.now()

    @property
    def sla_met(self) -> bool | None:
        """Resolved within the resolution target (None while unresolved)."""
        if self.resolved_at is None:
            return None
        return self.resolved_at <= self.resolution_due_at


class TicketComment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+", verbose_name=_("yazan"))
    body = models.TextField(_("yorum"))
    created_at = models.DateTimeField(_("tarih"), default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("yorum")
        verbose_name_plural = _("yorumlar")


class WorkLog(models.Model):
    """Time a technician spent on a ticket."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="work_logs")
    technician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("teknisyen"))
    minutes = models.PositiveIntegerField(_("süre (dk)"))
    note = models.CharField(_("not"), max_length=300, blank=True)
    logged_at = models.DateTimeField(_("tarih"), default=timezone.now)

    class Meta:
        verbose_name = _("harcanan süre")
        verbose_name_plural = _("harcanan süreler")


class VendorRepair(models.Model):
    """A device sent to a vendor or under warranty (firma / garanti onarımı)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="vendor_repairs")
    kind = models.CharField(_("tür"), max_length=20, choices=RepairKindChoices.choices)
    vendor_name = models.CharField(_("firma"), max_length=200)
    reference = models.CharField(_("servis / irsaliye no"), max_length=100, blank=True)
    sent_at = models.DateTimeField(_("gönderilme"), default=timezone.now)
    returned_at = models.DateTimeField(_("dönüş"), null=True, blank=True)
    cost = models.DecimalField(_("maliyet (TL)"), max_digits=12, decimal_places=2, default=0)

    history = HistoricalRecords(bases=[HistorySource])

    class Meta:
        verbose_name = _("firma / garanti onarımı")
        verbose_name_plural = _("firma / garanti onarımları")


class MaintenancePlan(models.Model):
    """Periodic maintenance of one asset or of every asset of a category."""

    name = models.CharField(_("ad"), max_length=200)
    asset_category = models.CharField(_("varlık kategorisi"), max_length=50, blank=True)
    asset = models.ForeignKey("gis_core.Asset", on_delete=models.CASCADE, null=True, blank=True,
                              related_name="+", verbose_name=_("demirbaş"))
    interval_days = models.PositiveIntegerField(_("periyot (gün)"))
    starts_on = models.DateField(_("başlangıç"))
    responsible_unit = models.ForeignKey("gis_core.Department", on_delete=models.PROTECT,
                                         related_name="+", verbose_name=_("sorumlu birim"))
    active = models.BooleanField(_("etkin"), default=True)

    class Meta:
        verbose_name = _("bakım planı")
        verbose_name_plural = _("bakım planları")
        constraints = [models.CheckConstraint(
            condition=~models.Q(asset_category="") | models.Q(asset__isnull=False),
            name="helpdesk_plan_category_or_asset")]

    def __str__(self) -> str:
        return self.name


class MaintenanceWorkItem(models.Model):
    """A due maintenance job produced by a plan for one asset."""

    plan = models.ForeignKey(MaintenancePlan, on_delete=models.CASCADE, related_name="work_items")
    asset = models.ForeignKey("gis_core.Asset", on_delete=models.CASCADE, related_name="+")
    due_on = models.DateField(_("bakım tarihi"))
    done_at = models.DateTimeField(_("yapıldı"), null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+")

    objects = AuditedQuerySet.as_manager()

    class Meta:
        verbose_name = _("bakım işi")
        verbose_name_plural = _("bakım işleri")
        constraints = [models.UniqueConstraint(fields=["plan", "asset", "due_on"],
                                               name="helpdesk_workitem_unique")]
