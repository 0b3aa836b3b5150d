from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NetopsConfig(AppConfig):
    name = "modules.netops"
    label = "netops"
    verbose_name = _("Ağ İşletimi")
    default_auto_field = "django.db.models.BigAutoField"
