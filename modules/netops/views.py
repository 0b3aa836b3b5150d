"""Pages of the network operations module (served through gis_core.modules.guard_page:
only network administrators and GIS administrators open them)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from gis_core.errors import KentCBSError
from gis_core.modules import machine_endpoint
from modules.netops import services
from modules.netops.forms import WhoisForm
from modules.netops.models import DailyArchive, LeaseFile

#: What ``Alert.what`` reads to describe a link (one query, not four per row).
LINK_ENDS = ("link__a_asset__building", "link__b_asset__building", "link__a_building",
             "link__b_building")


def whois(request: HttpRequest) -> HttpResponse:
    # "at" starts at now: most lookups are about the present or the last hours
    form = WhoisForm(request.POST or None, initial={"at": timezone.localtime().replace(
        second=0, microsecond=0)})
    answer = None
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            answer = services.whois(ip=str(form.cleaned_data["ip"]), at=form.cleaned_data["at"],
                                    reason=form.cleaned_data["reason"], user=request.user)
        except KentCBSError as exc:
            error = exc.localized
    return render(request, "netops/whois.html", {
        "form": form, "answer": answer, "error": error,
        "archives": DailyArchive.objects.order_by("-day")[:14],
        "intakes": LeaseFile.objects.order_by("-received_at")[:10],
        "now": timezone.localtime(),
    })


def alerts(request: HttpRequest) -> HttpResponse:
    """Open and past outages the user may see (IT roles: all; others: their buildings)."""
    from django.core.paginator import Paginator

    from modules.netops.monitoring import open_alerts_for

    visible = open_alerts_for(request.user).select_related(*LINK_ENDS)
    page = Paginator(visible, 50).get_page(request.GET.get("page"))
    return render(request, "netops/alerts.html", {
        "open": visible.filter(closed_at__isnull=True), "page": page})


def building_outages(request: HttpRequest, pk: int) -> HttpResponse:
    """A building's outage history: its assets' and links' outages, and every state change."""
    from django.core.exceptions import PermissionDenied
    from django.core.paginator import Paginator
    from django.db.models import Q
    from django.shortcuts import get_object_or_404

    from gis_core.models import Building
    from modules.netops.models import Alert, LinkStateChange, StateChange
    from modules.netops.monitoring import describe_link, may_see_building

    building = get_object_or_404(Building, pk=pk)
    if not may_see_building(request.user, building):
        raise PermissionDenied(f"netops:building_outages {pk}")
    outages = (Alert.objects.filter(Q(building=building) | Q(other_building=building))
               .select_related("asset", "link", *LINK_ENDS).order_by("-opened_at"))
    # State labels in the reader's language, not the stored codes.
    changes = sorted(
        [{"kind": "asset", "at": c.at, "what": c.asset.inventory_number,
          "old": c.get_old_state_display(), "new": c.get_new_state_display(),
          "method": c.method or c.get_source_display(), "detail": c.detail}
         for c in StateChange.objects.filter(building=building).select_related("asset")
         .order_by("-at")[:200]]
        + [{"kind": "link", "at": c.at, "what": describe_link(c.link),
            "old": c.get_old_state_display(), "new": c.get_new_state_display(),
            "method": "", "detail": _ends_in_words(c.detail)}
           for c in LinkStateChange.objects.filter(Q(a_building=building) | Q(b_building=building))
           .select_related("link", *LINK_ENDS).order_by("-at")[:200]],
        key=lambda row: row["at"], reverse=True)[:200]
    page = Paginator(outages, 50).get_page(request.GET.get("page"))
    return render(request, "netops/building_outages.html", {
        "building": building, "page": page, "changes": changes,
        "open": outages.filter(closed_at__isnull=True).count()})


def _ends_in_words(detail: str) -> str:
    """A link change's stored detail ``A: up, B: down`` (state codes, see
    ``monitoring.link_state``) with the states' labels in the reader's language."""
    import re

    from modules.netops.choices import Reachability

    labels = dict(Reachability.choices)
    found = re.fullmatch(r"A: (\w+), B: (\w+)", detail)
    if found is None or not set(found.groups()) <= set(labels):
        return detail
    return f"A: {labels[found[1]]}, B: {labels[found[2]]}"


def _json_body(request: HttpRequest) -> dict[str, object] | None:
    import json

    try:
        body = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return body if isinstance(body, dict) else None


def _hook(request: HttpRequest, handler: str) -> HttpResponse:
    from django.http import JsonResponse

    from modules.netops import monitoring

    body = _json_body(request)
    if body is None:
        return JsonResponse({"error": "body is not a JSON object"}, status=400)
    matched, unmatched = getattr(monitoring, handler)(body)
    return JsonResponse({"matched": matched, "unmatched": unmatched})


@machine_endpoint("KENTCBS_NETOPS_WEBHOOK_TOKEN")
def hook_alertmanager(request: HttpRequest) -> HttpResponse:
    return _hook(request, "alertmanager")


@machine_endpoint("KENTCBS_NETOPS_WEBHOOK_TOKEN")
def hook_zabbix(request: HttpRequest) -> HttpResponse:
    return _hook(request, "zabbix")


def backups(request: HttpRequest) -> HttpResponse:
    """The backup register: each system's policy, last good run and state."""
    from modules.netops.backups import states
    from modules.netops.models import BackupAlert, DeviceConfig

    items = states()
    order = {"failed": 0, "overdue": 1, "ok": 2}
    return render(request, "netops/backups.html", {
        "items": sorted(items, key=lambda s: (order[s.state], s.target.code)),
        "counts": {k: sum(1 for s in items if s.state == k) for k in order},
        "open_alerts": BackupAlert.objects.filter(closed_at__isnull=True).count(),
        "devices": DeviceConfig.objects.values_list("device", flat=True).distinct()
        .order_by("device"),
    })


def device_config(request: HttpRequest, device: str) -> HttpResponse:
    """A device's configuration versions and the line diff between any two."""
    from django.http import Http404

    from modules.netops.backups import config_diff
    from modules.netops.models import DeviceConfig

    if not device.isprintable():  # a NUL or control character names no device
        raise Http404(device[:60])
    versions = list(DeviceConfig.objects.filter(device=device).order_by("-version"))
    if not versions:
        raise Http404(device[:60])
    newest = versions[0].version
    try:
        new = int(request.GET.get("new", newest))
        old = int(request.GET.get("old", max(1, new - 1)))
    except ValueError:
        new, old = newest, max(1, newest - 1)
    diff: list[str] = []
    error = ""
    if old != new:
        try:
            diff = config_diff(device, old, new)
        except KentCBSError as exc:
            error = exc.localized
    return render(request, "netops/device_config.html", {
        "device": device, "versions": versions, "old": old, "new": new, "diff": diff,
        "error": error})


@machine_endpoint("KENTCBS_NETOPS_WEBHOOK_TOKEN")
def hook_backup(request: HttpRequest) -> HttpResponse:
    """``{"system": "<code>", "status": "ok" | "failed", "size": bytes, "detail": "..."}``."""
    from django.http import JsonResponse

    from modules.netops.backups import report_run

    body = _json_body(request)
    if body is None or body.get("status") not in ("ok", "failed") or not body.get("system"):
        return JsonResponse({"error": "expected {system, status: ok|failed}"}, status=400)
    size = body.get("size")
    try:
        run = report_run(code=str(body["system"]), ok=body["status"] == "ok", actor="webhook",
                         size_bytes=int(size) if isinstance(size, int | str) and
                         str(size).isdigit() else None, detail=str(body.get("detail", "")))
    except KentCBSError as exc:
        return JsonResponse({"error": exc.english, "code": exc.code}, status=404)
    return JsonResponse({"system": run.target.code, "status": run.status})
