"""Line payments (§3 of issue #21) on the core ``Subscription``.

A subscription with a :class:`~modules.registers.models.LineBilling` plan has due dates:
every ``period_months`` months from the month of ``first_due``, on the subscription's
``payment_day`` (short months pay on their last day, as ``Subscription.next_payment``),
until the contract's ``end_date``. Payments (:class:`LinePayment`) are recorded against a due
date; a due date is settled when its payments reach the plan's amount. From these:

- :func:`open_dues`, :func:`due_this_month`, :func:`overdue`: the lists of the payments page;
- :func:`monthly_costs`: monthly cost per building and per paying department;
- :func:`due_reminders`: overdue payments and contract ends, in the shared
  :class:`~modules.registers.reminder_items.ReminderItem` shape;
- :func:`refresh_overdue_map`: the buildings with overdue lines (map layer
  ``hat_odeme_gecikmesi`` and the building panel line).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.urls import reverse

from gis_core.models import Building, Department, Subscription
from modules.registers.errors import RegistersError
from modules.registers.models import LineBilling, LineBuildingStatus, LinePayment
from modules.registers.reminder_items import ReminderItem

ZERO = Decimal("0.00")

#: ``ReminderItem.kind`` codes of this register.
KIND_OVERDUE = "line_payment_overdue"
KIND_DUE = "line_payment_due"
KIND_CONTRACT_END = "line_contract_end"

#: A payment due within this many days is reminded (besides the overdue ones).
DUE_SOON_DAYS = 7
#: Contract-end notice of a line without a billing plan (a plan has its own).
DEFAULT_NOTICE_DAYS = 60


def _on(year: int, month: int, day: int) -> dt.date:
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def due_dates(billing: LineBilling, *, until: dt.date) -> list[dt.date]:
    """Every due date of ``billing`` up to and including ``until`` (and the contract's end).

    Examples
    --------
    A quarterly plan from 15 January on payment day 31: 31 Jan, 30 Apr, 31 Jul ...
    """
    subscription = billing.subscription
    last = until if subscription.end_date is None else min(until, subscription.end_date)
    dates: list[dt.date] = []
    step = 0
    while True:
        year, month = _add_months(billing.first_due.year, billing.first_due.month,
                                  step * billing.period_months)
        when = _on(year, month, subscription.payment_day)
        if when > last:
            return dates
        dates.append(when)
        step += 1


@dataclass(frozen=True)
class DueItem:
    """One due date of a line and what has been paid against it."""

    subscription: Subscription
    billing: LineBilling
    due_date: dt.date
    amount: Decimal
    paid: Decimal

    @property
    def outstanding(self) -> Decimal:
        return max(self.amount - self.paid, ZERO)

    @property
    def settled(self) -> bool:
        return self.paid >= self.amount

    def is_overdue(self, today: dt.date) -> bool:
        return not self.settled and self.due_date < today

    @property
    def building(self) -> Building | None:
        return self.subscription.building

    @property
    def department(self) -> Department | None:
        return self.billing.paying_department


def _billings(subscriptions: Iterable[Subscription] | None = None) -> list[LineBilling]:
    query = LineBilling.objects.select_related("subscription", "subscription__building",
                                               "paying_department")
    if subscriptions is not None:
        query = query.filter(subscription__in=list(subscriptions))
    return list(query.order_by("subscription__provider", "subscription__line_number"))


def dues(*, until: dt.date, since: dt.date | None = None,
         billings: list[LineBilling] | None = None) -> list[DueItem]:
    """Every due date (settled or not) of every billed line, ``since`` .. ``until``."""
    billings = _billings() if billings is None else billings
    paid: dict[tuple[int, dt.date], Decimal] = {
        (row["subscription_id"], row["due_date"]): row["total"]
        for row in LinePayment.objects.filter(
            subscription__in=[b.subscription_id for b in billings], due_date__lte=until)
        .values("subscription_id", "due_date").annotate(total=Sum("amount"))
    }
    items = [
        DueItem(billing.subscription, billing, when, billing.amount,
                paid.get((billing.subscription_id, when), ZERO))
        for billing in billings
        for when in due_dates(billing, until=until)
        if since is None or when >= since
    ]
    return sorted(items, key=lambda item: (item.due_date, item.subscription.pk))


def open_dues(*, until: dt.date) -> list[DueItem]:
    """Due dates up to ``until`` not (fully) paid yet."""
    return [item for item in dues(until=until) if not item.settled]


def overdue(*, today: dt.date) -> list[DueItem]:
    """Unpaid due dates before ``today``, oldest first."""
    return open_dues(until=today - dt.timedelta(days=1))


def due_this_month(*, today: dt.date) -> list[DueItem]:
    """Unpaid due dates falling in ``today``'s month (past days of the month included)."""
    first = today.replace(day=1)
    last = _on(today.year, today.month, 31)
    return [item for item in dues(until=last, since=first) if not item.settled]


# -- recording ---------------------------------------------------------------------------


@transaction.atomic
def set_billing(*, subscription: Subscription, period_months: int, amount: Decimal,
                first_due: dt.date, paying_department: Department | None = None,
                end_notice_days: int = 60, today: dt.date | None = None) -> LineBilling:
    """Create or change the billing plan of ``subscription`` (and refresh the map)."""
    from django.utils import timezone

    if amount < 0:
        raise RegistersError("REGISTERS_LINE_AMOUNT_NEGATIVE",
                             "A line's amount cannot be negative.")
    billing, _ = LineBilling.objects.update_or_create(
        subscription=subscription,
        defaults={"period_months": period_months, "amount": amount, "first_due": first_due,
                  "paying_department": paying_department,
                  "end_notice_days": end_notice_days})
    refresh_overdue_map(today=today or timezone.localdate())
    return billing


@transaction.atomic
def record_payment(*, subscription: Subscription, due_date: dt.date, amount: Decimal,
                   paid_on: dt.date, reference: str = "", user: Any = None,
                   today: dt.date | None = None) -> LinePayment:
    """Record a payment against one due date of a billed line.

    Raises
    ------
    RegistersError
        ``REGISTERS_LINE_NOT_BILLED`` (no billing plan), ``REGISTERS_LINE_NOT_DUE``
        (``due_date`` is not one of the plan's due dates), ``REGISTERS_PAYMENT_AMOUNT``
        (not positive), ``REGISTERS_DUE_ALREADY_PAID`` (the due date is settled: a second
        entry of the same receipt is refused).
    """
    from django.utils import timezone

    billing = LineBilling.objects.select_related("subscription").filter(
        subscription=subscription).first()
    if billing is None:
        raise RegistersError("REGISTERS_LINE_NOT_BILLED",
                             "The line {line} has no billing plan.", line=str(subscription))
    if due_date not in due_dates(billing, until=due_date):
        raise RegistersError("REGISTERS_LINE_NOT_DUE",
                             "{date} is not a due date of the line {line}.",
                             date=due_date.isoformat(), line=str(subscription))
    if amount is None or amount <= 0:
        raise RegistersError("REGISTERS_PAYMENT_AMOUNT",
                             "A payment's amount must be greater than zero.")
    paid = LinePayment.objects.filter(subscription=subscription, due_date=due_date).aggregate(
        total=Sum("amount"))["total"] or ZERO
    if paid >= billing.amount:
        raise RegistersError("REGISTERS_DUE_ALREADY_PAID",
                             "The {date} instalment of the line {line} is already paid.",
                             date=due_date.isoformat(), line=str(subscription))
    payment = LinePayment.objects.create(
        subscription=subscription, due_date=due_date, amount=amount, paid_on=paid_on,
        reference=reference[:60],
        recorded_by=user if getattr(user, "is_authenticated", False) else None)
    refresh_overdue_map(today=today or timezone.localdate())
    return payment


# -- costs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostRow:
    label: str
    lines: int
    monthly: Decimal


def monthly_cost(subscription: Subscription, billing: LineBilling | None) -> Decimal:
    """A line's cost per month: its plan's amount over the period, else the core's fee."""
    if billing is None:
        return Decimal(subscription.monthly_fee)
    return (billing.amount / billing.period_months).quantize(Decimal("0.01"))


def monthly_costs(*, month: dt.date) -> dict[str, list[CostRow]]:
    """Monthly cost of the lines active in ``month``, per building and per paying department.

    Returns ``{"buildings": [...], "departments": [...]}``, each sorted by label; a line
    without a building or paying department is under ``"—"``.
    """
    first = month.replace(day=1)
    last = _on(month.year, month.month, 31)
    plans = {b.subscription_id: b for b in LineBilling.objects.select_related(
        "paying_department")}
    buildings: dict[str, list[Decimal]] = defaultdict(list)
    departments: dict[str, list[Decimal]] = defaultdict(list)
    active = Subscription.objects.filter(start_date__lte=last).exclude(
        end_date__lt=first).select_related("building")
    for subscription in active:
        billing = plans.get(subscription.pk)
        cost = monthly_cost(subscription, billing)
        buildings[subscription.building.name if subscription.building else "—"].append(cost)
        department = billing.paying_department if billing else None
        departments[department.name if department else "—"].append(cost)

    def rows(groups: dict[str, list[Decimal]]) -> list[CostRow]:
        return [CostRow(label, len(costs), sum(costs, ZERO))
                for label, costs in sorted(groups.items())]

    return {"buildings": rows(buildings), "departments": rows(departments)}


# -- reminders and the map -----------------------------------------------------------------


def _page(subscription: Subscription) -> str:
    return f"{reverse('registers:lines')}#line-{subscription.pk}"


def _items(*, today: dt.date, horizon: int, contract_horizon: int | None) -> list[ReminderItem]:
    """Unpaid due dates up to ``today + horizon`` (overdue ones included) and contract ends
    within ``contract_horizon`` days (``None``: each plan's own notice)."""
    from django.utils.formats import number_format
    from django.utils.translation import gettext

    items: list[ReminderItem] = []
    for item in open_dues(until=today + dt.timedelta(days=horizon)):
        subscription = item.subscription
        if item.due_date < today:
            kind, text = KIND_OVERDUE, gettext(
                "The {amount} TL instalment of the line {line} due on {date} is overdue")
        else:
            kind, text = KIND_DUE, gettext(
                "The {amount} TL instalment of the line {line} is due on {date}")
        items.append(ReminderItem(
            unit=item.department, kind=kind,
            title=text.format(amount=number_format(item.outstanding, 2), line=subscription,
                              date=f"{item.due_date:%d.%m.%Y}"),
            due=item.due_date, url=_page(subscription)))
    plans = {billing.subscription_id: billing for billing in _billings()}
    longest = (max([DEFAULT_NOTICE_DAYS, *(b.end_notice_days for b in plans.values())])
               if contract_horizon is None else contract_horizon)
    ending = Subscription.objects.filter(end_date__gte=today,
                                         end_date__lte=today + dt.timedelta(days=longest))
    for subscription in ending.order_by("end_date", "pk"):
        plan = plans.get(subscription.pk)
        notice = plan.end_notice_days if plan else DEFAULT_NOTICE_DAYS
        if contract_horizon is not None:
            notice = contract_horizon
        end = subscription.end_date
        if end is not None and end <= today + dt.timedelta(days=notice):
            items.append(ReminderItem(
                unit=plan.paying_department if plan else None, kind=KIND_CONTRACT_END,
                title=gettext("The contract of the line {line} ends on {date}").format(
                    line=subscription, date=f"{end:%d.%m.%Y}"),
                due=end, url=_page(subscription)))
    return sorted(items, key=lambda r: (r.due, r.kind, r.title))


def due_reminders(*, today: dt.date) -> list[ReminderItem]:
    """What the paying units must act on ``today`` (a source of the daily digest).

    - ``line_payment_overdue``: every unpaid due date before ``today``;
    - ``line_payment_due``: unpaid due dates in the next ``DUE_SOON_DAYS`` days;
    - ``line_contract_end``: contracts ending within the plan's ``end_notice_days``
      (``DEFAULT_NOTICE_DAYS`` for a line without a plan, then for no unit).
    """
    return _items(today=today, horizon=DUE_SOON_DAYS, contract_horizon=None)


def upcoming(*, today: dt.date, horizon: int = 60) -> list[ReminderItem]:
    """Overdue instalments, instalments and contract ends within ``horizon`` days (the
    reminders page and the dashboard figure)."""
    return _items(today=today, horizon=horizon, contract_horizon=horizon)


@transaction.atomic
def refresh_overdue_map(*, today: dt.date) -> int:
    """Rebuild the buildings-with-overdue-lines table behind the map layer; returns its size.

    Idempotent: the table afterwards holds exactly the buildings with a line unpaid past a
    due date before ``today``.
    """
    per_building: dict[int, list[DueItem]] = defaultdict(list)
    for item in overdue(today=today):
        if item.subscription.building_id is not None:
            per_building[item.subscription.building_id].append(item)
    LineBuildingStatus.objects.exclude(building_id__in=list(per_building)).delete()
    for building in Building.objects.filter(pk__in=list(per_building)):
        items = per_building[building.pk]
        LineBuildingStatus.objects.update_or_create(building=building, defaults={
            "overdue_lines": len({item.subscription.pk for item in items}),
            "overdue_amount": sum((item.outstanding for item in items), ZERO),
            "oldest_due": min(item.due_date for item in items),
            "location": building.footprint.point_on_surface,
            "refreshed_on": today,
        })
    return len(per_building)


def building_panel(*, user: Any, building: Any) -> Any:
    """The building panel's line: lines, monthly cost and overdue payments (IT staff only)."""
    from django.utils import timezone

    from gis_core.modules import BuildingSummary
    from gis_core.selectors import user_access

    access = user_access(user)
    roles = {"technician", "network_admin", "gis_admin", "manager"}
    if not access.is_authenticated or not (access.is_superuser or access.roles & roles):
        return None
    subscriptions = list(Subscription.objects.filter(building=building).active_on(
        timezone.localdate()))
    if not subscriptions:
        return None
    plans = {b.subscription_id: b for b in LineBilling.objects.filter(
        subscription__in=subscriptions)}
    cost = sum((monthly_cost(s, plans.get(s.pk)) for s in subscriptions), ZERO)
    status = LineBuildingStatus.objects.filter(building=building).first()
    from django.utils.translation import gettext

    lines: list[tuple[str, str]] = [(gettext("Lines"), str(len(subscriptions))),
                                    (gettext("Monthly cost"), f"{cost} TL")]
    if status is not None:
        lines.append((gettext("Overdue line payments"),
                      gettext("{lines} lines, {amount} TL (since the {date} instalment)").format(
                          lines=status.overdue_lines, amount=status.overdue_amount,
                          date=f"{status.oldest_due:%d.%m.%Y}")))
    return BuildingSummary(title_tr="Hat ödemeleri", title_en="Line payments",
                           lines=tuple(lines),
                           links=((gettext("Line payments"), reverse("registers:lines")),))


# -- demo ------------------------------------------------------------------------------------


def load_demo(*, today: dt.date | None = None) -> dict[str, int]:
    """Billing plans for the demo's subscriptions, paid up to some months ago, so that the
    demo shows lines due this month and some overdue. Idempotent (no plan exists: nothing)."""
    from django.utils import timezone

    from gis_core.audit import audit_context

    if LineBilling.objects.exists():
        return {"plans": LineBilling.objects.count(), "payments": 0}
    today = today or timezone.localdate()
    departments = list(Department.objects.filter(code__in=["bilgi_islem", "fen_isleri",
                                                           "zabita"]).order_by("code"))
    made = 0
    with audit_context(source="system"):
        subscriptions = Subscription.objects.active_on(today).order_by("pk")
        for index, subscription in enumerate(subscriptions):
            period = (1, 1, 3, 12)[index % 4]
            year, month = _add_months(today.year, today.month, -period * 2)
            first = _on(year, month, subscription.payment_day)
            billing = LineBilling.objects.create(
                subscription=subscription, period_months=period,
                amount=Decimal(subscription.monthly_fee) * period, first_due=first,
                paying_department=departments[index % len(departments)] if departments
                else None)
            # every third line leaves its last past instalment unpaid (overdue on the map)
            past = due_dates(billing, until=today - dt.timedelta(days=1))
            unpaid = past[-1:] if index % 3 == 0 else []
            for due in past:
                if due not in unpaid:
                    LinePayment.objects.create(subscription=subscription, due_date=due,
                                               amount=billing.amount, paid_on=due,
                                               reference=f"DEKONT-{subscription.pk}-{due:%Y%m}")
                    made += 1
    refresh_overdue_map(today=today)
    return {"plans": LineBilling.objects.count(), "payments": made}
