"""Controlled lists of the registers module (ASCII codes, Turkish labels first)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CountStatusChoices(models.TextChoices):
    OPEN = "open", _("Sayım sürüyor / Counting")
    CLOSED = "closed", _("Kapandı / Closed")


class DifferenceKindChoices(models.TextChoices):
    MISSING = "missing", _("Eksik (bulunamadı) / Missing")
    EXTRA = "extra", _("Fazla (kayıtsız) / Extra (not registered)")
    MISPLACED = "misplaced", _("Yanlış odada / In the wrong room")


class ConsumableKindChoices(models.TextChoices):
    TONER = "toner", _("Toner / Toner")
    DRUM = "drum", _("Drum / Drum")
    INK = "ink", _("Mürekkep kartuşu / Ink cartridge")
    CABLE = "cable", _("Kablo / Cable")
    DISK = "disk", _("Disk / Disk")
    PAPER = "paper", _("Kağıt / Paper")
    OTHER = "other", _("Diğer / Other")


class MovementKindChoices(models.TextChoices):
    RECEIPT = "receipt", _("Giriş / Receipt")
    ISSUE = "issue", _("Çıkış / Issue")


class BillingPeriodChoices(models.IntegerChoices):
    """How often a line is invoiced (months between two due dates)."""

    MONTHLY = 1, _("Aylık / Monthly")
    BIMONTHLY = 2, _("İki ayda bir / Every two months")
    QUARTERLY = 3, _("Üç ayda bir / Quarterly")
    HALF_YEARLY = 6, _("Altı ayda bir / Half-yearly")
    YEARLY = 12, _("Yıllık / Yearly")
