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
