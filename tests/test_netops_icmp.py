"""How the probe asks (modules.netops.probing): ICMP echo through an unprivileged Linux ping
socket where the kernel permits it, else TCP connect; the method is stored with each check.

This machine's kernel decides: with ``net.ipv4.ping_group_range`` covering our group the
probe uses ICMP in the test process itself; otherwise the refusal is reported in words and
the TCP fallback is what the database tests see, while the ICMP path is proven against
127.0.0.1 in a private network namespace (``unshare --net``) whose range we may open.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import textwrap
from io import StringIO

import pytest
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.core.management import call_command

from modules.netops import monitoring, probing
from modules.netops.models import AssetReachability, StateChange
from tests.conftest import ROOT

X0, Y0 = 546_000, 4_404_000

#: Run inside a new network namespace: bring its loopback up, open its ping group range
#: (root in the namespace may), then ask 127.0.0.1 by ICMP only (no TCP port to fall to).
IN_NAMESPACE = textwrap.dedent("""
    import fcntl, json, socket, struct
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    fcntl.ioctl(s, 0x8914, struct.pack("16sh", b"lo", 0x1 | 0x8 | 0x40))  # SIOCSIFFLAGS up
    with open("/proc/sys/net/ipv4/ping_group_range", "w") as f:
        f.write("0 2147483647")
    from modules.netops import probing
    permitted, why = probing.icmp_permitted()
    answer = probing.check("127.0.0.1", use_icmp=True, ports=[], timeout=2.0)
    lost = probing.check("192.0.2.1", use_icmp=True, ports=[], timeout=0.3)
    print(json.dumps([permitted, answer.up, answer.method, answer.detail, lost.up, lost.method]))
""")


def test_icmp_echo_to_the_loopback_where_ping_sockets_are_permitted() -> None:
    permitted, _why = probing.icmp_permitted()
    if permitted:  # this kernel lets us: ask in this very process
        answer = probing.check("127.0.0.1", use_icmp=True, ports=[], timeout=2.0)
        lost = probing.check("192.0.2.1", use_icmp=True, ports=[], timeout=0.3)
        seen = [True, answer.up, answer.method, answer.detail, lost.up, lost.method]
    else:  # a namespace of our own, where root may open the range
        unshare = shutil.which("unshare")
        assert unshare, "util-linux' unshare is needed to prove the ICMP path here"
        done = subprocess.run([unshare, "--net", sys.executable, "-c", IN_NAMESPACE],
                              capture_output=True, text=True, cwd=ROOT, timeout=60,
                              check=False)
        assert done.returncode == 0, done.stderr
        seen = json.loads(done.stdout)
    assert seen == [True, True, "icmp", "icmp echo reply", False, "icmp+tcp"]


def test_where_the_kernel_refuses_icmp_the_refusal_is_said_in_words(monkeypatch) -> None:
    """The refusal path is exercised whatever this kernel allows: a real refusal here, or the
    one icmplib raises when the socket is denied."""
    from icmplib import SocketPermissionError

    permitted, why = probing.icmp_permitted()
    if permitted:
        def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
            raise SocketPermissionError(False)
        monkeypatch.setattr("icmplib.sockets.ICMPv4Socket.__init__", refuse)
        permitted, why = probing.icmp_permitted()
    assert not permitted
    assert "ping_group_range" in why and "TCP bağlantısıyla yoklanıyor" in why
    assert "assets are probed by TCP connect" in why


def _asset(ip: str):  # type: ignore[no-untyped-def]
    from django.conf import settings

    from gis_core.models import Asset, Building

    srid = settings.KENTCBS_SRID
    hall = Building.objects.create(code="B9", name="Fen İşleri", footprint=MultiPolygon(Polygon(
        ((X0, Y0), (X0 + 30, Y0), (X0 + 30, Y0 + 30), (X0, Y0 + 30), (X0, Y0))), srid=srid))
    return Asset.objects.create(inventory_number="SW-9", category="switch",
                                status="in_service", building=hall, ip_address=ip,
                                location=Point(X0 + 10, Y0 + 10, srid=srid))


@pytest.mark.django_db
def test_the_probe_stores_the_method_of_each_check(settings) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    settings.KENTCBS_NETOPS_PROBE_PORTS = str(server.getsockname()[1])
    try:
        asset = _asset("127.0.0.1")
        permitted, why = probing.icmp_permitted()
        result = monitoring.probe_all(timeout=1.0)
        expected = "icmp" if permitted else "tcp"
        assert (result.checked, result.down, result.method, result.note) == (
            1, 0, expected, why)
        state = AssetReachability.objects.get(asset=asset)
        assert (state.state, state.method) == ("up", expected)
        assert StateChange.objects.get(asset=asset).method == expected
        out = StringIO()
        call_command("netops", "probe", "--timeout", "1", stdout=out)
        if not permitted:
            assert "ping_group_range" in out.getvalue()  # the refusal, in words, on the CLI
        assert f"assets probed ({expected})" in out.getvalue()

        from gis_core.errors import bilingual

        settings.KENTCBS_NETOPS_PROBE_METHOD = "tcp"  # switched off: TCP, and said so
        result = monitoring.probe_all(timeout=1.0)
        assert (result.method, result.note) == ("tcp", bilingual(probing.ICMP_OFF))
        assert AssetReachability.objects.get(asset=asset).method == "tcp"
    finally:
        server.close()


@pytest.mark.django_db
def test_an_external_monitor_s_report_is_stored_with_its_name() -> None:
    asset = _asset("192.0.2.44")
    monitoring.record_state(asset=asset, up=False, source="zabbix", detail="ICMP down")
    assert AssetReachability.objects.get(asset=asset).method == "zabbix"
    assert StateChange.objects.get(asset=asset).method == "zabbix"


def test_a_socket_refused_mid_round_falls_back_to_tcp(monkeypatch) -> None:
    """ICMP chosen, then the socket refused (the range changed, no ICMPv6): TCP answers."""
    from icmplib import SocketPermissionError

    if probing.icmp_permitted()[0]:
        def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
            raise SocketPermissionError(False)
        monkeypatch.setattr(probing, "icmp_echo", refuse)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        answer = probing.check("127.0.0.1", use_icmp=True, ports=[server.getsockname()[1]],
                               timeout=1.0)
    finally:
        server.close()
    assert (answer.up, answer.method) == (True, "tcp")
    assert answer.detail.startswith("icmp: ") and "open" in answer.detail
