"""Personal access tokens (QGIS/GDAL over HTTP Basic) and the audit log of personal-data reads."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PersonalAccessToken(models.Model):
    """A token a user creates for QGIS or GDAL; only its SHA-256 hash is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="access_tokens", verbose_name=_("kullanıcı"))
    name = models.CharField(_("ad"), max_length=100)
    token_hash = models.CharField(_("anahtar özeti"), max_length=64, unique=True)
    prefix = models.CharField(_("önek"), max_length=12)
    created = models.DateTimeField(_("oluşturulma"), auto_now_add=True)
    last_used = models.DateTimeField(_("son kullanım"), null=True, blank=True)
    revoked = models.DateTimeField(_("iptal"), null=True, blank=True)

    class Meta:
        verbose_name = _("kişisel erişim anahtarı")
        verbose_name_plural = _("kişisel erişim anahtarları")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.user} / {self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked is None


class AccessLog(models.Model):
    """One read of a layer holding personal data (KVKK): who, when, which layer, what."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                             blank=True, verbose_name=_("kullanıcı"))
    username = models.CharField(_("kullanıcı adı"), max_length=150, blank=True)
    when = models.DateTimeField(_("zaman"), auto_now_add=True, db_index=True)
    layer = models.CharField(_("katman"), max_length=40, db_index=True)
    path = models.CharField(_("yol"), max_length=500)
    query = models.TextField(_("sorgu"), blank=True)
    bbox = models.CharField(_("kapsam"), max_length=200, blank=True)
    filter = models.TextField(_("filtre"), blank=True)
    via = models.CharField(_("kanal"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("kişisel veri erişim kaydı")
        verbose_name_plural = _("kişisel veri erişim kayıtları")
        ordering = ["-when"]

    def __str__(self) -> str:
        return f"{self.when:%Y-%m-%d %H:%M} {self.username} {self.layer}"
