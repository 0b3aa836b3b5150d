"""Signal handlers: history attribution, role groups."""

from __future__ import annotations

from typing import Any

from gis_core.audit import current

ROLE_PERMISSIONS: dict[str, list[str]] = {
    # role -> "app_label.codename" prefixes granted (view/add/change/delete per model)
    "viewer": ["view_"],
    "data_entry": ["view_"],
    "gis_admin": ["view_", "add_", "change_", "delete_"],
    "technician": ["view_", "add_asset", "change_asset", "add_room", "change_room",
                   "add_floor", "change_floor", "add_scrappingrecord", "change_scrappingrecord"],
    "network_admin": ["view_", "add_networklink", "change_networklink", "delete_networklink",
                      "add_subscription", "change_subscription", "change_asset"],
    "manager": ["view_"],
}


def attribute_history(sender: Any, history_instance: Any, **kwargs: Any) -> None:
    ctx = current()
    history_instance.history_source = ctx.source
    history_instance.history_request_id = ctx.request_id
    if getattr(history_instance, "history_user_id", None) is None and ctx.user is not None:
        history_instance.history_user = ctx.user


def sync_role_groups(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Keep each user's auth groups equal to their membership roles."""
    from django.contrib.auth.models import Group

    user = instance.user
    roles = set(user.memberships.values_list("role", flat=True))
    groups = Group.objects.filter(name__startswith="kentcbs:")
    for group in groups:
        if group.name.split(":", 1)[1] in roles:
            user.groups.add(group)
        else:
            user.groups.remove(group)


def ensure_departments(sender: Any, **kwargs: Any) -> None:
    """Re-create the shipped departments and role groups after migrate or a test flush."""
    from gis_core.departments import ensure_shipped_departments

    ensure_shipped_departments()


def grant_role_permissions(sender: Any, **kwargs: Any) -> None:
    from django.contrib.auth.models import Group, Permission

    core = Permission.objects.filter(content_type__app_label="gis_core")
    for role, prefixes in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=f"kentcbs:{role}")
        wanted = [p for p in core if any(p.codename.startswith(x) for x in prefixes)]
        group.permissions.add(*wanted)
