"""``kentcbs netops dhcp-ingest|archive|verify|purge|whois``: the Law 5651 IP records."""

from __future__ import annotations

import datetime as dt
import getpass
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

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
    help = ("Ağ işletimi: 5651 IP dağıtım kayıtları (alım, günlük arşiv ve zaman damgası, "
            "doğrulama, imha, sorgu). / Network operations: Law 5651 IP distribution records.")

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
            self.stdout.write(
                f"{intake.lines} satır okundu / lines read; {intake.leases_new} yeni kullanım "
                f"kaydı / new records; {intake.leases_known} zaten kayıtlı / already stored; "
                f"{intake.ends_new} bitiş / ends; {len(result.problems)} okunamayan / unreadable")
            for problem in result.problems[:50]:
                self.stdout.write(f"  satır / line {problem.line}: {problem.reason}")
            if len(result.problems) > 50:
                self.stdout.write(f"  ... {len(result.problems) - 50} daha / more")
        elif action == "archive":
            day = _date(options["day"], "--day") or timezone.localdate() - dt.timedelta(days=1)
            archive = services.archive_day(day=day)
            self.stdout.write(
                f"{archive.day}: {archive.records} kayıt / records -> {archive.path}\n"
                f"SHA-256 {archive.sha256}\nzaman damgası / time stamp "
                f"{archive.time_stamped_at:%Y-%m-%d %H:%M:%S} UTC ({archive.token_path})")
        elif action == "verify":
            results = services.verify_archives(first=_date(options["first"], "--from"),
                                               last=_date(options["last"], "--to"))
            bad = [r for r in results if r.problem]
            for result in results:
                state = "BOZUK / BROKEN: " + result.problem if result.problem else "tamam / ok"
                self.stdout.write(f"{result.archive.day} {result.archive.path}: {state}")
            if bad:
                raise NetopsError("NETOPS_ARCHIVE_BROKEN",
                                  "{count} archive(s) failed verification: {files}",
                                  count=len(bad), files=", ".join(r.archive.path for r in bad))
            self.stdout.write(f"{len(results)} arşiv doğrulandı / archives verified")
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
                self.stdout.write(
                    f"{timezone.localtime():%Y-%m-%d %H:%M:%S} {result.checked} cihaz yoklandı / "
                    f"assets probed ({result.method}); {result.down} erişilemiyor / down; "
                    f"{result.changes} durum değişikliği / state changes; {result.link_changes} "
                    f"bağlantı durumu değişti / link state changes")
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
            words = {"ok": "zamanında / on time", "failed": "BAŞARISIZ / FAILED",
                     "overdue": "GECİKMİŞ / OVERDUE"}
            for item in states():
                last = f"{timezone.localtime(item.last_ok):%Y-%m-%d %H:%M}" if item.last_ok \
                    else "-"
                self.stdout.write(f"{item.target.code:<24} {item.target.get_policy_display():<12}"
                                  f" son başarılı / last ok {last:<16} {words[item.state]}")
            self.stdout.write(f"{opened} yeni uyarı / new alerts")
        elif action == "config-import":
            from modules.netops.backups import import_folder

            new, same = import_folder(folder=options["folder"], actor=_actor())
            self.stdout.write(f"{new} yeni sürüm / new versions; {same} değişmemiş / unchanged")
        elif action == "config-diff":
            from modules.netops.backups import config_diff

            self.stdout.write("\n".join(config_diff(options["device"], options["old"],
                                                    options["new"])) or
                              "fark yok / no difference")
        elif action == "purge":
            record = services.purge(actor=_actor())
            self.stdout.write(
                f"{record.before:%Y-%m-%d} öncesi imha edildi / destroyed before: "
                f"{record.leases_deleted} kayıt / records, {record.ends_deleted} bitiş / ends, "
                f"{len(record.archives_deleted)} arşiv / archives (imha kaydı / destruction "
                f"record #{record.pk})")
        else:
            at = self._moment(options["at"])
            answer = services.whois(ip=options["ip"], at=timezone.make_aware(at),
                                    reason=options["reason"], actor=_actor())
            if not answer.mac:
                self.stdout.write(f"{answer.ip} {options['at']}: kayıt yok / no record")
                return
            asset = answer.asset
            end = f"{timezone.localtime(answer.ends_at):%Y-%m-%d %H:%M:%S}" if answer.ends_at \
                else "-"
            self.stdout.write(
                f"{answer.ip} {options['at']}: MAC {answer.mac} "
                f"({timezone.localtime(answer.starts_at):%Y-%m-%d %H:%M:%S} - {end}, "
                f"{answer.server}{', ' + answer.hostname if answer.hostname else ''})")
            if asset is None:
                self.stdout.write("  demirbaş kaydı yok / no asset with this MAC")
            else:
                self.stdout.write(
                    f"  demirbaş / asset {asset.inventory_number}; bina / building "
                    f"{getattr(asset.building, 'name', '-')}; oda / room "
                    f"{getattr(asset.room, 'name', '-') if asset.room else '-'}; birim / "
                    f"department {getattr(asset.department, 'name', '-')}")

    @staticmethod
    def _moment(value: str) -> dt.datetime:
        try:
            return dt.datetime.strptime(value, "%Y-%m-%d %H:%M")
        except ValueError:
            raise NetopsError("NETOPS_BAD_DATE", "{name} '{value}' is not a date (YYYY-MM-DD "
                              "HH:MM).", name="--at", value=value[:40]) from None
