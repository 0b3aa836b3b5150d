"""Administration of the backup register (the records of Law 5651 are read in their pages)."""

from django.contrib import admin

from modules.netops.models import BackupRun, BackupTarget, RestoreDrill


class RunInline(admin.TabularInline):
    model = BackupRun
    extra = 0
    readonly_fields = ("status", "at", "size_bytes", "detail", "reported_by")
    can_delete = False
    ordering = ("-at",)
    max_num = 0


class DrillInline(admin.TabularInline):
    model = RestoreDrill
    extra = 1
    fields = ("at", "outcome", "notes", "recorded_by")


@admin.register(BackupTarget)
class BackupTargetAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "importance", "policy", "department", "active")
    list_filter = ("kind", "importance", "policy", "active")
    search_fields = ("code", "name")
    autocomplete_fields = ()
    inlines = (DrillInline, RunInline)
