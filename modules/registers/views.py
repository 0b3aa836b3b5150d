"""Registers pages (thin: parse, call services/selectors, render).

Role checks of the count pages are the core's (``kentcbs.py`` declares them); which
rooms a user may see is ``selectors.may_see_room_fixtures``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from gis_core.errors import KentCBSError
from gis_core.params import id_param
from modules.registers import services
from modules.registers.count_report import count_report, count_report_pdf, count_report_xlsx
from modules.registers.fixtures import fixtures_pdf
from modules.registers.models import StockCount
from modules.registers.selectors import may_see_room_fixtures, visible_fixture_rooms

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _audit(request: HttpRequest) -> Any:
    from gis_core.audit import audit_context

    return audit_context(user=request.user, source="web",
                         request_id=request.headers.get("X-Request-Id"))


def _pdf(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def index(request: HttpRequest) -> HttpResponse:
    """Buildings with links to their fixture lists (the rooms the user may see)."""
    from gis_core.models import Building

    buildings = []
    for building in Building.objects.order_by("name"):
        rooms = visible_fixture_rooms(user=request.user, building=building)
        if rooms:
            buildings.append((building, rooms))
    return render(request, "registers/index.html", {"buildings": buildings})


def room_fixtures_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from gis_core.models import Room

    room = get_object_or_404(Room.objects.select_related("building", "floor"), pk=pk)
    if not may_see_room_fixtures(user=request.user, room=room):
        raise PermissionDenied
    try:
        body = fixtures_pdf([room], title=f"Dayanıklı Taşınırlar Listesi {room}")
    except KentCBSError as error:
        return HttpResponse(error.localized, status=503, content_type="text/plain; charset=utf-8")
    return _pdf(body, f"demirbas-listesi-{room.building.code}-{room.code}.pdf")


def building_fixtures_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from gis_core.models import Building

    building = get_object_or_404(Building, pk=pk)
    rooms = visible_fixture_rooms(user=request.user, building=building)
    if not rooms:
        raise PermissionDenied
    try:
        body = fixtures_pdf(rooms, title=f"Dayanıklı Taşınırlar Listesi {building.name}")
    except KentCBSError as error:
        return HttpResponse(error.localized, status=503, content_type="text/plain; charset=utf-8")
    return _pdf(body, f"demirbas-listesi-{building.code}.pdf")


def count_list(request: HttpRequest) -> HttpResponse:
    """The counts, and a form to start one for a building or a room."""
    from gis_core.models import Building, Room

    if request.method == "POST":
        building_id, room_id = id_param(request.POST, "building"), id_param(request.POST, "room")
        building = get_object_or_404(Building, pk=building_id) if building_id else None
        room = get_object_or_404(Room, pk=room_id) if room_id else None
        if building is None and room is not None:
            building = room.building
        if building is None:
            messages.error(request, gettext("Choose a building."))
            return redirect("registers:count_list")
        try:
            with _audit(request):
                count = services.start_count(building=building, room=room,
                                             year=timezone.localdate().year, user=request.user)
        except KentCBSError as error:
            messages.error(request, error.localized)
            return redirect("registers:count_list")
        return redirect("registers:count_scan", pk=count.pk)
    return render(request, "registers/count_list.html", {
        "counts": StockCount.objects.select_related("building", "room")[:200],
        "buildings": Building.objects.order_by("name"),
        "rooms": Room.objects.select_related("building").order_by("building__name", "code"),
        "year": timezone.localdate().year})


def _count(pk: int) -> StockCount:
    return get_object_or_404(StockCount.objects.select_related("building", "room"), pk=pk)


def count_scan(request: HttpRequest, pk: int) -> HttpResponse:
    """The phone page: one input; a barcode scanner's Enter submits and adds the number."""
    from gis_core.models import Room

    count = _count(pk)
    rooms = ([count.room] if count.room_id
             else list(Room.objects.filter(building=count.building).order_by("code")))
    room_id = id_param(request.POST if request.method == "POST" else request.GET, "room")
    room = next((r for r in rooms if r.pk == room_id), rooms[0] if len(rooms) == 1 else None)
    if request.method == "POST":
        try:
            with _audit(request):
                if request.POST.get("remove"):
                    services.remove_counted(count=count,
                                            inventory_number=request.POST["remove"])
                else:
                    item, created = services.record_counted(
                        count=count, inventory_number=request.POST.get("number", ""),
                        room=room, user=request.user)
                    if created:
                        messages.success(request, gettext("{number} added").format(
                            number=item.inventory_number))
                    else:
                        messages.warning(request, gettext("{number} was already counted").format(
                            number=item.inventory_number))
        except KentCBSError as error:
            messages.error(request, error.localized)
        url = reverse("registers:count_scan", args=[count.pk])
        return redirect(f"{url}?room={room.pk}" if room else url)
    items = list(count.items.select_related("room").order_by("-counted_at", "-id"))
    return render(request, "registers/count_scan.html", {
        "count": count, "rooms": rooms, "room": room, "items": items})


def count_differences(request: HttpRequest, pk: int) -> HttpResponse:
    """The differences list; POST applies the corrections or closes the count."""
    count = _count(pk)
    if request.method == "POST":
        try:
            with _audit(request):
                if request.POST.get("action") == "correct":
                    done = services.apply_corrections(count=count, user=request.user)
                    messages.success(request, gettext("{count} corrections applied").format(
                        count=len(done)))
                elif request.POST.get("action") == "close":
                    services.close_count(count=count)
        except KentCBSError as error:
            messages.error(request, error.localized)
        return redirect("registers:count_differences", pk=count.pk)
    return render(request, "registers/count_differences.html", {
        "count": count, "report": count_report(count)})


def count_report_file(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    count = _count(pk)
    report = count_report(count)
    name = f"sayim-tutanagi-{count.year}-{count.building.code}-{count.pk}"
    if fmt == "pdf":
        try:
            return _pdf(count_report_pdf(report), f"{name}.pdf")
        except KentCBSError as error:
            return HttpResponse(error.localized, status=503,
                                content_type="text/plain; charset=utf-8")
    if fmt == "xlsx":
        response = HttpResponse(count_report_xlsx(report), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    raise Http404


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def consumables_page(request: HttpRequest) -> HttpResponse:
    """Stock per store room with minimum-level alerts; POST records a receipt or an issue."""
    from gis_core.models import Asset, Department, Room
    from modules.registers import consumables
    from modules.registers.models import ConsumableItem, Stock, StoreRoom

    if request.method == "POST":
        item = get_object_or_404(ConsumableItem, pk=id_param(request.POST, "item"))
        store = get_object_or_404(StoreRoom, pk=id_param(request.POST, "store"))
        quantity = _int(request.POST.get("quantity"))
        try:
            with _audit(request):
                if request.POST.get("action") == "receive":
                    consumables.receive(item=item, store=store, quantity=quantity or 0,
                                        user=request.user,
                                        supplier=request.POST.get("supplier", ""),
                                        document=request.POST.get("document", ""))
                else:
                    number = request.POST.get("asset", "").strip()
                    asset = (Asset.objects.filter(inventory_number__iexact=number).first()
                             if number else None)
                    if number and asset is None:
                        raise KentCBSError("REGISTERS_ASSET_UNKNOWN",
                                           "There is no asset with inventory number "
                                           "'{number}'.", number=number[:40])
                    room_id = id_param(request.POST, "room")
                    department_id = id_param(request.POST, "department")
                    consumables.issue(
                        item=item, store=store, quantity=quantity or 0, user=request.user,
                        asset=asset,
                        room=get_object_or_404(Room, pk=room_id) if room_id else None,
                        department=(get_object_or_404(Department, pk=department_id)
                                    if department_id else None),
                        note=request.POST.get("note", ""),
                        ticket_number=request.POST.get("ticket_number", ""))
            messages.success(request, gettext("Recorded."))
        except KentCBSError as error:
            messages.error(request, error.localized)
        return redirect("registers:consumables")
    return render(request, "registers/consumables.html", {
        "stocks": Stock.objects.select_related("item", "store").order_by("item__name",
                                                                         "store__name"),
        "alerts": consumables.below_minimum(),
        "consumption": consumables.consumption(year=timezone.localdate().year),
        "items": ConsumableItem.objects.filter(is_active=True),
        "stores": StoreRoom.objects.all(),
        "rooms": Room.objects.select_related("building").order_by("building__name", "code"),
        "departments": Department.objects.filter(is_active=True).order_by("name"),
        "year": timezone.localdate().year,
    })


def year_end_summary_file(request: HttpRequest, year: int, fmt: str) -> HttpResponse:
    """The year-end summary table of the IT assets as PDF or XLSX."""
    from modules.registers.summary import summary_pdf, summary_xlsx, year_end_summary

    if not 2000 <= year <= 2100:
        raise Http404
    rows = year_end_summary(year=year)
    if fmt == "pdf":
        try:
            return _pdf(summary_pdf(rows, year=year), f"yil-sonu-ozet-{year}.pdf")
        except KentCBSError as error:
            return HttpResponse(error.localized, status=503,
                                content_type="text/plain; charset=utf-8")
    if fmt == "xlsx":
        response = HttpResponse(summary_xlsx(rows, year=year), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="yil-sonu-ozet-{year}.xlsx"'
        return response
    raise Http404
