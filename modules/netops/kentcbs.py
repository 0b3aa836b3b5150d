"""What the network operations module attaches to the core (``gis_core.modules``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db.models import Q

from gis_core.modules import BuildingSummary, MenuItem, ModuleSpec, Permission

NETWORK_ROLES = ("network_admin", "gis_admin")
IT_ROLES = ("technician", "network_admin", "gis_admin", "manager")


def building_panel(*, user: Any, building: Any) -> BuildingSummary | None:
    """Reachability of the building's networked assets and links, open outages, and the
    way to its outage history."""
    from django.urls import reverse

    from gis_core.models import NetworkLink
    from modules.netops.choices import Reachability
    from modules.netops.models import Alert, AssetReachability, LinkReachability
    from modules.netops.monitoring import WATCHED_LINK_STATUSES, describe_link, open_alerts_for

    if not getattr(user, "is_authenticated", False):
        return None
    states = AssetReachability.objects.filter(asset__building=building)
    links = list(NetworkLink.objects.touching_building(building)
                 .filter(status__in=WATCHED_LINK_STATUSES).select_related(
                     "a_asset__building", "b_asset__building", "a_building", "b_building")
                 .order_by("pk"))
    if not states.exists() and not links:
        return None
    from django.utils.translation import gettext as _

    down = states.filter(state=Reachability.DOWN).count()
    up = states.filter(state=Reachability.UP).count()
    # Lines and links in the request's language (the panel runs inside the request).
    status = _("down") if down and not up else _("degraded") if down else _("up")
    visible = open_alerts_for(user).filter(Q(building=building) | Q(other_building=building))
    lines = [(_("State"), status), (_("Reachable assets"), str(up)),
             (_("Unreachable assets"), str(down))]
    lines += [(_("Unreachable: {asset}").format(asset=s.asset.inventory_number),
               s.asset.ip_address or "")
              for s in states.filter(state=Reachability.DOWN).select_related("asset")
              .order_by("asset__inventory_number")[:10]]
    link_states = dict(LinkReachability.objects.filter(link__in=links)
                       .values_list("link_id", "state"))
    labels = dict(Reachability.choices)
    lines += [(_("Link: {link}").format(link=describe_link(link)),
               str(labels[link_states.get(link.pk, Reachability.UNKNOWN)]))
              for link in links[:10]]
    history = Alert.objects.filter(Q(building=building) | Q(other_building=building))
    lines += [(_("Open outages"), str(visible.filter(closed_at__isnull=True).count())),
              (_("Outage history (total)"), str(history.count()))]
    return BuildingSummary(
        title_tr="Ağ durumu", title_en="Network status", lines=tuple(lines),
        links=((_("Outage history"), reverse("netops:building_outages", args=[building.pk])),
               (_("Network alerts"), reverse("netops:alerts"))),
    )


def dashboard_figures(*, user: Any) -> Any:
    from modules.netops.dashboard import figures

    return figures(user=user)


def report_figures(*, user: Any, year: int) -> Any:
    from modules.netops.report import report_figures as figures

    return figures(user=user, year=year)
#: The backup register's entry for KentCBS's own database and media (``kentcbs db backup``).
KENTCBS_BACKUP_CODE = "kentcbs"


def report_kentcbs_backup(*, ok: bool, size_bytes: int | None, detail: str, actor: str) -> None:
    """Record a ``kentcbs db backup`` run in the backup register (entry made on first use)."""
    from modules.netops.backups import report_run
    from modules.netops.choices import BackupKind, BackupPolicy, Importance
    from modules.netops.models import BackupTarget

    BackupTarget.objects.get_or_create(code=KENTCBS_BACKUP_CODE, defaults={
        "name": "KentCBS (veritabanı ve dosyalar)", "kind": BackupKind.KENTCBS,
        "importance": Importance.CRITICAL, "policy": BackupPolicy.DAILY})
    report_run(code=KENTCBS_BACKUP_CODE, ok=ok, actor=actor, size_bytes=size_bytes,
               detail=detail)


def load_demo(**kwargs: Any) -> dict[str, Any]:
    from modules.netops.demo import load_demo as load

    return load(**kwargs)


MODULE = ModuleSpec(
    code="netops",
    title_tr="Ağ İşletimi",
    title_en="Network operations",
    urls="modules.netops.urls",
    layer_definitions_dir=Path(__file__).resolve().parent / "layer_definitions",
    menu_items=(MenuItem("netops:alerts", "Ağ uyarıları", "Network alerts"),
                MenuItem("netops:whois", "IP sorgusu (5651)", "IP lookup (5651)",
                         NETWORK_ROLES),
                MenuItem("netops:backups", "Yedekleme kaydı", "Backup register", IT_ROLES)),
    building_panels=(building_panel,),
    dashboard_figures=(dashboard_figures,),
    report_figures=(report_figures,),
    demo=load_demo,
    backup_reporters=(report_kentcbs_backup,),
    permissions=(
        Permission("netops.whois", "5651 IP dağıtım kayıtlarını sorgulama",
                   "Look up Law 5651 IP distribution records", NETWORK_ROLES,
                   pages=("netops:whois",)),
        Permission("netops.backups", "Yedekleme kaydı ve cihaz yapılandırmaları",
                   "Backup register and device configurations", IT_ROLES,
                   pages=("netops:backups", "netops:device_config")),
    ),
)
