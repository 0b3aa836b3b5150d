from django.urls import path  # noqa: F401

app_name = "ogc_api"
urlpatterns: list = []
