"""The helpdesk map flags buildings with tickets past their resolution due time, as the
lists do: a red outline, the count in the popup and tooltip, in words of the user's language."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from django.contrib.auth.models import User
from django.test import Client

from gis_core.demo import load_demo
from modules.helpdesk.demo import load_demo as load_helpdesk_demo
from modules.helpdesk.maps import OVERDUE_COLOUR
from modules.helpdesk.models import Ticket
from modules.helpdesk.selectors import overdue_condition
from modules.helpdesk.statistics import building_load


@pytest.mark.django_db
def test_buildings_with_past_due_tickets_are_flagged_on_the_helpdesk_map() -> None:
    load_demo(profile="odunpazari", modules=False, city=False)
    load_helpdesk_demo(tickets=80)
    expected = Counter(Ticket.objects.filter(overdue_condition(), building__isnull=False)
                       .values_list("building__code", flat=True))
    assert expected, "the demo has open tickets past their due time"
    manager = User.objects.get(username="bim.mudur")
    loads = building_load(user=manager)
    assert {load.code: load.overdue for load in loads if load.overdue} == dict(expected)
    client = Client()
    client.force_login(manager)
    html = client.get("/helpdesk/map/").content.decode()
    busiest = max(loads, key=lambda load: load.overdue)
    # The popup's line and the tooltip (JSON-escaped inside the page's script).
    assert json.dumps(f"Süresi geçmiş: {busiest.overdue}")[1:-1] in html
    assert f'"overdue": {busiest.overdue}' in html
    assert OVERDUE_COLOUR in html  # the red outline of the style function
    assert "Kırmızı çerçeve" in html  # the legend under the title
