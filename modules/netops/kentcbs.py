"""What the network operations module attaches to the core (``gis_core.modules``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gis_core.modules import BuildingSummary, MenuItem, ModuleSpec, Permission

NETWORK_ROLES = ("network_admin", "gis_admin")
IT_ROLES = ("technician", "network_admin", "gis_admin", "manager")


def building_panel(*, user: Any, building: Any) -> BuildingSummary | None:
    """Reachability of the building's networked assets and its open outages."""
    from django.urls import reverse

    from modules.netops.choices import Reachability
    from modules.netops.models import Alert, AssetReachability
    from modules.netops.monitoring import open_alerts_for

    if not getattr(user, "is_authenticated", False):
        return None
    states = AssetReachability.objects.filter(asset__building=building)
    if not states.exists():
        return None
    down = states.filter(state=Reachability.DOWN).count()
    up = states.filter(state=Reachability.UP).count()
    status = "kesinti" if down and not up else "kısmi kesinti" if down else "çalışıyor"
    visible = open_alerts_for(user).filter(building=building)
    return BuildingSummary(
        title_tr="Ağ durumu", title_en="Network status",
        lines=(("Durum", status), ("Erişilebilir cihaz", str(up)),
               ("Erişilemeyen cihaz", str(down)),
               ("Açık kesinti", str(visible.filter(closed_at__isnull=True).count())),
               ("Kesinti geçmişi (toplam)", str(Alert.objects.filter(building=building).count()))),
        links=(("Ağ uyarıları", reverse("netops:alerts")),),
    )

def dashboard_figures(*, user: Any) -> Any:
    from modules.netops.dashboard import figures

    return figures(user=user)


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
