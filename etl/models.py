"""Batches (one upload each) and the quarantine of rejected features."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.gis.db import models
from django.db import connection
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

#: First key of the session-level advisory lock that a running batch holds (the batch's id
#: is the second). PostgreSQL drops the lock with the session, so a batch still
#: ``processing`` without its lock belongs to a process that died.
BATCH_LOCK_SPACE = 0x4B43_4554  # "KCET"


class BatchStatusChoices(models.TextChoices):
    PROCESSING = "processing", _("İşleniyor")
    LOADED = "loaded", _("Yüklendi")
    UNCHANGED = "unchanged", _("Değişiklik yok")
    DRY_RUN = "dry_run", _("Deneme (yüklenmedi)")
    REJECTED = "rejected", _("Reddedildi")
    REFUSED = "refused", _("Dosya reddedildi")
    FAILED = "failed", _("Başarısız")


class BatchPolicyChoices(models.TextChoices):
    NORMAL = "normal", _("Normal")
    DRY_RUN = "dry_run", _("Deneme")
    STRICT = "strict", _("Katı")
    #: A batch of its own that undid another (``Batch.undoes``): ``kentcbs batches undo``.
    UNDO = "undo", _("Geri alma")


class BatchQuerySet(models.QuerySet["Batch"]):
    def sweep_interrupted(self) -> int:
        """Mark the batches left ``processing`` by a process that died (killed, out of
        memory, its database connection lost) as ``failed`` with ``BATCH_INTERRUPTED``;
        return how many.

        A running batch holds a session-level advisory lock (:meth:`Batch.hold_lock`) from
        its creation until its final status is stored; one without it is dead. Its load's
        transaction never committed, so nothing of it is in the layer, and it loaded
        nothing (``count_rejected = count_read``). One statement: a batch that finishes
        meanwhile is read again and left alone.
        """
        from etl.errors import LoadFailed

        failure = LoadFailed("BATCH_INTERRUPTED", "The process loading this batch stopped "
                             "before it finished (killed, out of memory or its database "
                             "connection lost); nothing of it was loaded. Send the file again.")
        with connection.cursor() as cur:
            cur.execute(f"""
                UPDATE {self.model._meta.db_table} b
                   SET status = %s, reason_code = %s, message = %s, finished = now(),
                       count_loaded = 0, count_inserted = 0, count_updated = 0,
                       count_unchanged = 0, count_rejected = b.count_read
                 WHERE b.status = %s
                   AND NOT EXISTS (
                       SELECT 1 FROM pg_locks l
                        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                          AND l.classid = %s AND l.objid = b.id::oid
                          AND l.database = (SELECT oid FROM pg_database
                                             WHERE datname = current_database()))
                RETURNING b.id""",  # noqa: S608 - the model's own table
                [BatchStatusChoices.FAILED, failure.code, failure.text,
                 BatchStatusChoices.PROCESSING, BATCH_LOCK_SPACE])
            swept = [row[0] for row in cur.fetchall()]
        for pk in swept:
            logger.warning("etl: batch %s was interrupted (its process died); marked failed",
                           pk)
        return len(swept)


class Batch(models.Model):
    """One upload of one file into one layer, with its counts and reports.

    Invariant (checked when the batch closes): ``count_read == count_loaded +
    count_rejected``; in ``dry_run`` and strict rejection ``count_loaded``
    counts features that *would* load and ``loaded_rows`` stays 0.
    """

    layer_code = models.CharField(_("katman"), max_length=40, db_index=True)
    department = models.CharField(_("birim"), max_length=60, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("kullanıcı"), null=True,
                             blank=True, on_delete=models.SET_NULL, related_name="etl_batches")
    created = models.DateTimeField(_("oluşturulma"), auto_now_add=True, db_index=True)
    finished = models.DateTimeField(_("bitiş"), null=True, blank=True)
    file_name = models.CharField(_("dosya adı"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    file_format = models.CharField(_("biçim"), max_length=20, blank=True)
    count_read = models.PositiveBigIntegerField(_("okunan"), default=0)
    count_loaded = models.PositiveBigIntegerField(_("yüklenen"), default=0)
    count_rejected = models.PositiveBigIntegerField(_("reddedilen"), default=0)
    count_warnings = models.PositiveBigIntegerField(_("uyarı"), default=0)
    count_inserted = models.PositiveBigIntegerField(_("eklenen"), default=0)
    count_updated = models.PositiveBigIntegerField(_("güncellenen"), default=0)
    count_unchanged = models.PositiveBigIntegerField(_("değişmeyen"), default=0)
    #: Features removed (only an undo removes any: those the undone batch inserted).
    count_deleted = models.PositiveBigIntegerField(_("silinen"), default=0)
    status = models.CharField(_("durum"), max_length=20, choices=BatchStatusChoices.choices,
                              default=BatchStatusChoices.PROCESSING)
    policy = models.CharField(_("ilke"), max_length=10, choices=BatchPolicyChoices.choices,
                              default=BatchPolicyChoices.NORMAL)
    encoding = models.CharField(_("karakter kodlaması"), max_length=60, blank=True)
    crs = models.CharField(_("koordinat sistemi"), max_length=120, blank=True)
    reason_code = models.CharField(_("neden kodu"), max_length=40, blank=True)
    message = models.TextField(_("ileti"), blank=True)
    report_json = models.CharField(_("JSON rapor"), max_length=500, blank=True)
    report_html = models.CharField(_("HTML rapor"), max_length=500, blank=True)
    report_gpkg = models.CharField(_("reddedilenler (GPKG)"), max_length=500, blank=True)
    #: For an undo batch (policy ``undo``): the batch it undid (``undone_by`` from there).
    undoes = models.OneToOneField("self", verbose_name=_("geri aldığı parti"), null=True,
                                  blank=True, on_delete=models.PROTECT,
                                  related_name="undone_by")

    objects = BatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("aktarım partisi")
        verbose_name_plural = _("aktarım partileri")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.layer_code} {self.file_name} ({self.status})"

    @property
    def invariant_holds(self) -> bool:
        return self.count_read == self.count_loaded + self.count_rejected

    def hold_lock(self) -> None:
        """Take the advisory lock that says this batch's process is alive (see
        :meth:`BatchQuerySet.sweep_interrupted`); held by the session until released."""
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s, %s)", [BATCH_LOCK_SPACE, int(self.pk)])

    def release_lock(self) -> None:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s, %s)", [BATCH_LOCK_SPACE, int(self.pk)])


class Quarantine(models.Model):
    """A rejected feature, kept with its errors so it can be fixed and sent again."""

    batch = models.ForeignKey(Batch, verbose_name=_("parti"), on_delete=models.CASCADE,
                              related_name="quarantine")
    feature_index = models.PositiveBigIntegerField(_("nesne sırası"))
    properties = models.JSONField(_("öznitelikler"), default=dict)
    geom = models.GeometryField(_("geometri"), srid=settings.KENTCBS_SRID, null=True, blank=True)
    errors = models.JSONField(_("hatalar"), default=list)

    class Meta:
        verbose_name = _("karantina kaydı")
        verbose_name_plural = _("karantina kayıtları")
        constraints = [models.UniqueConstraint(fields=["batch", "feature_index"],
                                               name="etl_quarantine_batch_feature")]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.feature_index}"


class ColumnMapping(models.Model):
    """The columns-to-fields mapping a department last confirmed for a layer (proposed the
    next time the department sends a file to that layer)."""

    department = models.CharField(_("birim"), max_length=60)
    layer_code = models.CharField(_("katman"), max_length=40)
    #: ``{column as in the file: field of the standard, or "" for a column left out}``
    mapping = models.JSONField(_("eşleştirme"), default=dict)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("kullanıcı"), null=True,
                             blank=True, on_delete=models.SET_NULL, related_name="+")
    updated = models.DateTimeField(_("güncelleme"), auto_now=True)

    class Meta:
        verbose_name = _("sütun eşleştirmesi")
        verbose_name_plural = _("sütun eşleştirmeleri")
        constraints = [models.UniqueConstraint(fields=["department", "layer_code"],
                                               name="etl_columnmapping_department_layer")]

    def __str__(self) -> str:
        return f"{self.department} → {self.layer_code}"


class ValueAlias(models.Model):
    """A value departments write for a code-list entry (``Ticari`` for ``Ticaret``): the
    upload's value is replaced by the entry, and the report says so (``VALUE_ALIAS``).

    An alias without a department is the GIS unit's and applies to every upload; one with a
    department was confirmed by that department on the mapping page and applies to its own.
    """

    codelist = models.CharField(_("kod listesi"), max_length=60, db_index=True)
    alias = models.CharField(_("yazılan değer"), max_length=200)
    code = models.CharField(_("kod listesindeki değer"), max_length=200)
    department = models.CharField(_("birim"), max_length=60, blank=True, help_text=_(
        "Boş: bütün birimlerin yüklemelerinde uygulanır."))
    #: :func:`etl.textnorm.fold` of ``alias``: what an upload's value is compared by
    alias_key = models.CharField(max_length=200, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("ekleyen"),
                                   null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created = models.DateTimeField(_("oluşturulma"), auto_now_add=True)

    class Meta:
        verbose_name = _("kod listesi eş anlamlısı")
        verbose_name_plural = _("kod listesi eş anlamlıları")
        ordering = ["codelist", "alias"]
        constraints = [models.UniqueConstraint(fields=["codelist", "alias_key", "department"],
                                               name="etl_valuealias_unique")]

    def __str__(self) -> str:
        return f"{self.codelist}: {self.alias} → {self.code}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from layers.codelists import codelist, codelist_names

        if self.codelist not in codelist_names():
            raise ValidationError({"codelist": _("Böyle bir kod listesi yok.")})
        codes = [entry.code for entry in codelist(self.codelist)]
        if self.code not in codes:
            raise ValidationError({"code": _("Bu değer kod listesinde yok: %(codes)s") % {
                "codes": ", ".join(codes[:30])}})
        if self.alias.strip() in codes:
            raise ValidationError({"alias": _("Bu değer zaten kod listesinde.")})

    def save(self, *args: object, **kwargs: object) -> None:
        from etl.textnorm import fold

        self.alias = self.alias.strip()
        self.alias_key = fold(self.alias)
        super().save(*args, **kwargs)  # type: ignore[arg-type]
