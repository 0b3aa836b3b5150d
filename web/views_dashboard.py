"""The manager dashboard (``/dashboard/``) and the lists behind its figures."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from gis_core.labels import code_labels, department_label, english
from gis_core.modules import DashboardFigure, dashboard_figures
from web import dashboard
from web.charts import bar_chart, column_chart

PAGE_SIZE = 50


def _refused(request: HttpRequest, message: str) -> HttpResponse:
    from web.views_errors import _page

    return _page(request, 403, _("Access denied"), message)


def _figure(figure: DashboardFigure) -> dict[str, Any]:
    en = english()
    title = figure.title_en if en else figure.title_tr
    chart = ""
    if figure.rows and figure.chart == "bar":
        chart = bar_chart(figure.rows, title=title)
    elif figure.rows and figure.chart == "column":
        chart = column_chart(figure.rows, title=title)
    return {"code": figure.code, "title": title, "value": figure.value, "url": figure.url,
            "rows": figure.rows, "chart": chart,
            "unit": figure.unit_en if en else figure.unit_tr,
            "note": figure.note_en if en else figure.note_tr}


@login_required
def dashboard_page(request: HttpRequest) -> HttpResponse:
    """Figures for managers and GIS administrators; a clear 403 page for everyone else."""
    if not dashboard.may_see_dashboard(request.user):
        return _refused(request, _("The dashboard is for managers and GIS administrators. "
                                   "Ask the GIS administrator of your department if you "
                                   "need it."))
    figures = dashboard.core_figures(user=request.user) + dashboard_figures(user=request.user)
    return render(request, "web/dashboard.html", {
        "figures": [_figure(f) for f in figures], "today": timezone.localdate()})


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 6 else None


@login_required
def asset_list(request: HttpRequest) -> HttpResponse:
    """The assets behind an asset figure: ``?category=``, ``?status=``, ``?warranty=<days>``,
    ``?scrapped=<year>``; for dashboard users who may read the asset layer."""
    if not (dashboard.may_see_dashboard(request.user)
            and dashboard.may_read(request.user, dashboard.ASSET_LAYER)):
        return _refused(request, _("This list is for managers and GIS administrators who may "
                                   "read the IT asset layer."))
    categories, states = code_labels("bt_varlik_kategori"), code_labels("bt_varlik_durum")
    category = request.GET.get("category", "")
    status = request.GET.get("status", "")
    category = category if category in categories else ""
    status = status if status in states else ""
    warranty, scrapped = _int(request.GET.get("warranty")), _int(request.GET.get("scrapped"))
    rows = dashboard.assets(category=category, status=status, warranty_days=warranty,
                            scrapped_year=scrapped).order_by(
        "warranty_end" if warranty is not None else "inventory_number", "pk")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/dashboard_assets.html", {
        "page_obj": page, "categories": categories, "states": states,
        "category": category, "status": status, "warranty": warranty, "scrapped": scrapped,
        "rows": [{"asset": a, "category": categories.get(a.category, a.category),
                  "status": states.get(a.status, a.status),
                  "department": department_label(a.department)} for a in page.object_list]})


@login_required
def link_list(request: HttpRequest) -> HttpResponse:
    """The network links behind the "links down" figure (``?status=``)."""
    if not (dashboard.may_see_dashboard(request.user)
            and dashboard.may_read(request.user, dashboard.LINK_LAYER)):
        return _refused(request, _("This list is for managers and GIS administrators who may "
                                   "read the network link layer."))
    states, media = code_labels("ag_durum"), code_labels("ag_ortam")
    status = request.GET.get("status", "")
    status = status if status in states else ""
    page = Paginator(dashboard.links(status=status).order_by("pk"), PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "web/dashboard_links.html", {
        "page_obj": page, "states": states, "status": status,
        "rows": [{"link": link, "status": states.get(link.status, link.status),
                  "medium": media.get(link.medium, link.medium)} for link in page.object_list]})
