from django.apps import AppConfig
from django.contrib.auth.signals import user_login_failed
from django.db.models.signals import post_delete, post_migrate, post_save
from django.utils.translation import gettext_lazy as _


class GisCoreConfig(AppConfig):
    name = "gis_core"
    verbose_name = _("KentCBS çekirdek / Core")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from simple_history.signals import pre_create_historical_record

        from gis_core import checks, lookups, modules, signals, signin
        from gis_core.directory import checks as directory_checks  # noqa: F401 (registers)
        from gis_core.models import Membership

        del checks  # imported for its @register
        lookups.register()
        modules.check_declarations()  # a broken module's kentcbs.py stops the start-up

        pre_create_historical_record.connect(signals.attribute_history,
                                             dispatch_uid="kentcbs_history_source")
        post_save.connect(signals.sync_role_groups, sender=Membership,
                          dispatch_uid="kentcbs_role_groups_save")
        post_delete.connect(signals.sync_role_groups, sender=Membership,
                            dispatch_uid="kentcbs_role_groups_delete")
        post_migrate.connect(signals.ensure_departments, sender=self,
                             dispatch_uid="kentcbs_departments")
        post_migrate.connect(signals.grant_role_permissions, sender=self,
                             dispatch_uid="kentcbs_role_permissions")
        # after axes' own receiver (axes comes first in INSTALLED_APPS): the lockout is known
        user_login_failed.connect(signin.log_failure, dispatch_uid="kentcbs_signin_failure")
