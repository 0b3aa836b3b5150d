"""Controlled lists of the registers module (ASCII codes, Turkish labels first)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CountStatusChoices(models.TextChoices):
    OPEN = "open", _("Counting")
    CLOSED = "closed", _("Closed")


class DifferenceKindChoices(models.TextChoices):
    MISSING = "missing", _("Missing")
    EXTRA = "extra", _("Extra (not registered)")
    MISPLACED = "misplaced", _("In the wrong room")


class ConsumableKindChoices(models.TextChoices):
    TONER = "toner", _("Toner")
    DRUM = "drum", _("Drum")
    INK = "ink", _("Ink cartridge")
    CABLE = "cable", _("Cable")
    DISK = "disk", _("Disk")
    PAPER = "paper", _("Paper")
    OTHER = "other", _("Other")


class MovementKindChoices(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    ISSUE = "issue", _("Issue")


class BillingPeriodChoices(models.IntegerChoices):
    """How often a line is invoiced (months between two due dates)."""

    MONTHLY = 1, _("Monthly")
    BIMONTHLY = 2, _("Every two months")
    QUARTERLY = 3, _("Quarterly")
    HALF_YEARLY = 6, _("Half-yearly")
    YEARLY = 12, _("Yearly")
