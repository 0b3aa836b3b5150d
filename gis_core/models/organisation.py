"""The municipality, its departments (a tree of müdürlük and birim) and memberships."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from gis_core.choices import DepartmentKindChoices, RoleChoices
from gis_core.models.base import TURKISH, AuditedQuerySet, HistorySource


class Municipality(models.Model):
    """The one municipality of this deployment (see ``settings.KENTCBS_PROFILE``)."""

    code = models.SlugField(_("profil kodu / profile code"), unique=True)
    name = models.CharField(_("ad / name"), max_length=100)
    province = models.CharField(_("il / province"), max_length=100)
    srid = models.PositiveIntegerField(_("TM dilimi (EPSG) / TM zone (EPSG)"))
    boundary = models.MultiPolygonField(_("sınır / boundary"), srid=settings.KENTCBS_SRID,
                                        null=True, blank=True)

    class Meta:
        verbose_name = _("belediye / municipality")
        verbose_name_plural = _("belediyeler / municipalities")

    def __str__(self) -> str:
        return f"{self.name} ({self.province})"

    @classmethod
    def current(cls) -> Municipality | None:
        return cls.objects.filter(code=settings.KENTCBS_PROFILE).first()


class DepartmentQuerySet(AuditedQuerySet):
    def with_descendants(self, code: str) -> DepartmentQuerySet:
        """The department ``code`` and every unit below it (recursive CTE)."""
        # The table name is the model's own; the code is a query parameter.
        table = self.model._meta.db_table
        sql = (f"WITH RECURSIVE t AS (SELECT id FROM {table} WHERE code = %s "  # noqa: S608
               f"UNION ALL SELECT d.id FROM {table} d JOIN t ON d.parent_id = t.id) "
               "SELECT id FROM t")
        return self.filter(id__in=RawSQL(sql, [code]))  # noqa: S611


class Department(models.Model):
    """A müdürlük or a birim under it."""

    code = models.SlugField(_("kod / code"), max_length=60, unique=True,
                            help_text=_("ASCII kod, örn. bilgi_islem / ASCII code"))
    name = models.CharField(_("ad / name"), max_length=150, db_collation=TURKISH)
    name_en = models.CharField(_("İngilizce ad / English name"), max_length=150, blank=True)
    kind = models.CharField(_("tür / kind"), max_length=12, choices=DepartmentKindChoices.choices,
                            default=DepartmentKindChoices.DIRECTORATE)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children", verbose_name=_("üst birim / parent"))
    is_active = models.BooleanField(_("etkin / active"), default=True)
    history = HistoricalRecords(bases=[HistorySource])

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("müdürlük/birim / department")
        verbose_name_plural = _("müdürlükler/birimler / departments")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(parent=models.F("id")),
                                   name="department_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    def ancestors(self) -> list[Department]:
        chain, node, seen = [], self.parent, {self.pk}
        while node is not None and node.pk not in seen:
            chain.append(node)
            seen.add(node.pk)
            node = node.parent
        return chain


class Membership(models.Model):
    """A user's role in a department; a user may hold several."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="memberships", verbose_name=_("kullanıcı / user"))
    department = models.ForeignKey(Department, on_delete=models.PROTECT,
                                   related_name="memberships",
                                   verbose_name=_("müdürlük/birim / department"))
    role = models.CharField(_("rol / role"), max_length=20, choices=RoleChoices.choices)
    history = HistoricalRecords(bases=[HistorySource])

    objects = AuditedQuerySet.as_manager()

    class Meta:
        verbose_name = _("üyelik / membership")
        verbose_name_plural = _("üyelikler / memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "department", "role"],
                                    name="membership_unique"),
            models.CheckConstraint(condition=models.Q(role__in=RoleChoices.values),
                                   name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.department} · {self.get_role_display()}"
