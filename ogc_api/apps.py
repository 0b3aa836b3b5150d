from django.apps import AppConfig


class OgcApiConfig(AppConfig):
    name = "ogc_api"
    default_auto_field = "django.db.models.BigAutoField"
