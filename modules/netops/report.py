"""Network uptime for the yearly activity report (``ModuleSpec.report_figures``)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.utils import timezone

from gis_core.modules import ReportTable


def report_figures(*, user: Any, year: int) -> list[ReportTable]:
    """Per building: monitored devices, outages, outage hours and availability in ``year``.

    Availability = 1 - (outage hours / (devices x hours of the period)); the period is the
    year, or the year so far. An outage is an alert (one device down), counted over the part
    that falls in the period; an open alert lasts until now.
    """
    from gis_core.models import Building
    from modules.netops.models import Alert, AssetReachability

    start = timezone.make_aware(dt.datetime(year, 1, 1))
    end = min(timezone.make_aware(dt.datetime(year + 1, 1, 1)), timezone.now())
    if end <= start:
        return []
    devices: dict[int, set[int]] = defaultdict(set)
    for asset_id, building_id in AssetReachability.objects.filter(
            asset__building__isnull=False).values_list("asset_id", "asset__building_id"):
        devices[building_id].add(asset_id)
    outages: dict[int, int] = defaultdict(int)
    seconds: dict[int, float] = defaultdict(float)
    alerts = Alert.objects.filter(building__isnull=False, opened_at__lt=end).exclude(
        closed_at__lt=start)
    for alert in alerts:
        began, ended = max(alert.opened_at, start), min(alert.closed_at or end, end)
        outages[alert.building_id] += 1
        seconds[alert.building_id] += max((ended - began).total_seconds(), 0.0)
        devices[alert.building_id].add(alert.asset_id)
    period = (end - start).total_seconds()
    names = dict(Building.objects.filter(pk__in=list(devices)).values_list("pk", "name"))
    rows = []
    for pk in sorted(devices, key=lambda b: names.get(b, "")):
        count = len(devices[pk])
        share = 100.0 * (1 - seconds[pk] / (count * period))
        rows.append((names.get(pk, "—"), count, outages[pk], round(seconds[pk] / 3600, 2),
                     round(share, 3)))
    return [ReportTable("network_uptime", "Binalara göre ağ erişilebilirliği",
                        "Network availability per building",
                        ("Bina", "İzlenen cihaz", "Kesinti", "Kesinti süresi (saat)",
                         "Erişilebilirlik (%)"), tuple(rows),
                        note_tr="Erişilebilirlik: 1 - kesinti saatleri / (cihaz sayısı x "
                                "dönemin saatleri); dönem yıl ya da yılın bugüne kadarki kısmı.",
                        note_en="Availability: 1 - outage hours / (number of devices x hours of "
                                "the period); the period is the year, or the year so far.")]
