"""Who sees and works on which ticket (services, selectors, pages, the layer)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from modules.helpdesk import services
from modules.helpdesk.errors import HelpdeskPermissionError
from modules.helpdesk.selectors import visible_tickets
from tests import test_helpdesk_support as support
from tests.test_helpdesk_support import World, user

world = support.world


@pytest.fixture
def tickets(world: World) -> dict:
    w = world
    return {
        "mine": services.open_ticket(reporter=w.reporter, category="hardware_fault",
                                     title="PC", inventory_number="DB-0001"),
        "colleague": services.open_ticket(reporter=w.colleague, category="e_signature",
                                          title="E-imza", building=w.hall),
        "zabita": services.open_ticket(reporter=w.outsider, category="software_ebys",
                                       title="EBYS", building=w.depot),
        "zabita_hw": services.open_ticket(reporter=w.outsider, category="network",
                                          title="Ağ", building=w.depot,
                                          responsible_unit="teknik_destek"),
    }


def _numbers(user_: object) -> set[str]:
    return set(visible_tickets(user=user_).values_list("title", flat=True))


def test_department_user_sees_own_and_own_department_tickets(world: World, tickets: dict) -> None:
    assert _numbers(world.reporter) == {"PC", "E-imza"}
    assert _numbers(world.colleague) == {"PC", "E-imza"}
    assert _numbers(world.outsider) == {"EBYS", "Ağ"}
    assert _numbers(AnonymousUser()) == set()


def test_technicians_see_their_units_tickets_managers_see_all(world: World,
                                                              tickets: dict) -> None:
    assert _numbers(world.tech) == {"PC", "E-imza", "Ağ"}
    assert _numbers(world.developer) == {"EBYS"}
    assert _numbers(world.manager) == {"PC", "E-imza", "EBYS", "Ağ"}
    admin = user("root", superuser=True)
    assert len(_numbers(admin)) == 4
    it_admin = user("cbsadmin", ("cbs", "gis_admin"))
    assert len(_numbers(it_admin)) == 4
    # gis_admin outside the IT directorate is not an IT administrator.
    assert _numbers(user("imarcbs", ("imar_sehircilik", "gis_admin"))) == set()
    # A ticket assigned to a technician of another unit becomes visible to them.
    services.assign_ticket(ticket=tickets["zabita"], technician=world.tech, by=world.developer)
    assert "EBYS" in _numbers(world.tech)


def test_only_the_responsible_unit_works_on_a_ticket(world: World, tickets: dict) -> None:
    with pytest.raises(HelpdeskPermissionError) as caught:
        services.resolve_ticket(ticket=tickets["mine"], by=world.developer, outcome="repaired")
    assert caught.value.code == "HELPDESK_FORBIDDEN"
    with pytest.raises(HelpdeskPermissionError):
        services.assign_ticket(ticket=tickets["mine"], technician=world.reporter,
                               by=world.reporter)
    with pytest.raises(HelpdeskPermissionError):
        services.add_comment(ticket=tickets["zabita"], by=world.reporter, body="?")
    services.resolve_ticket(ticket=tickets["mine"], by=world.tech, outcome="repaired")
    services.close_ticket(ticket=tickets["mine"], by=world.reporter)  # the reporter may close


def test_pages_follow_the_same_rules(world: World, tickets: dict, client) -> None:
    client.force_login(world.reporter)
    listing = client.get("/helpdesk/").content.decode()
    assert tickets["mine"].number in listing and tickets["zabita"].number not in listing
    assert client.get(f"/helpdesk/tickets/{tickets['zabita'].pk}/").status_code == 404
    assert client.get(f"/helpdesk/tickets/{tickets['mine'].pk}/").status_code == 200
    response = client.post(f"/helpdesk/tickets/{tickets['zabita'].pk}/action/",
                           {"action": "comment", "text": "x"})
    assert response.status_code == 404
    # A forbidden step on a visible ticket is refused with its message, in the page's one
    # language (Turkish here: no glued "Turkish / English" text on a web page).
    response = client.post(f"/helpdesk/tickets/{tickets['mine'].pk}/action/",
                           {"action": "resolve", "outcome": "repaired"}, follow=True)
    assert "değiştirme yetkiniz yok" in response.content.decode()
    assert "not allowed" not in response.content.decode()
    tickets["mine"].refresh_from_db()
    assert tickets["mine"].status == "new"
    client.logout()
    assert client.get("/helpdesk/").status_code == 302


def test_ticket_layer_is_readable_by_it_staff_only(world: World, tickets: dict) -> None:
    from django.db import connection

    from layers.access import can_read
    from layers.registry import registry

    layer = registry.get("helpdesk_ticket")
    assert layer.backing.table == "cbs.v_helpdesk_ticket"
    assert can_read(world.tech, layer) and can_read(world.developer, layer)
    assert can_read(world.manager, layer)
    assert not can_read(world.reporter, layer) and not can_read(world.outsider, layer)
    assert not can_read(AnonymousUser(), layer)
    with connection.cursor() as cursor:
        cursor.execute("SELECT talep_no, kategori, bina_kodu, ST_GeometryType(geom) "
                       "FROM cbs.v_helpdesk_ticket ORDER BY talep_no")
        rows = cursor.fetchall()
    assert len(rows) == 4
    assert rows[0][:3] == (tickets["mine"].number, "hardware_fault", "B001")
    assert {row[3] for row in rows} == {"ST_Point"}


def test_ogc_api_serves_the_ticket_layer_to_it_staff_only(world: World, tickets: dict,
                                                          client) -> None:
    """The layer's rows are the pages' rows: items, single items and decoded tiles."""
    import base64
    import json
    import math

    import mapbox_vector_tile

    def get(username: str | None, path: str) -> tuple[int, bytes]:
        headers = {}
        if username:
            token = base64.b64encode(f"{username}:x-Test-12345".encode()).decode()
            headers["HTTP_AUTHORIZATION"] = f"Basic {token}"
        response = client.get(f"/ogc/collections/helpdesk_ticket/{path}", **headers)
        return response.status_code, response.content

    def items(username: str | None) -> set[str] | None:
        status, body = get(username, "items?f=json&limit=100")
        if status == 404:
            return None
        assert status == 200
        return {f["properties"]["konu"] for f in json.loads(body)["features"]}

    def tile(username: str) -> set[str]:
        found: set[str] = set()
        for lon, lat in ((30.512, 39.772), (30.532, 39.782)):  # the hall and the depot
            z = 15
            x = int((lon + 180) / 360 * 2**z)
            y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z)
            status, body = get(username, f"tiles/WebMercatorQuad/{z}/{y}/{x}")
            assert status == 200
            layers = mapbox_vector_tile.decode(body) if body else {}
            features = layers.get("helpdesk_ticket", {}).get("features", [])
            found |= {f["properties"]["konu"] for f in features}
        return found

    assert items(None) is None
    assert items("ayse") is None  # a department user: not even the collection
    # Written down (as in test_technicians_see_their_units_tickets_managers_see_all):
    # the technician's unit teknik_destek has PC, E-imza and Ağ, never the yazilim ticket.
    assert items("tekin") == {"PC", "E-imza", "Ağ"}
    assert tile("tekin") == {"PC", "E-imza", "Ağ"}
    assert items("yasin") == {"EBYS"} and tile("yasin") == {"EBYS"}
    assert items("mudur") == {"PC", "E-imza", "EBYS", "Ağ"}
    assert tile("mudur") == {"PC", "E-imza", "EBYS", "Ağ"}
    # Another unit's ticket does not exist for the technician, by id either.
    assert get("tekin", f"items/{tickets['zabita'].pk}?f=json")[0] == 404
    assert get("tekin", f"items/{tickets['mine'].pk}?f=json")[0] == 200
    # The same answer as the pages, whatever the rule: assigning changes both.
    services.assign_ticket(ticket=tickets["zabita"], technician=world.tech, by=world.developer)
    assert items("tekin") == {"PC", "E-imza", "Ağ", "EBYS"} == _numbers(world.tech)


def test_module_pages_are_guarded_by_the_core_from_the_declaration(world: World) -> None:
    """The roles a module declares guard its pages where they are served (gis_core.modules),
    whatever the view does; a declared page the module does not have fails loudly."""
    from dataclasses import replace

    from django.core.exceptions import ImproperlyConfigured, PermissionDenied
    from django.test import RequestFactory

    from gis_core.modules import MenuItem, Permission, discover, module_urls

    spec = next(s for s in discover() if s.code == "helpdesk")
    # Declare "new ticket" as technicians only: the unchanged view is now refused.
    guarded = replace(spec, menu_items=(MenuItem("helpdesk:ticket_new", "Yeni", "New",
                                                 ("technician",)),), permissions=())
    patterns = module_urls(guarded).url_patterns
    new_page = next(p for p in patterns if p.name == "ticket_new")
    request = RequestFactory().get("/helpdesk/new/")
    request.user = world.reporter
    with pytest.raises(PermissionDenied):
        new_page.callback(request)
    request.user = world.tech
    assert new_page.callback(request).status_code == 200
    request.user = AnonymousUser()
    assert new_page.callback(request).status_code == 302
    # A typo in a declaration must not leave the real page unguarded.
    typo = replace(spec, permissions=(Permission("x", "x", "x", ("manager",),
                                                 pages=("helpdesk:statistic",)),))
    with pytest.raises(ImproperlyConfigured, match="helpdesk:statistic"):
        module_urls(typo)
