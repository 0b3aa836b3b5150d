"""The manager dashboard's reads: who may see it and the core's figures.

Figures of the core: assets by category and by status, warranties ending within 90 days,
assets scrapped this year, network links down, uploads per department and their
acceptance rate. Modules add theirs through ``ModuleSpec.dashboard_figures``
(:func:`gis_core.modules.dashboard_figures`). Every figure counts only what the user may
read (the same layer permissions as the map and the OGC API) and links to its list.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone

from gis_core.labels import code_labels, department_labels
from gis_core.modules import DashboardFigure
from web.charts import percent

#: Roles the dashboard is for (in any department); superusers too.
DASHBOARD_ROLES = frozenset({"manager", "gis_admin"})
#: "Warranties ending soon": within this many days from today.
WARRANTY_DAYS = 90
ASSET_LAYER, LINK_LAYER = "bt_varlik", "ag_baglanti"
#: Batch states that are a finished upload (a dry run or a running one is not).
FINISHED = ("loaded", "unchanged", "rejected", "refused", "failed")
ACCEPTED = ("loaded", "unchanged")


def may_see_dashboard(user: Any) -> bool:
    """Managers and GIS administrators (any department) and superusers."""
    from gis_core.selectors import user_access

    access = user_access(user)
    return access.is_authenticated and (access.is_superuser
                                        or bool(access.roles & DASHBOARD_ROLES))


def may_read(user: Any, code: str) -> bool:
    from layers.access import can_read
    from layers.registry import registry

    try:
        return can_read(user, registry.get(code))
    except KeyError:
        return False


def assets(*, category: str = "", status: str = "", warranty_days: int | None = None,
           scrapped_year: int | None = None, today: dt.date | None = None) -> QuerySet[Any]:
    """The assets behind a figure (the caller checks the asset layer's read permission)."""
    from gis_core.models import Asset

    today = today or timezone.localdate()
    rows = Asset.objects.select_related("building", "room", "department")
    if category:
        rows = rows.filter(category=category)
    if status:
        rows = rows.filter(status=status)
    if warranty_days is not None:
        rows = rows.exclude(status="scrapped").filter(
            warranty_end__gte=today, warranty_end__lte=today + dt.timedelta(days=warranty_days))
    if scrapped_year is not None:
        rows = rows.filter(status="scrapped", transitions__to_status="scrapped",
                           transitions__at__year=scrapped_year).distinct()
    return rows


def links(*, status: str = "") -> QuerySet[Any]:
    from gis_core.models import NetworkLink

    rows = NetworkLink.objects.select_related("a_building", "b_building")
    return rows.filter(status=status) if status else rows


def core_figures(*, user: Any, today: dt.date | None = None) -> list[DashboardFigure]:
    """The core's figures that ``user`` may see."""
    today = today or timezone.localdate()
    figures: list[DashboardFigure] = []
    asset_list = reverse("web:dashboard_assets")
    if may_read(user, ASSET_LAYER):
        everything = assets()
        categories, states = code_labels("bt_varlik_kategori"), code_labels("bt_varlik_durum")
        by_category = dict(everything.order_by().values_list("category")
                           .annotate(n=Count("id")).values_list("category", "n"))
        by_status = dict(everything.order_by().values_list("status")
                         .annotate(n=Count("id")).values_list("status", "n"))
        total = sum(by_category.values())
        figures.append(DashboardFigure(
            "assets_by_category", "Kategoriye göre BT varlıkları", "IT assets by category",
            value=str(total), url=asset_list,
            rows=tuple((categories.get(code, code), float(n), f"{asset_list}?category={code}")
                       for code, n in sorted(by_category.items(), key=lambda kv: -kv[1])),
            unit_tr="adet", unit_en="assets"))
        figures.append(DashboardFigure(
            "assets_by_status", "Duruma göre BT varlıkları", "IT assets by status",
            value=str(total), url=asset_list,
            rows=tuple((states.get(code, code), float(by_status.get(code, 0)),
                        f"{asset_list}?status={code}") for code in states),
            unit_tr="adet", unit_en="assets"))
        warranty = assets(warranty_days=WARRANTY_DAYS, today=today).count()
        figures.append(DashboardFigure(
            "warranties_ending", f"{WARRANTY_DAYS} gün içinde garantisi bitenler",
            f"Warranties ending within {WARRANTY_DAYS} days", value=str(warranty),
            url=f"{asset_list}?warranty={WARRANTY_DAYS}", chart="",
            note_tr="Hurdaya ayrılmamış, garanti bitişi bugünden sonraki "
                    f"{WARRANTY_DAYS} gün içinde olan varlıklar.",
            note_en=f"Assets not scrapped whose warranty ends in the next {WARRANTY_DAYS} days."))
        scrapped = assets(scrapped_year=today.year).count()
        figures.append(DashboardFigure(
            "scrapped_this_year", f"{today.year} yılında hurdaya ayrılanlar",
            f"Scrapped in {today.year}", value=str(scrapped),
            url=f"{asset_list}?scrapped={today.year}", chart=""))
    if may_read(user, LINK_LAYER):
        down = links(status="down")
        link_list = reverse("web:dashboard_links")
        figures.append(DashboardFigure(
            "links_down", "Kesik ağ bağlantıları", "Network links down",
            value=str(down.count()), url=f"{link_list}?status=down", chart="",
            rows=tuple((f"{link.a_building.name if link.a_building else '—'} – "
                        f"{link.b_building.name if link.b_building else '—'}", 1.0,
                        f"{link_list}?status=down") for link in down.order_by("pk")[:10])))
    figures.extend(_upload_figures(user=user))
    return figures


def _upload_figures(*, user: Any) -> list[DashboardFigure]:
    from web.reports import visible_batches

    rows = (visible_batches(user=user).filter(status__in=FINISHED).order_by()
            .values("department")
            .annotate(uploads=Count("id"), accepted=Count("id", filter=Q(status__in=ACCEPTED)),
                      read=Sum("count_read"), loaded=Sum("count_loaded"))
            .order_by("department"))
    rows = list(rows)
    names = department_labels(row["department"] for row in rows)
    reports = reverse("web:report_list")
    uploads = sum(row["uploads"] for row in rows)
    accepted = sum(row["accepted"] for row in rows)
    return [
        DashboardFigure(
            "uploads_by_department", "Birimlere göre yüklemeler", "Uploads per department",
            value=str(uploads), url=reports,
            rows=tuple((names.get(row["department"], row["department"]), float(row["uploads"]),
                        f"{reports}?department={row['department']}") for row in rows),
            unit_tr="yükleme", unit_en="uploads"),
        DashboardFigure(
            "upload_acceptance", "Birimlere göre kabul oranı", "Acceptance rate per department",
            value=percent(round(100.0 * accepted / uploads, 1)) if uploads else "—",
            url=reports,
            rows=tuple((names.get(row["department"], row["department"]),
                        round(100.0 * row["accepted"] / row["uploads"], 1),
                        f"{reports}?department={row['department']}") for row in rows),
            unit_tr="%", unit_en="%",
            note_tr="Kabul: yüklenen ya da değişiklik getirmeyen yüklemeler / biten yüklemeler "
                    "(deneme yüklemeleri hariç).",
            note_en="Accepted: uploads loaded or unchanged / finished uploads (dry runs "
                    "excluded)."),
    ]
