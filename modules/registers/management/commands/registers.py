"""``kentcbs registers fixtures|count-report|remind|purge``: the Taşınır paperwork, the daily
reminder digests and the KVKK purge of e-signature holders from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from gis_core.errors import bilingual
from modules.registers.errors import RegistersError


class Command(BaseCommand):
    help = ("Registers: room fixture lists (PDF), count reports (PDF/XLSX), daily reminder "
            "digests, the e-signature KVKK purge, the activity report and the overdue-lines map.")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        fixtures = sub.add_parser("fixtures", help="fixture lists of a building (or one room)")
        fixtures.add_argument("--building", required=True, help="building code")
        fixtures.add_argument("--room", help="room code (default: every room)")
        fixtures.add_argument("--out", required=True, help="PDF file to write")
        report = sub.add_parser("count-report", help="the count report of a count")
        report.add_argument("--count", type=int, required=True, help="count id")
        report.add_argument("--format", choices=("pdf", "xlsx"), default="pdf")
        report.add_argument("--out", required=True, help="file to write")
        remind = sub.add_parser("remind", help="send today's reminder digests and refresh the "
                                "overdue-lines map (daily, cron)")
        remind.add_argument("--today", help="YYYY-MM-DD (default: today)")
        purge = sub.add_parser("purge", help="clear e-signature holders past retention (KVKK)")
        purge.add_argument("--today", help="YYYY-MM-DD (default: today)")

        activity = sub.add_parser("activity-report", help="the yearly activity report figures")
        activity.add_argument("--year", type=int, required=True)
        activity.add_argument("--format", choices=("pdf", "xlsx"), default="xlsx")
        activity.add_argument("--user", help="whose view of the data (default: a superuser)")
        activity.add_argument("--out", required=True, help="file to write")
        refresh = sub.add_parser("payments-refresh",
                                 help="rebuild the buildings-with-overdue-lines map (daily)")
        refresh.add_argument("--today", help="the day to compute for (YYYY-MM-DD; default today)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] in ("remind", "purge"):
            self._periodic(options)
            return
        if options["action"] == "payments-refresh":
            self._payments_refresh(options)
            return
        out = Path(options["out"])
        if options["action"] == "activity-report":
            self._activity_report(options, out)
            return
        if options["action"] == "fixtures":
            from gis_core.models import Building, Room
            from modules.registers.fixtures import fixtures_pdf

            building = Building.objects.filter(code=options["building"]).first()
            if building is None:
                raise RegistersError("REGISTERS_BUILDING_UNKNOWN",
                                     "There is no building with code '{building}'.",
                                     building=options["building"])
            rooms = Room.objects.filter(building=building).select_related(
                "floor", "building").order_by("floor__number", "code")
            if options["room"]:
                rooms = rooms.filter(code=options["room"])
            chosen = list(rooms)
            if not chosen:
                raise RegistersError("REGISTERS_NO_ROOMS", "No rooms to list.")
            out.write_bytes(fixtures_pdf(chosen, title=f"Dayanıklı Taşınırlar Listesi "
                                                       f"{building.name}"))
            self.stdout.write(bilingual("{rooms} rooms → {out}", rooms=len(chosen), out=out))
            return
        from modules.registers.count_report import (
            count_report,
            count_report_pdf,
            count_report_xlsx,
        )
        from modules.registers.models import StockCount

        count = StockCount.objects.filter(pk=options["count"]).first()
        if count is None:
            raise RegistersError("REGISTERS_COUNT_UNKNOWN", "There is no count {count}.",
                                 count=options["count"])
        report = count_report(count)
        body = (count_report_pdf(report) if options["format"] == "pdf"
                else count_report_xlsx(report))
        out.write_bytes(body)
        self.stdout.write(f"{count} → {out}")

    def _periodic(self, options: dict[str, Any]) -> None:
        import datetime as dt
        import getpass

        today = None
        if options.get("today"):
            try:
                today = dt.date.fromisoformat(options["today"])
            except ValueError:
                raise RegistersError("REGISTERS_BAD_DATE", "'{value}' is not a date "
                                     "(YYYY-MM-DD).", value=options["today"][:40]) from None
        if options["action"] == "remind":
            from django.utils import timezone

            from modules.registers.payments import refresh_overdue_map
            from modules.registers.reminders import remind

            result = remind(today=today)
            self.stdout.write(bilingual(
                "{items} reminders; {units} units; {sent} sent; {skipped} already sent; "
                "{failed} not sent", items=result.items, units=result.digests, sent=result.sent,
                skipped=result.skipped, failed=result.failed))
            day = today or timezone.localdate()
            buildings = refresh_overdue_map(today=day)
            self.stdout.write(bilingual("{count} buildings with overdue lines ({day})",
                                        count=buildings, day=day.isoformat()))
            if result.failed:
                raise RegistersError("REGISTERS_DIGEST_NOT_SENT",
                                     "{failed} digests could not be sent; the next run retries "
                                     "them.", failed=result.failed)
            return
        from gis_core.audit import audit_context
        from modules.registers.esign import purge

        try:
            actor = f"shell:{getpass.getuser()}"
        except (KeyError, OSError):
            actor = "shell"
        with audit_context(source="shell"):
            record = purge(actor=actor, today=today)
        self.stdout.write(bilingual(
            "{cards} card holders cleared ({rows} history rows); cards ended before {before}",
            cards=record.cards, rows=record.history_rows, before=f"{record.before:%d.%m.%Y}"))

    def _payments_refresh(self, options: dict[str, Any]) -> None:
        import datetime as dt

        from django.utils import timezone

        from modules.registers.payments import refresh_overdue_map

        try:
            today = (dt.date.fromisoformat(options["today"]) if options.get("today")
                     else timezone.localdate())
        except ValueError:
            raise RegistersError("REGISTERS_BAD_DATE", "'{value}' is not a date ({name}).",
                                 value=str(options["today"])[:20], name="--today") from None
        count = refresh_overdue_map(today=today)
        self.stdout.write(bilingual("{count} buildings with overdue lines ({day})",
                                    count=count, day=today.isoformat()))

    def _activity_report(self, options: dict[str, Any], out: Path) -> None:
        from django.contrib.auth import get_user_model

        from modules.registers.activity_report import activity_report, report_pdf, report_xlsx

        users = get_user_model().objects.filter(is_active=True)
        user = (users.filter(username=options["user"]) if options.get("user")
                else users.filter(is_superuser=True).order_by("pk")).first()
        if user is None:
            raise RegistersError("REGISTERS_REPORT_USER",
                                 "No user to read the report's data as: give --user.")
        report = activity_report(user=user, year=options["year"])
        out.write_bytes(report_pdf(report) if options["format"] == "pdf"
                        else report_xlsx(report))
        self.stdout.write(bilingual("{year} activity report → {out}", year=options["year"],
                                    out=out))
