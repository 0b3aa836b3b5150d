"""Permission-aware reads of tickets.

Who sees which ticket:

* superusers, managers (``manager`` role) and IT administrators (``gis_admin``
  in the IT directorate) see every ticket;
* technicians (``technician`` or ``network_admin`` membership in a unit) see the
  tickets their unit is responsible for and the tickets assigned to them;
* every other user sees the tickets they reported and the tickets reported by
  the departments they are a member of.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from modules.helpdesk.models import Ticket

#: Roles whose members work on the tickets of their unit.
WORKER_ROLES = frozenset({"technician", "network_admin"})
#: The IT directorate and its units (gis_core's shipped departments).
IT_DEPARTMENTS = frozenset({"bilgi_islem", "teknik_destek", "ag_yonetimi", "yazilim", "cbs",
                            "idari_mali"})


#: Reader for whole-municipality reports run by the system (commands), never by a request.
SYSTEM_READER = object()


@dataclass(frozen=True)
class HelpdeskAccess:
    """What a user may see and do in the helpdesk."""

    user_id: int | None
    sees_all: bool
    #: Departments the user is directly a member of.
    departments: frozenset[str]
    #: Units whose tickets the user works on.
    work_units: frozenset[str]

    @property
    def is_staff(self) -> bool:
        """IT staff: sees everything or works on a unit's tickets."""
        return self.sees_all or bool(self.work_units)


def helpdesk_access(user: Any) -> HelpdeskAccess:
    """The helpdesk view of ``user``'s memberships and roles."""
    from gis_core.selectors import user_access

    if user is SYSTEM_READER:
        return HelpdeskAccess(None, True, frozenset(), frozenset())
    access = user_access(user)
    if not access.is_authenticated:
        return HelpdeskAccess(None, False, frozenset(), frozenset())
    rows = access.memberships
    sees_all = (access.is_superuser or "manager" in access.roles
                or any(role == "gis_admin" and code in IT_DEPARTMENTS for code, role in rows))
    return HelpdeskAccess(
        user_id=user.pk,
        sees_all=sees_all,
        departments=frozenset(code for code, _role in rows),
        work_units=frozenset(code for code, role in rows if role in WORKER_ROLES),
    )


def visible_tickets(*, user: Any) -> QuerySet[Ticket]:
    """Tickets ``user`` may see (empty for anonymous users).

    Examples
    --------
    >>> visible_tickets(user=request.user).filter(status="new")  # doctest: +SKIP
    """
    access = helpdesk_access(user)
    tickets = Ticket.objects.select_related(
        "reporter", "reporter_department", "responsible_unit", "technician", "asset",
        "room", "building")
    if access.sees_all:
        return tickets
    if access.user_id is None:
        return tickets.none()
    condition = (Q(reporter_id=access.user_id) | Q(technician_id=access.user_id)
                 | Q(reporter_department__code__in=access.departments)
                 | Q(responsible_unit__code__in=access.work_units))
    return tickets.filter(condition)


def can_work_on(*, user: Any, ticket: Ticket) -> bool:
    """May ``user`` assign, progress, resolve or close ``ticket``?"""
    access = helpdesk_access(user)
    return (access.sees_all and access.user_id is not None) or (
        access.user_id is not None
        and (ticket.technician_id == access.user_id
             or ticket.responsible_unit.code in access.work_units))


def can_see(*, user: Any, ticket: Ticket) -> bool:
    return visible_tickets(user=user).filter(pk=ticket.pk).exists()


def technicians_of(*, unit_code: str) -> QuerySet[Any]:
    """Users who work on ``unit_code``'s tickets."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(
        memberships__department__code=unit_code, memberships__role__in=WORKER_ROLES
    ).distinct().order_by("username")


# -- lists: queues, filters, search -------------------------------------------------------
#: Queues of the ticket list, in the order of its tabs.
QUEUES = ("all", "mine", "unit", "unassigned", "overdue")


def overdue_condition(now: Any = None) -> Q:
    """Open tickets whose resolution due time has passed (past SLA)."""
    from django.utils import timezone

    from modules.helpdesk.choices import OPEN_STATUSES

    return Q(status__in=OPEN_STATUSES, resolution_due_at__lt=now or timezone.now())


def with_overdue(tickets: QuerySet[Ticket], now: Any = None) -> QuerySet[Ticket]:
    """``tickets`` annotated with ``overdue`` (bool), for the lists' flag."""
    from django.db.models import BooleanField, Case, Value, When

    return tickets.annotate(overdue=Case(When(overdue_condition(now), then=Value(True)),
                                         default=Value(False), output_field=BooleanField()))


def queue_condition(*, user: Any, queue: str, now: Any = None) -> Q:
    """The condition of one queue of ``user`` over the visible tickets.

    ``mine``: assigned to or reported by the user; ``unit``: the user's units' tickets
    (the units they work for, else the departments they belong to); ``unassigned``: open
    tickets without a technician; ``overdue``: open tickets past their resolution due time;
    anything else: every visible ticket.
    """
    from modules.helpdesk.choices import OPEN_STATUSES

    access = helpdesk_access(user)
    if queue == "mine":
        return Q(technician_id=access.user_id) | Q(reporter_id=access.user_id)
    if queue == "unit":
        if access.work_units:
            return Q(responsible_unit__code__in=access.work_units)
        return Q(reporter_department__code__in=access.departments)
    if queue == "unassigned":
        return Q(technician__isnull=True, status__in=OPEN_STATUSES)
    if queue == "overdue":
        return overdue_condition(now)
    return Q()


def queue_tickets(*, user: Any, queue: str, now: Any = None) -> QuerySet[Ticket]:
    """The visible tickets of one queue of ``user`` (:func:`queue_condition`)."""
    return visible_tickets(user=user).filter(queue_condition(user=user, queue=queue, now=now))


def queue_counts(*, user: Any, now: Any = None) -> dict[str, int]:
    """How many visible tickets each queue of ``user`` holds, in one query (the list's tabs)."""
    from django.db.models import Count

    counts = visible_tickets(user=user).select_related(None).aggregate(**{
        queue: Count("pk", filter=queue_condition(user=user, queue=queue, now=now) or None)
        for queue in QUEUES})
    return {queue: int(counts[queue] or 0) for queue in QUEUES}


def turkish_upper(text: str) -> str:
    """Upper case by Turkish rules: ``i`` → ``İ``, ``ı`` → ``I`` (Python's ``upper`` maps both
    to ``I``).

    Examples
    --------
    >>> turkish_upper("zabıta binası")
    'ZABITA BİNASI'
    """
    return text.replace("i", "İ").replace("ı", "I").upper()


def search_key(text: str) -> str:
    """The form both sides of a search are compared in: Turkish upper case, then dotted and
    dotless I made one letter, since people type "zabita" for "Zabıta" and "istasyon" for
    "Istasyon".

    Examples
    --------
    >>> search_key("zabita") == search_key("ZABITA") == search_key("Zabıta")
    True
    """
    return turkish_upper(text).replace("İ", "I")


def search_expression(field: str) -> Any:
    """SQL twin of :func:`search_key` for a column: upper case in the ICU Turkish collation,
    then İ → I."""
    from django.db.models import Value
    from django.db.models.functions import Collate, Replace, Upper

    from gis_core.models.base import TURKISH

    return Replace(Upper(Collate(field, TURKISH)), Value("İ"), Value("I"))


def search_tickets(tickets: QuerySet[Ticket], text: str) -> QuerySet[Ticket]:
    """Tickets whose number, title, building name or asset inventory number contains ``text``.

    Both sides are compared by :func:`search_key` (Turkish case folding, dotted and dotless
    I as one), so "zabita", "zabıta", "ZABITA" and "Zabıta" find the same tickets.
    """
    text = text.replace("\x00", "").strip()[:100]
    if not text:
        return tickets
    needle = search_key(text)
    fields = {"s_number": "number", "s_title": "title", "s_building": "building__name",
              "s_inventory": "asset__inventory_number"}
    tickets = tickets.annotate(**{alias: search_expression(field)
                                  for alias, field in fields.items()})
    condition = Q()
    for alias in fields:
        condition |= Q(**{f"{alias}__contains": needle})
    return tickets.filter(condition)
