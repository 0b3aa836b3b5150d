"""Writes of the network operations module: DHCP intake, daily 5651 archives, their
verification, the retention purge, and the recorded IP lookup."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from psycopg2.extras import execute_values

from modules.netops import parsers, tsa
from modules.netops.errors import NetopsError
from modules.netops.models import DailyArchive, LeaseFile, LookupRecord, PurgeRecord

#: Law 5651's minimum; the database refuses to purge anything younger (modules/netops/sql.py).
LEGAL_RETENTION_DAYS = 730


def archive_root() -> Path:
    return Path(settings.MEDIA_ROOT) / "netops" / "5651"


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@dataclass(frozen=True)
class IntakeResult:
    intake: LeaseFile
    problems: list[parsers.Problem]


def ingest_file(*, path: Path, fmt: str, server: str, actor: str,
                zone: str | None = None) -> IntakeResult:
    """Store every lease start (and end event) of ``path`` once, however often it is read."""
    if fmt not in parsers.READERS:
        raise NetopsError("NETOPS_BAD_FORMAT", "Unknown format '{fmt}'. Choose one of: {choices}.",
                          fmt=fmt, choices=", ".join(parsers.READERS))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NetopsError("NETOPS_NO_FILE", "Cannot read {path}: {detail}", path=str(path),
                          detail=exc.strerror or str(exc)) from None
    options: dict[str, Any] = {}
    if zone:
        options["zone"] = zone
    elif fmt == "windows":
        options["zone"] = settings.TIME_ZONE
    try:
        parsed = parsers.READERS[fmt](parsers.decode(data), **options)
    except KeyError as exc:  # an unknown --tz
        raise NetopsError("NETOPS_BAD_ZONE", "Unknown time zone {zone}.", zone=str(exc)) from None
    name = path.name
    with transaction.atomic():
        with connection.cursor() as cursor:
            new = execute_values(
                cursor,
                "INSERT INTO netops_dhcplease (ip_address, mac_address, starts_at, ends_at, "
                "utc_offset, hostname, server, source_format, source_name, source_line, "
                "received_at) VALUES %s ON CONFLICT ON CONSTRAINT netops_lease_once DO NOTHING "
                "RETURNING 1",
                [(s.ip, s.mac, s.starts_at, s.ends_at, s.offset_minutes, s.hostname[:255],
                  server, fmt, name, s.line, timezone.now()) for s in parsed.starts],
                fetch=True, page_size=1000) if parsed.starts else []
            ends = execute_values(
                cursor,
                "INSERT INTO netops_leaseend (ip_address, mac_address, ended_at, utc_offset, "
                "reason, server, source_name, source_line, received_at) VALUES %s "
                "ON CONFLICT ON CONSTRAINT netops_end_once DO NOTHING RETURNING 1",
                [(e.ip, e.mac, e.ended_at, e.offset_minutes, e.reason, server, name, e.line,
                  timezone.now()) for e in parsed.ends],
                fetch=True, page_size=1000) if parsed.ends else []
        intake = LeaseFile.objects.create(
            name=name, sha256=hashlib.sha256(data).hexdigest(), server=server,
            source_format=fmt, received_by=actor, lines=parsed.lines, leases_new=len(new),
            leases_known=len(parsed.starts) - len(new), ends_new=len(ends),
            problems=[{"line": p.line, "reason": p.reason} for p in parsed.problems])
    return IntakeResult(intake, parsed.problems)


_USES = """
SELECT DISTINCT ON (l.starts_at, l.ip_address, l.mac_address)
       host(l.ip_address), l.starts_at, LEAST(l.ends_at, e.ended_at, n.starts_at), l.mac_address,
       l.hostname, l.server
  FROM netops_dhcplease l
  LEFT JOIN LATERAL (SELECT min(x.ended_at) AS ended_at FROM netops_leaseend x
                      WHERE x.ip_address = l.ip_address AND x.mac_address = l.mac_address
                        AND x.ended_at >= l.starts_at) e ON true
  LEFT JOIN LATERAL (SELECT min(y.starts_at) AS starts_at FROM netops_dhcplease y
                      WHERE y.ip_address = l.ip_address AND y.starts_at > l.starts_at) n ON true
"""


def uses_between(start: dt.datetime, end: dt.datetime) -> list[tuple[Any, ...]]:
    """Every use of an address that started in [start, end): IP, start, end (the lease's own
    end, a release or expiry, or the next use of the address, whichever is first), MAC."""
    with connection.cursor() as cursor:
        cursor.execute(_USES + " WHERE l.starts_at >= %s AND l.starts_at < %s "
                       "ORDER BY l.starts_at, l.ip_address, l.mac_address", [start, end])
        return cursor.fetchall()


def archive_day(*, day: dt.date) -> DailyArchive:
    """Write ``day``'s records (local day) in btklog's layout with explicit offsets, its
    SHA-256 and an RFC 3161 token from the TSA. A day is archived once."""
    if DailyArchive.objects.filter(day=day).exists():
        raise NetopsError("NETOPS_ARCHIVED", "{day} is already archived; an archive is never "
                          "rewritten. 'kentcbs netops verify' checks it.", day=day.isoformat())
    if day >= timezone.localdate():
        raise NetopsError("NETOPS_DAY_OPEN", "{day} has not ended yet; archive a past day.",
                          day=day.isoformat())
    tsa.tsa_url()
    zone = local_zone()
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    rows = uses_between(start, start + dt.timedelta(days=1))
    folder = archive_root() / f"{day:%Y}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"ip-dagitim-{day:%Y-%m-%d}.txt"
    text = "\n".join(parsers.iter_btklog_lines(((r[0], r[1], r[2], r[3]) for r in rows),
                                               zone)) + "\n"
    data = text.encode("utf-8")
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    digest = hashlib.sha256(data).hexdigest()
    path.with_name(path.name + ".sha256").write_text(f"{digest}  {path.name}\n", encoding="ascii")
    token, stamped = tsa.stamp(path)
    return DailyArchive.objects.create(
        day=day, path=str(path.relative_to(settings.MEDIA_ROOT)), sha256=digest,
        size=len(data), records=len(rows), token_path=str(token.relative_to(settings.MEDIA_ROOT)),
        tsa_url=tsa.tsa_url(), time_stamped_at=stamped)


@dataclass(frozen=True)
class Verification:
    archive: DailyArchive
    problem: str


def verify_archives(*, first: dt.date | None = None,
                    last: dt.date | None = None) -> list[Verification]:
    """Check every archive in the range: the file is there, its SHA-256 is the one stored
    and written beside it, and its RFC 3161 token verifies against the file."""
    archives = DailyArchive.objects.order_by("day")
    if first:
        archives = archives.filter(day__gte=first)
    if last:
        archives = archives.filter(day__lte=last)
    results = []
    media = Path(settings.MEDIA_ROOT)
    for archive in archives:
        path = media / archive.path
        problem = ""
        if not path.is_file():
            problem = "file missing"
        elif hashlib.sha256(path.read_bytes()).hexdigest() != archive.sha256:
            problem = "SHA-256 differs: the file was changed"
        else:
            problem = tsa.verify(path, media / archive.token_path)
        results.append(Verification(archive, problem))
    return results


def retention_days() -> int:
    return max(LEGAL_RETENTION_DAYS, int(getattr(settings, "KENTCBS_NETOPS_RETENTION_DAYS",
                                                 LEGAL_RETENTION_DAYS)))


def purge(*, actor: str, now: dt.datetime | None = None) -> PurgeRecord:
    """Destroy records and archives older than the retention plus the grace period, and
    record the destruction. The database itself refuses to delete anything younger than
    the legal minimum (``modules/netops/sql.py``)."""
    now = now or timezone.now()
    grace = int(getattr(settings, "KENTCBS_NETOPS_PURGE_GRACE_DAYS", 30))
    before = now - dt.timedelta(days=retention_days() + grace)
    media = Path(settings.MEDIA_ROOT)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('kentcbs.netops_purge_before', %s, true)",
                           [before.isoformat()])
            cursor.execute("DELETE FROM netops_dhcplease WHERE starts_at < %s", [before])
            leases = cursor.rowcount
            cursor.execute("DELETE FROM netops_leaseend WHERE ended_at < %s", [before])
            ends = cursor.rowcount
            old = list(DailyArchive.objects.filter(
                day__lt=before.astimezone(local_zone()).date(), created_at__lt=before))
            cursor.execute("DELETE FROM netops_dailyarchive WHERE id = ANY(%s)",
                           [[a.pk for a in old]])
            cursor.execute("DELETE FROM netops_lookuprecord WHERE looked_at < %s", [before])
            keep = now - dt.timedelta(days=3 * 365 + 1)
            cursor.execute("SELECT set_config('kentcbs.netops_purge_before', %s, true)",
                           [keep.isoformat()])
            cursor.execute("DELETE FROM netops_purgerecord WHERE purged_at < %s", [keep])
        record = PurgeRecord.objects.create(purged_at=now, before=before, leases_deleted=leases,
                                            ends_deleted=ends,
                                            archives_deleted=[a.path for a in old],
                                            purged_by=actor)
        for archive in old:
            for name in (archive.path, archive.token_path, archive.path + ".sha256",
                         archive.path + ".tsq"):
                transaction.on_commit(lambda p=media / name: p.unlink(missing_ok=True))
    return record


@dataclass(frozen=True)
class Whois:
    ip: str
    at: dt.datetime
    mac: str = ""
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    hostname: str = ""
    server: str = ""
    asset: Any = None


def whois(*, ip: str, at: dt.datetime, reason: str, user: Any = None,
          actor: str = "") -> Whois:
    """Which device had ``ip`` at ``at``, and the asset, room, building and department of
    that MAC. Every lookup is recorded (who, what, when, why) before it is answered."""
    from gis_core.models import Asset

    address = parsers.normal_ip(ip)
    if address is None:
        raise NetopsError("NETOPS_BAD_IP", "'{ip}' is not an IP address.", ip=ip[:60])
    if not reason.strip():
        raise NetopsError("NETOPS_NO_REASON", "Say why you look the address up (KVKK): "
                          "a ticket number, a court letter, an incident.")
    with connection.cursor() as cursor:
        cursor.execute(_USES + " WHERE l.ip_address = %s AND l.starts_at <= %s "
                       "ORDER BY l.starts_at DESC, l.ip_address, l.mac_address LIMIT 1",
                       [address, at])
        row = cursor.fetchone()
    answer = Whois(ip=address, at=at)
    if row and (row[2] is None or row[2] >= at):
        asset = (Asset.objects.select_related("room", "building", "department")
                 .filter(mac_address=row[3].upper()).first())
        answer = Whois(ip=address, at=at, mac=row[3], starts_at=row[1], ends_at=row[2],
                       hostname=row[4], server=row[5], asset=asset)
    LookupRecord.objects.create(
        user=user if getattr(user, "pk", None) else None,
        actor=actor or getattr(user, "username", "") or "?", ip_address=address, at=at,
        reason=reason.strip()[:300], found_mac=answer.mac,
        found_asset=getattr(answer.asset, "inventory_number", "") or "")
    return answer
