"""Reachability of the assets with an IP address, and alerts routed by building.

``probe_all`` checks every in-service asset with an IP address by ICMP echo where the kernel
permits an unprivileged ping socket, else (and after a missing echo reply) by TCP connect to
the configured ports (``KENTCBS_NETOPS_PROBE_PORTS``), in parallel threads
(:mod:`modules.netops.probing`); then the network links between them (:func:`link_state`).
``record_state`` is the one door for a state, whoever saw it (the probe, Alertmanager,
Zabbix): a change is stored with its time, an outage opens one alert (never a second while it
lasts) and a recovery closes it; each sends one e-mail to the IT unit
responsible for networks (``KENTCBS_NETOPS_IT_UNIT``) and to the members of the departments
housed in the building; and every module's outage handlers
(``gis_core.modules.report_outage``) hear of it, e.g. the helpdesk opens a ticket.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from gis_core.errors import bilingual
from gis_core.modules import Outage, OutageReceipt, report_outage
from modules.netops import probing
from modules.netops.choices import AlertSource, Reachability
from modules.netops.models import (
    Alert,
    AssetReachability,
    LinkReachability,
    LinkStateChange,
    StateChange,
)

logger = logging.getLogger(__name__)


def probe_ports() -> list[int]:
    raw = str(getattr(settings, "KENTCBS_NETOPS_PROBE_PORTS", "22,80,443,3389,9100"))
    return [int(p) for p in raw.split(",") if p.strip().isdigit()]


def reachable(ip: str, ports: Iterable[int], timeout: float = 1.0) -> tuple[bool, str]:
    """TCP connect only (see :func:`modules.netops.probing.tcp_connect`)."""
    return probing.tcp_connect(ip, ports, timeout)


def probe_method() -> tuple[bool, str]:
    """Whether this round uses ICMP, and if not why, in words.

    ``KENTCBS_NETOPS_PROBE_METHOD``: ``auto`` (default) and ``icmp`` use ICMP when the kernel
    permits an unprivileged ping socket, TCP connect otherwise; ``tcp`` never tries ICMP.
    """
    wanted = str(getattr(settings, "KENTCBS_NETOPS_PROBE_METHOD", "auto") or "auto").lower()
    if wanted == "tcp":
        return False, bilingual(probing.ICMP_OFF)
    return probing.icmp_permitted()


_last_note = ""


@dataclass(frozen=True)
class ProbeResult:
    checked: int
    down: int
    changes: int
    #: ``icmp`` when ICMP was used (TCP after a missing echo reply), else ``tcp``.
    method: str = probing.TCP
    #: Why ICMP was not used, in words (empty when it was).
    note: str = ""
    link_changes: int = 0


def probe_all(*, timeout: float = 1.0, workers: int = 32) -> ProbeResult:
    """Check every in-service asset with an IP address once, then the links between them."""
    from gis_core.models import Asset

    assets = list(Asset.objects.filter(ip_address__isnull=False, status="in_service")
                  .select_related("building"))
    ports = probe_ports()
    use_icmp, note = probe_method()
    global _last_note  # said once per process, and again when it changes
    if note != _last_note:
        if note:
            logger.info("netops: %s", note)
        _last_note = note
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(assets) or 1))) as pool:
        answers = list(pool.map(lambda a: probing.check(str(a.ip_address), use_icmp=use_icmp,
                                                        ports=ports, timeout=timeout), assets))
    changes = down = 0
    for asset, answer in zip(assets, answers, strict=True):
        down += not answer.up
        changes += record_state(asset=asset, up=answer.up, source=AlertSource.PROBE,
                                detail=answer.detail, method=answer.method, links=False)
    link_changes = refresh_links()  # every watched link once, after all its ends are known
    return ProbeResult(len(assets), down, changes, probing.ICMP if use_icmp else probing.TCP,
                       note, link_changes)


def record_state(*, asset: Any, up: bool, source: str, detail: str = "",
                 at: dt.datetime | None = None, method: str = "", links: bool = True) -> bool:
    """Store what was seen of ``asset``; True when its state changed.

    ``method``: how the probe asked (``icmp``, ``tcp``, ``icmp+tcp``); an external monitor's
    report is stored with its source's name. A change re-evaluates the links ending at the
    asset or in its building (:func:`refresh_links`), unless ``links`` is false (the probe
    round does all links once at its end).
    """
    at = at or timezone.now()
    method = method or str(source)
    new = Reachability.UP if up else Reachability.DOWN
    with transaction.atomic():
        current, _created = AssetReachability.objects.select_for_update().get_or_create(
            asset=asset, defaults={"state": Reachability.UNKNOWN, "since": at})
        old = current.state
        current.checked_at = at
        current.detail = detail[:200]
        current.method = method[:15]
        if old == new:
            current.save(update_fields=["checked_at", "detail", "method"])
            return False
        current.state, current.since = new, at
        current.save()
        StateChange.objects.create(asset=asset, building=asset.building, old_state=old,
                                   new_state=new, at=at, source=source, detail=detail[:300],
                                   method=method[:15])
        if new == Reachability.DOWN:
            _open_alert(asset, source, detail, at)
        else:
            _close_alert(Alert.objects.filter(asset=asset, closed_at__isnull=True).first(), at)
        refresh_building(asset.building, at)
        if links:
            refresh_links(asset=asset, at=at)
    return True


# -- links -----------------------------------------------------------------------------------
#: Links in these (recorded) statuses are watched; planned and decommissioned ones are not.
WATCHED_LINK_STATUSES = ("active", "degraded")


def end_state(*, asset: Any, building: Any) -> str:
    """The state of one end of a link.

    An asset end is that asset's state. A building end (no asset named) is up when one of
    the building's probed assets is up, down when every probed one is down, unknown when
    none has been probed.
    """
    if asset is not None:
        return str(AssetReachability.objects.filter(asset=asset).values_list(
            "state", flat=True).first() or Reachability.UNKNOWN)
    if building is None:
        return Reachability.UNKNOWN
    states = set(AssetReachability.objects.filter(asset__building=building)
                 .values_list("state", flat=True))
    if Reachability.UP in states:
        return Reachability.UP
    return Reachability.DOWN if Reachability.DOWN in states else Reachability.UNKNOWN


def link_state(link: Any) -> tuple[str, str]:
    """A link's state from its ends' (:func:`end_state`), and why.

    Down when either end is down (no traffic passes end to end), up when both ends are up,
    unknown while an end has never been seen.
    """
    a = end_state(asset=link.a_asset, building=link.a_building)
    b = end_state(asset=link.b_asset, building=link.b_building)
    why = f"A: {a}, B: {b}"
    if Reachability.DOWN in (a, b):
        return Reachability.DOWN, why
    if a == b == Reachability.UP:
        return Reachability.UP, why
    return Reachability.UNKNOWN, why


def link_buildings(link: Any) -> tuple[Any, Any]:
    """The buildings at the link's A and B ends (an asset end: the asset's building)."""
    a = link.a_building or getattr(link.a_asset, "building", None)
    b = link.b_building or getattr(link.b_asset, "building", None)
    return a, b


def describe_link(link: Any) -> str:
    def end(asset: Any, building: Any) -> str:
        if asset is not None:
            where = getattr(asset.building, "name", "") or "-"
            return f"{asset.inventory_number} ({where})"
        return str(getattr(building, "name", "-"))

    return (f"{end(link.a_asset, link.a_building)} ↔ {end(link.b_asset, link.b_building)}, "
            f"{link.get_medium_display().split(' / ')[0]}")


def refresh_links(*, asset: Any = None, at: dt.datetime | None = None) -> int:
    """Re-evaluate the watched links (those touching ``asset`` or its building, or all);
    returns how many changed state. A change is stored with its time; down opens one alert
    per outage, up closes it (the same e-mails as an asset's)."""
    from gis_core.models import NetworkLink

    at = at or timezone.now()
    links = NetworkLink.objects.filter(status__in=WATCHED_LINK_STATUSES).select_related(
        "a_asset__building", "b_asset__building", "a_building", "b_building")
    if asset is not None:
        links = links.touching_building(asset.building) if asset.building_id else \
            links.filter(Q(a_asset=asset) | Q(b_asset=asset))
    changed = 0
    for link in links.order_by("pk"):
        new, why = link_state(link)
        with transaction.atomic():
            current, _created = LinkReachability.objects.select_for_update().get_or_create(
                link=link, defaults={"state": Reachability.UNKNOWN, "since": at})
            old = current.state
            current.checked_at, current.detail = at, why
            if old == new:
                current.save(update_fields=["checked_at", "detail"])
                continue
            current.state, current.since = new, at
            current.save()
            a_building, b_building = link_buildings(link)
            LinkStateChange.objects.create(link=link, a_building=a_building,
                                           b_building=b_building, old_state=old,
                                           new_state=new, at=at, detail=why)
            changed += 1
            if new == Reachability.DOWN:
                _open_link_alert(link, why, at)
            elif new == Reachability.UP:
                _close_alert(Alert.objects.filter(link=link, closed_at__isnull=True).first(), at)
            for building in {b for b in (a_building, b_building) if b is not None}:
                refresh_building(building, at, create=False)  # its open-alert count
    return changed


def refresh_building(building: Any, at: dt.datetime | None = None, *,
                     create: bool = True) -> None:
    """The building's row in the map layer ``ag_bina_durumu`` (its state is its probed
    assets'; a link's change only updates the open-alert count of a building already there:
    a building without probed assets gets no row)."""
    from modules.netops.models import BuildingNetworkStatus

    if building is None:
        return
    if not create and not BuildingNetworkStatus.objects.filter(building=building).exists():
        return
    states = AssetReachability.objects.filter(asset__building=building)
    up = states.filter(state=Reachability.UP).count()
    down = states.filter(state=Reachability.DOWN).count()
    state = "down" if down and not up else "degraded" if down else "up"
    BuildingNetworkStatus.objects.update_or_create(building=building, defaults={
        "state": state, "assets_up": up, "assets_down": down,
        "open_alerts": Alert.objects.filter(Q(building=building) | Q(other_building=building),
                                            closed_at__isnull=True).count(),
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
    subject = _describe(asset)[:200]
    title = f"{bilingual('Down')}: {subject}"[:200]
    alert = Alert.objects.create(asset=asset, building=asset.building, source=source,
                                 title=title, subject=subject, opened_at=at, recipients=emails,
                                 departments=departments)
    _announce(alert, detail, emails)


def _open_link_alert(link: Any, detail: str, at: dt.datetime) -> None:
    if Alert.objects.filter(link=link, closed_at__isnull=True).exists():
        return  # one alert per outage
    a_building, b_building = link_buildings(link)
    main = b_building or a_building
    other = a_building if a_building is not None and a_building != main else None
    emails: set[str] = set()
    departments: list[str] = []
    for building in (main, other):
        if building is not None:
            found, codes = recipients(building)
            emails.update(found)
            departments += [c for c in codes if c not in departments]
    subject = describe_link(link)[:200]
    title = f"{bilingual('Link down')}: {subject}"[:200]
    alert = Alert.objects.create(link=link, building=main, other_building=other,
                                 source=AlertSource.PROBE, title=title, subject=subject,
                                 opened_at=at,
                                 recipients=sorted(emails), departments=departments)
    _announce(alert, detail, sorted(emails))


def _announce(alert: Alert, detail: str, emails: list[str]) -> None:
    """The opening e-mail (after the commit) and the other modules' outage handlers."""
    at = alert.opened_at
    if emails:
        transaction.on_commit(lambda: send_alert_mail(
            f"[KentCBS] {alert.title}",
            mail_lines("Down since {at}.", at=f"{timezone.localtime(at):%d.%m.%Y %H:%M}")
            + f"\n{detail}\n", emails))
    receipts = report_outage(_outage(alert, "opened", detail))
    if receipts:
        alert.receipts = [asdict(r) for r in receipts]
        alert.save(update_fields=["receipts"])


def _outage(alert: Alert, event: str, detail: str) -> Outage:
    return Outage(key=f"netops.alert:{alert.pk}", event=event, title=alert.title,
                  detail=detail, at=alert.closed_at if event == "closed" else alert.opened_at,
                  source_module="netops", asset=alert.asset, link=alert.link,
                  building=alert.building,
                  receipts=tuple(OutageReceipt(**r) for r in alert.receipts or ()))


def _close_alert(alert: Alert | None, at: dt.datetime) -> None:
    if alert is None:
        return
    alert.closed_at = at
    alert.save(update_fields=["closed_at"])
    minutes = int((at - alert.opened_at).total_seconds() // 60)
    subject = alert.subject or alert.title.split(": ", 1)[-1]  # alerts stored before 0007
    if alert.recipients:
        emails = list(alert.recipients)
        transaction.on_commit(lambda: send_alert_mail(
            f"[KentCBS] {bilingual('Recovered')}: {subject}",
            mail_lines("Back up since {at}; the outage lasted {minutes} min.",
                       at=f"{timezone.localtime(at):%d.%m.%Y %H:%M}", minutes=minutes) + "\n",
            emails))
    report_outage(_outage(alert, "closed", bilingual("outage of {minutes} min",
                                                     minutes=minutes)))


def mail_lines(message: str, **params: object) -> str:
    """``message`` (an English msgid) in Turkish, then in English on the next line: a mail
    has no session language, so it carries both, Turkish first."""
    from django.utils import translation

    english = message.format(**params)
    with translation.override("tr"):
        turkish = str(translation.gettext(message)).format(**params)
    return english if turkish == english else f"{turkish}\n{english}"


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
    alerts = Alert.objects.select_related("asset", "building", "other_building", "link").order_by(
        "-opened_at")
    if sees_all_buildings(access):
        return alerts
    return alerts.filter(Q(building__departments__code__in=access.departments)
                         | Q(other_building__departments__code__in=access.departments)).distinct()


def sees_all_buildings(access: Any) -> bool:
    """IT staff (and superusers) see every building's network state; others the buildings
    housing one of their departments."""
    return bool(access.is_superuser or (
        access.roles & {"network_admin", "gis_admin", "technician", "manager"}
        and "bilgi_islem" in access.departments))


def may_see_building(user: Any, building: Any) -> bool:
    from gis_core.selectors import user_access

    access = user_access(user)
    if not access.is_authenticated:
        return False
    return sees_all_buildings(access) or building.departments.filter(
        code__in=access.departments).exists()


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
