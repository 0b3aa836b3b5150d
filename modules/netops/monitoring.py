"""Reachability of the assets with an IP address, and alerts routed by building.

``probe_all`` checks every in-service asset with an IP address by TCP connect to the
configured ports (``KENTCBS_NETOPS_PROBE_PORTS``; unprivileged, no raw sockets), in
parallel threads. ``record_state`` is the one door for a state, whoever saw it (the probe,
Alertmanager, Zabbix): a change is stored with its time, an outage opens one alert (never a
second while it lasts) and a recovery closes it; each sends one e-mail to the IT unit
responsible for networks (``KENTCBS_NETOPS_IT_UNIT``) and to the members of the departments
housed in the building.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import socket
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from modules.netops.choices import AlertSource, Reachability
from modules.netops.models import Alert, AssetReachability, StateChange

logger = logging.getLogger(__name__)


def probe_ports() -> list[int]:
    raw = str(getattr(settings, "KENTCBS_NETOPS_PROBE_PORTS", "22,80,443,3389,9100"))
    return [int(p) for p in raw.split(",") if p.strip().isdigit()]


def reachable(ip: str, ports: Iterable[int], timeout: float = 1.0) -> tuple[bool, str]:
    """True when a TCP connection to one of ``ports`` is accepted or actively refused (the
    host answered); False when every attempt timed out or the network is unreachable."""
    last = ""
    for port in ports:
        try:
            with socket.create_connection((ip, port), timeout=timeout):
                return True, f"tcp/{port} open"
        except ConnectionRefusedError:
            return True, f"tcp/{port} refused (host answers)"
        except OSError as exc:
            last = f"tcp/{port}: {exc.strerror or type(exc).__name__}"
    return False, last or "no port to probe"


@dataclass(frozen=True)
class ProbeResult:
    checked: int
    down: int
    changes: int


def probe_all(*, timeout: float = 1.0, workers: int = 32) -> ProbeResult:
    from gis_core.models import Asset

    assets = list(Asset.objects.filter(ip_address__isnull=False, status="in_service")
                  .select_related("building"))
    ports = probe_ports()
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(assets) or 1))) as pool:
        answers = list(pool.map(lambda a: reachable(str(a.ip_address), ports, timeout), assets))
    changes = down = 0
    for asset, (is_up, detail) in zip(assets, answers, strict=True):
        down += not is_up
        changes += record_state(asset=asset, up=is_up, source=AlertSource.PROBE, detail=detail)
    return ProbeResult(len(assets), down, changes)


def record_state(*, asset: Any, up: bool, source: str, detail: str = "",
                 at: dt.datetime | None = None) -> bool:
    """Store what was seen of ``asset``; True when its state changed."""
    at = at or timezone.now()
    new = Reachability.UP if up else Reachability.DOWN
    with transaction.atomic():
        current, _created = AssetReachability.objects.select_for_update().get_or_create(
            asset=asset, defaults={"state": Reachability.UNKNOWN, "since": at})
        old = current.state
        current.checked_at = at
        current.detail = detail[:200]
        if old == new:
            current.save(update_fields=["checked_at", "detail"])
            return False
        current.state, current.since = new, at
        current.save()
        StateChange.objects.create(asset=asset, building=asset.building, old_state=old,
                                   new_state=new, at=at, source=source, detail=detail[:300])
        if new == Reachability.DOWN:
            _open_alert(asset, source, detail, at)
        else:
            _close_alert(asset, at)
        refresh_building(asset.building, at)
    return True


def refresh_building(building: Any, at: dt.datetime | None = None) -> None:
    """The building's row in the map layer ``ag_bina_durumu``."""
    from modules.netops.models import BuildingNetworkStatus

    if building is None:
        return
    states = AssetReachability.objects.filter(asset__building=building)
    up = states.filter(state=Reachability.UP).count()
    down = states.filter(state=Reachability.DOWN).count()
    state = "down" if down and not up else "degraded" if down else "up"
    BuildingNetworkStatus.objects.update_or_create(building=building, defaults={
        "state": state, "assets_up": up, "assets_down": down,
        "open_alerts": Alert.objects.filter(building=building, closed_at__isnull=True).count(),
        "location": building.footprint.point_on_surface, "updated_at": at or timezone.now()})


def recipients(building: Any) -> tuple[list[str], list[str]]:
    """E-mail addresses of the IT unit responsible and of the members of the departments
    housed in ``building``; and those departments' codes."""
    from django.contrib.auth import get_user_model

    from gis_core.models import Membership

    unit = getattr(settings, "KENTCBS_NETOPS_IT_UNIT", "ag_yonetimi")
    departments = [unit]
    if building is not None:
        departments += list(building.departments.values_list("code", flat=True))
    users = Membership.objects.filter(department__code__in=departments,
                                      user__is_active=True).values_list("user_id", flat=True)
    emails = sorted({e for e in get_user_model().objects.filter(pk__in=users)
                     .values_list("email", flat=True) if e})
    return emails, departments


def _describe(asset: Any) -> str:
    where = getattr(asset.building, "name", "") or "-"
    return f"{asset.inventory_number} ({asset.ip_address}, {where})"


def _open_alert(asset: Any, source: str, detail: str, at: dt.datetime) -> None:
    if Alert.objects.filter(asset=asset, closed_at__isnull=True).exists():
        return  # one alert per outage
    emails, departments = recipients(asset.building)
    title = f"Erişilemiyor / Down: {_describe(asset)}"
    Alert.objects.create(asset=asset, building=asset.building, source=source, title=title,
                         opened_at=at, recipients=emails, departments=departments)
    if emails:
        transaction.on_commit(lambda: send_alert_mail(
            f"[KentCBS] {title}",
            f"{timezone.localtime(at):%d.%m.%Y %H:%M} itibarıyla erişilemiyor / down since.\n"
            f"{detail}\n", emails))


def _close_alert(asset: Any, at: dt.datetime) -> None:
    alert = Alert.objects.filter(asset=asset, closed_at__isnull=True).first()
    if alert is None:
        return
    alert.closed_at = at
    alert.save(update_fields=["closed_at"])
    minutes = int((at - alert.opened_at).total_seconds() // 60)
    if alert.recipients:
        emails = list(alert.recipients)
        transaction.on_commit(lambda: send_alert_mail(
            f"[KentCBS] Düzeldi / Recovered: {_describe(asset)}",
            f"{timezone.localtime(at):%d.%m.%Y %H:%M} itibarıyla yeniden erişilebilir / back "
            f"up; kesinti / outage {minutes} dk / min.\n", emails))


def send_alert_mail(subject: str, body: str, to: list[str]) -> None:
    """Send after the commit; a relay that is down is logged, never fatal (the alert is
    stored and shown in the app either way)."""
    try:
        send_mail(subject, body, None, to)
    except (OSError, smtplib.SMTPException) as exc:
        logger.warning("netops: alert e-mail not sent to %s: %s", ", ".join(to), exc)


def open_alerts_for(user: Any) -> Any:
    """Open and recent alerts a user may see: IT roles see all; others those of the
    buildings housing one of their departments."""
    from gis_core.selectors import user_access

    access = user_access(user)
    alerts = Alert.objects.select_related("asset", "building").order_by("-opened_at")
    if access.is_superuser or (access.roles & {"network_admin", "gis_admin", "technician",
                                              "manager"} and "bilgi_islem" in access.departments):
        return alerts
    return alerts.filter(building__departments__code__in=access.departments).distinct()


# -- external monitors ---------------------------------------------------------------------
def _asset_for(ip: str = "", hostname: str = "") -> Any:
    from gis_core.models import Asset

    assets = Asset.objects.select_related("building")
    if ip:
        found = assets.filter(ip_address=ip).first()
        if found:
            return found
    if hostname:
        short = hostname.split(".")[0]
        return assets.filter(hostname__iexact=short).first() or \
            assets.filter(hostname__iexact=hostname).first()
    return None


def _host_of(instance: str) -> str:
    """The host of Prometheus' ``instance`` label: ``10.0.0.5:9100``, ``[2001:db8::5]:9100``,
    ``sw-2.belediye.local:161`` or a bare address."""
    if instance.startswith("[") and "]" in instance:
        return instance[1:instance.index("]")]
    return instance.rsplit(":", 1)[0] if instance.count(":") == 1 else instance


def alertmanager(payload: dict[str, Any]) -> tuple[int, int]:
    """Prometheus Alertmanager's webhook (version 4): each alert's ``instance`` label (or
    ``ip``/``hostname`` labels) names the asset; firing = down, resolved = up. Returns
    (matched, unmatched)."""
    matched = unmatched = 0
    for alert in payload.get("alerts") or []:
        labels = alert.get("labels") or {}
        host = _host_of(str(labels.get("instance", "")))
        asset = _asset_for(ip=str(labels.get("ip", "")) or _ip_or_blank(host),
                           hostname=str(labels.get("hostname", "")) or host)
        if asset is None:
            unmatched += 1
            continue
        matched += 1
        summary = str((alert.get("annotations") or {}).get("summary") or
                      labels.get("alertname") or "")
        record_state(asset=asset, up=alert.get("status") == "resolved",
                     source=AlertSource.ALERTMANAGER, detail=summary)
    return matched, unmatched


def zabbix(payload: dict[str, Any]) -> tuple[int, int]:
    """Zabbix webhook media type JSON: ``{"host": ..., "ip": ..., "status": "PROBLEM" |
    "RESOLVED" | "OK", "subject": ...}``."""
    asset = _asset_for(ip=str(payload.get("ip", "")), hostname=str(payload.get("host", "")))
    if asset is None:
        return 0, 1
    status = str(payload.get("status", "")).upper()
    record_state(asset=asset, up=status in {"RESOLVED", "OK", "UP"}, source=AlertSource.ZABBIX,
                 detail=str(payload.get("subject", ""))[:300])
    return 1, 0


def _ip_or_blank(text: str) -> str:
    from modules.netops.parsers import normal_ip

    return normal_ip(text) or ""
