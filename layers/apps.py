from django.apps import AppConfig


class LayersConfig(AppConfig):
    name = "layers"
    default_auto_field = "django.db.models.BigAutoField"
