"""Helpdesk writes: opening tickets, the lifecycle, repairs, maintenance work items.

Lifecycle (``ALLOWED``)::

    new -> assigned -> in_progress -> waiting (vendor, warranty, parts) -> resolved -> closed
                                   <-         (back to work)
    resolved / closed -> reopen -> in_progress (or assigned / new)

A repair ticket (category ``hardware_fault``) needs a registered asset. While a
repair ticket is open its asset is in repair (internal, vendor or warranty, via
``gis_core.services``); closing the ticket returns the asset to service unless
the ticket ended in a scrapping proposal.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from modules.helpdesk.choices import (
    DEFAULT_UNIT,
    OPEN_STATUSES,
    REPAIR_CATEGORIES,
    RESPONSIBLE_UNITS,
    TicketOutcomeChoices,
    TicketStatusChoices,
    WaitingReasonChoices,
)
from modules.helpdesk.errors import (
    AssetNotRegisteredError,
    HelpdeskError,
    HelpdeskPermissionError,
    TransitionError,
)
from modules.helpdesk.models import (
    MaintenancePlan,
    MaintenanceWorkItem,
    SlaTarget,
    Ticket,
    TicketComment,
    VendorRepair,
    WorkLog,
)
from modules.helpdesk.selectors import can_see, can_work_on

S = TicketStatusChoices
ALLOWED: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.RESOLVED}),
    S.ASSIGNED: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.WAITING, S.RESOLVED}),
    S.IN_PROGRESS: frozenset({S.ASSIGNED, S.WAITING, S.RESOLVED}),
    S.WAITING: frozenset({S.IN_PROGRESS, S.RESOLVED}),
    S.RESOLVED: frozenset({S.CLOSED, S.IN_PROGRESS}),
    S.CLOSED: frozenset({S.IN_PROGRESS}),
}

#: Asset status while a repair ticket waits for a vendor or a warranty repair.
REPAIR_STATUS = {
    None: "in_repair_internal",
    WaitingReasonChoices.VENDOR: "in_repair_vendor",
    WaitingReasonChoices.WARRANTY: "in_repair_warranty",
}
IN_SERVICE = "in_service"
SCRAPPED = "scrapped"


# -- helpers ----------------------------------------------------------------
def _now(at: dt.datetime | None) -> dt.datetime:
    return at or timezone.now()


def _move(ticket: Ticket, target: str) -> None:
    if target not in ALLOWED.get(ticket.status, frozenset()):
        raise TransitionError(ticket.number, ticket.status, target)
    ticket.status = target


def _save(ticket: Ticket, by: Any, reason: str = "") -> None:
    ticket._history_user = by  # type: ignore[attr-defined]
    ticket._change_reason = reason  # type: ignore[attr-defined]
    ticket.save()


def _require_worker(ticket: Ticket, by: Any) -> None:
    if not can_work_on(user=by, ticket=ticket):
        raise HelpdeskPermissionError(ticket.number)


def _is_repair(ticket: Ticket) -> bool:
    return ticket.category in REPAIR_CATEGORIES and ticket.asset_id is not None


def _set_asset_status(asset: Any, status: str, *, by: Any, reason: str) -> None:
    """Move ``asset`` to ``status`` through the core's asset service (records a transition)."""
    from gis_core.models import Asset
    from gis_core.services import transition_asset

    current = Asset.objects.filter(pk=asset.pk).values_list("status", flat=True).get()
    if current not in (status, SCRAPPED):
        transition_asset(asset=asset, to_status=status, user=by, reason=reason)
        asset.status = status
    else:
        asset.status = current


def _other_open_repairs(ticket: Ticket) -> bool:
    return Ticket.objects.filter(asset_id=ticket.asset_id, category__in=REPAIR_CATEGORIES,
                                 status__in=OPEN_STATUSES).exclude(pk=ticket.pk).exists()


def due_times(*, priority: str, opened_at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Response and resolution due times of a ticket opened at ``opened_at``.

    Targets are calendar minutes per priority (:class:`SlaTarget`, kept as data).

    Examples
    --------
    >>> due_times(priority="critical", opened_at=t0)  # doctest: +SKIP
    (t0 + 30 min, t0 + 4 h)
    """
    target = SlaTarget.objects.filter(priority=priority).first()
    if target is None:
        raise HelpdeskError("HELPDESK_NO_SLA",
                            "No SLA target is defined for priority '{priority}'.",
                            priority=priority)
    return (opened_at + dt.timedelta(minutes=target.response_minutes),
            opened_at + dt.timedelta(minutes=target.resolution_minutes))


def _point_of(geometry: Any) -> Any:
    if geometry is None or geometry.empty:
        return None
    return geometry if geometry.geom_type == "Point" else geometry.point_on_surface


def _next_number(opened_at: dt.datetime) -> tuple[int, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [Ticket._meta.db_table])
        (pk,) = cursor.fetchone()
    return pk, f"HD-{timezone.localtime(opened_at).year}-{pk:06d}"


def _reporter_department(reporter: Any) -> Any:
    from gis_core.models import Membership

    membership = (Membership.objects.filter(user=reporter).select_related("department")
                  .order_by("pk").first())
    if membership is None:
        raise HelpdeskError("HELPDESK_NO_DEPARTMENT",
                            "User '{username}' is not a member of any department.",
                            username=reporter.get_username())
    return membership.department


# -- opening ----------------------------------------------------------------
@transaction.atomic
def open_ticket(*, reporter: Any, category: str, title: str, description: str = "",
                priority: str = "normal", asset: Any = None, inventory_number: str | None = None,
                room: Any = None, building: Any = None, reporter_department: Any = None,
                responsible_unit: str | None = None, opened_at: dt.datetime | None = None
                ) -> Ticket:
    """Open a ticket about an asset, a room or a building.

    Parameters
    ----------
    reporter : User
        Any user with a department membership.
    category : str
        A :class:`~modules.helpdesk.choices.TicketCategoryChoices` code. Repair
        categories need a registered asset (``asset`` or ``inventory_number``).
    inventory_number : str, optional
        The demirbaş number written on the device; an unknown number raises
        :class:`~modules.helpdesk.errors.AssetNotRegisteredError`.
    responsible_unit : str, optional
        Department code; defaults by category (``DEFAULT_UNIT``).

    Returns
    -------
    Ticket
        Status ``new``, with SLA due times; a repair ticket's asset is now in repair.
    """
    from gis_core.models import Asset, Department

    opened_at = _now(opened_at)
    if asset is None and inventory_number:
        asset = Asset.objects.filter(inventory_number=inventory_number.strip()).first()
        if asset is None:
            raise AssetNotRegisteredError(inventory_number.strip())
    if category in REPAIR_CATEGORIES and asset is None:
        raise HelpdeskError(
            "HELPDESK_ASSET_REQUIRED",
            "A repair ticket needs a registered asset: give the device's inventory number.")
    if asset is not None and asset.status == SCRAPPED:
        raise HelpdeskError("HELPDESK_ASSET_SCRAPPED",
                            "Asset {inventory_number} is scrapped and cannot be repaired.",
                            inventory_number=asset.inventory_number)
    if asset is not None:
        room = room or asset.room
        building = building or asset.building
    if room is not None:
        building = building or room.building
    if asset is None and room is None and building is None:
        raise HelpdeskError("HELPDESK_NO_PLACE",
                            "Say what the ticket concerns: an asset, a room or a building.")
    location = (_point_of(getattr(asset, "location", None))
                or _point_of(getattr(room, "outline", None))
                or _point_of(getattr(building, "footprint", None)))
    unit_code = responsible_unit or DEFAULT_UNIT.get(category, "teknik_destek")
    if unit_code not in RESPONSIBLE_UNITS:
        raise HelpdeskError("HELPDESK_BAD_UNIT",
                            "'{unit}' is not a helpdesk unit (allowed: {allowed}).",
                            unit=unit_code, allowed=", ".join(RESPONSIBLE_UNITS))
    response_due, resolution_due = due_times(priority=priority, opened_at=opened_at)
    pk, number = _next_number(opened_at)
    ticket = Ticket(
        pk=pk, number=number, title=title, description=description, category=category,
        priority=priority, reporter=reporter,
        reporter_department=reporter_department or _reporter_department(reporter),
        responsible_unit=Department.objects.get(code=unit_code),
        asset=asset, room=room, building=building, location=location, opened_at=opened_at,
        response_due_at=response_due, resolution_due_at=resolution_due)
    _save(ticket, reporter, "opened")
    if _is_repair(ticket):
        _set_asset_status(asset, REPAIR_STATUS[None], by=reporter,
                          reason=f"{ticket.number}: arıza kaydı / repair ticket")
    return ticket


# -- lifecycle --------------------------------------------------------------
@transaction.atomic
def assign_ticket(*, ticket: Ticket, technician: Any, by: Any,
                  at: dt.datetime | None = None) -> Ticket:
    """Assign (or re-assign) ``ticket`` to ``technician``."""
    _require_worker(ticket, by)
    _move(ticket, S.ASSIGNED)
    ticket.technician = technician
    ticket.assigned_at = ticket.assigned_at or _now(at)
    _save(ticket, by, "assigned")
    return ticket


@transaction.atomic
def start_work(*, ticket: Ticket, by: Any, at: dt.datetime | None = None) -> Ticket:
    """The technician starts (or resumes) work: ``in_progress``."""
    _require_worker(ticket, by)
    was_waiting = ticket.status == S.WAITING
    _move(ticket, S.IN_PROGRESS)
    ticket.started_at = ticket.started_at or _now(at)
    if ticket.technician_id is None:
        ticket.technician = by
        ticket.assigned_at = ticket.assigned_at or ticket.started_at
    ticket.waiting_reason = ""
    _save(ticket, by, "in progress")
    if was_waiting and _is_repair(ticket):
        _set_asset_status(ticket.asset, REPAIR_STATUS[None], by=by,
                          reason=f"{ticket.number}: iç onarım / internal repair")
    return ticket


@transaction.atomic
def put_on_hold(*, ticket: Ticket, reason: str, by: Any,
                at: dt.datetime | None = None) -> Ticket:
    """Wait for a vendor, a warranty repair, parts or the user (``waiting``)."""
    _require_worker(ticket, by)
    if reason not in WaitingReasonChoices.values:
        raise HelpdeskError("HELPDESK_BAD_REASON", "'{reason}' is not a waiting reason.",
                            reason=reason)
    _move(ticket, S.WAITING)
    ticket.waiting_reason = reason
    ticket.started_at = ticket.started_at or _now(at)
    _save(ticket, by, f"waiting: {reason}")
    if _is_repair(ticket) and reason in REPAIR_STATUS:
        _set_asset_status(ticket.asset, REPAIR_STATUS[reason], by=by,
                          reason=f"{ticket.number}: {reason}")
    return ticket


@transaction.atomic
def send_for_repair(*, ticket: Ticket, kind: str, vendor_name: str, by: Any,
                    reference: str = "", at: dt.datetime | None = None) -> VendorRepair:
    """Send the ticket's asset to a vendor or under warranty; the ticket waits."""
    if ticket.asset_id is None:
        raise HelpdeskError("HELPDESK_ASSET_REQUIRED",
                            "A repair ticket needs a registered asset: give the device's "
                            "inventory number.")
    put_on_hold(ticket=ticket, reason=kind, by=by, at=at)
    return VendorRepair.objects.create(ticket=ticket, kind=kind, vendor_name=vendor_name,
                                       reference=reference, sent_at=_now(at))


@transaction.atomic
def record_repair_return(*, repair: VendorRepair, by: Any, cost: Decimal | int = 0,
                         at: dt.datetime | None = None) -> VendorRepair:
    """The device came back from the vendor: record cost, resume work on the ticket."""
    ticket = repair.ticket
    _require_worker(ticket, by)
    repair.returned_at = _now(at)
    repair.cost = Decimal(cost)
    repair.save()
    if ticket.status == S.WAITING:
        start_work(ticket=ticket, by=by, at=at)
    return repair


@transaction.atomic
def resolve_ticket(*, ticket: Ticket, by: Any, outcome: str, resolution: str = "",
                   at: dt.datetime | None = None) -> Ticket:
    """Mark solved; ``outcome`` ``scrapping_proposed`` ends the asset's repair in a proposal."""
    _require_worker(ticket, by)
    if outcome not in TicketOutcomeChoices.values:
        raise HelpdeskError("HELPDESK_BAD_OUTCOME", "'{outcome}' is not a ticket outcome.",
                            outcome=outcome)
    if outcome == TicketOutcomeChoices.SCRAPPING_PROPOSED and ticket.asset_id is None:
        raise HelpdeskError("HELPDESK_ASSET_REQUIRED",
                            "A repair ticket needs a registered asset: give the device's "
                            "inventory number.")
    _move(ticket, S.RESOLVED)
    now = _now(at)
    ticket.outcome = outcome
    ticket.resolution = resolution
    ticket.resolved_at = now
    ticket.started_at = ticket.started_at or now
    if ticket.technician_id is None:
        ticket.technician = by
    ticket.waiting_reason = ""
    _save(ticket, by, "resolved")
    return ticket


@transaction.atomic
def close_ticket(*, ticket: Ticket, by: Any, at: dt.datetime | None = None) -> Ticket:
    """Close a resolved ticket: the asset returns to service (or is proposed for scrapping)."""
    if not (can_work_on(user=by, ticket=ticket) or ticket.reporter_id == by.pk):
        raise HelpdeskPermissionError(ticket.number)
    _move(ticket, S.CLOSED)
    ticket.closed_at = _now(at)
    _save(ticket, by, "closed")
    if _is_repair(ticket) and not _other_open_repairs(ticket):
        if ticket.outcome == TicketOutcomeChoices.SCRAPPING_PROPOSED:
            _propose_scrapping(ticket, by)
        else:
            _set_asset_status(ticket.asset, IN_SERVICE, by=by,
                              reason=f"{ticket.number}: onarım tamamlandı / repaired")
    return ticket


def _propose_scrapping(ticket: Ticket, by: Any) -> None:
    from gis_core.services import propose_scrapping

    propose_scrapping(asset=ticket.asset, user=by,
                      reason=f"{ticket.number}: {ticket.resolution or ticket.title}")


@transaction.atomic
def reopen_ticket(*, ticket: Ticket, by: Any, reason: str,
                  at: dt.datetime | None = None) -> Ticket:
    """Reopen a resolved or closed ticket (the fault came back); SLA due times stay."""
    if not (can_work_on(user=by, ticket=ticket) or ticket.reporter_id == by.pk):
        raise HelpdeskPermissionError(ticket.number)
    if ticket.status not in (S.RESOLVED, S.CLOSED):
        raise TransitionError(ticket.number, ticket.status, "reopened")
    was_closed = ticket.status == S.CLOSED
    _move(ticket, S.IN_PROGRESS)
    ticket.reopen_count += 1
    ticket.resolved_at = None
    ticket.closed_at = None
    ticket.outcome = ""
    _save(ticket, by, f"reopened: {reason}")
    TicketComment.objects.create(ticket=ticket, author=by, body=reason, created_at=_now(at))
    if was_closed and _is_repair(ticket):
        _set_asset_status(ticket.asset, REPAIR_STATUS[None], by=by,
                          reason=f"{ticket.number}: yeniden açıldı / reopened")
    return ticket


def add_comment(*, ticket: Ticket, by: Any, body: str,
                at: dt.datetime | None = None) -> TicketComment:
    """Comment on a ticket the user can see."""
    if not can_see(user=by, ticket=ticket):
        raise HelpdeskPermissionError(ticket.number)
    return TicketComment.objects.create(ticket=ticket, author=by, body=body, created_at=_now(at))


def log_time(*, ticket: Ticket, by: Any, minutes: int, note: str = "",
             at: dt.datetime | None = None) -> WorkLog:
    """Record time spent on a ticket."""
    _require_worker(ticket, by)
    if minutes <= 0:
        raise HelpdeskError("HELPDESK_BAD_MINUTES", "Time spent must be positive minutes.")
    return WorkLog.objects.create(ticket=ticket, technician=by, minutes=minutes, note=note,
                                  logged_at=_now(at))


# -- maintenance --------------------------------------------------------------
def generate_due_work_items(*, on: dt.date) -> int:
    """Create the maintenance work items due on or before ``on``; returns how many.

    Each active plan covers its asset, or every non-scrapped asset of its
    category. Due dates run ``starts_on``, ``starts_on + interval`` ...; an
    asset gets one item per due date (idempotent).
    """
    from gis_core.models import Asset

    created = 0
    for plan in MaintenancePlan.objects.filter(active=True, starts_on__lte=on):
        assets = (Asset.objects.filter(pk=plan.asset_id) if plan.asset_id
                  else Asset.objects.filter(category=plan.asset_category))
        asset_ids = list(assets.exclude(status=SCRAPPED).values_list("pk", flat=True))
        periods = (on - plan.starts_on).days // plan.interval_days
        due_dates = [plan.starts_on + dt.timedelta(days=plan.interval_days * k)
                     for k in range(periods + 1)]
        items = [MaintenanceWorkItem(plan=plan, asset_id=asset_id, due_on=due)
                 for asset_id in asset_ids for due in due_dates]
        before = MaintenanceWorkItem.objects.filter(plan=plan).count()
        MaintenanceWorkItem.objects.bulk_create(items, ignore_conflicts=True, batch_size=2000)
        created += MaintenanceWorkItem.objects.filter(plan=plan).count() - before
    return created


def complete_work_item(*, item: MaintenanceWorkItem, by: Any,
                       at: dt.datetime | None = None) -> MaintenanceWorkItem:
    item.done_at = _now(at)
    item.done_by = by
    item.save(update_fields=["done_at", "done_by"])
    return item


# -- what the ticket page offers ----------------------------------------------
#: Every step of the ticket page, in the order it shows them.
ACTIONS = ("assign", "start", "wait", "vendor", "vendor_return", "resolve", "log_time",
           "close", "reopen", "comment")


def available_actions(*, ticket: Ticket, user: Any) -> list[str]:
    """The steps ``user`` may take on ``ticket`` in its current state (``ACTIONS`` order).

    Follows the lifecycle (``ALLOWED``) and the same permission rules the writes check,
    so the page never offers a button that would be refused.
    """
    worker = can_work_on(user=user, ticket=ticket)
    reporter = ticket.reporter_id == getattr(user, "pk", None)
    allowed = ALLOWED.get(ticket.status, frozenset())
    status = ticket.status
    offered: list[str] = []
    if worker:
        if S.ASSIGNED in allowed:
            offered.append("assign")
        if S.IN_PROGRESS in allowed and status not in (S.RESOLVED, S.CLOSED):
            offered.append("start")
        if S.WAITING in allowed:
            offered.append("wait")
            if ticket.asset_id is not None:
                offered.append("vendor")
        if status == S.WAITING and ticket.vendor_repairs.filter(returned_at=None).exists():
            offered.append("vendor_return")
        if S.RESOLVED in allowed:
            offered.append("resolve")
        if status != S.CLOSED:
            offered.append("log_time")
    if (worker or reporter) and status == S.RESOLVED:
        offered.append("close")
    if (worker or reporter) and status in (S.RESOLVED, S.CLOSED):
        offered.append("reopen")
    if can_see(user=user, ticket=ticket):
        offered.append("comment")
    return offered
