from typing import Any

from django.apps import AppConfig


class OgcApiConfig(AppConfig):
    name = "ogc_api"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from ogc_api.tiles import forget_prepared

        connection_created.connect(forget_prepared, dispatch_uid="ogc_api.forget_prepared")
        from django.db.models.signals import post_migrate

        from ogc_api.tilecache import install_all

        # After the layers app's own post_migrate (INSTALLED_APPS order) made the tables.
        post_migrate.connect(install_all, sender=self, dispatch_uid="ogc_api.tile_triggers")
        keep_no_translated_configs()


class _NothingKept(dict[Any, Any]):
    """A cache that keeps nothing (see :func:`keep_no_translated_configs`)."""

    def get(self, key: Any, default: Any = None) -> Any:
        return default

    def __setitem__(self, key: Any, value: Any) -> None:
        return None


def keep_no_translated_configs() -> None:
    """Stop pygeoapi from reusing one translated configuration for every caller.

    pygeoapi renders every HTML page with ``l10n.translate_struct(config, locale,
    is_config=True)``, which keeps the first configuration it translates per
    language in the process-wide ``l10n._cfg_cache`` and returns it for every
    later configuration: one configuration per process is assumed. Here each
    caller has their own (their readable layers), so the page of a restricted
    layer was rendered with an anonymous caller's configuration (jinja2
    ``UndefinedError``, a 500). With nothing kept, each page translates its own
    configuration (a copy of a few kilobytes).
    """
    from pygeoapi import l10n

    l10n._cfg_cache = _NothingKept()
