from django.urls import path

from modules.netops import views

app_name = "netops"
urlpatterns = [
    path("whois/", views.whois, name="whois"),
    path("alerts/", views.alerts, name="alerts"),
    path("hooks/alertmanager/", views.hook_alertmanager, name="hook_alertmanager"),
    path("hooks/zabbix/", views.hook_zabbix, name="hook_zabbix"),
]
