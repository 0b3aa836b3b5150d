"""The helpdesk's figures on the manager dashboard (declared in ``kentcbs.py``).

* open tickets by responsible unit;
* the share of open tickets past their resolution due time (past SLA);
* mean time to resolve by month over the last twelve months, every month shown (a month
  without a resolved ticket is 0, in the table and the chart alike).

Every figure counts the tickets the user may see (``selectors.visible_tickets``) and links
to the ticket list filtered the same way.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Avg, Count, F
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import get_language

from gis_core.modules import DashboardFigure
from modules.helpdesk.choices import OPEN_STATUSES, RESPONSIBLE_UNITS
from modules.helpdesk.selectors import overdue_condition, visible_tickets

#: Months of the time-to-resolve series (the current one included).
MONTHS = 12


def last_months(today: dt.date, count: int = MONTHS) -> list[dt.date]:
    """The first days of the ``count`` months up to ``today``'s, oldest first.

    Examples
    --------
    >>> [d.isoformat() for d in last_months(dt.date(2026, 2, 15), 3)]
    ['2025-12-01', '2026-01-01', '2026-02-01']
    """
    year, month = today.year, today.month
    months = []
    for _ in range(count):
        months.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def figures(*, user: Any, now: dt.datetime | None = None) -> list[DashboardFigure]:
    """The helpdesk's dashboard figures for ``user`` (none for a user who sees no ticket)."""
    from gis_core.models import Department

    now = now or timezone.now()
    english = (get_language() or "tr").startswith("en")
    tickets = visible_tickets(user=user)
    listing = reverse("helpdesk:ticket_list")
    open_tickets = tickets.filter(status__in=OPEN_STATUSES)
    by_unit = dict(open_tickets.values_list("responsible_unit__code")
                   .annotate(n=Count("id")).values_list("responsible_unit__code", "n"))
    names = {d.code: (d.name_en if english and d.name_en else d.name)
             for d in Department.objects.filter(code__in=RESPONSIBLE_UNITS)}
    unit_rows = tuple((names.get(code, code), float(by_unit.get(code, 0)),
                       f"{listing}?status=open&unit={code}") for code in RESPONSIBLE_UNITS)
    open_count = sum(by_unit.values())
    overdue = open_tickets.filter(overdue_condition(now)).count()
    share = round(100.0 * overdue / open_count, 1) if open_count else 0.0

    months = last_months(timezone.localtime(now).date())
    resolved = (tickets.filter(resolved_at__isnull=False, resolved_at__date__gte=months[0])
                .annotate(month=TruncMonth("resolved_at"))
                .values("month").annotate(hours=Avg(F("resolved_at") - F("opened_at")))
                .values_list("month", "hours"))
    by_month = {month.date() if hasattr(month, "date") else month: hours
                for month, hours in resolved}
    month_rows = tuple(
        (first.strftime("%Y-%m"),
         round(by_month[first].total_seconds() / 3600, 1) if by_month.get(first) else 0.0,
         f"{listing}?resolved={first:%Y-%m}")
        for first in months)
    return [
        DashboardFigure(
            "helpdesk_open_by_unit", "Birime göre açık talepler", "Open tickets by unit",
            value=str(open_count), url=f"{listing}?status=open", rows=unit_rows,
            unit_tr="talep", unit_en="tickets"),
        DashboardFigure(
            "helpdesk_past_sla", "SLA süresi geçmiş açık talepler", "Open tickets past SLA",
            value=f"{number_format(share if share != int(share) else int(share))} %",
            url=f"{listing}?queue=overdue",
            rows=((("Süresi geçmiş" if not english else "Past due"), float(overdue),
                   f"{listing}?queue=overdue"),
                  (("Süresi içinde" if not english else "Within SLA"),
                   float(open_count - overdue), f"{listing}?status=open")),
            unit_tr="talep", unit_en="tickets",
            note_tr="Çözüm son tarihi geçmiş açık talepler / tüm açık talepler.",
            note_en="Open tickets past their resolution due time / all open tickets."),
        DashboardFigure(
            "helpdesk_time_to_resolve", "Aylara göre ortalama çözüm süresi",
            "Mean time to resolve by month", rows=month_rows, chart="column",
            unit_tr="saat", unit_en="hours",
            note_tr="Çözüldüğü aya göre; çözülen talep olmayan ay 0 gösterilir.",
            note_en="By month of resolution; a month without a resolved ticket shows 0."),
    ]
