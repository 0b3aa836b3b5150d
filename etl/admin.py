"""Admin of the ETL: the GIS unit's code-list aliases and the departments' saved mappings."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from etl.models import ColumnMapping, ValueAlias


@admin.register(ValueAlias)
class ValueAliasAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("codelist", "alias", "code", "department", "created_by", "created")
    list_filter = ("codelist", "department")
    search_fields = ("alias", "code")
    readonly_fields = ("created_by", "created")

    def save_model(self, request: Any, obj: ValueAlias, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ColumnMapping)
class ColumnMappingAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("department", "layer_code", "user", "updated")
    list_filter = ("layer_code", "department")
    readonly_fields = ("updated",)
