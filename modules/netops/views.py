"""Pages of the network operations module (served through gis_core.modules.guard_page:
only network administrators and GIS administrators open them)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from gis_core.errors import KentCBSError
from modules.netops import services
from modules.netops.forms import WhoisForm
from modules.netops.models import DailyArchive, LeaseFile


def whois(request: HttpRequest) -> HttpResponse:
    form = WhoisForm(request.POST or None)
    answer = None
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            answer = services.whois(ip=str(form.cleaned_data["ip"]), at=form.cleaned_data["at"],
                                    reason=form.cleaned_data["reason"], user=request.user)
        except KentCBSError as exc:
            error = exc.text
    return render(request, "netops/whois.html", {
        "form": form, "answer": answer, "error": error,
        "archives": DailyArchive.objects.order_by("-day")[:14],
        "intakes": LeaseFile.objects.order_by("-received_at")[:10],
        "now": timezone.localtime(),
    })
