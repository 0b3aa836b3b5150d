"""The network operations figures on the manager dashboard (declared in ``kentcbs.py``):
open outages by building, and the backup register's state (on time, overdue, failed)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext as _

from gis_core.modules import DashboardFigure


def figures(*, user: Any) -> list[DashboardFigure]:
    from modules.netops.backups import states
    from modules.netops.monitoring import open_alerts_for

    alerts_url = reverse("netops:alerts")
    open_alerts = open_alerts_for(user).filter(closed_at__isnull=True)
    by_building = (open_alerts.values("building__name").annotate(n=Count("id"))
                   .order_by("-n", "building__name"))
    out = [DashboardFigure(
        code="netops_outages", title_tr="Açık ağ kesintileri", title_en="Open network outages",
        value=str(open_alerts.count()), url=alerts_url,
        rows=tuple((row["building__name"] or "—", float(row["n"]), alerts_url)
                   for row in by_building[:10]),
        unit_tr="cihaz", unit_en="assets",
        note_tr="Erişilemeyen cihazlar, binalarına göre (KentCBS yoklaması, Alertmanager, Zabbix).",
        note_en="Assets down, by building (KentCBS probe, Alertmanager, Zabbix).")]
    from gis_core.selectors import user_access

    access = user_access(user)
    if access.is_superuser or access.roles & {"manager", "gis_admin", "network_admin",
                                              "technician"}:
        items = states()
        words = {"ok": _("on time"), "overdue": _("overdue"), "failed": _("failed")}
        backups_url = reverse("netops:backups")
        late = sum(1 for s in items if s.state != "ok")
        out.append(DashboardFigure(
            code="netops_backups", title_tr="Yedeklemeler", title_en="Backups",
            value=f"{late} / {len(items)}", url=backups_url,
            rows=tuple((words[k],
                        float(sum(1 for s in items if s.state == k)), backups_url)
                       for k in ("ok", "overdue", "failed")),
            unit_tr="sistem", unit_en="systems",
            note_tr="Gecikmiş veya başarısız yedeklemesi olan sistemler / yedekleme kaydındaki "
                    "sistemler.",
            note_en="Systems with an overdue or failed backup / systems in the backup register."))
    return out
