"""Choices of the helpdesk (Turkish labels first; codes are English ASCII)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketCategoryChoices(models.TextChoices):
    HARDWARE_FAULT = "hardware_fault", _("Donanım arızası")
    SOFTWARE_EBYS = "software_ebys", _("Yazılım talebi: EBYS")
    SOFTWARE_CBS = "software_cbs", _("Yazılım talebi: CBS")
    SOFTWARE_YBS = "software_ybs", _("Yazılım talebi: YBS")
    NETWORK = "network", _("Ağ / internet")
    ACCOUNT = "account", _("Hesap / yetki")
    E_SIGNATURE = "e_signature", _("E-imza")
    CONSUMABLES = "consumables", _("Sarf malzemesi")
    INFRASTRUCTURE = "infrastructure", _("Bina altyapısı (kablolama, enerji)")
    MAINTENANCE = "maintenance", _("Periyodik bakım")
    OTHER = "other", _("Diğer")


#: Categories that repair a device: they need a registered asset (demirbaş).
REPAIR_CATEGORIES = frozenset({TicketCategoryChoices.HARDWARE_FAULT})


class TicketPriorityChoices(models.TextChoices):
    CRITICAL = "critical", _("Acil")
    HIGH = "high", _("Yüksek")
    NORMAL = "normal", _("Normal")
    LOW = "low", _("Düşük")


class TicketStatusChoices(models.TextChoices):
    NEW = "new", _("Yeni")
    ASSIGNED = "assigned", _("Atandı")
    IN_PROGRESS = "in_progress", _("İşlemde")
    WAITING = "waiting", _("Beklemede")
    RESOLVED = "resolved", _("Çözüldü")
    CLOSED = "closed", _("Kapatıldı")


OPEN_STATUSES = frozenset({"new", "assigned", "in_progress", "waiting"})


class WaitingReasonChoices(models.TextChoices):
    VENDOR = "vendor", _("Firma (yüklenici) onarımı")
    WARRANTY = "warranty", _("Garanti onarımı")
    PARTS = "parts", _("Yedek parça")
    USER = "user", _("Kullanıcıdan bilgi")


class TicketOutcomeChoices(models.TextChoices):
    REPAIRED = "repaired", _("Onarıldı")
    REPLACED_PART = "replaced_part", _("Parça değiştirildi")
    FULFILLED = "fulfilled", _("Talep karşılandı")
    NO_FAULT = "no_fault", _("Arıza bulunamadı")
    SCRAPPING_PROPOSED = "scrapping_proposed", _("Hurdaya ayrılması önerildi")


class RepairKindChoices(models.TextChoices):
    VENDOR = "vendor", _("Firma onarımı")
    WARRANTY = "warranty", _("Garanti onarımı")


#: Units that may be responsible for a ticket (gis_core Department codes).
RESPONSIBLE_UNITS = ("teknik_destek", "ag_yonetimi", "yazilim", "cbs")

#: Default unit per category.
DEFAULT_UNIT = {
    "hardware_fault": "teknik_destek",
    "software_ebys": "yazilim",
    "software_cbs": "cbs",
    "software_ybs": "yazilim",
    "network": "ag_yonetimi",
    "account": "yazilim",
    "e_signature": "teknik_destek",
    "consumables": "teknik_destek",
    "infrastructure": "ag_yonetimi",
    "maintenance": "teknik_destek",
    "other": "teknik_destek",
}
