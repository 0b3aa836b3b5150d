from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HelpdeskConfig(AppConfig):
    name = "modules.helpdesk"
    label = "helpdesk"
    verbose_name = _("Arıza ve Talep Yönetimi")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from modules.helpdesk.signals import ensure_sla_targets

        # flush (transactional tests) emits post_migrate too: the targets come back.
        post_migrate.connect(ensure_sla_targets, sender=self,
                             dispatch_uid="helpdesk_ensure_sla_targets")
