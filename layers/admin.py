"""Read-only admin pages: code lists are edited in their files, layer state by ``sync``."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from layers.models import CodeListEntry, LayerState


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(CodeListEntry)
class CodeListEntryAdmin(ReadOnlyAdmin):
    list_display = ["list_name", "code", "label_tr", "label_en", "sort_order"]
    list_filter = ["list_name"]
    search_fields = ["code", "label_tr", "label_en"]


@admin.register(LayerState)
class LayerStateAdmin(ReadOnlyAdmin):
    list_display = ["code", "version", "kind", "table", "applied_at"]
    search_fields = ["code"]
