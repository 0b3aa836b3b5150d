"""Keep the helpdesk's reference data in every database, also after a test flush."""

from __future__ import annotations

from typing import Any

#: Default SLA targets per priority: (first response, resolution) in calendar minutes.
DEFAULT_SLA = {
    "critical": (30, 4 * 60),
    "high": (2 * 60, 24 * 60),
    "normal": (8 * 60, 3 * 24 * 60),
    "low": (24 * 60, 7 * 24 * 60),
}


def ensure_sla_targets(sender: Any = None, *, using: str = "default", **kwargs: Any) -> None:
    """Create missing SLA targets with the defaults (operators' changes are kept)."""
    from modules.helpdesk.models import SlaTarget

    for priority, (response, resolution) in DEFAULT_SLA.items():
        SlaTarget.objects.using(using).get_or_create(priority=priority, defaults={
            "response_minutes": response, "resolution_minutes": resolution})
