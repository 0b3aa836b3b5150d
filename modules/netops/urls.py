from django.urls import path

from modules.netops import views

app_name = "netops"
urlpatterns = [
    path("whois/", views.whois, name="whois"),
    path("alerts/", views.alerts, name="alerts"),
    path("buildings/<int:pk>/outages/", views.building_outages, name="building_outages"),
    path("backups/", views.backups, name="backups"),
    path("configs/<str:device>/", views.device_config, name="device_config"),
    path("hooks/alertmanager/", views.hook_alertmanager, name="hook_alertmanager"),
    path("hooks/zabbix/", views.hook_zabbix, name="hook_zabbix"),
    path("hooks/backup/", views.hook_backup, name="hook_backup"),
]
