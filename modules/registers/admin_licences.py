"""Administration of licences, domains, certificates, e-signature cards and reminder digests.

Seats are assigned on the licence page (``licences.assign`` refuses over-assignment), so the
admin shows assignments read-only. E-signature holders are shown only to
``esign.may_see_holders`` and every admin page that shows them logs the read (KVKK).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from modules.registers import esign
from modules.registers.forms_licences import LicenceForm
from modules.registers.models import (
    Domain,
    ESignatureCard,
    LicenceAssignment,
    PersonalDataPurge,
    ReminderDigest,
    SoftwareLicence,
    TlsCertificate,
)


class AssignmentInline(admin.TabularInline):
    model = LicenceAssignment
    extra = 0
    max_num = 0
    can_delete = False
    fields = ("asset", "user", "assigned_at", "assigned_by")
    readonly_fields = fields


@admin.register(SoftwareLicence)
class SoftwareLicenceAdmin(admin.ModelAdmin):
    list_display = ("product", "vendor", "seats", "starts_on", "ends_on", "department")
    search_fields = ("product", "vendor", "contract")
    list_filter = ("department",)
    inlines = (AssignmentInline,)
    form = LicenceForm  # refuses fewer seats than in use, as the page does


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ("name", "registrar", "expires_on", "hosting_provider", "hosting_expires_on",
                    "department")
    search_fields = ("name", "registrar", "hosting_provider")


@admin.register(TlsCertificate)
class TlsCertificateAdmin(admin.ModelAdmin):
    list_display = ("common_name", "issuer", "serial", "expires_on", "department")
    search_fields = ("common_name", "issuer", "serial")


@admin.register(ESignatureCard)
class ESignatureCardAdmin(admin.ModelAdmin):
    list_display = ("kind", "serial", "issuer", "expires_on", "revoked_on", "department")
    search_fields = ("serial", "issuer")
    list_filter = ("kind", "issuer")
    readonly_fields = ("holder_purged_at",)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        if not esign.may_see_holders(request.user):
            fields = [f for f in fields if f not in ("holder_name", "kep_address")]
        return fields

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        if not esign.may_see_holders(request.user):
            return ("holder_name", "kep_address")
        return super().get_exclude(request, obj)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        # str.isdigit() also takes '²' and other digits int() refuses: ASCII digits only
        wellformed = object_id.isascii() and object_id.isdigit()
        card = ESignatureCard.objects.filter(pk=object_id).first() if wellformed else None
        if card is not None and esign.may_see_holders(request.user) \
                and request.method == "GET" and response.status_code == 200:
            esign.log_read(user=request.user, cards=[card], path=request.get_full_path(),
                           via="admin")
        return response


@admin.register(ReminderDigest)
class ReminderDigestAdmin(admin.ModelAdmin):
    list_display = ("day", "department", "sent_at", "error")
    list_filter = ("day",)
    readonly_fields = ("day", "department", "items", "recipients", "sent_at", "error")


@admin.register(PersonalDataPurge)
class PersonalDataPurgeAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "before", "cards", "history_rows")
    readonly_fields = ("at", "actor", "before", "cards", "history_rows")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
