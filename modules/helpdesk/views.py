"""Helpdesk pages (thin: parse, call services/selectors, render)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from gis_core.errors import KentCBSError
from gis_core.params import id_param
from modules.helpdesk import services
from modules.helpdesk.charts import bar_chart
from modules.helpdesk.choices import TicketStatusChoices
from modules.helpdesk.exports import to_csv, to_xlsx
from modules.helpdesk.forms import ActionForm, TicketForm
from modules.helpdesk.maps import load_map
from modules.helpdesk.models import Ticket, VendorRepair
from modules.helpdesk.selectors import (
    can_work_on,
    helpdesk_access,
    technicians_of,
    visible_tickets,
)
from modules.helpdesk.statistics import (
    DIMENSION_TITLES,
    DIMENSIONS,
    activity_report,
    building_load,
    ticket_statistics,
    totals,
)


def _audit(request: HttpRequest) -> Any:
    from gis_core.audit import audit_context

    return audit_context(user=request.user, source="web",
                         request_id=request.headers.get("X-Request-Id"))


def _centre() -> tuple[float, float]:
    """(lon, lat) from the municipality's boundary (gis_core.maps, never guessed)."""
    from gis_core.maps import municipality_centre

    return municipality_centre()


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    tickets = visible_tickets(user=request.user)
    status = request.GET.get("status")
    if status not in TicketStatusChoices.values:
        status = None  # an unknown status filters nothing (like the report list)
    if status:
        tickets = tickets.filter(status=status)
    return render(request, "helpdesk/ticket_list.html", {
        "tickets": tickets[:200], "access": helpdesk_access(request.user), "status": status})


@login_required
def ticket_new(request: HttpRequest) -> HttpResponse:
    from gis_core.models import Building, Room

    # a malformed id (letters, a number past bigint, "²") is a 400, never a server error
    asked_building, asked_room = id_param(request.GET, "building"), id_param(request.GET, "room")
    form = TicketForm(request.POST or None, initial={
        "building": asked_building, "room": asked_room,
        "inventory_number": request.GET.get("asset", "")})
    building_id = id_param(request.POST, "building") or asked_building
    building = Building.objects.filter(pk=building_id).first() if building_id else None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        room = Room.objects.filter(pk=data["room"]).first() if data["room"] else None
        try:
            with _audit(request):
                ticket = services.open_ticket(
                    reporter=request.user, category=data["category"], title=data["title"],
                    description=data["description"], priority=data["priority"],
                    inventory_number=data["inventory_number"] or None, room=room,
                    building=building)
        except KentCBSError as error:
            form.add_error(None, error.text)
        else:
            messages.success(request, f"{ticket.number} kaydedildi.")
            return redirect("helpdesk:ticket_detail", pk=ticket.pk)
    return render(request, "helpdesk/ticket_new.html", {"form": form, "building": building})


def _visible_or_404(request: HttpRequest, pk: int) -> Ticket:
    ticket = visible_tickets(user=request.user).filter(pk=pk).first()
    if ticket is None:
        raise Http404
    return ticket


@login_required
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _visible_or_404(request, pk)
    return render(request, "helpdesk/ticket_detail.html", {
        "ticket": ticket, "can_work": can_work_on(user=request.user, ticket=ticket),
        "technicians": technicians_of(unit_code=ticket.responsible_unit.code),
        "comments": ticket.comments.select_related("author"),
        "work_logs": ticket.work_logs.select_related("technician"),
        "repairs": ticket.vendor_repairs.all(),
        "history": ticket.history.all()[:50],
        "action_form": ActionForm()})


@login_required
@require_POST
def ticket_action(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _visible_or_404(request, pk)
    form = ActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Geçersiz işlem / invalid action")
        return redirect("helpdesk:ticket_detail", pk=pk)
    data, user, action = form.cleaned_data, request.user, form.cleaned_data["action"]
    try:
        with _audit(request):
            if action == "assign":
                technician = get_object_or_404(get_user_model(), pk=data["technician"])
                services.assign_ticket(ticket=ticket, technician=technician, by=user)
            elif action == "start":
                services.start_work(ticket=ticket, by=user)
            elif action == "wait":
                services.put_on_hold(ticket=ticket, reason=data["reason"], by=user)
            elif action == "vendor":
                services.send_for_repair(ticket=ticket, kind=data["kind"],
                                         vendor_name=data["vendor_name"], by=user)
            elif action == "vendor_return":
                repair = VendorRepair.objects.filter(ticket=ticket, returned_at=None).last()
                if repair is not None:
                    services.record_repair_return(repair=repair, by=user,
                                                  cost=data["cost"] or Decimal(0))
            elif action == "resolve":
                services.resolve_ticket(ticket=ticket, by=user, outcome=data["outcome"],
                                        resolution=data["text"])
            elif action == "close":
                services.close_ticket(ticket=ticket, by=user)
            elif action == "reopen":
                services.reopen_ticket(ticket=ticket, by=user, reason=data["text"] or "—")
            elif action == "comment":
                services.add_comment(ticket=ticket, by=user, body=data["text"])
            elif action == "log_time":
                services.log_time(ticket=ticket, by=user, minutes=data["minutes"] or 0,
                                  note=data["text"])
    except KentCBSError as error:
        messages.error(request, error.text)
    return redirect("helpdesk:ticket_detail", pk=pk)


def _statistics_args(request: HttpRequest) -> tuple[str, dt.date | None, dt.date | None]:
    by = request.GET.get("by", "building")
    if by not in DIMENSIONS:
        by = "building"
    return by, _date(request.GET.get("from")), _date(request.GET.get("to"))


@login_required
def statistics_page(request: HttpRequest) -> HttpResponse:
    by, date_from, date_to = _statistics_args(request)
    rows = ticket_statistics(user=request.user, by=by, date_from=date_from, date_to=date_to)
    title = DIMENSION_TITLES[by][0]
    chart_counts = bar_chart([(r.label, r.tickets) for r in rows[:25]],
                             title=f"Talep sayısı — {title}")
    chart_sla = bar_chart([(r.label, r.sla_compliance or 0) for r in rows[:25]],
                          title=f"SLA uyumu (%) — {title}", colour="#1b9e77")
    return render(request, "helpdesk/statistics.html", {
        "rows": rows, "by": by, "dimensions": DIMENSION_TITLES, "date_from": date_from,
        "date_to": date_to, "total": totals(user=request.user, date_from=date_from,
                                            date_to=date_to),
        "chart_counts": chart_counts, "chart_sla": chart_sla,
        "query": request.GET.urlencode()})


@login_required
def statistics_export(request: HttpRequest, fmt: str) -> HttpResponse:
    by, date_from, date_to = _statistics_args(request)
    rows = ticket_statistics(user=request.user, by=by, date_from=date_from, date_to=date_to)
    if fmt == "csv":
        response = HttpResponse("\ufeff" + to_csv(rows), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        response = HttpResponse(
            to_xlsx(rows, sheet_title=DIMENSION_TITLES[by][0]),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="helpdesk_{by}.{fmt}"'
    return response


@login_required
def load_map_page(request: HttpRequest) -> HttpResponse:
    _by, date_from, date_to = _statistics_args(request)
    loads = building_load(user=request.user, date_from=date_from, date_to=date_to)
    return render(request, "helpdesk/map.html", {
        "map": load_map(loads, centre=_centre()), "loads": loads})


@login_required
def building_page(request: HttpRequest, pk: int) -> HttpResponse:
    from gis_core.models import Building

    building = get_object_or_404(Building, pk=pk)
    loads = [load for load in building_load(user=request.user) if load.building_id == pk]
    return render(request, "helpdesk/building.html", {
        "building": building, "map": load_map(loads, centre=_centre()),
        "tickets": visible_tickets(user=request.user).filter(building=building)[:100]})


@login_required
def activity_report_page(request: HttpRequest, year: int) -> HttpResponse:
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise Http404  # no calendar has that year (dt.date would raise)
    report = activity_report(user=request.user, year=year)
    chart = bar_chart([(r.label, r.tickets) for r in report["by_month"]],
                      title=f"{year} aylık talep sayısı")
    return render(request, "helpdesk/report.html", {"report": report, "chart": chart})
