"""What the helpdesk attaches to the core (read by ``gis_core.modules.discover``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gis_core.modules import BuildingSummary, MenuItem, ModuleSpec, Permission

IT_ROLES = ("technician", "network_admin", "gis_admin", "manager")


def building_panel(*, user: Any, building: Any) -> BuildingSummary | None:
    """Open and total tickets of ``building`` visible to ``user``, and 'open a ticket'."""
    from django.urls import reverse

    from modules.helpdesk.choices import OPEN_STATUSES
    from modules.helpdesk.selectors import visible_tickets

    if not getattr(user, "is_authenticated", False):
        return None
    from django.utils.translation import gettext as _

    from modules.helpdesk.selectors import overdue_condition

    tickets = visible_tickets(user=user).filter(building=building)
    new_url = reverse("helpdesk:ticket_new") + f"?building={building.pk}"
    # Lines and links in the request's language (the panel runs inside the request).
    return BuildingSummary(
        title_tr="Arıza ve talepler", title_en="Tickets",
        lines=((_("Open tickets"), str(tickets.filter(status__in=OPEN_STATUSES).count())),
               (_("Past due tickets"), str(tickets.filter(overdue_condition()).count())),
               (_("All tickets"), str(tickets.count()))),
        links=((_("Report a fault"), new_url),
               (_("Building page"), reverse("helpdesk:building", args=[building.pk]))),
    )


def outage_ticket(**kwargs: Any) -> Any:
    from modules.helpdesk.outages import outage_ticket as handle

    return handle(**kwargs)


def dashboard_figures(*, user: Any) -> Any:
    from modules.helpdesk.dashboard import figures

    return figures(user=user)


def report_figures(*, user: Any, year: int) -> Any:
    from modules.helpdesk.report import report_figures as figures

    return figures(user=user, year=year)


def load_demo(**kwargs: Any) -> dict[str, Any]:
    from modules.helpdesk.demo import load_demo as load

    return load(**kwargs)


MODULE = ModuleSpec(
    code="helpdesk",
    title_tr="Arıza ve Talep Yönetimi",
    title_en="Helpdesk",
    layer_definitions_dir=Path(__file__).resolve().parent / "layer_definitions",
    urls="modules.helpdesk.urls",
    menu_items=(
        MenuItem("helpdesk:ticket_list", "Arıza / talepler", "Tickets"),
        MenuItem("helpdesk:ticket_new", "Arıza / talep bildir", "Report a fault"),
        MenuItem("helpdesk:map", "Talep haritası", "Ticket map", IT_ROLES),
        MenuItem("helpdesk:statistics", "Destek istatistikleri", "Helpdesk statistics", IT_ROLES),
    ),
    building_panels=(building_panel,),
    dashboard_figures=(dashboard_figures,),
    report_figures=(report_figures,),
    permissions=(
        Permission("helpdesk.report", "Arıza / talep bildirme", "Report faults and requests"),
        Permission("helpdesk.work", "Birimin taleplerini işleme", "Work on the unit's tickets",
                   ("technician", "network_admin")),
        Permission("helpdesk.view_all", "Tüm talepleri görme", "See every ticket",
                   ("manager", "gis_admin")),
        # Served by the core to these roles only (gis_core.modules.guard_page).
        Permission("helpdesk.statistics", "İstatistik, yük haritası ve faaliyet raporu",
                   "Statistics, load map and activity report", IT_ROLES,
                   pages=("helpdesk:statistics", "helpdesk:statistics_export", "helpdesk:map",
                          "helpdesk:activity_report")),
    ),
    demo=load_demo,
    outage_handlers=(outage_ticket,),
)
