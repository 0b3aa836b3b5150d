from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NetopsConfig(AppConfig):
    name = "modules.netops"
    label = "netops"
    verbose_name = _("Network operations")
    default_auto_field = "django.db.models.BigAutoField"
