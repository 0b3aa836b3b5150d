from django.apps import AppConfig


class OgcApiConfig(AppConfig):
    name = "ogc_api"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from ogc_api.tiles import forget_prepared

        connection_created.connect(forget_prepared, dispatch_uid="ogc_api.forget_prepared")
