"""The line payments page (thin: parse, call ``payments``, render)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext

from gis_core.errors import KentCBSError
from gis_core.params import id_param
from modules.registers import payments
from modules.registers.errors import RegistersError


def _date(value: str | None, *, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value or ""))
    except ValueError:
        raise RegistersError("REGISTERS_BAD_DATE", "'{value}' is not a date ({name}).",
                             value=str(value or "")[:20], name=name) from None


def _amount(value: str | None) -> Decimal:
    try:
        return Decimal(str(value or "").replace(",", "."))
    except InvalidOperation:
        raise RegistersError("REGISTERS_PAYMENT_AMOUNT",
                             "A payment's amount must be greater than zero.") from None


def lines_page(request: HttpRequest) -> HttpResponse:
    """Due this month, overdue, monthly cost per building and department; POST records a
    payment against a due date."""
    from gis_core.audit import audit_context
    from gis_core.models import Subscription

    today = timezone.localdate()
    if request.method == "POST":
        subscription = get_object_or_404(Subscription, pk=id_param(request.POST, "line"))
        try:
            with audit_context(user=request.user, source="web",
                               request_id=request.headers.get("X-Request-Id")):
                payments.record_payment(
                    subscription=subscription,
                    due_date=_date(request.POST.get("due_date"), name=gettext("due date")),
                    amount=_amount(request.POST.get("amount")),
                    paid_on=_date(request.POST.get("paid_on") or today.isoformat(),
                                  name=gettext("paid on")),
                    reference=request.POST.get("reference", ""), user=request.user, today=today)
            messages.success(request, gettext("Payment recorded."))
        except KentCBSError as error:
            messages.error(request, error.localized)
        return redirect("registers:lines")
    return render(request, "registers/lines.html", {
        "today": today,
        "due_this_month": payments.due_this_month(today=today),
        "overdue": payments.overdue(today=today),
        "costs": payments.monthly_costs(month=today),
    })


# -- the activity report (§5) ------------------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def report_index(request: HttpRequest) -> HttpResponse:
    """The running year's report."""
    return redirect("registers:report", year=timezone.localdate().year)


def _report_year(year: int) -> int:
    if not 2000 <= year <= timezone.localdate().year:
        raise RegistersError("REGISTERS_REPORT_YEAR",
                             "There is no activity report for the year {year}.", year=year)
    return year


def report_page(request: HttpRequest, year: int) -> HttpResponse:
    """The yearly activity report figures, with XLSX and PDF downloads."""
    from modules.registers.activity_report import activity_report

    try:
        report = activity_report(user=request.user, year=_report_year(year))
    except KentCBSError as error:
        return render(request, "registers/report.html", {"error": error.localized,
                                                         "year": year}, status=404)
    return render(request, "registers/report.html", {"report": report, "year": year,
                                                     "years": range(year - 3, year + 1)})


def report_file(request: HttpRequest, year: int, fmt: str) -> HttpResponse:
    from django.http import Http404

    from modules.registers.activity_report import activity_report, report_pdf, report_xlsx

    if fmt not in {"pdf", "xlsx"}:
        raise Http404(fmt)
    try:
        report = activity_report(user=request.user, year=_report_year(year))
        body = report_pdf(report) if fmt == "pdf" else report_xlsx(report)
    except KentCBSError as error:
        return HttpResponse(error.localized, status=404, content_type="text/plain; charset=utf-8")
    response = HttpResponse(body, content_type="application/pdf" if fmt == "pdf" else XLSX)
    disposition = "inline" if fmt == "pdf" else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="faaliyet-raporu-{year}.{fmt}"'
    return response
