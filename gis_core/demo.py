"""Deterministic demo data (grown by the core domain into a whole municipality)."""

from __future__ import annotations

import os

from django.conf import settings
from django.contrib.auth import get_user_model


def load_demo(*, profile: str | None = None) -> dict[str, object]:
    """Load the demo; idempotent. Returns counts of what is there afterwards."""
    profile = profile or settings.KENTCBS_PROFILE
    user_model = get_user_model()
    admin, created = user_model.objects.get_or_create(
        username="admin", defaults={"is_staff": True, "is_superuser": True}
    )
    if created:
        admin.set_password(os.environ.get("KENTCBS_DEMO_PASSWORD", "kentcbs-demo"))
        admin.save()
    counts: dict[str, object] = {"profile": profile, "users": user_model.objects.count()}
    # Modules' demos run after the core's (gis_core.modules; the core names no module).
    from gis_core.modules import load_module_demos

    counts["modules"] = load_module_demos(profile=profile)
    return counts
