from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistersConfig(AppConfig):
    name = "modules.registers"
    label = "registers"
    verbose_name = _("Kayıtlar ve Taşınır İşlemleri")
    default_auto_field = "django.db.models.BigAutoField"
