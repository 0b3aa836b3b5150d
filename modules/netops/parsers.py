"""Readers of DHCP server files: ISC ``dhcpd.leases``, Kea, Windows audit logs, btklog.

Each reader turns a file's text into :class:`Start` and :class:`End` records with
aware datetimes and the UTC offset the source wrote them in, and a list of
:class:`Problem` (line number and reason) for what it could not read. An
unreadable line never stops the rest of the file.

Written by hand: the only library for these formats on PyPI (``btklog``) reads ISC
leases only, into text; none reads Kea's legal log or Windows' audit logs.
"""

from __future__ import annotations

import csv
import datetime as dt
import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

UTC = dt.UTC


@dataclass(frozen=True)
class Start:
    line: int
    ip: str
    mac: str
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    offset_minutes: int
    hostname: str = ""


@dataclass(frozen=True)
class End:
    line: int
    ip: str
    mac: str
    ended_at: dt.datetime
    offset_minutes: int
    reason: str


@dataclass(frozen=True)
class Problem:
    """A line that could not be read: an English msgid with its values (Turkish first
    through :func:`gis_core.errors.bilingual` when shown)."""

    line: int
    message: str
    params: tuple[tuple[str, str], ...] = ()

    @property
    def english(self) -> str:
        return self.message.format(**dict(self.params))

    @property
    def reason(self) -> str:
        from gis_core.errors import bilingual

        return bilingual(self.message, **dict(self.params))


@dataclass
class Parsed:
    lines: int = 0
    starts: list[Start] = field(default_factory=list)
    ends: list[End] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


_MAC_HEX = re.compile(r"[0-9a-f]{12}")


def normal_mac(text: str) -> str | None:
    """``aa:bb:cc:dd:ee:ff`` from any common spelling, or None.

    Examples
    --------
    >>> normal_mac("00-50-56-3E-87-44"), normal_mac("005056 3e8744"), normal_mac("x")
    ('00:50:56:3e:87:44', None, None)
    >>> normal_mac("0050.563e.8744")
    '00:50:56:3e:87:44'
    """
    compact = re.sub(r"[:\-.]", "", text.strip().lower())
    if not _MAC_HEX.fullmatch(compact):
        return None
    return ":".join(compact[i:i + 2] for i in range(0, 12, 2))


def normal_ip(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def _offset(moment: dt.datetime) -> int:
    delta = moment.utcoffset()
    return int(delta.total_seconds() // 60) if delta is not None else 0


def decode(data: bytes) -> str:
    """Text of a log file: UTF-8 (with or without BOM), UTF-16 with a BOM, else
    Windows-1254 (Turkish Windows servers write their DHCP logs in the ANSI code page)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1254", errors="replace")


# -- ISC dhcpd.leases ----------------------------------------------------------
_ISC_TIME = re.compile(r"^(starts|ends)\s+(?:\d\s+(\d{4}/\d{1,2}/\d{1,2}\s+\d{1,2}:\d{2}:\d{2})"
                       r"|epoch\s+(\d+)|(never))\s*;")


def _isc_time(match: re.Match[str]) -> dt.datetime | None:
    if match.group(2):
        return dt.datetime.strptime(match.group(2), "%Y/%m/%d %H:%M:%S").replace(tzinfo=UTC)
    if match.group(3):
        return dt.datetime.fromtimestamp(int(match.group(3)), tz=UTC)
    return None


def read_isc(text: str, **_: object) -> Parsed:
    """``dhcpd.leases``: one ``lease IP { ... }`` block per use; times are UTC
    (``starts 4 2026/12/03 08:00:01;``) or ``epoch N;`` with ``db-time-format local``."""
    out = Parsed()
    block: dict[str, object] | None = None
    lines = text.splitlines()
    out.lines = len(lines)
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if block is None:
            opened = re.match(r"^lease\s+(\S+)\s*\{", line)
            if opened:
                block = {"line": number, "ip": opened.group(1)}
            continue
        if line.startswith("}"):
            _isc_block(block, out)
            block = None
            continue
        timed = _ISC_TIME.match(line)
        if timed:
            try:
                block[timed.group(1)] = _isc_time(timed)
            except ValueError:
                out.problems.append(Problem(number, "unreadable time: {text}",
                                            (("text", line[:80]),)))
                block["bad"] = True
        elif line.startswith("hardware ethernet"):
            block["mac"] = line[len("hardware ethernet"):].strip(" ;")
        elif line.startswith("client-hostname"):
            block["hostname"] = line[len("client-hostname"):].strip(' ;"')
    if block is not None:
        out.problems.append(Problem(int(str(block["line"])), "lease block not closed with '}'"))
    return out


def _isc_block(block: dict[str, object], out: Parsed) -> None:
    number = int(str(block["line"]))
    if block.get("bad"):
        return
    ip = normal_ip(str(block["ip"]))
    mac = normal_mac(str(block.get("mac", "")))
    starts = block.get("starts")
    if ip is None:
        out.problems.append(Problem(number, "not an IP address: {text}",
                                    (("text", str(block["ip"])),)))
    elif "mac" not in block:
        out.problems.append(Problem(number, "lease without 'hardware ethernet' (no MAC)"))
    elif mac is None:
        out.problems.append(Problem(number, "not a MAC address: {text}",
                                    (("text", str(block["mac"])),)))
    elif not isinstance(starts, dt.datetime):
        out.problems.append(Problem(number, "lease without 'starts'"))
    else:
        ends = block.get("ends")
        out.starts.append(Start(number, ip, mac, starts,
                                ends if isinstance(ends, dt.datetime) else None, 0,
                                str(block.get("hostname", ""))))


# -- Kea ---------------------------------------------------------------------------
_KEA_LEGAL = re.compile(
    r"^(?P<when>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})\s+(?P<tz>\S+)\s+Address:\s*(?P<ip>\S+)\s+"
    r"has been (?P<verb>assigned|renewed)(?: for (?P<dur>.*?))?\s+to a device with hardware "
    r"address:\s*(?:hwtype=\d+\s+)?(?P<mac>[0-9A-Fa-f:.\-]+)")
_DURATION = re.compile(r"(\d+)\s*(day|hr|min|sec)")
_ZONES = {"UTC": 0, "GMT": 0, "Z": 0, "TRT": 180, "EET": 120, "EEST": 180, "CET": 60,
          "CEST": 120}


def _zone_minutes(token: str) -> int | None:
    token = token.strip()
    if token.upper() in _ZONES:
        return _ZONES[token.upper()]
    numeric = re.fullmatch(r"([+-])(\d{2}):?(\d{2})?", token)
    if numeric:
        minutes = int(numeric.group(2)) * 60 + int(numeric.group(3) or 0)
        return minutes if numeric.group(1) == "+" else -minutes
    return None


def _duration(text: str | None) -> dt.timedelta | None:
    if not text:
        return None
    seconds = 0
    factor = {"day": 86400, "hr": 3600, "min": 60, "sec": 1}
    for amount, unit in _DURATION.findall(text):
        seconds += int(amount) * factor[unit]
    return dt.timedelta(seconds=seconds) if seconds else None


def read_kea(text: str, **_: object) -> Parsed:
    """Kea's memfile lease CSV (``address,hwaddr,...,valid_lifetime,expire,...``; epoch
    seconds, start = expire - valid lifetime) or its ``legal_log`` lines."""
    lines = text.splitlines()
    if lines and lines[0].lstrip().startswith("address,"):
        return _kea_csv(lines)
    out = Parsed(lines=len(lines))
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        match = _KEA_LEGAL.match(line)
        if not match:
            out.problems.append(Problem(number, "not a Kea legal log line: {text}",
                                        (("text", line[:80]),)))
            continue
        minutes = _zone_minutes(match["tz"])
        ip, mac = normal_ip(match["ip"]), normal_mac(match["mac"])
        if minutes is None:
            out.problems.append(Problem(number, "unknown time zone '{zone}'",
                                        (("zone", match["tz"]),)))
        elif ip is None or mac is None:
            out.problems.append(Problem(number, "not an IP or MAC address"))
        else:
            zone = dt.timezone(dt.timedelta(minutes=minutes))
            starts = dt.datetime.strptime(match["when"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone)
            lifetime = _duration(match["dur"])
            out.starts.append(Start(number, ip, mac, starts,
                                    starts + lifetime if lifetime else None, minutes))
    return out


def _kea_csv(lines: list[str]) -> Parsed:
    out = Parsed(lines=len(lines))
    reader = csv.DictReader(lines)
    for number, row in enumerate(reader, start=2):
        ip, mac = normal_ip(row.get("address") or ""), normal_mac(row.get("hwaddr") or "")
        if (row.get("state") or "0").strip() == "1":  # declined: no device used it
            continue
        try:
            expire = int(row["expire"])
            lifetime = int(row["valid_lifetime"])
        except (KeyError, TypeError, ValueError):
            out.problems.append(Problem(number, "expire or valid_lifetime is not a number"))
            continue
        if ip is None or mac is None:
            out.problems.append(Problem(number, "not an IP or MAC address"))
            continue
        ends = dt.datetime.fromtimestamp(expire, tz=UTC)
        out.starts.append(Start(number, ip, mac, ends - dt.timedelta(seconds=lifetime), ends,
                                0, (row.get("hostname") or "").strip()))
    return out


# -- Windows DHCP Server audit log ---------------------------------------------------
#: Event IDs: 10 new lease, 11 renewal (a use starts); 12 release, 16 deleted,
#: 17/18 expired (a use ends). Others (log start/stop, DNS, rogue detection) are skipped.
_WIN_START = {"10", "11"}
_WIN_END = {"12": "released", "16": "deleted", "17": "expired", "18": "expired"}
_WIN_HEADERS = {"id": "id", "kimlik": "id", "date": "date", "tarih": "date", "time": "time",
                "saat": "time", "ip address": "ip", "ip adresi": "ip", "host name": "host",
                "ana bilgisayar adı": "host", "mac address": "mac", "mac adresi": "mac"}


def _win_date(text: str) -> dt.date:
    text = text.strip()
    for fmt in ("%m/%d/%y", "%m/%d/%Y", "%d.%m.%y", "%d.%m.%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def read_windows(text: str, *, zone: str = "Europe/Istanbul", **_: object) -> Parsed:
    """``DhcpSrvLog-*.log``: a preamble, then ``ID,Date,Time,Description,IP Address,Host
    Name,MAC Address,...`` (Turkish servers: ``Kimlik,Tarih,Saat,...``), times in the
    server's local zone (``zone``), dates as the server's locale writes them."""
    lines = text.splitlines()
    out = Parsed(lines=len(lines))
    tz = ZoneInfo(zone)
    columns: dict[str, int] | None = None
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        cells = next(csv.reader([raw]))
        if columns is None:
            names = [c.strip().lower() for c in cells]
            if names and names[0] in ("id", "kimlik"):
                columns = {_WIN_HEADERS[n]: i for i, n in enumerate(names) if n in _WIN_HEADERS}
            continue
        try:
            event = cells[columns["id"]].strip()
        except (IndexError, KeyError):
            out.problems.append(Problem(number, "line has fewer columns than the header"))
            continue
        if event not in _WIN_START and event not in _WIN_END:
            continue
        try:
            day = _win_date(cells[columns["date"]])
            clock = dt.time.fromisoformat(cells[columns["time"]].strip())
        except (IndexError, KeyError, ValueError):
            out.problems.append(Problem(number, "unreadable date or time"))
            continue
        moment = dt.datetime.combine(day, clock).replace(tzinfo=tz)
        ip = normal_ip(cells[columns["ip"]]) if "ip" in columns and len(cells) > columns["ip"] \
            else None
        mac = normal_mac(cells[columns["mac"]]) if "mac" in columns and len(cells) > \
            columns["mac"] else None
        if ip is None or mac is None:
            out.problems.append(Problem(number, "not an IP or MAC address"))
            continue
        if event in _WIN_START:
            host = cells[columns["host"]].strip() if "host" in columns and \
                len(cells) > columns["host"] else ""
            out.starts.append(Start(number, ip, mac, moment, None, _offset(moment), host))
        else:
            out.ends.append(End(number, ip, mac, moment, _offset(moment), _WIN_END[event]))
    if columns is None:
        out.problems.append(Problem(1, "no 'ID,Date,Time,...' (or 'Kimlik,Tarih,Saat,...') "
                                       "header line: not a Windows DHCP audit log"))
    return out


# -- btklog ----------------------------------------------------------------------------
_BTK_TIME = re.compile(r"^(\d{2}\.\d{2}\.\d{4})-(\d{2}:\d{2}:\d{2})([+-]\d{2}:?\d{2}|Z)?$")


def _btk_time(text: str, default: dt.tzinfo) -> dt.datetime:
    match = _BTK_TIME.match(text)
    if not match:
        raise ValueError(text)
    naive = dt.datetime.strptime(f"{match[1]} {match[2]}", "%d.%m.%Y %H:%M:%S")
    if match[3]:
        minutes = _zone_minutes(match[3])
        return naive.replace(tzinfo=dt.timezone(dt.timedelta(minutes=minutes or 0)))
    return naive.replace(tzinfo=default)


def read_btklog(text: str, *, zone: str = "UTC", **_: object) -> Parsed:
    """btklog's table: ``IP  DD.MM.YYYY-HH:MM:SS  DD.MM.YYYY-HH:MM:SS  MAC``. btklog copies
    ISC's UTC times without an offset, so times without one are read in ``zone`` (UTC);
    KentCBS's own archives write the offset (``...-08:27:36+03:00``)."""
    lines = text.splitlines()
    out = Parsed(lines=len(lines))
    default = ZoneInfo(zone)
    for number, raw in enumerate(lines, start=1):
        cells = raw.split()
        if not cells or raw.lstrip().startswith(("IP Adresi", "#")):
            continue
        if len(cells) != 4:
            out.problems.append(Problem(number, "expected 4 columns: IP, start, end, MAC"))
            continue
        ip, mac = normal_ip(cells[0]), normal_mac(cells[3])
        try:
            starts = _btk_time(cells[1], default)
            ends = None if cells[2] in ("-", "") else _btk_time(cells[2], default)
        except ValueError:
            out.problems.append(Problem(number, "unreadable time (DD.MM.YYYY-HH:MM:SS)"))
            continue
        if ip is None or mac is None:
            out.problems.append(Problem(number, "not an IP or MAC address"))
            continue
        out.starts.append(Start(number, ip, mac, starts, ends, _offset(starts)))
    return out


READERS = {"isc": read_isc, "kea": read_kea, "windows": read_windows, "btklog": read_btklog}


def iter_btklog_lines(rows: Iterator[tuple[str, dt.datetime, dt.datetime | None, str]],
                      zone: dt.tzinfo) -> Iterator[str]:
    """btklog's layout with an explicit offset, for the daily archive."""
    yield (f"{'IP Adresi':<40}{'Kullanıma Başlama Zamanı':<31}"
           f"{'Kullanım Bitiş Zamanı':<31}MAC Adresi")
    for ip, starts, ends, mac in rows:
        start_text = _btk_format(starts.astimezone(zone))
        end_text = _btk_format(ends.astimezone(zone)) if ends else "-"
        yield f"{ip:<40}{start_text:<31}{end_text:<31}{mac.replace(':', '-')}"


def _btk_format(moment: dt.datetime) -> str:
    offset = moment.strftime("%z")
    return moment.strftime("%d.%m.%Y-%H:%M:%S") + f"{offset[:3]}:{offset[3:]}"
