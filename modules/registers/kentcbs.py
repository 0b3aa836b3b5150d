"""What the registers module attaches to the core (read by ``gis_core.modules.discover``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gis_core.modules import BuildingSummary, MenuItem, ModuleSpec, Permission

IT_ROLES = ("technician", "network_admin", "gis_admin", "manager")
REPORT_ROLES = ("manager", "gis_admin")


def building_panel(*, user: Any, building: Any) -> BuildingSummary | None:
    """Links to the building's fixture lists (rooms the user may see)."""
    from django.urls import reverse

    from modules.registers.selectors import visible_fixture_rooms

    if not getattr(user, "is_authenticated", False):
        return None
    rooms = visible_fixture_rooms(user=user, building=building)
    if not rooms:
        return None
    return BuildingSummary(
        title_tr="Taşınırlar", title_en="Fixtures",
        lines=(("Oda", str(len(rooms))),),
        links=(("Dayanıklı taşınırlar listesi (PDF)",
                reverse("registers:building_fixtures", args=[building.pk])),),
    )


def licence_panel(*, user: Any, building: Any) -> BuildingSummary | None:
    """Licence seats used by the building's devices (IT roles)."""
    from modules.registers.licences import building_panel as panel

    return panel(user=user, building=building)


def expiry_figures(*, user: Any) -> Any:
    from modules.registers.reminders import dashboard_figures as figures

    return figures(user=user)


def line_panel(**kwargs: Any) -> BuildingSummary | None:
    from modules.registers.payments import building_panel as panel

    return panel(**kwargs)


def load_demo(**kwargs: Any) -> dict[str, Any]:
    from modules.registers.demo import load_demo as load
    from modules.registers.payments import load_demo as load_payments

    counts = load(**kwargs)
    counts["line_payments"] = load_payments()
    return counts


MODULE = ModuleSpec(
    code="registers",
    title_tr="Kayıtlar ve Taşınır İşlemleri",
    title_en="Registers",
    urls="modules.registers.urls",
    layer_definitions_dir=Path(__file__).resolve().parent / "layer_definitions",
    menu_items=(
        MenuItem("registers:index", "Taşınır listeleri", "Fixture lists"),
        MenuItem("registers:count_list", "Yıl sonu sayımı", "Year-end count", IT_ROLES),
        MenuItem("registers:consumables", "Sarf malzemesi", "Consumables", IT_ROLES),
        MenuItem("registers:licences", "Yazılım lisansları", "Software licences", IT_ROLES),
        MenuItem("registers:domains", "Alan adları ve sertifikalar",
                 "Domains and certificates", IT_ROLES),
        MenuItem("registers:esign", "E-imza ve KEP", "E-signature and KEP", IT_ROLES),
        MenuItem("registers:reminders", "Hatırlatmalar", "Reminders"),
        MenuItem("registers:lines", "Hat ödemeleri", "Line payments", IT_ROLES),
        MenuItem("registers:report_index", "Faaliyet raporu", "Activity report", REPORT_ROLES),
    ),
    building_panels=(building_panel, licence_panel, line_panel),
    dashboard_figures=(expiry_figures,),
    demo=load_demo,
    permissions=(
        # Which rooms a user sees is the selector's (modules.registers.selectors).
        Permission("registers.fixtures", "Oda taşınır listeleri", "Room fixture lists"),
        Permission("registers.count", "Yıl sonu sayımı ve sayım tutanağı",
                   "Year-end count and count report", IT_ROLES,
                   pages=("registers:count_list", "registers:count_scan",
                          "registers:count_differences", "registers:count_report",
                          "registers:year_end_summary")),
        Permission("registers.consumables", "Sarf malzemesi girişi ve çıkışı",
                   "Consumable receipts and issues", IT_ROLES, pages=("registers:consumables",)),
        Permission("registers.licences", "Yazılım lisansları, alan adları ve sertifikalar",
                   "Software licences, domains and certificates", IT_ROLES,
                   pages=("registers:licences", "registers:licence_new",
                          "registers:licence_detail", "registers:licence_edit",
                          "registers:domains", "registers:domain_new", "registers:domain_edit",
                          "registers:certificate_new", "registers:certificate_edit")),
        # Holders (personal data) only to modules.registers.esign.may_see_holders, reads logged.
        Permission("registers.esign", "E-imza kartları ve KEP hesapları",
                   "E-signature cards and KEP accounts", IT_ROLES,
                   pages=("registers:esign", "registers:esign_new", "registers:esign_detail",
                          "registers:esign_edit")),
        Permission("registers.esign_holders", "E-imza kartı sahiplerini görme (KVKK)",
                   "See e-signature card holders (KVKK)", ("manager", "technician")),
        Permission("registers.lines", "Hat ödemeleri ve ödeme kaydı",
                   "Line payments and recording them", IT_ROLES, pages=("registers:lines",)),
        Permission("registers.report", "Yıllık faaliyet raporu verileri",
                   "Yearly activity report figures", REPORT_ROLES,
                   pages=("registers:report_index", "registers:report",
                          "registers:report_file")),
    ),
)
