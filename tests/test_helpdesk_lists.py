"""The helpdesk people can work in: queues, Turkish-aware search, paging, past-due flags,
only the steps a ticket's state allows, the asset picker, and the map's centre."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.utils import timezone

from modules.helpdesk import services
from modules.helpdesk.selectors import (
    QUEUES,
    queue_counts,
    queue_tickets,
    search_tickets,
    visible_tickets,
)
from tests import test_helpdesk_support as support
from tests.test_helpdesk_support import World

world = support.world


@pytest.fixture
def tickets(world: World) -> dict:
    old = timezone.now() - dt.timedelta(days=30)
    late = services.open_ticket(reporter=world.reporter, category="hardware_fault",
                                title="Yazıcı çalışmıyor", asset=world.printer, opened_at=old)
    fresh = services.open_ticket(reporter=world.outsider, category="network",
                                 title="ZABITA binasında internet yok", building=world.hall)
    mine = services.open_ticket(reporter=world.reporter, category="other", title="Istasyon",
                                building=world.depot, opened_at=old)
    services.assign_ticket(ticket=mine, technician=world.tech, by=world.tech)
    services.resolve_ticket(ticket=mine, by=world.tech, outcome="fulfilled")
    return {"late": late, "fresh": fresh, "mine": mine}


def test_queues(world: World, tickets: dict) -> None:
    def numbers(user, queue):
        return {t.number for t in queue_tickets(user=user, queue=queue)}

    late, fresh, mine = tickets["late"].number, tickets["fresh"].number, tickets["mine"].number
    assert numbers(world.tech, "overdue") == {late}  # open and past due (resolved is not)
    assert numbers(world.tech, "mine") == {mine}
    assert numbers(world.tech, "unassigned") == {late}  # the network ticket is not its unit's
    assert numbers(world.manager, "unassigned") == {late, fresh}
    assert numbers(world.reporter, "unit") == {late, mine}  # a department's own tickets
    assert numbers(world.outsider, "all") == {fresh}
    # the tabs' counts (one query for all queues) are the queues' own lengths, for everyone
    for user in (world.tech, world.manager, world.reporter, world.outsider):
        assert queue_counts(user=user) == {
            queue: len(numbers(user, queue)) for queue in QUEUES}


@pytest.mark.parametrize("text", ["zabıta", "ZABITA", "Zabıta", "zabita binasinda"])
def test_search_folds_turkish_case(world: World, tickets: dict, text: str) -> None:
    found = search_tickets(visible_tickets(user=world.manager), text)
    assert [t.number for t in found] == [tickets["fresh"].number]


def test_search_by_number_building_and_inventory_number(world: World, tickets: dict) -> None:
    every = visible_tickets(user=world.manager)
    assert {t.pk for t in search_tickets(every, "istasyon")} == {tickets["mine"].pk}
    assert {t.pk for t in search_tickets(every, "db-0002")} == {tickets["late"].pk}
    assert {t.pk for t in search_tickets(every, "şantiye")} == {tickets["mine"].pk,
                                                               tickets["late"].pk}
    number = tickets["fresh"].number
    assert {t.pk for t in search_tickets(every, number[-4:])} >= {tickets["fresh"].pk}


def test_only_the_steps_the_state_allows(world: World, tickets: dict) -> None:
    late, mine = tickets["late"], tickets["mine"]
    # A new ticket cannot wait yet (the lifecycle: new -> assigned / in progress / resolved).
    assert services.available_actions(ticket=late, user=world.tech) == [
        "assign", "start", "resolve", "log_time", "comment"]
    # The reporter of a new ticket may only comment; of a resolved one also close or reopen.
    assert services.available_actions(ticket=late, user=world.reporter) == ["comment"]
    assert services.available_actions(ticket=mine, user=world.reporter) == [
        "close", "reopen", "comment"]
    services.start_work(ticket=late, by=world.tech)
    assert services.available_actions(ticket=late, user=world.tech) == [
        "assign", "wait", "vendor", "resolve", "log_time", "comment"]
    services.send_for_repair(ticket=late, kind="vendor", vendor_name="Firma", by=world.tech)
    assert services.available_actions(ticket=late, user=world.tech) == [
        "start", "vendor_return", "resolve", "log_time", "comment"]


def test_pages_list_flag_and_offer(world: World, tickets: dict, client) -> None:
    client.force_login(world.tech)
    html = client.get("/helpdesk/", {"queue": "overdue"}).content.decode()
    assert tickets["late"].number in html and 'class="overdue"' in html
    assert tickets["mine"].number not in html
    page = client.get("/helpdesk/", {"q": "YAZICI", "sort": "-due", "page": "x"})
    assert tickets["late"].number in page.content.decode()
    # a filtered list counts itself; the unfiltered one is its tab (the tab's count)
    assert "1 kayıttan 1–1" in page.content.decode()
    assert "2 kayıttan 1–2" in client.get("/helpdesk/").content.decode()
    detail = client.get(f"/helpdesk/tickets/{tickets['late'].pk}/").content.decode()
    assert 'id="ticket-overdue"' in detail
    assert 'data-action="start"' in detail and 'data-action="close"' not in detail
    # Paging: 25 a page, the rest on page 2.
    for index in range(30):
        services.open_ticket(reporter=world.reporter, category="other", title=f"T{index}",
                             building=world.hall)
    second = client.get("/helpdesk/", {"page": "2"}).content.decode()
    assert second.count('data-number="') == 32 - 25  # the network ticket is not its unit's


def test_list_rows_escape_and_show_words_and_local_times(world: World, tickets: dict,
                                                         client) -> None:
    """The rows (``helpdesk_list.ticket_rows``, built with format_html): a title is text,
    never markup; labels are words; times are local (Istanbul), as the date filter wrote them."""
    odd = services.open_ticket(reporter=world.reporter, category="consumables",
                               title='<b>Yazıcı & "toner"</b>', building=world.depot)
    client.force_login(world.tech)
    html = client.get("/helpdesk/").content.decode()
    assert "&lt;b&gt;Yazıcı &amp; &quot;toner&quot;&lt;/b&gt;" in html
    assert "<b>Yazıcı" not in html
    row = html[html.index(f'data-number="{odd.number}"'):]
    row = row[:row.index("</tr>")]
    assert "<td>Sarf malzemesi</td>" in row and "consumables" not in row
    assert f'href="/helpdesk/tickets/{odd.pk}/"' in row
    assert timezone.localtime(odd.opened_at).strftime("%d.%m.%Y %H:%M") in row
    at = html.index(f'data-number="{tickets["late"].number}"')
    late = html[html.rindex("<tr", 0, at):html.index("</tr>", at)]
    assert 'class="overdue"' in late and "Süresi geçmiş" in late and "nowrap error" in late


def test_ticket_form_shows_its_error_once(world: World, client) -> None:
    client.force_login(world.reporter)
    response = client.post(f"/helpdesk/new/?building={world.depot.pk}", {
        "category": "hardware_fault", "priority": "normal", "title": "Yazıcı",
        "inventory_number": "YOK-999", "building": world.depot.pk})
    html = response.content.decode()
    assert html.count("envanterde kayıtlı değil") == 1


def test_asset_picker(world: World, client) -> None:
    client.force_login(world.tech)  # IT staff read the asset and building layers
    found = client.get("/helpdesk/pick.json", {"q": "db-000"}).json()["results"]
    assert [r["label"] for r in found if r["kind"] == "asset"] == ["DB-0001", "DB-0002"]
    assert not any(r["label"] == "DB-0003" for r in found)  # scrapped: cannot be repaired
    pc = next(r for r in found if r["label"] == "DB-0001")
    assert pc["building"] == world.hall.pk and pc["room"] == world.room.pk
    rooms = client.get("/helpdesk/pick.json", {"q": "fen işleri ofisi"}).json()["results"]
    assert [(r["kind"], r["room"]) for r in rooms] == [("room", world.room.pk)]
    places = client.get("/helpdesk/pick.json", {"q": "ŞANTİYE"}).json()["results"]
    assert [(r["kind"], r["building"]) for r in places] == [("building", world.depot.pk)]
    assert client.get("/helpdesk/pick.json", {"q": "d"}).json()["results"] == []
    client.force_login(world.outsider)  # a zabıta viewer: not the fen_isleri devices
    assert client.get("/helpdesk/pick.json", {"q": "db-000"}).json()["results"] == []


def test_map_centre_comes_from_the_boundary_in_the_east(world: World) -> None:
    """Van (43.4° E, 38.5° N): the longitude is the larger number, and it stays longitude."""
    from django.conf import settings

    from gis_core.models import Municipality
    from modules.helpdesk.views import _centre

    ring = ((43.30, 38.45), (43.50, 38.45), (43.50, 38.55), (43.30, 38.55), (43.30, 38.45))
    boundary = MultiPolygon(Polygon(ring), srid=4326)
    boundary.transform(settings.KENTCBS_SRID)
    Municipality.objects.update_or_create(code=settings.KENTCBS_PROFILE, defaults={
        "name": "Van", "province": "Van", "srid": settings.KENTCBS_SRID, "boundary": boundary})
    lon, lat = _centre()  # longitude first, as gis_core.maps.municipality_centre
    assert 38.45 < lat < 38.55 and 43.30 < lon < 43.50


def test_one_language_at_a_time(world: World, tickets: dict, client) -> None:
    """Words, not codes, and never "Türkçe English" glued: each page in the chosen language."""
    from django.conf import settings

    late = tickets["late"]
    client.force_login(world.colleague)  # fen_isleri data entry
    turkish = client.get(f"/helpdesk/tickets/{late.pk}/").content.decode()
    assert "Donanım arızası" in turkish and "Hardware fault" not in turkish
    home = client.get("/").content.decode()
    assert "Veri girişi" in home and "data_entry" not in home
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get(f"/helpdesk/tickets/{late.pk}/").content.decode()
    assert "Hardware fault" in english and "Donanım arızası" not in english
    assert ">New<" in english and "Yeni" not in english
    assert "Directorate of Technical Works" in english  # the reporting department, in English
    home = client.get("/").content.decode()
    assert "Data entry" in home and "data_entry" not in home and "Veri girişi" not in home
    listing = client.get("/helpdesk/").content.decode()
    assert "Past due" in listing and "Süresi geçmiş" not in listing
