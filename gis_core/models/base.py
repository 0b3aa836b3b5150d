"""Shared model machinery: audited querysets and history with a source."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from gis_core.choices import AuditSourceChoices

#: ICU Turkish collation for names (sorting Ç after C, I before İ, case rules for ı/İ).
TURKISH = "tr-TR-x-icu"


class HistorySource(models.Model):
    """Extra columns on every history table: where the change came from."""

    history_source = models.CharField(_("kaynak / source"), max_length=10,
                                      choices=AuditSourceChoices.choices, default="system")
    history_request_id = models.CharField(_("istek no / request id"), max_length=32, blank=True)

    class Meta:
        abstract = True


class AuditedQuerySet(models.QuerySet):
    """A queryset whose bulk writes (which bypass signals) are recorded."""

    def update(self, **kwargs: Any) -> int:
        count = super().update(**kwargs)
        if count:
            from gis_core.audit import record_bulk_change

            record_bulk_change(target=self.model._meta.label, action="update", count=count,
                               description="fields: " + ", ".join(sorted(kwargs)))
        return count

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        created = super().bulk_create(objs, *args, **kwargs)
        if created:
            from gis_core.audit import record_bulk_change

            record_bulk_change(target=self.model._meta.label, action="insert",
                               count=len(created))
        return created

    def bulk_update(self, objs: Any, fields: Any, *args: Any, **kwargs: Any) -> int:
        count = super().bulk_update(objs, fields, *args, **kwargs)
        if count:
            from gis_core.audit import record_bulk_change

            record_bulk_change(target=self.model._meta.label, action="update", count=count,
                               description="fields: " + ", ".join(sorted(fields)))
        return count

    def delete(self) -> tuple[int, dict[str, int]]:
        count, per_model = super().delete()
        if count:
            from gis_core.audit import record_bulk_change

            record_bulk_change(target=self.model._meta.label, action="delete", count=count)
        return count, per_model
