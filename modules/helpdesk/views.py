"""Helpdesk pages (thin: parse, call services/selectors, render)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language, gettext_lazy, pgettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gis_core.errors import KentCBSError
from gis_core.models import Department
from gis_core.params import id_param
from modules.helpdesk import services
from modules.helpdesk.charts import bar_chart
from modules.helpdesk.choices import TicketStatusChoices
from modules.helpdesk.exports import to_csv, to_xlsx
from modules.helpdesk.forms import ActionForm, TicketForm
from modules.helpdesk.maps import load_map
from modules.helpdesk.models import Ticket, VendorRepair
from modules.helpdesk.selectors import (
    QUEUES,
    can_work_on,
    helpdesk_access,
    queue_counts,
    queue_tickets,
    search_tickets,
    technicians_of,
    visible_tickets,
    with_overdue,
)
from modules.helpdesk.statistics import (
    DIMENSION_TITLES,
    DIMENSIONS,
    activity_report,
    building_load,
    fill_months,
    ticket_statistics,
    totals,
)

#: Tab titles of the ticket list's queues.
QUEUE_TITLES = {"all": gettext_lazy("All"), "mine": gettext_lazy("Mine"),
                "unit": gettext_lazy("My unit's"), "unassigned": gettext_lazy("Unassigned"),
                "overdue": gettext_lazy("Past due")}


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


#: Sort keys of the ticket list (``?sort=key`` or ``-key``) and their columns.
SORTS = {"number": "number", "title": "title", "status": "status", "priority": "priority",
         "building": "building__name", "unit": "responsible_unit__name",
         "opened": "opened_at", "due": "resolution_due_at"}
PAGE_SIZE = 25
#: The ticket list's columns (helpdesk/ticket_list.html): nothing else is read.
LIST_COLUMNS = ("id", "number", "title", "category", "priority", "status", "opened_at",
                "resolution_due_at", "responsible_unit__name", "responsible_unit__name_en",
                "building__name")


def _month(value: str | None) -> tuple[dt.date, dt.date] | None:
    """``YYYY-MM`` as (first day, first day of the next month), or ``None``."""
    try:
        first = dt.date.fromisoformat(f"{value}-01") if value else None
    except ValueError:
        return None
    if first is None:
        return None
    following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following


def _choice(value: str | None, allowed: Any) -> str:
    return value if value in allowed else ""


@login_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    """Queues (mine, my unit's, unassigned, past due), filters, search, sorting and paging."""
    from django.core.paginator import Paginator
    from django.utils import timezone

    from modules.helpdesk.choices import (
        OPEN_STATUSES,
        RESPONSIBLE_UNITS,
        TicketCategoryChoices,
        TicketPriorityChoices,
    )

    now = timezone.now()
    queue = _choice(request.GET.get("queue"), QUEUES) or "all"
    status = _choice(request.GET.get("status"), [*TicketStatusChoices.values, "open"])
    category = _choice(request.GET.get("category"), TicketCategoryChoices.values)
    priority = _choice(request.GET.get("priority"), TicketPriorityChoices.values)
    unit = _choice(request.GET.get("unit"), RESPONSIBLE_UNITS)
    text = request.GET.get("q", "")[:100]
    tickets = queue_tickets(user=request.user, queue=queue, now=now)
    queue_only = tickets  # the list before any filter: its length is the tab's count
    if status == "open":
        tickets = tickets.filter(status__in=OPEN_STATUSES)
    elif status:
        tickets = tickets.filter(status=status)
    resolved = _month(request.GET.get("resolved"))
    if resolved is not None:
        tickets = tickets.filter(resolved_at__date__gte=resolved[0],
                                 resolved_at__date__lt=resolved[1])
    if category:
        tickets = tickets.filter(category=category)
    if priority:
        tickets = tickets.filter(priority=priority)
    if unit:
        tickets = tickets.filter(responsible_unit__code=unit)
    tickets = search_tickets(tickets, text)
    filtered = tickets is not queue_only
    sort = request.GET.get("sort", "")
    column = SORTS.get(sort.lstrip("-"))
    order = ([("-" if sort.startswith("-") else "") + column, "-pk"] if column
             else ["-opened_at", "-pk"])
    # Only what the list shows: the visible-tickets query joins seven tables for the detail
    # pages, and planning that join cost ~55 ms per list (EXPLAIN ANALYZE on the demo)
    # against 0.5 ms to run it; two joins plan in well under a millisecond.
    tickets = (with_overdue(tickets, now).order_by(*order).select_related(None)
               .select_related("responsible_unit", "building").only(*LIST_COLUMNS))
    counts = queue_counts(user=request.user, now=now)
    paginator = Paginator(tickets, PAGE_SIZE)
    if not filtered:  # the list is the queue itself: its tab's count (one query fewer)
        paginator.count = counts[queue]  # type: ignore[misc]  # a cached_property
    page = paginator.get_page(request.GET.get("page"))
    # The labels once per page, not per row: Django's get_FOO_display() hashes the field's
    # lazy choices on every call, which translated each label again (~14 ms of a 25-row page)
    category_labels, priority_labels, status_labels = (
        {code: str(label) for code, label in choices.choices}
        for choices in (TicketCategoryChoices, TicketPriorityChoices, TicketStatusChoices))
    page.object_list = list(page.object_list)
    for ticket in page.object_list:
        ticket.category_label = category_labels.get(ticket.category, ticket.category)
        ticket.priority_label = priority_labels.get(ticket.priority, ticket.priority)
        ticket.status_label = status_labels.get(ticket.status, ticket.status)
    access = helpdesk_access(request.user)
    units = ({d.code: d for d in Department.objects.filter(code__in=RESPONSIBLE_UNITS)}
             if access.is_staff else {})  # the unit filter is for IT staff only
    return render(request, "helpdesk/ticket_list.html", {
        "page_obj": page, "tickets": page.object_list, "queue": queue,
        "queues": [(name, QUEUE_TITLES[name], counts[name]) for name in QUEUES],
        "resolved": request.GET.get("resolved") if resolved else "",
        "status": status, "category": category, "priority": priority, "unit": unit, "q": text,
        "statuses": list(status_labels.items()), "categories": list(category_labels.items()),
        "priorities": list(priority_labels.items()),
        "units": [(code, units[code]) for code in RESPONSIBLE_UNITS if code in units],
        "access": access})


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
            form.add_error(None, error.localized)
        else:
            messages.success(request, _("Ticket {number} was saved.").format(number=ticket.number))
            return redirect("helpdesk:ticket_detail", pk=ticket.pk)
    room_id = id_param(request.POST, "room") or asked_room
    room = Room.objects.filter(pk=room_id).select_related("building").first() if room_id else None
    return render(request, "helpdesk/ticket_new.html", {"form": form, "building": building,
                                                        "room": room})


@login_required
def asset_search(request: HttpRequest) -> JsonResponse:
    """The asset picker: inventory numbers, rooms and buildings matching ``?q=`` (JSON).

    Only what the user may see: every asset and building for readers of the asset and
    building layers, otherwise those of the user's own departments. No personal data.
    """
    from modules.helpdesk.picker import pick

    return JsonResponse({"results": pick(user=request.user, text=request.GET.get("q", ""))})


def _visible_or_404(request: HttpRequest, pk: int) -> Ticket:
    ticket = visible_tickets(user=request.user).filter(pk=pk).first()
    if ticket is None:
        raise Http404
    return ticket


#: Words for the reasons the services record on each step (``services._save``).
HISTORY_STEPS = {"opened": pgettext_lazy("ticket step", "Opened"),
                 "assigned": pgettext_lazy("ticket step", "Assigned"),
                 "in progress": pgettext_lazy("ticket step", "Work started"),
                 "waiting": pgettext_lazy("ticket step", "Put on hold"),
                 "resolved": pgettext_lazy("ticket step", "Resolved"),
                 "closed": pgettext_lazy("ticket step", "Closed"),
                 "reopened": pgettext_lazy("ticket step", "Reopened")}


def _history(ticket: Ticket) -> list[dict[str, Any]]:
    """The ticket's steps in words: when, who, the step, its detail and the new state."""
    from modules.helpdesk.choices import WaitingReasonChoices

    reasons = dict(WaitingReasonChoices.choices)
    steps = []
    for record in ticket.history.select_related("history_user").order_by("history_date")[:100]:
        reason = record.history_change_reason or ""
        step, _sep, detail = reason.partition(": ")
        if step == "waiting":
            detail = str(reasons.get(detail, detail))
        steps.append({"at": record.history_date, "user": record.history_user,
                      "step": HISTORY_STEPS.get(step, step), "detail": detail,
                      "status": record.status,
                      "status_label": TicketStatusChoices(record.status).label
                      if record.status in TicketStatusChoices.values else record.status})
    return steps


@login_required
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The ticket, and only the steps its state and the user's role allow, each labelled."""
    from modules.helpdesk.choices import (
        RepairKindChoices,
        TicketOutcomeChoices,
        WaitingReasonChoices,
    )

    ticket = _visible_or_404(request, pk)
    actions = services.available_actions(ticket=ticket, user=request.user)
    return render(request, "helpdesk/ticket_detail.html", {
        "ticket": ticket, "can_work": can_work_on(user=request.user, ticket=ticket),
        "actions": actions,
        "technicians": technicians_of(unit_code=ticket.responsible_unit.code),
        "comments": ticket.comments.select_related("author"),
        "work_logs": ticket.work_logs.select_related("technician"),
        "repairs": ticket.vendor_repairs.all(),
        "history": _history(ticket),
        "reasons": WaitingReasonChoices.choices, "kinds": RepairKindChoices.choices,
        "outcomes": TicketOutcomeChoices.choices})


@login_required
@require_POST
def ticket_action(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _visible_or_404(request, pk)
    form = ActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("This step is not possible: check the values you entered."))
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
        messages.error(request, error.localized)
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
    if by == "month" and rows:  # every month of the period, an empty one as 0
        rows = fill_months(rows, date_from or dt.date.fromisoformat(f"{rows[0].key}-01"),
                           date_to or dt.date.fromisoformat(f"{rows[-1].key}-01"))
    english = (get_language() or "tr").startswith("en")
    titles = {code: pair[1] if english else pair[0] for code, pair in DIMENSION_TITLES.items()}
    title = titles[by]
    chart_counts = bar_chart([(r.label, r.tickets) for r in rows[:25]],
                             title=_("Tickets — {group}").format(group=title))
    chart_sla = bar_chart([(r.label, r.sla_compliance or 0) for r in rows[:25]],
                          title=_("SLA compliance (%) — {group}").format(group=title),
                          colour="#1b9e77")
    return render(request, "helpdesk/statistics.html", {
        "rows": rows, "by": by, "dimensions": list(titles.items()), "date_from": date_from,
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
                      title=_("Tickets per month, {year}").format(year=year))
    return render(request, "helpdesk/report.html", {"report": report, "chart": chart})
