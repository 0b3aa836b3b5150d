"""Outage tickets: the helpdesk's handler for outages other modules report.

Attached through ``ModuleSpec.outage_handlers`` (``gis_core.modules.report_outage``); the
reporting module (netops) never imports the helpdesk. With ``KENTCBS_NETOPS_OUTAGE_TICKETS``
true, an outage that begins opens one ticket (category ``network``, unit ``ag_yonetimi``,
priority ``high``) on the asset, or on the building for a link, reported by the monitor's
own account; its end adds a comment to that ticket. The ticket is left to the technicians to
resolve and close: a recovered device may still need a look (why it went down).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from gis_core.modules import Outage, OutageReceipt

#: The account outage tickets are reported by (created on first use, cannot sign in).
MONITOR_USERNAME = "kentcbs-izleme"
OUTAGE_UNIT = "ag_yonetimi"


def _monitor_account() -> Any:
    from django.contrib.auth import get_user_model

    account, created = get_user_model().objects.get_or_create(
        username=MONITOR_USERNAME,
        defaults={"first_name": "KentCBS", "last_name": "ağ izleme", "is_active": False})
    if created:
        account.set_unusable_password()
        account.save(update_fields=["password"])
    return account


def outage_ticket(*, outage: Outage) -> OutageReceipt | None:
    """Open a ticket when an outage begins; note its end on that ticket."""
    from django.urls import reverse

    from gis_core.models import Department
    from modules.helpdesk.models import Ticket, TicketComment
    from modules.helpdesk.services import open_ticket

    if not getattr(settings, "KENTCBS_NETOPS_OUTAGE_TICKETS", False):
        return None
    if outage.event == "closed":
        for receipt in outage.receipts:
            ticket = Ticket.objects.filter(pk=int(receipt.ref)).first() \
                if receipt.ref.isdigit() else None
            if ticket is not None:
                TicketComment.objects.create(
                    ticket=ticket, author=_monitor_account(), created_at=outage.at,
                    body=f"Kesinti sona erdi / outage over: {outage.title} ({outage.detail}).")
        return None
    if outage.event != "opened" or (outage.asset is None and outage.building is None):
        return None
    ticket = open_ticket(
        reporter=_monitor_account(), category="network", priority="high",
        title=outage.title[:200], asset=outage.asset,
        building=None if outage.asset is not None else outage.building,
        description=f"{outage.detail}\n({outage.source_module}: {outage.key})",
        reporter_department=Department.objects.get(code=OUTAGE_UNIT),
        responsible_unit=OUTAGE_UNIT, opened_at=outage.at)
    return OutageReceipt(module="helpdesk", ref=str(ticket.pk), label=ticket.number,
                         url=reverse("helpdesk:ticket_detail", args=[ticket.pk]))
