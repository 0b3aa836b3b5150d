"""Network links have a state of their own (modules.netops.monitoring.link_state): down when
either end is down, up when both are up, unknown while an end was never seen. A change is
stored with its time; an outage alerts once (both ends' buildings) and its end is a recovery;
the building panel shows asset and link states; each building has an outage history page."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import MultiPolygon, Point, Polygon

from modules.netops import monitoring
from modules.netops.models import Alert, LinkReachability, LinkStateChange
from tests.people import member, signed_in
from tests.test_netops_monitoring import Inbox, inbox  # noqa: F401 - the SMTP fixture

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _language_restored() -> Iterator[None]:
    """A request in English leaves English active in this thread (the locale middleware
    activates the reader's language and nothing resets it): restore it for the next test."""
    from django.utils import translation

    with translation.override(translation.get_language()):
        yield
X0, Y0 = 548_000, 4_406_000
UNREACHABLE = "2001:db8::7"  # documentation prefix, no route


@pytest.fixture
def listener(settings) -> Iterator[int]:  # type: ignore[no-untyped-def]
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    settings.KENTCBS_NETOPS_PROBE_PORTS = str(server.getsockname()[1])
    settings.KENTCBS_NETOPS_PROBE_METHOD = "tcp"  # the same answers whatever the kernel allows
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


def _building(code: str, name: str, dx: int, department: str):  # type: ignore[no-untyped-def]
    from django.conf import settings

    from gis_core.models import Building, Department

    x = X0 + dx
    footprint = MultiPolygon(Polygon(((x, Y0), (x + 40, Y0), (x + 40, Y0 + 40), (x, Y0 + 40),
                                      (x, Y0))), srid=settings.KENTCBS_SRID)
    building = Building.objects.create(code=code, name=name, footprint=footprint)
    building.departments.add(Department.objects.get(code=department))
    return building


def _switch(number: str, ip: str, building):  # type: ignore[no-untyped-def]
    from django.conf import settings

    from gis_core.models import Asset

    centre = building.footprint.centroid
    return Asset.objects.create(inventory_number=number, category="switch", status="in_service",
                                building=building, ip_address=ip,
                                location=Point(centre.x, centre.y, srid=settings.KENTCBS_SRID))


def _world():  # type: ignore[no-untyped-def]
    from gis_core.models import NetworkLink

    hub = _building("H1", "Ana Hizmet Binası", 0, "mali_hizmetler")
    far = _building("B7", "Zabıta Binası", 500, "zabita")
    park = _building("B8", "Kültür Merkezi", 1000, "kultur_sosyal")
    core = _switch("SW-H", "127.0.0.1", hub)
    edge = _switch("SW-7", UNREACHABLE, far)
    _switch("AP-8", "127.0.0.8", park)
    to_far = NetworkLink.objects.create(a_asset=core, b_asset=edge, medium="fiber_sm")
    to_park = NetworkLink.objects.create(a_asset=core, b_building=park, medium="wireless_p2p")
    planned = NetworkLink.objects.create(a_building=hub, b_building=far, medium="fiber_sm",
                                         status="planned")
    for name, department, role in (("ag", "ag_yonetimi", "network_admin"),
                                   ("zabit", "zabita", "viewer"),
                                   ("mali", "mali_hizmetler", "viewer"),
                                   ("kultur", "kultur_sosyal", "viewer")):
        user = member(name, department, role)
        user.email = f"{name}@belediye.local"
        user.save()
    return hub, far, park, core, edge, to_far, to_park, planned


def test_a_link_is_down_when_an_end_is_down_and_alerts_both_ends_once(
        inbox, listener, django_capture_on_commit_callbacks) -> None:  # noqa: F811
    hub, far, _park, _core, edge, to_far, to_park, planned = _world()
    with django_capture_on_commit_callbacks(execute=True):
        result = monitoring.probe_all(timeout=0.3)
    assert result.link_changes == 2
    states = dict(LinkReachability.objects.values_list("link_id", "state"))
    assert states == {to_far.pk: "down", to_park.pk: "up"}  # the planned link is not watched
    assert planned.pk not in states
    alert = Alert.objects.get(link=to_far)
    assert (alert.building, alert.other_building, alert.asset) == (far, hub, None)
    assert alert.closed_at is None
    link_mail = [m for m in inbox.messages if "Link down" in m[1]]
    assert link_mail == [(["ag@belediye.local", "mali@belediye.local", "zabit@belediye.local"],
                          "[KentCBS] Bağlantı kesik / Link down: SW-H (Ana Hizmet Binası) ↔ "
                          "SW-7 (Zabıta Binası), Fiber (tek mod)")]
    change = LinkStateChange.objects.get(link=to_far)
    assert (change.old_state, change.new_state, change.a_building, change.b_building) == (
        "unknown", "down", hub, far)
    assert change.detail == "A: up, B: down"

    with django_capture_on_commit_callbacks(execute=True):  # still down: nothing new
        assert monitoring.probe_all(timeout=0.3).link_changes == 0
    assert Alert.objects.filter(link__isnull=False).count() == 1
    assert len([m for m in inbox.messages if "Link down" in m[1]]) == 1

    with django_capture_on_commit_callbacks(execute=True):  # the far switch answers again
        monitoring.record_state(asset=edge, up=True, source="zabbix")
    alert.refresh_from_db()
    assert alert.closed_at is not None
    assert LinkReachability.objects.get(link=to_far).state == "up"
    assert inbox.messages[-1][1] == ("[KentCBS] Düzeldi / Recovered: SW-H (Ana Hizmet Binası) "
                                     "↔ SW-7 (Zabıta Binası), Fiber (tek mod)")
    assert [(c.old_state, c.new_state) for c in
            LinkStateChange.objects.filter(link=to_far).order_by("at", "pk")] == [
        ("unknown", "down"), ("down", "up")]


def test_a_building_end_follows_its_assets_and_an_unseen_end_is_unknown(listener) -> None:
    from gis_core.models import Asset

    hub, _far, park, core, _edge, _to_far, to_park, _planned = _world()
    assert monitoring.link_state(to_park)[0] == "unknown"  # nothing probed yet
    monitoring.probe_all(timeout=0.3)
    assert monitoring.link_state(to_park) == ("up", "A: up, B: up")
    Asset.objects.filter(building=park).update(ip_address=UNREACHABLE.replace("7", "8"))
    monitoring.probe_all(timeout=0.3)  # every probed asset of the building is down
    assert monitoring.link_state(to_park) == ("down", "A: up, B: down")
    assert Alert.objects.get(link=to_park).building == park
    assert not Alert.objects.filter(link__isnull=False, building=hub).exists()
    assert core.reachability.state == "up"


def test_the_building_panel_shows_assets_and_links(listener) -> None:
    from gis_core.modules import building_summaries

    _hub, far, _park, _core, _edge, _to_far, _to_park, _planned = _world()
    monitoring.probe_all(timeout=0.3)
    panels = building_summaries(user=User.objects.get(username="zabit"), building=far)
    network = next(p for p in panels if p.title_en == "Network status")
    lines = dict(network.lines)
    assert lines["Durum"] == "kesinti"
    assert lines["Erişilemiyor: SW-7"] == UNREACHABLE
    assert lines["Bağlantı: SW-H (Ana Hizmet Binası) ↔ SW-7 (Zabıta Binası), Fiber (tek mod)"] \
        == "erişilemiyor"
    assert lines["Açık kesinti"] == "2"  # the switch and the link
    assert ("Kesinti geçmişi", f"/netops/buildings/{far.pk}/outages/") in network.links


def test_the_outage_history_page_of_a_building(listener) -> None:
    _hub, far, park, _core, _edge, _to_far, _to_park, _planned = _world()
    monitoring.probe_all(timeout=0.3)
    url = f"/netops/buildings/{far.pk}/outages/"
    page = signed_in(User.objects.get(username="zabit")).get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Zabıta Binası" in text and "SW-7" in text and "sürüyor" in text
    assert "Bağlantı: SW-H (Ana Hizmet Binası) ↔ SW-7 (Zabıta Binası)" in text
    # the state changes, in words (not the stored codes), with their method
    assert "bilinmiyor" in text and "tcp" in text and ">unknown<" not in text
    assert "A: erişilebilir, B: erişilemiyor" in text
    assert signed_in(User.objects.get(username="ag")).get(url).status_code == 200
    # a department housed elsewhere does not see this building's history
    assert signed_in(User.objects.get(username="kultur")).get(url).status_code == 403
    quiet = signed_in(User.objects.get(username="kultur")).get(
        f"/netops/buildings/{park.pk}/outages/").content.decode()
    assert "Kayıtlı kesinti yok." in quiet


def test_the_panel_and_the_pages_in_english(listener) -> None:
    """One language per page: English labels from the English msgids, no Turkish word and no
    "tr / en" glued title; the link's description is data, shown as stored."""
    from django.utils import translation

    from gis_core.modules import building_summaries

    _hub, far, _park, _core, _edge, _to_far, _to_park, _planned = _world()
    monitoring.probe_all(timeout=0.3)
    with translation.override("en"):
        panels = building_summaries(user=User.objects.get(username="zabit"), building=far)
    network = next(p for p in panels if p.title_en == "Network status")
    lines = dict(network.lines)
    assert lines["State"] == "down" and lines["Unreachable: SW-7"] == UNREACHABLE
    link = [(k, v) for k, v in lines.items() if k.startswith("Link: ")]
    assert [v for _k, v in link] == ["unreachable"]
    assert link[0][0].startswith("Link: SW-H (Ana Hizmet Binası) ↔ SW-7 (Zabıta Binası), ")
    assert "tek mod" not in link[0][0]  # the medium in the reader's language
    assert lines["Open outages"] == "2"
    assert ("Outage history", f"/netops/buildings/{far.pk}/outages/") in network.links

    ag = signed_in(User.objects.get(username="ag"))
    ag.cookies["django_language"] = "en"
    for url in ("/netops/alerts/", f"/netops/buildings/{far.pk}/outages/"):
        text = ag.get(url).content.decode()
        assert "ongoing" in text and "sürüyor" not in text
        assert "Link: SW-H (Ana Hizmet Binası) ↔ SW-7 (Zabıta Binası)" in text
        assert "Link down" not in text and "Bağlantı" not in text and "tek mod" not in text
    alerts = ag.get("/netops/alerts/").content.decode()
    assert "Network alerts" in alerts and "2 outages are open now." in alerts
    history = ag.get(f"/netops/buildings/{far.pk}/outages/").content.decode()
    assert "Outage history: Zabıta Binası" in history and ">unknown<" in history
    assert "A: reachable, B: unreachable" in history  # a link change's ends, in words
    assert "Link: SW-H (Ana Hizmet Binası) ↔ SW-7 (Zabıta Binası), Single-mode fiber" in history
    ag.cookies["django_language"] = "tr"
    alerts = ag.get("/netops/alerts/").content.decode()
    assert "Ağ uyarıları" in alerts and "Şu anda 2 açık kesinti var." in alerts
    assert "Network alerts" not in alerts and "Link down" not in alerts


def test_a_stored_alert_keeps_its_title_and_says_what_is_down_apart(listener) -> None:
    """The title stays as mailed (Turkish first); ``subject`` holds what is down."""
    _world()
    monitoring.probe_all(timeout=0.3)
    link_alert = Alert.objects.get(link__isnull=False)
    assert link_alert.subject == "SW-H (Ana Hizmet Binası) ↔ SW-7 (Zabıta Binası), Fiber (tek mod)"
    assert link_alert.title == f"Bağlantı kesik / Link down: {link_alert.subject}"
    asset_alert = Alert.objects.get(asset__inventory_number="SW-7")
    assert asset_alert.title == f"Erişilemiyor / Down: {asset_alert.subject}"
    assert asset_alert.subject == f"SW-7 ({UNREACHABLE}, Zabıta Binası)"
