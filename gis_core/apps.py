from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GisCoreConfig(AppConfig):
    name = "gis_core"
    verbose_name = _("KentCBS çekirdek / Core")
    default_auto_field = "django.db.models.BigAutoField"
