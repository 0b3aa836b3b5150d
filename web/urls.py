from django.contrib.auth import views as auth_views
from django.urls import path

from web import (
    views,
    views_dashboard,
    views_map,
    views_quality,
    views_reports,
    views_templates,
    views_tools,
    views_undo,
)
from web.forms import SignInForm

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="web/login.html",
                                                       authentication_form=SignInForm),
         name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("map/", views_map.map_page, name="map"),
    path("map/building/<int:pk>.json", views_map.building_json, name="building"),
    path("map/building-at.json", views_map.building_at_json, name="building_at"),
    path("map/search.json", views_map.search_json, name="search"),
    # The manager dashboard and the lists behind its figures (web/views_dashboard.py).
    path("dashboard/", views_dashboard.dashboard_page, name="dashboard"),
    path("dashboard/assets/", views_dashboard.asset_list, name="dashboard_assets"),
    path("dashboard/links/", views_dashboard.link_list, name="dashboard_links"),
    # Map tools (web/views_tools.py): identify, labels, export, print.
    path("map/identify.json", views_tools.identify_json, name="identify"),
    path("map/labels/<str:code>.json", views_tools.labels_json, name="labels"),
    path("map/print.pdf", views_tools.print_pdf, name="print_pdf"),
    path("layers/<str:code>/export.<str:fmt>", views_tools.layer_export, name="layer_export"),
    # Validation reports and uploads (web/views_reports.py).
    path("reports/", views_reports.report_list, name="report_list"),
    path("reports/quality/", views_quality.quality, name="quality"),
    path("reports/<int:pk>/", views_reports.report_detail, name="report_detail"),
    path("reports/<int:pk>/rejected.gpkg", views_reports.report_rejected_gpkg,
         name="report_rejected_gpkg"),
    path("reports/<int:pk>/report.json", views_reports.report_json, name="report_json"),
    path("reports/<int:pk>/undo/", views_undo.report_undo, name="report_undo"),
    path("upload/", views_reports.upload, name="upload"),
    path("upload/template/<slug:code>.<slug:kind>", views_templates.layer_template,
         name="layer_template"),
    path("upload/<int:pk>/mapping/", views_reports.upload_mapping, name="upload_mapping"),
    path("upload/<int:pk>/progress.json", views_reports.upload_progress,
         name="upload_progress"),
]
