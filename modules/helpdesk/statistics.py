"""Helpdesk statistics (istatistikî bilgi), aggregated in SQL.

Every figure is computed by PostgreSQL over the tickets the user may see (the
permission-aware queryset of :func:`~modules.helpdesk.selectors.visible_tickets`
becomes a sub-select), so a department user's statistics cover their own
tickets only.

Definitions
-----------
* time to resolve: ``resolved_at - opened_at`` of resolved (or closed) tickets, in hours;
* SLA compliance: resolved tickets resolved by ``resolution_due_at`` / resolved tickets;
* open: tickets neither resolved nor closed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection

from modules.helpdesk.choices import TicketCategoryChoices, TicketPriorityChoices
from modules.helpdesk.models import MaintenanceWorkItem, Ticket, VendorRepair, WorkLog
from modules.helpdesk.selectors import visible_tickets


def _tables() -> dict[str, str]:
    from django.contrib.auth import get_user_model

    from gis_core.models import Asset, Building, Department, Neighbourhood

    return {
        "ticket": Ticket._meta.db_table, "worklog": WorkLog._meta.db_table,
        "repair": VendorRepair._meta.db_table, "workitem": MaintenanceWorkItem._meta.db_table,
        "building": Building._meta.db_table, "neighbourhood": Neighbourhood._meta.db_table,
        "department": Department._meta.db_table, "asset": Asset._meta.db_table,
        "user": get_user_model()._meta.db_table,
    }


#: dimension -> (key SQL, label SQL, joins). Labels of choice codes are translated after.
DIMENSIONS: dict[str, tuple[str, str, str]] = {
    "building": ("b.code", "b.name", "LEFT JOIN {building} b ON b.id = t.building_id"),
    "neighbourhood": ("n.name", "n.name",
                      "LEFT JOIN {building} b ON b.id = t.building_id "
                      "LEFT JOIN {neighbourhood} n ON n.id = b.neighbourhood_id"),
    "department": ("d.code", "d.name", "JOIN {department} d ON d.id = t.reporter_department_id"),
    "unit": ("u.code", "u.name", "JOIN {department} u ON u.id = t.responsible_unit_id"),
    "category": ("t.category", "t.category", ""),
    "priority": ("t.priority", "t.priority", ""),
    "asset_model": ("a.brand || ' ' || a.model", "a.brand || ' ' || a.model",
                    "LEFT JOIN {asset} a ON a.id = t.asset_id"),
    "technician": ("us.username",
                   "COALESCE(NULLIF(TRIM(us.first_name || ' ' || us.last_name), ''), us.username)",
                   "LEFT JOIN {user} us ON us.id = t.technician_id"),
    "month": ("to_char(t.opened_at AT TIME ZONE %(tz)s, 'YYYY-MM')",
              "to_char(t.opened_at AT TIME ZONE %(tz)s, 'YYYY-MM')", ""),
}

DIMENSION_TITLES = {
    "building": ("Bina", "Building"), "neighbourhood": ("Mahalle", "Neighbourhood"),
    "department": ("Bildiren birim", "Reporting department"),
    "unit": ("Sorumlu birim", "Responsible unit"), "category": ("Kategori", "Category"),
    "priority": ("Öncelik", "Priority"), "asset_model": ("Cihaz modeli", "Asset model"),
    "technician": ("Teknisyen", "Technician"), "month": ("Ay", "Month"),
}

_CHOICE_LABELS = {"category": dict(TicketCategoryChoices.choices),
                  "priority": dict(TicketPriorityChoices.choices)}


@dataclass(frozen=True)
class StatRow:
    """Figures of one group (a building, a month, a technician ...)."""

    key: str | None
    label: str
    tickets: int
    open: int
    resolved: int
    sla_met: int
    mean_hours_to_resolve: float | None
    minutes_spent: int
    #: Tickets first answered (assigned or started) by their response due time.
    response_met: int = 0

    @property
    def sla_compliance(self) -> float | None:
        """Per cent of resolved tickets resolved within the SLA (None if none resolved)."""
        return None if not self.resolved else round(100.0 * self.sla_met / self.resolved, 1)


def _visible_subquery(user: Any) -> tuple[str, tuple[Any, ...]]:
    sql, params = visible_tickets(user=user).values("id").query.sql_with_params()
    return sql, tuple(params)


def _period(date_from: dt.date | None, date_to: dt.date | None) -> tuple[str, dict[str, Any]]:
    """``opened_at`` within [date_from, date_to] (local calendar days)."""
    clauses, params = [], {}
    if date_from is not None:
        clauses.append("(t.opened_at AT TIME ZONE %(tz)s)::date >= %(date_from)s")
        params["date_from"] = date_from
    if date_to is not None:
        clauses.append("(t.opened_at AT TIME ZONE %(tz)s)::date <= %(date_to)s")
        params["date_to"] = date_to
    return (" AND " + " AND ".join(clauses)) if clauses else "", params


def ticket_statistics(*, user: Any, by: str, date_from: dt.date | None = None,
                      date_to: dt.date | None = None) -> list[StatRow]:
    """Counts, mean time to resolve and SLA compliance grouped ``by`` a dimension.

    Parameters
    ----------
    user : User
        Only tickets this user may see are counted.
    by : str
        One of ``DIMENSIONS`` (building, neighbourhood, department, unit,
        category, priority, asset_model, technician, month).
    date_from, date_to : date, optional
        Tickets opened on these local days (inclusive).

    Examples
    --------
    >>> rows = ticket_statistics(user=admin, by="building")  # doctest: +SKIP
    >>> rows[0].label, rows[0].tickets, rows[0].sla_compliance  # doctest: +SKIP
    ('Belediye Hizmet Binası', 412, 87.5)
    """
    if by not in DIMENSIONS:
        from modules.helpdesk.errors import HelpdeskError

        raise HelpdeskError("HELPDESK_BAD_DIMENSION",
                            "Statistics cannot be grouped by '{by}' (allowed: {allowed}).",
                            by=by, allowed=", ".join(DIMENSIONS))
    key_sql, label_sql, joins = DIMENSIONS[by]
    tables = _tables()
    visible_sql, visible_params = _visible_subquery(user)
    period_sql, period_params = _period(date_from, date_to)
    named = {"tz": settings.TIME_ZONE, **period_params}
    # Named parameters for our clauses; the visibility sub-select brings positional ones,
    # so it is inlined with mogrify first.
    with connection.cursor() as cursor:
        visible = cursor.mogrify(visible_sql, visible_params).decode()
        sql = f"""
            SELECT {key_sql} AS key, {label_sql} AS label,
                   count(*) AS tickets,
                   count(*) FILTER (WHERE t.status NOT IN ('resolved', 'closed')) AS open,
                   count(t.resolved_at) AS resolved,
                   count(*) FILTER (WHERE t.resolved_at <= t.resolution_due_at) AS sla_met,
                   avg(EXTRACT(EPOCH FROM t.resolved_at - t.opened_at) / 3600.0) AS mean_hours,
                   COALESCE(sum(w.minutes), 0) AS minutes,
                   count(*) FILTER (WHERE COALESCE(t.assigned_at, t.started_at, t.resolved_at)
                                    <= t.response_due_at) AS response_met
            FROM {tables['ticket']} t
            LEFT JOIN (SELECT ticket_id, sum(minutes) AS minutes FROM {tables['worklog']}
                       GROUP BY ticket_id) w ON w.ticket_id = t.id
            {joins.format(**tables)}
            WHERE t.id IN ({visible.replace('%', '%%')}) {period_sql}
            GROUP BY 1, 2
            ORDER BY {'1' if by == 'month' else '3 DESC, 2'}
        """  # noqa: S608 (fixed fragments; values bound or escaped)
        cursor.execute(sql, named)
        rows = cursor.fetchall()
    labels = _CHOICE_LABELS.get(by, {})
    return [
        StatRow(key=key, label=str(labels.get(label, label) if label is not None else "—"),
                tickets=tickets, open=open_, resolved=resolved, sla_met=sla_met,
                mean_hours_to_resolve=None if mean is None else round(float(mean), 2),
                minutes_spent=int(minutes), response_met=response_met)
        for key, label, tickets, open_, resolved, sla_met, mean, minutes, response_met in rows
    ]


def fill_months(rows: list[StatRow], first: dt.date, last: dt.date) -> list[StatRow]:
    """``rows`` grouped by month with every month from ``first`` to ``last`` present: a month
    without tickets is a row of zeros (so the table and its chart show the same 0).

    Examples
    --------
    >>> [r.key for r in fill_months([], dt.date(2026, 11, 5), dt.date(2027, 1, 1))]
    ['2026-11', '2026-12', '2027-01']
    """
    by_key = {row.key: row for row in rows}
    year, month, out = first.year, first.month, []
    while (year, month) <= (last.year, last.month):
        key = f"{year:04d}-{month:02d}"
        out.append(by_key.get(key) or StatRow(key=key, label=key, tickets=0, open=0,
                                               resolved=0, sla_met=0,
                                               mean_hours_to_resolve=None, minutes_spent=0))
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    return out


def totals(*, user: Any, date_from: dt.date | None = None,
           date_to: dt.date | None = None) -> StatRow:
    """The same figures over all visible tickets of the period (one row)."""
    tables = _tables()
    visible_sql, visible_params = _visible_subquery(user)
    period_sql, period_params = _period(date_from, date_to)
    with connection.cursor() as cursor:
        visible = cursor.mogrify(visible_sql, visible_params).decode()
        cursor.execute(f"""
            SELECT count(*), count(*) FILTER (WHERE t.status NOT IN ('resolved', 'closed')),
                   count(t.resolved_at),
                   count(*) FILTER (WHERE t.resolved_at <= t.resolution_due_at),
                   avg(EXTRACT(EPOCH FROM t.resolved_at - t.opened_at) / 3600.0),
                   COALESCE((SELECT sum(minutes) FROM {tables['worklog']} wl
                             WHERE wl.ticket_id IN (SELECT t.id FROM {tables['ticket']} t
                                                    WHERE t.id IN ({visible.replace('%', '%%')})
                                                    {period_sql})), 0)
            FROM {tables['ticket']} t
            WHERE t.id IN ({visible.replace('%', '%%')}) {period_sql}
        """, {"tz": settings.TIME_ZONE, **period_params})  # noqa: S608 (fixed fragments; values bound or escaped)
        tickets, open_, resolved, sla_met, mean, minutes = cursor.fetchone()
    return StatRow(key=None, label="Toplam", tickets=tickets, open=open_, resolved=resolved,
                   sla_met=sla_met,
                   mean_hours_to_resolve=None if mean is None else round(float(mean), 2),
                   minutes_spent=int(minutes))


@dataclass(frozen=True)
class BuildingLoad:
    building_id: int
    code: str
    name: str
    tickets: int
    open: int
    geojson: str
    #: Open tickets past their resolution due time (flagged on the map).
    overdue: int = 0


def building_load(*, user: Any, date_from: dt.date | None = None,
                  date_to: dt.date | None = None) -> list[BuildingLoad]:
    """Every building with a footprint and the number of visible tickets on it (WGS84 GeoJSON)."""
    tables = _tables()
    visible_sql, visible_params = _visible_subquery(user)
    period_sql, period_params = _period(date_from, date_to)
    with connection.cursor() as cursor:
        visible = cursor.mogrify(visible_sql, visible_params).decode()
        cursor.execute(f"""
            SELECT b.id, b.code, b.name, COALESCE(c.tickets, 0), COALESCE(c.open, 0),
                   ST_AsGeoJSON(ST_Transform(b.footprint, 4326), 7), COALESCE(c.overdue, 0)
            FROM {tables['building']} b
            LEFT JOIN (
                SELECT t.building_id, count(*) AS tickets,
                       count(*) FILTER (WHERE t.status NOT IN ('resolved', 'closed')) AS open,
                       count(*) FILTER (WHERE t.status NOT IN ('resolved', 'closed')
                                        AND t.resolution_due_at < now()) AS overdue
                FROM {tables['ticket']} t
                WHERE t.id IN ({visible.replace('%', '%%')}) {period_sql}
                GROUP BY t.building_id) c ON c.building_id = b.id
            WHERE b.footprint IS NOT NULL
            ORDER BY b.code
        """, {"tz": settings.TIME_ZONE, **period_params})  # noqa: S608 (fixed fragments; values bound or escaped)
        return [BuildingLoad(*row) for row in cursor.fetchall()]


def activity_report(*, user: Any, year: int) -> dict[str, Any]:
    """The yearly figures of the faaliyet raporu (annual activity report).

    Returns totals, rows by category, unit and month, vendor and warranty
    repairs (count, cost), maintenance work items (due, done), scrapping
    proposals, reopened tickets and hours worked.
    """
    date_from, date_to = dt.date(year, 1, 1), dt.date(year, 12, 31)
    tables = _tables()
    visible_sql, visible_params = _visible_subquery(user)
    with connection.cursor() as cursor:
        visible = cursor.mogrify(visible_sql, visible_params).decode().replace("%", "%%")
        params = {"tz": settings.TIME_ZONE, "y": year}
        cursor.execute(f"""
            SELECT r.kind, count(*), COALESCE(sum(r.cost), 0)
            FROM {tables['repair']} r
            WHERE r.ticket_id IN ({visible})
              AND EXTRACT(YEAR FROM r.sent_at AT TIME ZONE %(tz)s) = %(y)s
            GROUP BY r.kind ORDER BY r.kind
        """, params)  # noqa: S608 (fixed fragments; values bound or escaped)
        repairs = {kind: {"count": count, "cost": Decimal(cost)}
                   for kind, count, cost in cursor.fetchall()}
        cursor.execute(f"""
            SELECT count(*) FILTER (WHERE t.outcome = 'scrapping_proposed'),
                   count(*) FILTER (WHERE t.reopen_count > 0)
            FROM {tables['ticket']} t
            WHERE t.id IN ({visible}) AND EXTRACT(YEAR FROM t.opened_at AT TIME ZONE %(tz)s) = %(y)s
        """, params)  # noqa: S608 (fixed fragments; values bound or escaped)
        scrapping, reopened = cursor.fetchone()
        cursor.execute(f"""
            SELECT count(*), count(done_at) FROM {tables['workitem']}
            WHERE EXTRACT(YEAR FROM due_on) = %(y)s
        """, params)  # noqa: S608 (fixed fragments; values bound or escaped)
        maintenance_due, maintenance_done = cursor.fetchone()
    total = totals(user=user, date_from=date_from, date_to=date_to)
    return {
        "year": year,
        "totals": total,
        "hours_spent": round(total.minutes_spent / 60, 1),
        "by_category": ticket_statistics(user=user, by="category", date_from=date_from,
                                         date_to=date_to),
        "by_unit": ticket_statistics(user=user, by="unit", date_from=date_from, date_to=date_to),
        "by_month": fill_months(ticket_statistics(user=user, by="month", date_from=date_from,
                                                  date_to=date_to), date_from, date_to),
        "repairs": repairs,
        "scrapping_proposals": scrapping,
        "reopened": reopened,
        "maintenance_due": maintenance_due,
        "maintenance_done": maintenance_done,
    }
