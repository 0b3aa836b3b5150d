"""Django admin for the core domain, with history, and map-free geometry editing.

Geometry fields are edited as WKT/EWKT text: Django's GIS admin widgets load
OpenLayers from a CDN, which an intranet cannot reach. The map itself is the
viewer's job; the admin stays usable with no internet at all.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.gis.db import models as gis_models
from django.db import transaction
from simple_history.admin import SimpleHistoryAdmin

from gis_core.constraints import RuleViolation, rules_explained
from gis_core.models import (
    Asset,
    AssetTransition,
    Building,
    BulkChange,
    Department,
    Floor,
    Membership,
    Municipality,
    Neighbourhood,
    NetworkLink,
    Room,
    ScrappingRecord,
    Subscription,
)

GEOMETRY_AS_TEXT = {gis_models.GeometryField: {"widget": forms.Textarea(attrs={"rows": 4,
                                                                              "cols": 80})}}


class _Rollback(Exception):
    pass


class RuleCheckedForm(forms.ModelForm):
    """Checks the database rules (triggers, constraints) before the admin saves.

    The row is written in a savepoint that is always rolled back; a violated rule
    becomes a form error with its bilingual message instead of a server error.
    """

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.errors:
            return
        adding = self.instance._state.adding
        try:
            with transaction.atomic():
                with rules_explained():
                    self.instance.save()
                raise _Rollback
        except _Rollback:
            pass
        except RuleViolation as exc:
            self.add_error(None, exc.text)
        finally:
            if adding:
                self.instance.pk = None
                self.instance._state.adding = True


class CoreAdmin(SimpleHistoryAdmin):
    form = RuleCheckedForm
    formfield_overrides = GEOMETRY_AS_TEXT


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    list_display = ["name", "province", "code", "srid"]
    formfield_overrides = GEOMETRY_AS_TEXT


@admin.register(Neighbourhood)
class NeighbourhoodAdmin(admin.ModelAdmin):
    list_display = ["name", "uavt_code"]
    search_fields = ["name", "uavt_code"]
    formfield_overrides = GEOMETRY_AS_TEXT


@admin.register(Department)
class DepartmentAdmin(CoreAdmin):
    list_display = ["code", "name", "name_en", "kind", "parent", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name", "name_en"]


@admin.register(Membership)
class MembershipAdmin(CoreAdmin):
    list_display = ["user", "department", "role"]
    list_filter = ["role", "department"]
    search_fields = ["user__username", "department__name"]
    autocomplete_fields = ["department"]


class FloorInline(admin.TabularInline):
    model = Floor
    extra = 0


@admin.register(Building)
class BuildingAdmin(CoreAdmin):
    list_display = ["code", "name", "neighbourhood", "uavt_code", "floor_count"]
    list_filter = ["neighbourhood", "departments"]
    search_fields = ["code", "name", "uavt_code", "street"]
    filter_horizontal = ["departments"]
    inlines = [FloorInline]


@admin.register(Floor)
class FloorAdmin(CoreAdmin):
    list_display = ["building", "number", "name"]
    list_filter = ["building"]


@admin.register(Room)
class RoomAdmin(CoreAdmin):
    list_display = ["building", "code", "name", "floor"]
    list_filter = ["building"]
    search_fields = ["code", "name", "building__name"]


class TransitionInline(admin.TabularInline):
    model = AssetTransition
    extra = 0
    can_delete = False
    readonly_fields = ["at", "from_status", "to_status", "user", "source", "reason"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Asset)
class AssetAdmin(CoreAdmin):
    list_display = ["inventory_number", "category", "status", "brand", "model", "building",
                    "room", "department", "hostname", "ip_address"]
    list_filter = ["category", "status", "building", "department"]
    search_fields = ["inventory_number", "hostname", "ip_address", "mac_address",
                     "serial_number"]
    list_select_related = ["building", "room", "department"]
    inlines = [TransitionInline]
    # The status changes only through the lifecycle (services / helpdesk), so it is recorded.
    readonly_fields = ["status"]


@admin.register(AssetTransition)
class AssetTransitionAdmin(admin.ModelAdmin):
    list_display = ["asset", "from_status", "to_status", "at", "user", "source"]
    list_filter = ["to_status", "source"]
    search_fields = ["asset__inventory_number"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ScrappingRecord)
class ScrappingRecordAdmin(CoreAdmin):
    list_display = ["asset", "status", "proposed_at", "decision_number", "decided_at"]
    list_filter = ["status"]
    search_fields = ["asset__inventory_number", "decision_number"]


@admin.register(NetworkLink)
class NetworkLinkAdmin(CoreAdmin):
    list_display = ["__str__", "medium", "capacity_mbps", "status", "provider", "circuit_id"]
    list_filter = ["medium", "status", "provider"]
    search_fields = ["circuit_id", "provider", "a_asset__inventory_number",
                     "b_asset__inventory_number", "a_building__name", "b_building__name"]
    raw_id_fields = ["a_asset", "b_asset"]


@admin.register(Subscription)
class SubscriptionAdmin(CoreAdmin):
    list_display = ["provider", "line_number", "kind", "building", "monthly_fee", "payment_day",
                    "start_date", "end_date"]
    list_filter = ["kind", "provider"]
    search_fields = ["line_number", "contract_number", "provider"]


@admin.register(BulkChange)
class BulkChangeAdmin(admin.ModelAdmin):
    list_display = ["at", "source", "user", "action", "target", "count", "description"]
    list_filter = ["source", "action"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
