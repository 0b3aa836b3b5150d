from django.contrib import admin

from gis_core.admin import HistoryAdmin
from modules.helpdesk.models import (
    MaintenancePlan,
    MaintenanceWorkItem,
    SlaTarget,
    Ticket,
    VendorRepair,
)


@admin.register(Ticket)
class TicketAdmin(HistoryAdmin):
    """Read-only: tickets change through the helpdesk pages (services keep the rules)."""

    list_display = ("number", "title", "category", "priority", "status", "responsible_unit",
                    "opened_at")
    list_filter = ("status", "category", "priority", "responsible_unit")
    search_fields = ("number", "title", "asset__inventory_number")

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(SlaTarget)
class SlaTargetAdmin(admin.ModelAdmin):
    list_display = ("priority", "response_minutes", "resolution_minutes")


@admin.register(MaintenancePlan)
class MaintenancePlanAdmin(admin.ModelAdmin):
    list_display = ("name", "asset_category", "asset", "interval_days", "starts_on", "active")


admin.site.register(VendorRepair)
admin.site.register(MaintenanceWorkItem)
