"""The network operations demo: a week of DHCP leases for the demo's networked assets (read
through the ISC reader, as a real server's file would be), a monitoring history with one
building outage and its alert, the backup register with one overdue job, and two versions
of a switch's configuration. Idempotent: a second run changes nothing."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from django.utils import timezone

DAYS = 7
SERVER = "dhcp-merkez"
TARGETS = (  # code, name, kind, importance, policy, last good run (hours ago)
    ("kentcbs-veritabani", "KentCBS veritabanı", "database", "critical", "daily", 5),
    ("ebys-sunucusu", "EBYS uygulama sunucusu", "server", "high", "daily", 80),
    ("dosya-sunucusu", "Dosya sunucusu", "server", "normal", "weekly", 30),
    ("ag-cihaz-yapilandirmalari", "Ağ cihazı yapılandırmaları", "network_config", "normal",
     "weekly", 20),
)
SWITCH_V1 = """hostname {name}
!
vlan 10
 name BILGI-ISLEM
vlan 20
 name KULLANICILAR
!
interface GigabitEthernet1/0/1
 description UPLINK-MERKEZ
 switchport mode trunk
!
ntp server 10.0.0.1
"""
SWITCH_V2 = SWITCH_V1.replace(" name KULLANICILAR\n", " name KULLANICILAR\nvlan 30\n name KAMERA\n")


def _isc(assets: list[Any], today: dt.date) -> str:
    lines = ["# The format of this file is documented in the dhcpd.leases(5) manual page.",
             "# This lease file was written by isc-dhcp-4.4.3-P1 (KentCBS demo)"]
    for day in range(DAYS, 0, -1):
        date = today - dt.timedelta(days=day)
        if date.weekday() >= 5:
            continue
        for index, asset in enumerate(assets):
            start = dt.datetime.combine(date, dt.time(5, 0), tzinfo=dt.UTC) + dt.timedelta(
                minutes=(index * 7) % 90)  # 08:00-09:30 in Türkiye
            end = start + dt.timedelta(hours=10)
            lines += [f"lease {asset.ip_address} {{",
                      f"  starts {start.isoweekday() % 7} {start:%Y/%m/%d %H:%M:%S};",
                      f"  ends {end.isoweekday() % 7} {end:%Y/%m/%d %H:%M:%S};",
                      "  binding state active;",
                      f"  hardware ethernet {asset.mac_address.lower()};",
                      f'  client-hostname "{asset.hostname}";', "}"]
    return "\n".join(lines) + "\n"


def load_demo(**_: Any) -> dict[str, Any]:
    from gis_core.audit import audit_context
    from gis_core.models import Asset, Department, NetworkLink
    from modules.netops import backups, monitoring, services
    from modules.netops.models import BackupRun, BackupTarget, DhcpLease

    if DhcpLease.objects.exists() or BackupTarget.objects.exists():
        return {"leases": DhcpLease.objects.count(), "created": 0}
    assets = list(Asset.objects.filter(status="in_service", ip_address__isnull=False)
                  .exclude(mac_address="").select_related("building")
                  .order_by("inventory_number")[:300])
    if not assets:
        return {"leases": 0, "created": 0}
    today = timezone.localdate()
    with audit_context(source="system"), tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "dhcpd.leases"
        path.write_text(_isc(assets, today), encoding="utf-8")
        intake = services.ingest_file(path=path, fmt="isc", server=SERVER, actor="demo").intake
        # monitoring: all up two days ago; one building down for 85 minutes in the morning
        start = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=2),
                                                        dt.time(8, 0)))
        for asset in assets:
            monitoring.record_state(asset=asset, up=True, source="probe", at=start)
        by_building: dict[int, list[Any]] = {}
        for asset in assets:
            by_building.setdefault(asset.building_id, []).append(asset)
        # a building at the edge of the network (one link at most), not the hub, whose
        # outage would take every link down with it
        edge = [group for group in by_building.values()
                if NetworkLink.objects.touching_building(group[0].building).count() <= 1]
        outage = max(edge or list(by_building.values()), key=len)
        for asset in outage:
            monitoring.record_state(asset=asset, up=False, source="probe", detail="tcp: timed out",
                                    at=start + dt.timedelta(hours=2, minutes=15))
        for asset in outage:
            monitoring.record_state(asset=asset, up=True, source="probe",
                                    detail="tcp/22 open", at=start + dt.timedelta(hours=3,
                                                                                  minutes=40))
        # the backup register: one job three days late
        network = Department.objects.filter(code="ag_yonetimi").first()
        now = timezone.now()
        for code, name, kind, importance, policy, hours in TARGETS:
            BackupTarget.objects.create(code=code, name=name, kind=kind, importance=importance,
                                        policy=policy, department=network,
                                        created_at=now - dt.timedelta(days=30))
            for back in (hours + 24 * 7, hours + 24 * 2, hours):
                BackupRun.objects.create(target=BackupTarget.objects.get(code=code),
                                         status="ok", at=now - dt.timedelta(hours=back),
                                         size_bytes=1_000_000_000 + back, reported_by="demo")
        backups.check_overdue(now=now)
        switch = next((a for a in assets if a.category == "switch"), assets[0])
        name = switch.hostname or "sw-merkez"
        backups.record_config(device=name, text=SWITCH_V1.format(name=name), source="demo",
                              actor="demo")
        backups.record_config(device=name, text=SWITCH_V2.format(name=name), source="demo",
                              actor="demo")
    return {"leases": intake.leases_new, "outage_building": outage[0].building.code,
            "backup_targets": len(TARGETS), "created": 1}
