"""How one address is checked: ICMP echo where the kernel permits it, else TCP connect.

ICMP goes through ``icmplib`` with ``privileged=False``: a Linux *ping socket*
(``SOCK_DGRAM``/``IPPROTO_ICMP``), which needs no root and no ``CAP_NET_RAW``, only that the
process' group is inside ``net.ipv4.ping_group_range``. Where the kernel refuses it (the
Debian default range ``1 0`` is empty), or ``KENTCBS_NETOPS_PROBE_METHOD`` is ``tcp``, the
probe connects to ``KENTCBS_NETOPS_PROBE_PORTS`` instead. A host that does not answer the
echo (Windows' firewall drops it by default) is then tried by TCP too before it is called
down, so ICMP only adds reachability, never removes it.

This file imports no Django model: it runs in any process (the test proving the ICMP path
runs it in a private network namespace).
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass

ICMP = "icmp"
TCP = "tcp"
BOTH = "icmp+tcp"

#: Why ICMP is not used (English msgids, Turkish in the module's catalogue), for the log and
#: the CLI: shown through :func:`gis_core.errors.bilingual`, Turkish first.
ICMP_REFUSED = (
    "ICMP not available: the kernel refuses an unprivileged ping socket "
    "(net.ipv4.ping_group_range = {range}); assets are probed by TCP connect.")
ICMP_OFF = ("ICMP switched off (KENTCBS_NETOPS_PROBE_METHOD=tcp); assets are probed by TCP "
            "connect.")


@dataclass(frozen=True)
class Check:
    """One check of one address: the answer, how it was asked, and what was seen."""

    up: bool
    #: ``icmp``, ``tcp``, or ``icmp+tcp`` (no echo reply, then TCP asked too).
    method: str
    detail: str


def ping_group_range() -> str:
    try:
        with open("/proc/sys/net/ipv4/ping_group_range", encoding="ascii") as handle:
            return " ".join(handle.read().split())
    except OSError:
        return "?"


def icmp_permitted() -> tuple[bool, str]:
    """Whether this process may open an unprivileged ICMP (ping) socket, and if not why.

    Examples
    --------
    >>> icmp_permitted()  # doctest: +SKIP
    (False, 'ICMP kullanılamıyor: ... (net.ipv4.ping_group_range = 1 0) ...')
    """
    from icmplib import ICMPLibError
    from icmplib.sockets import ICMPv4Socket

    try:
        ICMPv4Socket(privileged=False).close()
    except (ICMPLibError, OSError):
        from gis_core.errors import bilingual

        return False, bilingual(ICMP_REFUSED, range=ping_group_range())
    return True, ""


def icmp_echo(ip: str, *, timeout: float = 1.0, count: int = 1) -> bool:
    """True when ``ip`` answers an ICMP echo (unprivileged ping socket).

    Raises ``icmplib.SocketPermissionError`` when the kernel refuses the socket; a lost
    packet or an unreachable network is simply no answer.
    """
    from icmplib import ping

    return bool(ping(ip, count=count, interval=0.05, timeout=timeout, privileged=False).is_alive)


def tcp_connect(ip: str, ports: Iterable[int], timeout: float = 1.0) -> tuple[bool, str]:
    """True when a TCP connection to one of ``ports`` is accepted or actively refused (the
    host answered); False when every attempt timed out or the network is unreachable."""
    last = ""
    for port in ports:
        try:
            with socket.create_connection((ip, port), timeout=timeout):
                return True, f"tcp/{port} open"
        except ConnectionRefusedError:
            return True, f"tcp/{port} refused (host answers)"
        except OSError as exc:
            last = f"tcp/{port}: {exc.strerror or type(exc).__name__}"
    return False, last or "no port to probe"


def check(ip: str, *, use_icmp: bool, ports: Iterable[int], timeout: float = 1.0) -> Check:
    """Check ``ip``: ICMP echo first when ``use_icmp``, then TCP connect unless it answered."""
    if use_icmp:
        from icmplib import ICMPLibError

        try:
            answered = icmp_echo(ip, timeout=timeout)
        except ICMPLibError as exc:  # e.g. no ICMPv6 socket for this address: TCP only
            up, detail = tcp_connect(ip, ports, timeout)
            return Check(up, TCP, f"icmp: {exc}; {detail}"[:200])
        if answered:
            return Check(True, ICMP, "icmp echo reply")
        up, detail = tcp_connect(ip, ports, timeout)
        return Check(up, BOTH, f"no icmp echo reply; {detail}")
    up, detail = tcp_connect(ip, ports, timeout)
    return Check(up, TCP, detail)
