"""Pages of the licence, domain/certificate, e-signature and reminder registers (thin).

Who may open which page is declared in ``kentcbs.py`` (served by the core's page guard);
who may see e-signature holders is :func:`modules.registers.esign.may_see_holders`, and
every page that shows a holder logs the read (``esign.log_read``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext

from gis_core.errors import KentCBSError
from modules.registers import esign, licences, reminders
from modules.registers.forms_licences import (
    AssignForm,
    CertificateForm,
    DomainForm,
    ESignatureForm,
    LicenceForm,
)
from modules.registers.models import (
    Domain,
    ESignatureCard,
    LicenceAssignment,
    SoftwareLicence,
    TlsCertificate,
)


def _audit(request: HttpRequest) -> Any:
    from gis_core.audit import audit_context

    return audit_context(user=request.user, source="web",
                         request_id=request.headers.get("X-Request-Id"))


def _form_page(request: HttpRequest, form: Any, title: str, back: str) -> HttpResponse:
    return render(request, "registers/register_form.html",
                  {"form": form, "title": title, "back": back})


# -- licences ---------------------------------------------------------------------------------

def licence_list(request: HttpRequest) -> HttpResponse:
    rows = list(licences.with_usage().order_by("product", "id"))
    return render(request, "registers/licences.html", {
        "licences": rows, "today": timezone.localdate()})


def licence_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    licence = get_object_or_404(SoftwareLicence, pk=pk) if pk else None
    form = LicenceForm(request.POST or None, instance=licence)
    if request.method == "POST" and form.is_valid():
        with _audit(request), transaction.atomic():
            if licence is not None:  # the seat count is checked under the licence's lock
                SoftwareLicence.objects.select_for_update().get(pk=licence.pk)
                if form.cleaned_data["seats"] < licence.assignments.count():
                    form.add_error("seats", gettext("Cannot be fewer than the seats in use."))
                    return _form_page(request, form, str(licence), "registers:licences")
            saved = form.save()
        messages.success(request, gettext("Saved."))
        return redirect("registers:licence_detail", pk=saved.pk)
    return _form_page(request, form, str(licence) if licence else gettext("New licence"),
                      "registers:licences")


def licence_detail(request: HttpRequest, pk: int) -> HttpResponse:
    from django.contrib.auth import get_user_model

    from gis_core.models import Asset

    licence = get_object_or_404(licences.with_usage(), pk=pk)
    form = AssignForm(request.POST or None)
    if request.method == "POST":
        try:
            with _audit(request):
                if request.POST.get("release"):
                    assignment = get_object_or_404(LicenceAssignment, licence=licence,
                                                   pk=int(request.POST["release"])
                                                   if request.POST["release"].isdigit() else 0)
                    licences.release(assignment=assignment)
                    messages.success(request, gettext("Seat released."))
                elif form.is_valid():
                    number = form.cleaned_data["asset"].strip()
                    username = form.cleaned_data["username"].strip()
                    asset = user = None
                    if number:
                        asset = Asset.objects.filter(inventory_number__iexact=number).first()
                        if asset is None:
                            raise KentCBSError("REGISTERS_ASSET_UNKNOWN",
                                               "There is no asset with inventory number "
                                               "'{number}'.", number=number[:40])
                    if username:
                        user = get_user_model().objects.filter(username=username).first()
                        if user is None:
                            raise KentCBSError("REGISTERS_USER_UNKNOWN",
                                               "There is no user '{username}'.",
                                               username=username[:150])
                    licences.assign(licence=licence, asset=asset, user=user, by=request.user)
                    messages.success(request, gettext("Seat assigned."))
        except KentCBSError as error:
            messages.error(request, error.localized)
        return redirect("registers:licence_detail", pk=licence.pk)
    assignments = licence.assignments.select_related("asset", "user", "asset__building")
    return render(request, "registers/licence_detail.html", {
        "licence": licence, "assignments": assignments, "form": form,
        "free": max(licence.seats - licence.in_use, 0), "today": timezone.localdate()})


# -- domains, hosting and TLS certificates ----------------------------------------------------

def domain_list(request: HttpRequest) -> HttpResponse:
    return render(request, "registers/domains.html", {
        "domains": Domain.objects.select_related("department"),
        "certificates": TlsCertificate.objects.select_related("department", "domain"),
        "today": timezone.localdate()})


def domain_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    domain = get_object_or_404(Domain, pk=pk) if pk else None
    form = DomainForm(request.POST or None, instance=domain)
    if request.method == "POST" and form.is_valid():
        with _audit(request):
            form.save()
        messages.success(request, gettext("Saved."))
        return redirect("registers:domains")
    return _form_page(request, form, str(domain) if domain else gettext("New domain name"),
                      "registers:domains")


def certificate_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    certificate = get_object_or_404(TlsCertificate, pk=pk) if pk else None
    form = CertificateForm(request.POST or None, request.FILES or None, instance=certificate)
    if request.method == "POST" and form.is_valid():
        with _audit(request):
            form.save()
        messages.success(request, gettext("Saved."))
        return redirect("registers:domains")
    return _form_page(request, form, str(certificate) if certificate
                      else gettext("New TLS certificate"), "registers:domains")


# -- e-signature cards and KEP accounts -------------------------------------------------------

def _it_staff_only(request: HttpRequest) -> None:
    """Cards are the IT directorate's register: a manager of another directorate holds an IT
    role (``manager``) but not the register (least access, KVKK)."""
    from django.core.exceptions import PermissionDenied

    from gis_core.selectors import is_it_staff

    if not is_it_staff(request.user):
        raise PermissionDenied


def esign_list(request: HttpRequest) -> HttpResponse:
    _it_staff_only(request)
    cards = list(ESignatureCard.objects.select_related("department"))
    show = esign.may_see_holders(request.user)
    if show:
        esign.log_read(user=request.user, cards=cards, path=request.get_full_path())
    return render(request, "registers/esign_list.html", {
        "cards": cards, "show_holder": show, "today": timezone.localdate()})


def esign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _it_staff_only(request)
    card = get_object_or_404(ESignatureCard.objects.select_related("department"), pk=pk)
    show = esign.may_see_holders(request.user)
    if show:
        esign.log_read(user=request.user, cards=[card], path=request.get_full_path())
    return render(request, "registers/esign_detail.html", {
        "card": card, "show_holder": show, "today": timezone.localdate()})


def esign_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _it_staff_only(request)
    card = get_object_or_404(ESignatureCard, pk=pk) if pk else None
    show = esign.may_see_holders(request.user)
    form = ESignatureForm(request.POST or None, instance=card, show_holder=show)
    if request.method == "POST" and form.is_valid():
        with _audit(request):
            saved = form.save()
        messages.success(request, gettext("Saved."))
        return redirect("registers:esign_detail", pk=saved.pk)
    if show and card is not None and request.method != "POST":
        esign.log_read(user=request.user, cards=[card], path=request.get_full_path())
    return _form_page(request, form, str(card) if card
                      else gettext("New e-signature card or KEP account"),
                      "registers:esign")


# -- reminders --------------------------------------------------------------------------------

def reminder_page(request: HttpRequest) -> HttpResponse:
    """Today's reminders and everything coming due within 60 days or overdue, for the
    user's units (IT staff: all)."""
    from gis_core.selectors import is_it_staff, user_access
    from modules.registers.models import ReminderDigest

    today = timezone.localdate()
    due_today = reminders.visible_to(request.user, reminders.collect(today=today))
    coming = reminders.visible_to(request.user, reminders.upcoming(today=today))
    digests = ReminderDigest.objects.select_related("department")
    if not is_it_staff(request.user):
        digests = digests.filter(department__code__in=user_access(request.user).departments)
    rows = [(item, item.days_left(today), reminders.kind_word(item.kind)) for item in coming]
    return render(request, "registers/reminders.html", {
        "today": today, "due_today": due_today, "rows": rows, "digests": digests[:30],
        "it_unit": reminders.it_unit()})
