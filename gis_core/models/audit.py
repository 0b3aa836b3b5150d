from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gis_core.choices import AuditSourceChoices


class BulkChange(models.Model):
    """A write that bypassed model signals: queryset updates, bulk inserts, ETL COPY."""

    at = models.DateTimeField(_("zaman / time"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(_("kaynak / source"), max_length=10,
                              choices=AuditSourceChoices.choices)
    request_id = models.CharField(max_length=32, blank=True)
    target = models.CharField(_("hedef / target"), max_length=120)
    action = models.CharField(_("işlem / action"), max_length=10)
    count = models.PositiveIntegerField(_("kayıt sayısı / rows"))
    description = models.CharField(max_length=500, blank=True)
    batch_id = models.BigIntegerField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("toplu değişiklik / bulk change")
        verbose_name_plural = _("toplu değişiklikler / bulk changes")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.source} {self.action} {self.target} ×{self.count}"
