from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HelpdeskConfig(AppConfig):
    name = "modules.helpdesk"
    label = "helpdesk"
    verbose_name = _("Arıza ve Talep Yönetimi")
    default_auto_field = "django.db.models.BigAutoField"
