"""Django admin for the core domain, with history, and map-free geometry editing.

Geometry fields are edited as WKT/EWKT text: Django's GIS admin widgets load
OpenLayers from a CDN, which an intranet cannot reach. The map itself is the
viewer's job; the admin stays usable with no internet at all.
"""

from __future__ import annotations

from typing import Any

from axes.models import AccessAttempt, AccessFailureLog
from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.gis.db import models as gis_models
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _
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


class HistoryAdmin(SimpleHistoryAdmin):
    """simple_history's admin, with the object id checked before the history lookup.

    Its history view looks the id up unchecked: ``abc`` for an integer key was a 500.
    Modules with history use this class too.
    """

    def history_view(self, request: Any, object_id: str, extra_context: Any = None) -> Any:
        try:
            self.model._meta.pk.to_python(unquote(object_id))
        except (ValidationError, ValueError):
            raise Http404 from None
        return super().history_view(request, object_id, extra_context)


class CoreAdmin(HistoryAdmin):
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


# -- sign-in throttle (django-axes; gis_core.signin) ---------------------------------------
class SignInAdmin(admin.ModelAdmin):
    """Axes' records, for the GIS administrators only (``layers.access.is_gis_admin``)."""

    def _gis_admin(self, request: Any) -> bool:
        from layers.access import is_gis_admin

        return bool(request.user.is_active and request.user.is_staff
                    and is_gis_admin(request.user))

    def has_module_permission(self, request: Any) -> bool:
        return self._gis_admin(request)

    def has_view_permission(self, request: Any, obj: Any = None) -> bool:
        return self._gis_admin(request)

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(AccessAttempt)
class FailedSignInAdmin(SignInAdmin):
    """Accounts and addresses with failed sign-ins; "unlock" deletes their records."""

    list_display = ["username", "ip_address", "failures_since_start", "attempt_time",
                    "path_info"]
    search_fields = ["username", "ip_address"]
    ordering = ["-attempt_time"]
    actions = ["unlock"]
    readonly_fields = ["username", "ip_address", "user_agent", "failures_since_start",
                       "attempt_time", "path_info"]
    exclude = ["get_data", "post_data", "http_accept"]

    def has_unlock_permission(self, request: Any) -> bool:
        return self._gis_admin(request)

    @admin.action(description=_("Unlock sign-in (clear the failures)"), permissions=["unlock"])
    def unlock(self, request: Any, queryset: Any) -> None:
        from gis_core.signin import unlock

        count = 0
        for row in list(queryset):
            count += unlock(username=row.username or None, address=row.ip_address or None)
        self.message_user(request, _("Unlocked: %(count)d record(s) cleared.")
                          % {"count": count})


@admin.register(AccessFailureLog)
class SignInFailureLogAdmin(SignInAdmin):
    """Every failed sign-in (kept by axes, AXES_ENABLE_ACCESS_FAILURE_LOG)."""

    list_display = ["attempt_time", "username", "ip_address", "path_info", "locked_out"]
    list_filter = ["locked_out"]
    search_fields = ["username", "ip_address"]
    ordering = ["-attempt_time"]
