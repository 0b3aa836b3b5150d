"""The network operations demo on top of the core demo: leases read as an ISC file, one
building outage with its closed alert, one overdue backup, two switch configurations."""

from __future__ import annotations

import pytest

from gis_core.demo import load_demo
from modules.netops import backups
from modules.netops.models import (
    Alert,
    BackupAlert,
    BuildingNetworkStatus,
    DeviceConfig,
    DhcpLease,
    LeaseFile,
    LinkReachability,
    StateChange,
)

pytestmark = pytest.mark.django_db


def test_the_demo_gives_the_module_something_real_to_show() -> None:
    load_demo(profile="odunpazari", city=False)
    leases = DhcpLease.objects.count()
    assert leases >= 100 and LeaseFile.objects.get().problems == []
    alerts = Alert.objects.all()
    assert alerts.exists() and not alerts.filter(closed_at__isnull=True).exists()
    assert len({a.building_id for a in alerts}) == 1  # one building's outage
    assert alerts.filter(asset__isnull=False).exists()
    assert alerts.filter(link__isnull=False).count() <= 1  # and its one link, if it has one
    assert not LinkReachability.objects.filter(state="down").exists()
    assert StateChange.objects.filter(new_state="down").exists()
    assert set(BuildingNetworkStatus.objects.values_list("state", flat=True)) == {"up"}
    assert {s.target.code: s.state for s in backups.states()}["ebys-sunucusu"] == "overdue"
    assert BackupAlert.objects.get(closed_at__isnull=True).target.code == "ebys-sunucusu"
    device = DeviceConfig.objects.values_list("device", flat=True).first()
    assert "+vlan 30" in backups.config_diff(device, 1, 2)
    load_demo(profile="odunpazari", city=False)  # a second run changes nothing
    assert DhcpLease.objects.count() == leases and Alert.objects.count() == alerts.count()
    assert DeviceConfig.objects.count() == 2
