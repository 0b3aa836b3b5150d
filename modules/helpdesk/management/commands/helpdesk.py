"""``kentcbs helpdesk maintenance|report``: periodic work items and the yearly figures."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from gis_core.errors import KentCBSError


class Command(BaseCommand):
    help = ("Arıza/talep modülü: periyodik bakım işlerini üret, faaliyet raporu rakamlarını yaz. / "
            "Helpdesk: produce due maintenance work items, print the activity report figures.")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        maintenance = sub.add_parser("maintenance", help="create due maintenance work items")
        maintenance.add_argument("--on", help="date (YYYY-MM-DD); default today")
        report = sub.add_parser("report", help="activity report figures as JSON")
        report.add_argument("--year", type=int, required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        from gis_core.audit import audit_context

        if options["action"] == "maintenance":
            from modules.helpdesk.services import generate_due_work_items

            try:
                on = dt.date.fromisoformat(options["on"]) if options["on"] else (
                    timezone.localdate())
            except ValueError:
                raise KentCBSError("HELPDESK_BAD_DATE", "'{value}' is not a date (YYYY-MM-DD).",
                                   value=options["on"]) from None
            with audit_context(source="shell"):
                created = generate_due_work_items(on=on)
            self.stdout.write(f"{created} bakım işi oluşturuldu / work items created ({on})")
            return
        from modules.helpdesk.selectors import SYSTEM_READER
        from modules.helpdesk.statistics import activity_report

        report = activity_report(user=SYSTEM_READER, year=options["year"])
        totals = report["totals"]
        self.stdout.write(json.dumps({
            "year": report["year"], "tickets": totals.tickets, "resolved": totals.resolved,
            "open": totals.open, "mean_hours_to_resolve": totals.mean_hours_to_resolve,
            "sla_compliance": totals.sla_compliance, "hours_spent": report["hours_spent"],
            "reopened": report["reopened"], "scrapping_proposals": report["scrapping_proposals"],
            "maintenance_due": report["maintenance_due"],
            "maintenance_done": report["maintenance_done"],
            "repairs": {kind: {"count": r["count"], "cost": str(r["cost"])}
                        for kind, r in report["repairs"].items()},
            "by_category": {row.key: row.tickets for row in report["by_category"]},
        }, ensure_ascii=False, indent=2))

