from django.apps import AppConfig


class LayersConfig(AppConfig):
    name = "layers"
    verbose_name = "Katman kayıt defteri / Layer registry"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from layers import checks  # noqa: F401  (registers the layers.E00x system checks)
        from layers.signals import sync_after_migrate

        post_migrate.connect(sync_after_migrate, sender=self,
                             dispatch_uid="layers.sync_after_migrate")
