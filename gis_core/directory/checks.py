"""System checks of directory sign-in (run by ``kentcbs check`` and at start-up)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register


@register()
def directory_group_map(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """directory.E001: directory sign-in is on and its group map cannot be used."""
    if not getattr(settings, "KENTCBS_LDAP_ENABLED", False):
        return []
    from gis_core.directory.groups import GroupMapError, load_group_map

    try:
        load_group_map(settings.KENTCBS_LDAP_GROUPS_FILE)
    except GroupMapError as exc:
        return [Error(exc.text, id="directory.E001",
                      hint="Write the file (docs/directory-groups.example.yaml shows how) or "
                           "point KENTCBS_LDAP_GROUPS_FILE at it. / Dosyayı yazın ya da "
                           "KENTCBS_LDAP_GROUPS_FILE ile gösterin.")]
    return []
