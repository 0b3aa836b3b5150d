from django.urls import path

from modules.netops import views

app_name = "netops"
urlpatterns = [
    path("whois/", views.whois, name="whois"),
]
