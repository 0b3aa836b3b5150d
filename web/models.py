"""Models of the web front end: an upload job, so that any worker can report its progress."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class UploadJobStatusChoices(models.TextChoices):
    MAPPING = "mapping", _("Waiting for the column mapping")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    ERROR = "error", _("Error")


class UploadJobPhaseChoices(models.TextChoices):
    QUEUED = "queued", _("Queued")
    READING = "reading", _("Reading the file")
    VALIDATING = "validating", _("Validating")
    FINISHING = "finishing", _("Loading and writing the report")
    DONE = "done", _("Done")


class UploadJob(models.Model):
    """One file sent through the upload form, run by ``etl.services.ingest`` in the background.

    The web process that received the file runs it (``web.reports.start_upload``) and
    writes ``done``/``total``/``phase`` here as it goes; ``heartbeat`` moves while it
    runs, so a job whose process died is told apart from a slow one.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"),
                             on_delete=models.CASCADE, related_name="upload_jobs")
    layer_code = models.CharField(_("layer"), max_length=40)
    department = models.CharField(_("department"), max_length=60)
    file_name = models.CharField(_("file name"), max_length=255)
    stored_path = models.CharField(_("stored file"), max_length=500, blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    crs = models.CharField(_("coordinate reference system"), max_length=40, blank=True)
    dry_run = models.BooleanField(_("dry run"), default=False)
    strict = models.BooleanField(_("strict"), default=False)
    accept_shift = models.BooleanField(_("shift accepted"), default=False)
    #: ``{column: field}`` confirmed on the mapping page (``None``: the columns' own names)
    mapping = models.JSONField(_("column mapping"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=UploadJobStatusChoices.choices,
                              default=UploadJobStatusChoices.QUEUED)
    phase = models.CharField(_("phase"), max_length=12, choices=UploadJobPhaseChoices.choices,
                             default=UploadJobPhaseChoices.QUEUED)
    done = models.PositiveBigIntegerField(_("features done"), default=0)
    total = models.PositiveBigIntegerField(_("features in the file"), null=True, blank=True)
    batch = models.ForeignKey("etl.Batch", verbose_name=_("batch"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="upload_jobs")
    error_code = models.CharField(_("error code"), max_length=40, blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    heartbeat = models.DateTimeField(_("heartbeat"), auto_now_add=True)
    finished = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("upload job")
        verbose_name_plural = _("upload jobs")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.layer_code} {self.file_name} ({self.status})"
