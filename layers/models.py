"""What the registry stores in the database: code list entries and applied layer versions."""

from __future__ import annotations

from django.db import models


class CodeListEntry(models.Model):
    """One allowed value of a code list (loaded from ``layers/codelists/<name>.yaml``)."""

    list_name = models.CharField("kod listesi", max_length=60, db_index=True)
    code = models.CharField("kod", max_length=200)
    label_tr = models.CharField("Türkçe ad", max_length=200)
    label_en = models.CharField("İngilizce ad", max_length=200)
    sort_order = models.PositiveIntegerField("sıra", default=0)

    class Meta:
        verbose_name = "kod listesi değeri"
        verbose_name_plural = "kod listesi değerleri"
        ordering = ["list_name", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["list_name", "code"], name="layers_codelist_code_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.list_name}: {self.code}"


class LayerState(models.Model):
    """The definition last applied to a layer's table or view by ``kentcbs layers sync``."""

    code = models.CharField("katman kodu", max_length=40, unique=True)
    version = models.PositiveIntegerField("sürüm")
    kind = models.CharField("tür", max_length=10)
    table = models.CharField("tablo", max_length=120)
    definition_hash = models.CharField("tanım özeti", max_length=64)
    definition = models.JSONField("tanım")
    applied_at = models.DateTimeField("uygulanma zamanı", auto_now=True)

    class Meta:
        # Created by migration 0001 with RunSQL and not flushed by Django's test
        # teardown: it describes tables in schema cbs, which a flush keeps too.
        managed = False
        db_table = "layers_layerstate"
        verbose_name = "katman durumu"
        verbose_name_plural = "katman durumları"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"
