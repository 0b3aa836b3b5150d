from django.urls import path

from modules.helpdesk import views

app_name = "helpdesk"

urlpatterns = [
    path("", views.ticket_list, name="ticket_list"),
    path("new/", views.ticket_new, name="ticket_new"),
    path("pick.json", views.asset_search, name="asset_search"),
    path("tickets/<int:pk>/", views.ticket_detail, name="ticket_detail"),
    path("tickets/<int:pk>/action/", views.ticket_action, name="ticket_action"),
    path("statistics/", views.statistics_page, name="statistics"),
    path("statistics/export.<str:fmt>", views.statistics_export, name="statistics_export"),
    path("map/", views.load_map_page, name="map"),
    path("buildings/<int:pk>/", views.building_page, name="building"),
    path("report/<int:year>/", views.activity_report_page, name="activity_report"),
]
