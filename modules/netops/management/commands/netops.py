"""``kentcbs netops dhcp-ingest|archive|verify|purge|whois``: the Law 5651 IP records."""

from __future__ import annotations

import datetime as dt
import getpass
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from gis_core.errors import bilingual
from modules.netops.errors import NetopsError


def _actor() -> str:
    try:
        return f"shell:{getpass.getuser()}"
    except (KeyError, OSError):
        return "shell"


def _date(value: str | None, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise NetopsError("NETOPS_BAD_DATE", "{name} '{value}' is not a date (YYYY-MM-DD).",
                          name=name, value=value[:40]) from None


class Command(BaseCommand):
    help = ("Network operations: Law 5651 IP distribution records (intake, daily archive with "
            "time stamp, verification, destruction, lookup), reachability, backups.")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        ingest = sub.add_parser("dhcp-ingest", help="read a DHCP server's lease file or log")
        ingest.add_argument("file", type=Path)
        ingest.add_argument("--format", required=True, choices=["isc", "kea", "windows", "btklog"])
        ingest.add_argument("--server", default="", help="the DHCP server's name (default: file)")
        ingest.add_argument("--tz", default=None,
                            help="zone of times written without an offset (Windows: the "
                                 "server's zone, default the municipality's; btklog: UTC)")
        archive = sub.add_parser("archive", help="archive a day with SHA-256 and RFC 3161 token")
        archive.add_argument("--day", help="YYYY-MM-DD (default: yesterday)")
        verify = sub.add_parser("verify", help="check every archive's hash and time stamp")
        verify.add_argument("--from", dest="first")
        verify.add_argument("--to", dest="last")
        sub.add_parser("purge", help="destroy records past retention (recorded)")
        probe = sub.add_parser("probe", help="check every networked asset once")
        probe.add_argument("--timeout", type=float, default=1.0)
        monitor = sub.add_parser("monitor", help="probe for ever (systemd service)")
        monitor.add_argument("--every", type=int, default=60, help="seconds between rounds")
        monitor.add_argument("--timeout", type=float, default=1.0)
        report = sub.add_parser("backup-report", help="a backup job's result")
        report.add_argument("system", help="the code in the backup register")
        report.add_argument("--status", required=True, choices=["ok", "failed"])
        report.add_argument("--at", help='"YYYY-MM-DD HH:MM" (default: now)')
        report.add_argument("--size", type=int, help="bytes")
        report.add_argument("--detail", default="")
        sub.add_parser("backup-check", help="alert overdue backups; list the register's state")
        configs = sub.add_parser("config-import", help="read a RANCID/Oxidized folder")
        configs.add_argument("folder", type=Path)
        diff = sub.add_parser("config-diff", help="line diff of two configuration versions")
        diff.add_argument("device")
        diff.add_argument("old", type=int)
        diff.add_argument("new", type=int)
        whois = sub.add_parser("whois", help="which device had an address at a time")
        whois.add_argument("ip")
        whois.add_argument("--at", required=True, help='"YYYY-MM-DD HH:MM" (local time)')
        whois.add_argument("--reason", required=True, help="why (recorded, KVKK)")

    def handle(self, *args: Any, **options: Any) -> None:
        from modules.netops import services

        action = options["action"]
        if action == "dhcp-ingest":
            path: Path = options["file"]
            result = services.ingest_file(path=path, fmt=options["format"],
                                          server=options["server"] or path.name,
                                          actor=_actor(), zone=options["tz"])
            intake = result.intake
            self.stdout.write(bilingual(
                "{lines} lines read; {new} new records; {known} already stored; {ends} ends; "
                "{unreadable} unreadable", lines=intake.lines, new=intake.leases_new,
                known=intake.leases_known, ends=intake.ends_new,
                unreadable=len(result.problems)))
            for problem in result.problems[:50]:
                self.stdout.write(f"  {bilingual('line')} {problem.line}: {problem.reason}")
            if len(result.problems) > 50:
                self.stdout.write("  ... " + bilingual("{count} more",
                                                       count=len(result.problems) - 50))
        elif action == "archive":
            day = _date(options["day"], "--day") or timezone.localdate() - dt.timedelta(days=1)
            archive = services.archive_day(day=day)
            self.stdout.write(
                f"{archive.day}: {bilingual('{count} records', count=archive.records)} -> "
                f"{archive.path}\nSHA-256 {archive.sha256}\n{bilingual('time stamp')} "
                f"{archive.time_stamped_at:%Y-%m-%d %H:%M:%S} UTC ({archive.token_path})")
        elif action == "verify":
            results = services.verify_archives(first=_date(options["first"], "--from"),
                                               last=_date(options["last"], "--to"))
            bad = [r for r in results if r.problem]
            for result in results:
                state = (bilingual("BROKEN: {problem}", problem=result.problem)
                         if result.problem else bilingual("ok"))
                self.stdout.write(f"{result.archive.day} {result.archive.path}: {state}")
            if bad:
                raise NetopsError("NETOPS_ARCHIVE_BROKEN",
                                  "{count} archive(s) failed verification: {files}",
                                  count=len(bad), files=", ".join(r.archive.path for r in bad))
            self.stdout.write(bilingual("{count} archives verified", count=len(results)))
        elif action in ("probe", "monitor"):
            from modules.netops.backups import check_overdue
            from modules.netops.monitoring import probe_all

            said = ""
            while True:
                result = probe_all(timeout=options["timeout"])
                if action == "monitor":
                    check_overdue()
                if result.note != said:  # why not ICMP, in words: once, and when it changes
                    self.stdout.write(result.note)
                    said = result.note
                self.stdout.write(f"{timezone.localtime():%Y-%m-%d %H:%M:%S} " + bilingual(
                    "{checked} assets probed ({method}); {down} down; {changes} state changes; "
                    "{link_changes} link state changes", checked=result.checked,
                    method=result.method, down=result.down, changes=result.changes,
                    link_changes=result.link_changes))
                self.stdout.flush()
                if action == "probe":
                    break
                time.sleep(max(5, options["every"]))
        elif action == "backup-report":
            from modules.netops.backups import report_run

            at = timezone.make_aware(self._moment(options["at"])) if options["at"] else None
            run = report_run(code=options["system"], ok=options["status"] == "ok",
                             actor=_actor(), at=at, size_bytes=options["size"],
                             detail=options["detail"])
            self.stdout.write(f"{run.target.code}: {run.get_status_display()} "
                              f"({timezone.localtime(run.at):%Y-%m-%d %H:%M})")
        elif action == "backup-check":
            from modules.netops.backups import check_overdue, states

            opened = check_overdue()
            words = {"ok": bilingual("on time"), "failed": bilingual("FAILED"),
                     "overdue": bilingual("OVERDUE")}
            for item in states():
                last = f"{timezone.localtime(item.last_ok):%Y-%m-%d %H:%M}" if item.last_ok \
                    else "-"
                self.stdout.write(f"{item.target.code:<24} {item.target.get_policy_display():<12}"
                                  f" {bilingual('last good backup')} {last:<16} "
                                  f"{words[item.state]}")
            self.stdout.write(bilingual("{count} new alerts", count=opened))
        elif action == "config-import":
            from modules.netops.backups import import_folder

            new, same = import_folder(folder=options["folder"], actor=_actor())
            self.stdout.write(bilingual("{new} new versions; {same} unchanged", new=new,
                                        same=same))
        elif action == "config-diff":
            from modules.netops.backups import config_diff

            self.stdout.write("\n".join(config_diff(options["device"], options["old"],
                                                    options["new"])) or
                              bilingual("no difference"))
        elif action == "purge":
            record = services.purge(actor=_actor())
            self.stdout.write(bilingual(
                "Destroyed what was older than {before}: {records} records, {ends} ends, "
                "{archives} archives (destruction record #{pk})",
                before=f"{record.before:%Y-%m-%d}", records=record.leases_deleted,
                ends=record.ends_deleted, archives=len(record.archives_deleted), pk=record.pk))
        else:
            at = self._moment(options["at"])
            answer = services.whois(ip=options["ip"], at=timezone.make_aware(at),
                                    reason=options["reason"], actor=_actor())
            if not answer.mac:
                self.stdout.write(f"{answer.ip} {options['at']}: {bilingual('no record')}")
                return
            asset = answer.asset
            end = f"{timezone.localtime(answer.ends_at):%Y-%m-%d %H:%M:%S}" if answer.ends_at \
                else "-"
            self.stdout.write(
                f"{answer.ip} {options['at']}: MAC {answer.mac} "
                f"({timezone.localtime(answer.starts_at):%Y-%m-%d %H:%M:%S} - {end}, "
                f"{answer.server}{', ' + answer.hostname if answer.hostname else ''})")
            if asset is None:
                self.stdout.write("  " + bilingual("no asset with this MAC"))
            else:
                self.stdout.write("  " + bilingual(
                    "asset {asset}; building {building}; room {room}; department {department}",
                    asset=asset.inventory_number,
                    building=getattr(asset.building, "name", "-"),
                    room=getattr(asset.room, "name", "-") if asset.room else "-",
                    department=getattr(asset.department, "name", "-")))

    @staticmethod
    def _moment(value: str) -> dt.datetime:
        try:
            return dt.datetime.strptime(value, "%Y-%m-%d %H:%M")
        except ValueError:
            raise NetopsError("NETOPS_BAD_DATE", "{name} '{value}' is not a date (YYYY-MM-DD "
                              "HH:MM).", name="--at", value=value[:40]) from None
