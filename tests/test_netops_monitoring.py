"""Reachability and alerts routed by building (modules.netops): a real TCP probe, a real
SMTP server (aiosmtpd) receiving the alert e-mails, Alertmanager and Zabbix webhooks."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.test import Client

from modules.netops import monitoring
from modules.netops.models import Alert, AssetReachability, StateChange
from tests.conftest import free_port
from tests.people import member, signed_in

pytestmark = pytest.mark.django_db
X0, Y0 = 544_000, 4_402_000
UNREACHABLE = "2001:db8::1"  # documentation prefix, no route: connections time out


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []
        self.bodies: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content)
        subject = str(make_header(decode_header(message["Subject"])))
        self.messages.append((sorted(envelope.rcpt_tos), subject))
        self.bodies.append(message.get_payload(decode=True).decode(
            message.get_content_charset() or "utf-8"))
        return "250 OK"


@pytest.fixture
def inbox(settings) -> Iterator[Inbox]:  # type: ignore[no-untyped-def]
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": port,
                                                "timeout": 5}}}
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def listener(settings) -> Iterator[int]:  # type: ignore[no-untyped-def]
    """A port that accepts connections: the probe's 'host answers'."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    settings.KENTCBS_NETOPS_PROBE_PORTS = str(server.getsockname()[1])
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


def _world():  # type: ignore[no-untyped-def]
    from django.conf import settings

    from gis_core.models import Asset, Building, Department

    srid = settings.KENTCBS_SRID
    footprint = MultiPolygon(Polygon(((X0, Y0), (X0 + 40, Y0), (X0 + 40, Y0 + 40), (X0, Y0 + 40),
                                      (X0, Y0))), srid=srid)
    hall = Building.objects.create(code="B7", name="Zabıta Binası", footprint=footprint)
    hall.departments.add(Department.objects.get(code="zabita"))

    def asset(number: str, ip: str) -> Asset:
        return Asset.objects.create(inventory_number=number, category="switch",
                                    status="in_service", building=hall, ip_address=ip,
                                    location=Point(X0 + 20, Y0 + 20, srid=srid))

    net = member("ag", "ag_yonetimi", "network_admin")
    net.email = "ag@belediye.local"
    net.save()
    clerk = member("zabit", "zabita", "viewer")
    clerk.email = "zabita@belediye.local"
    clerk.save()
    member("imar", "imar_sehircilik", "viewer")
    return hall, asset("SW-1", "127.0.0.1"), asset("SW-2", UNREACHABLE)


def test_an_outage_alerts_once_by_building_and_a_recovery_closes_it(
        inbox, listener, django_capture_on_commit_callbacks) -> None:
    hall, up_switch, down_switch = _world()
    with django_capture_on_commit_callbacks(execute=True):  # the mail goes after the commit
        result = monitoring.probe_all(timeout=0.3)
    assert (result.checked, result.down, result.changes) == (2, 1, 2)
    assert AssetReachability.objects.get(asset=up_switch).state == "up"
    alert = Alert.objects.get()
    assert alert.asset == down_switch and alert.building == hall and alert.closed_at is None
    assert inbox.messages == [(["ag@belediye.local", "zabita@belediye.local"],
                               f"[KentCBS] Erişilemiyor / Down: SW-2 ({UNREACHABLE}, Zabıta "
                               "Binası)")]
    with django_capture_on_commit_callbacks(execute=True):  # still down: no second alert
        monitoring.probe_all(timeout=0.3)
    assert Alert.objects.count() == 1 and len(inbox.messages) == 1
    assert StateChange.objects.count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        monitoring.record_state(asset=down_switch, up=True, source="probe")
    alert.refresh_from_db()
    assert alert.closed_at is not None
    assert inbox.messages[-1][1].startswith("[KentCBS] Düzeldi / Recovered: SW-2")
    # a mail has no session language: each sentence in Turkish, then in English
    opened, closed = inbox.bodies[0].splitlines(), inbox.bodies[-1].splitlines()
    assert opened[0].endswith("itibarıyla erişilemiyor.") and opened[1].startswith("Down since")
    assert "itibarıyla yeniden erişilebilir; kesinti" in closed[0]
    assert closed[1].startswith("Back up since") and closed[1].endswith("min.")


def test_webhooks_need_the_token_and_route_like_the_probe(
        inbox, settings, django_capture_on_commit_callbacks) -> None:
    settings.KENTCBS_NETOPS_WEBHOOK_TOKEN = "s3cret"
    _hall, _up, switch = _world()
    client = Client()
    url = "/netops/hooks/alertmanager/"
    firing = {"version": "4", "status": "firing", "alerts": [
        {"status": "firing", "labels": {"alertname": "InstanceDown",
                                        "instance": f"[{UNREACHABLE}]:9100"},
         "annotations": {"summary": "node exporter down"}},
        {"status": "firing", "labels": {"alertname": "X", "instance": "10.9.9.9:9100"}}]}
    assert client.post(url, json.dumps(firing), content_type="application/json").status_code \
        == 401
    wrong = client.post(url, json.dumps(firing), content_type="application/json",
                        HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 401
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(url, json.dumps(firing), content_type="application/json",
                             HTTP_AUTHORIZATION="Bearer s3cret")
    assert answer.json() == {"matched": 1, "unmatched": 1}
    assert Alert.objects.get(asset=switch).source == "alertmanager"
    assert len(inbox.messages) == 1
    resolved = {"alerts": [{"status": "resolved",
                            "labels": {"instance": f"[{UNREACHABLE}]:9100"}}]}
    client.post(url, json.dumps(resolved), content_type="application/json",
                HTTP_AUTHORIZATION="Bearer s3cret")
    assert Alert.objects.get(asset=switch).closed_at is not None
    zabbix = client.post("/netops/hooks/zabbix/", json.dumps(
        {"host": "sw-2", "ip": UNREACHABLE, "status": "PROBLEM", "subject": "ICMP down"}),
        content_type="application/json", HTTP_AUTHORIZATION="Bearer s3cret")
    assert zabbix.json() == {"matched": 1, "unmatched": 0}
    assert Alert.objects.filter(asset=switch, closed_at__isnull=True, source="zabbix").exists()
    bad = client.post("/netops/hooks/zabbix/", "not json", content_type="application/json",
                      HTTP_AUTHORIZATION="Bearer s3cret")
    assert bad.status_code == 400


def test_without_a_token_the_webhooks_are_off(settings) -> None:
    settings.KENTCBS_NETOPS_WEBHOOK_TOKEN = ""
    answer = Client().post("/netops/hooks/zabbix/", "{}", content_type="application/json",
                           HTTP_AUTHORIZATION="Bearer anything")
    assert answer.status_code == 404 and "is off" in answer.json()["error"]


def test_alerts_are_seen_by_the_it_unit_and_the_housed_departments_only(listener) -> None:
    _world()
    monitoring.probe_all(timeout=0.3)
    from django.contrib.auth.models import User

    text = signed_in(User.objects.get(username="zabit")).get("/netops/alerts/").content.decode()
    assert "SW-2" in text and "sürüyor" in text
    other = signed_in(User.objects.get(username="imar")).get("/netops/alerts/").content.decode()
    assert "SW-2" not in other and "Kayıtlı kesinti yok." in other
    assert "SW-2" in signed_in(User.objects.get(username="ag")).get(
        "/netops/alerts/").content.decode()


def test_the_building_panel_shows_the_network_status(listener) -> None:
    from django.contrib.auth.models import User

    from gis_core.modules import building_summaries

    hall, _up, _down = _world()
    monitoring.probe_all(timeout=0.3)
    panels = building_summaries(user=User.objects.get(username="zabit"), building=hall)
    network = next(p for p in panels if p.title_en == "Network status")
    assert dict(network.lines) == {"Durum": "kısmi kesinti", "Erişilebilir cihaz": "1",
                                   "Erişilemeyen cihaz": "1",
                                   "Erişilemiyor: SW-2": UNREACHABLE, "Açık kesinti": "1",
                                   "Kesinti geçmişi (toplam)": "1"}


def test_the_building_status_layer_follows_the_probe_and_is_for_it_staff(listener) -> None:
    from django.contrib.auth.models import User

    from modules.netops.models import BuildingNetworkStatus

    hall, _up, _down = _world()
    monitoring.probe_all(timeout=0.3)
    status = BuildingNetworkStatus.objects.get(building=hall)
    assert (status.state, status.assets_up, status.assets_down, status.open_alerts) == (
        "degraded", 1, 1, 1)
    assert hall.footprint.contains(status.location)
    items = signed_in(User.objects.get(username="ag")).get(
        "/ogc/collections/ag_bina_durumu/items?f=json")
    features = items.json()["features"]
    assert [(f["properties"]["bina_kodu"], f["properties"]["durum"]) for f in features] == [
        ("B7", "degraded")]
    assert signed_in(User.objects.get(username="zabit")).get(
        "/ogc/collections/ag_bina_durumu/items?f=json").status_code == 404


def test_the_dashboard_shows_outages_and_backups(listener) -> None:
    from django.contrib.auth.models import User

    from modules.netops.dashboard import figures

    _world()
    monitoring.probe_all(timeout=0.3)
    manager = member("mudur", "bilgi_islem", "manager")
    found = {f.code: f for f in figures(user=manager)}
    assert found["netops_outages"].value == "1"
    assert found["netops_outages"].rows == (("Zabıta Binası", 1.0, "/netops/alerts/"),)
    assert found["netops_backups"].value == "0 / 0"
    page = signed_in(manager).get("/dashboard/").content.decode()
    assert "Açık ağ kesintileri" in page and "Zabıta Binası" in page
    clerk = {f.code for f in figures(user=User.objects.get(username="zabit"))}
    assert clerk == {"netops_outages"}
    from django.utils import translation

    for language, words in (("tr", ["zamanında", "gecikmiş", "başarısız"]),
                            ("en", ["on time", "overdue", "failed"])):
        with translation.override(language):  # the rows in the request's language
            backups = {f.code: f for f in figures(user=manager)}["netops_backups"]
        assert [row[0] for row in backups.rows] == words
