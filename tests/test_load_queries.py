"""Query shape of the pages the load bench (bench/load.py) hits: a fixed number of queries
whatever the number of rows, and no join the page does not show."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from modules.helpdesk import services
from tests import test_helpdesk_support as support
from tests.people import signed_in
from tests.test_helpdesk_support import World

world = support.world


def _list_queries(client) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/helpdesk/")
    assert response.status_code == 200
    return [q["sql"] for q in queries.captured_queries]


@pytest.mark.django_db
def test_the_ticket_list_costs_the_same_queries_for_3_or_30_tickets(world: World) -> None:
    def open_some(count: int) -> None:
        for i in range(count):
            services.open_ticket(reporter=world.reporter, category="hardware_fault",
                                 title=f"Arıza {i}", asset=world.printer,
                                 building=world.hall)

    client = signed_in(world.manager)
    open_some(3)
    few = _list_queries(client)
    open_some(27)
    many = _list_queries(client)
    assert len(few) == len(many)
    page = next(sql for sql in many if "FROM \"helpdesk_ticket\"" in sql and "LIMIT" in sql)
    # The list shows the building and the responsible unit: two joins, not the seven of the
    # detail pages (reporter, departments, technician, asset, room, building), whose planning
    # cost ~55 ms per page.
    assert page.count(" JOIN ") == 2, page
    html = client.get("/helpdesk/").content.decode()
    assert "Arıza 26" in html and world.hall.name in html
