"""The helpdesk's demo year, written in bulk: the same lifecycle as the services, few
statements, one history row per step dated at the step (``modules.helpdesk.demo``)."""

from __future__ import annotations

import datetime as dt
import itertools

from django.db import connection
from django.test.utils import CaptureQueriesContext

from modules.helpdesk.demo import DAYS, START, load_demo
from modules.helpdesk.models import Ticket, VendorRepair, WorkLog
from modules.helpdesk.services import ALLOWED
from tests import test_helpdesk_support as support
from tests.test_helpdesk_support import World

world = support.world
TICKETS = 120


def test_the_demo_year_is_written_in_few_statements_with_a_dated_history(world: World) -> None:
    with CaptureQueriesContext(connection) as queries:
        counts = load_demo(tickets=TICKETS)
    assert counts["created"] == TICKETS == Ticket.objects.count()
    # The services write ~30 statements per ticket; the demo's are its assets' transitions
    # (through the core's service) and a few bulk INSERTs.
    assert len(queries.captured_queries) < 8 * TICKETS, len(queries.captured_queries)

    end = START + dt.timedelta(days=DAYS)
    steps = 0
    for ticket in Ticket.objects.order_by("pk"):
        history = list(ticket.history.order_by("history_date"))
        steps += len(history)
        # Opened first, as new; every next step an allowed move, later than the one before,
        # within the demo year; the last step is the ticket as stored.
        assert (history[0].history_type, history[0].status) == ("+", "new"), ticket.number
        assert history[0].history_date == ticket.opened_at
        for before, after in itertools.pairwise(history):
            assert after.status in ALLOWED[before.status], (ticket.number, before.status,
                                                            after.status)
            assert before.history_date < after.history_date < end
        last = history[-1]
        assert (last.status, last.technician_id, last.resolved_at, last.closed_at) == (
            ticket.status, ticket.technician_id, ticket.resolved_at, ticket.closed_at)
        assert all(h.history_user_id is not None for h in history)
    assert steps > 3 * TICKETS
    # Work is logged by the ticket's technician; a repair returned is in its history twice.
    assert not WorkLog.objects.exclude(technician_id__in=Ticket.objects.values(
        "technician_id")).exists()
    for repair in VendorRepair.objects.all():
        assert repair.history.count() == (2 if repair.returned_at else 1)
