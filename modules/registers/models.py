"""Tables of the registers module: year-end counts (sayım) and consumables."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from gis_core.models.base import HistorySource
from modules.registers.choices import (
    ConsumableKindChoices,
    CountStatusChoices,
    DifferenceKindChoices,
    MovementKindChoices,
)


class StockCount(models.Model):
    """A year-end count (sayım) of one building or one room."""

    year = models.PositiveSmallIntegerField(_("year"))
    building = models.ForeignKey("gis_core.Building", on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("building"))
    room = models.ForeignKey("gis_core.Room", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", verbose_name=_("room"))
    status = models.CharField(_("status"), max_length=10,
                              choices=CountStatusChoices.choices,
                              default=CountStatusChoices.OPEN)
    started_at = models.DateTimeField(auto_now_add=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords(bases=[HistorySource])

    class Meta:
        verbose_name = _("stock count")
        verbose_name_plural = _("stock counts")
        ordering = ["-year", "-started_at"]

    def __str__(self) -> str:
        where = f"{self.building.name} / {self.room}" if self.room_id else self.building.name
        return gettext("{year} count · {where}").format(year=self.year, where=where)


class CountedItem(models.Model):
    """One inventory number seen (scanned or typed) during a count, and where."""

    count = models.ForeignKey(StockCount, on_delete=models.CASCADE, related_name="items")
    inventory_number = models.CharField(_("inventory number"), max_length=40)
    room = models.ForeignKey("gis_core.Room", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", verbose_name=_("counted in room"))
    counted_at = models.DateTimeField(auto_now_add=True)
    counted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("counted item")
        verbose_name_plural = _("counted items")
        ordering = ["count", "counted_at", "id"]
        constraints = [models.UniqueConstraint(fields=["count", "inventory_number"],
                                               name="registers_counted_once")]

    def __str__(self) -> str:
        return self.inventory_number


class CountCorrection(models.Model):
    """A correction applied to the register after a count (the asset's history has the step)."""

    count = models.ForeignKey(StockCount, on_delete=models.CASCADE, related_name="corrections")
    kind = models.CharField(_("difference"), max_length=10,
                            choices=DifferenceKindChoices.choices)
    inventory_number = models.CharField(_("inventory number"), max_length=40)
    asset = models.ForeignKey("gis_core.Asset", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    action = models.CharField(_("action"), max_length=300)
    at = models.DateTimeField(auto_now_add=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("count correction")
        verbose_name_plural = _("count corrections")
        ordering = ["count", "at", "id"]
        constraints = [models.CheckConstraint(condition=Q(kind__in=DifferenceKindChoices.values),
                                              name="registers_correction_kind_valid")]

    def __str__(self) -> str:
        return f"{self.inventory_number}: {self.action}"

    @property
    def action_label(self) -> str:
        """What was done, in the reader's language (``action`` is the stored record, Turkish
        first, as the count report prints it)."""
        if self.kind == "misplaced":
            room = getattr(self.asset, "room", None) if self.asset_id else None
            return gettext("room corrected: now in {room}").format(room=room or "-")
        if self.kind == "missing":
            return gettext("not found: building and room cleared")
        return gettext("registered as a new asset")


class StoreRoom(models.Model):
    """A store room (depo) holding consumables; usually a room of a building."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=120)
    building = models.ForeignKey("gis_core.Building", on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("building"))
    room = models.ForeignKey("gis_core.Room", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", verbose_name=_("room"))

    class Meta:
        verbose_name = _("store room")
        verbose_name_plural = _("store rooms")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ConsumableItem(models.Model):
    """A consumable (sarf malzemesi): toner and drum per printer model, cables, disks ..."""

    code = models.SlugField(_("item code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(_("kind"), max_length=10,
                            choices=ConsumableKindChoices.choices)
    unit = models.CharField(_("unit"), max_length=20, default="adet")
    printer_model = models.CharField(_("printer model"), max_length=80,
                                     blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords(bases=[HistorySource])

    class Meta:
        verbose_name = _("consumable")
        verbose_name_plural = _("consumables")
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=Q(kind__in=ConsumableKindChoices.values),
                                              name="registers_consumable_kind_valid")]

    def __str__(self) -> str:
        return self.name


class Stock(models.Model):
    """How much of an item a store room holds, and its minimum level (alert below it)."""

    item = models.ForeignKey(ConsumableItem, on_delete=models.PROTECT, related_name="stocks")
    store = models.ForeignKey(StoreRoom, on_delete=models.PROTECT, related_name="stocks")
    quantity = models.IntegerField(_("quantity"), default=0)
    minimum = models.PositiveIntegerField(_("minimum level"), default=0)

    class Meta:
        verbose_name = _("stock")
        verbose_name_plural = _("stocks")
        ordering = ["item", "store"]
        constraints = [
            models.UniqueConstraint(fields=["item", "store"], name="registers_stock_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=0),
                                   name="registers_stock_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.item} @ {self.store}: {self.quantity}"

    @property
    def below_minimum(self) -> bool:
        return self.quantity < self.minimum


class StockMovement(models.Model):
    """One receipt into or issue out of a store room (the ledger behind ``Stock``)."""

    item = models.ForeignKey(ConsumableItem, on_delete=models.PROTECT, related_name="movements")
    store = models.ForeignKey(StoreRoom, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(_("kind"), max_length=10,
                            choices=MovementKindChoices.choices)
    quantity = models.PositiveIntegerField(_("quantity"))
    at = models.DateTimeField(_("date"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    document = models.CharField(_("document number"), max_length=60, blank=True)
    supplier = models.CharField(_("supplier"), max_length=150, blank=True)
    room = models.ForeignKey("gis_core.Room", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", verbose_name=_("issued to room"))
    department = models.ForeignKey("gis_core.Department", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("issued to department"))
    asset = models.ForeignKey("gis_core.Asset", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("issued to asset"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    #: The helpdesk ticket ("sarf malzemesi") this issue fulfils, by its number: a reference,
    #: not a foreign key, so the module never depends on the helpdesk being installed.
    ticket_number = models.CharField(_("ticket number"), max_length=30, blank=True,
                                     db_index=True)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0),
                                   name="registers_movement_quantity_positive"),
            models.CheckConstraint(condition=Q(kind__in=MovementKindChoices.values),
                                   name="registers_movement_kind_valid"),
            # a receipt goes to no one; an issue goes to exactly one room, department or asset
            models.CheckConstraint(
                condition=(Q(kind="receipt", room=None, department=None, asset=None)
                           | Q(kind="issue", room__isnull=False, department=None, asset=None)
                           | Q(kind="issue", room=None, department__isnull=False, asset=None)
                           | Q(kind="issue", room=None, department=None, asset__isnull=False)),
                name="registers_movement_target"),
        ]
        indexes = [models.Index(fields=["kind", "at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity} {self.item}"


# ---------------------------------------------------------------------------------------------
# Issue #21 §2 and §6: software licences, domains/hosting/TLS certificates, e-signature cards
# and KEP accounts, and the reminder digests sent for them (licences.py, certificates.py,
# esign.py, reminders.py).
# ---------------------------------------------------------------------------------------------


class SoftwareLicence(models.Model):
    """A software licence: product, seats owned, term; seats are assigned to assets or users."""

    product = models.CharField(_("product"), max_length=150)
    vendor = models.CharField(_("vendor"), max_length=120, blank=True)
    seats = models.PositiveIntegerField(_("seats"))
    starts_on = models.DateField(_("start"), null=True, blank=True)
    ends_on = models.DateField(_("end (empty: perpetual)"),
                               null=True, blank=True)
    department = models.ForeignKey("gis_core.Department", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("responsible unit"))
    contract = models.CharField(_("contract"), max_length=120, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    history = HistoricalRecords(bases=[HistorySource])

    class Meta:
        verbose_name = _("software licence")
        verbose_name_plural = _("software licences")
        ordering = ["product", "id"]
        constraints = [models.CheckConstraint(condition=Q(seats__gt=0),
                                              name="registers_licence_seats_positive"),
                       models.CheckConstraint(
                           condition=Q(starts_on=None) | Q(ends_on=None)
                           | Q(ends_on__gte=models.F("starts_on")),
                           name="registers_licence_term_order")]

    def __str__(self) -> str:
        return self.product


class LicenceAssignment(models.Model):
    """One seat of a licence given to an asset or to a user (exactly one of them)."""

    licence = models.ForeignKey(SoftwareLicence, on_delete=models.CASCADE,
                                related_name="assignments")
    asset = models.ForeignKey("gis_core.Asset", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("asset"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("user"))
    assigned_at = models.DateTimeField(auto_now_add=True)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    history = HistoricalRecords(bases=[HistorySource])

    class Meta:
        verbose_name = _("licence assignment")
        verbose_name_plural = _("licence assignments")
        ordering = ["licence", "assigned_at", "id"]
        constraints = [
            models.CheckConstraint(condition=(Q(asset__isnull=False, user=None)
                                              | Q(asset=None, user__isnull=False)),
                                   name="registers_assignment_one_target"),
            models.UniqueConstraint(fields=["licence", "asset"], condition=Q(asset__isnull=False),
                                    name="registers_assignment_asset_once"),
            models.UniqueConstraint(fields=["licence", "user"], condition=Q(user__isnull=False),
                                    name="registers_assignment_user_once"),
        ]

    def __str__(self) -> str:
        return f"{self.licence} → {self.asset or self.user}"


class Domain(models.Model):
    """A domain name of the municipality, its registrar and (optionally) its hosting."""

    name = models.CharField(_("domain name"), max_length=253, unique=True)
    registrar = models.CharField(_("registrar"), max_length=120)
    expires_on = models.DateField(_("domain expiry"))
    hosting_provider = models.CharField(_("hosting provider"),
                                        max_length=120, blank=True)
    hosting_expires_on = models.DateField(_("hosting expiry"), null=True,
                                          blank=True)
    department = models.ForeignKey("gis_core.Department", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("responsible unit"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    history = HistoricalRecords(bases=[HistorySource])

    class Meta:
        verbose_name = _("domain name")
        verbose_name_plural = _("domain names")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TlsCertificate(models.Model):
    """A TLS (SSL) certificate: subject, issuer, serial and expiry."""

    common_name = models.CharField(_("common name"), max_length=253)
    domain = models.ForeignKey(Domain, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="certificates",
                               verbose_name=_("domain name"))
    issuer = models.CharField(_("issuer"), max_length=200)
    serial = models.CharField(_("serial number"), max_length=80, blank=True)
    expires_on = models.DateField(_("expiry"))
    department = models.ForeignKey("gis_core.Department", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("responsible unit"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    history = HistoricalRecords(bases=[HistorySource])

    class Meta:
        verbose_name = _("TLS certificate")
        verbose_name_plural = _("TLS certificates")
        ordering = ["expires_on", "common_name"]

    def __str__(self) -> str:
        return self.common_name


class ESignatureCard(models.Model):
    """An e-signature card (nitelikli elektronik sertifika) or a KEP account.

    ``holder_name`` and ``kep_address`` are personal data (KVKK): shown only to the roles of
    :func:`modules.registers.esign.may_see_holders`, every read logged, cleared by
    ``kentcbs registers purge`` once the card has been expired or revoked for the retention.
    """

    KINDS = (("esign", _("E-signature card")),
             ("kep", _("KEP account")))
    kind = models.CharField(_("kind"), max_length=10, choices=KINDS, default="esign")
    holder_name = models.CharField(_("holder"), max_length=150, blank=True,
                                   help_text=_("personal data (KVKK)"))
    kep_address = models.CharField(_("KEP address"), max_length=200, blank=True,
                                   help_text=_("personal data (KVKK)"))
    serial = models.CharField(_("serial number"), max_length=80)
    issuer = models.CharField(_("issuer"), max_length=120)
    issued_on = models.DateField(_("issued"), null=True, blank=True)
    expires_on = models.DateField(_("expiry"))
    revoked_on = models.DateField(_("revoked"), null=True, blank=True)
    department = models.ForeignKey("gis_core.Department", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("unit"))
    holder_purged_at = models.DateTimeField(_("personal data purged"),
                                            null=True, blank=True)
    history = HistoricalRecords(bases=[HistorySource])

    class Meta:
        verbose_name = _("e-signature card or KEP account")
        verbose_name_plural = _("e-signature cards and KEP accounts")
        ordering = ["expires_on", "serial"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=("esign", "kep")),
                                   name="registers_esign_kind_valid"),
            models.UniqueConstraint(fields=["issuer", "serial"],
                                    name="registers_esign_serial_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.serial} ({self.issuer})"


class ReminderDigest(models.Model):
    """One reminder digest of one day for one responsible unit (idempotent re-runs)."""

    day = models.DateField(_("day"))
    department = models.ForeignKey("gis_core.Department", on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("unit"))
    items = models.JSONField(_("items"), default=list)
    recipients = models.JSONField(_("recipients"), default=list)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("reminder digest")
        verbose_name_plural = _("reminder digests")
        ordering = ["-day", "department"]
        constraints = [models.UniqueConstraint(fields=["day", "department"],
                                               name="registers_digest_once_a_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.department}"


class PersonalDataPurge(models.Model):
    """A run of ``kentcbs registers purge``: what personal data was cleared, when, by whom."""

    at = models.DateTimeField(auto_now_add=True)
    actor = models.CharField(_("actor"), max_length=150)
    before = models.DateField(_("ended before"))
    cards = models.PositiveIntegerField(_("cards"), default=0)
    history_rows = models.PositiveIntegerField(_("history rows"), default=0)

    class Meta:
        verbose_name = _("personal data purge")
        verbose_name_plural = _("personal data purges")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} {self.cards}"
# -- Line payments (§3 of issue #21): billing plans and payments on the core Subscription ----
# (imports kept inside this block so that it merges as one piece with the other registers)
from django.contrib.gis.db.models import PointField  # noqa: E402

from modules.registers.choices import BillingPeriodChoices  # noqa: E402


class LineBilling(models.Model):
    """How a core ``Subscription`` is billed: every ``period_months`` months ``amount`` is due
    on the subscription's payment day, from ``first_due`` until the contract ends.

    Only subscriptions with a billing plan have due dates; ``paying_department`` is the unit
    that pays (cost reports and reminders go to it).
    """

    subscription = models.OneToOneField("gis_core.Subscription", on_delete=models.CASCADE,
                                        related_name="billing",
                                        verbose_name=_("subscription"))
    period_months = models.PositiveSmallIntegerField(
        _("billing period"), choices=BillingPeriodChoices.choices,
        default=BillingPeriodChoices.MONTHLY)
    amount = models.DecimalField(_("amount per period (TRY)"),
                                 max_digits=12, decimal_places=2)
    first_due = models.DateField(_("first due date"))
    paying_department = models.ForeignKey(
        "gis_core.Department", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", verbose_name=_("paying department"))
    end_notice_days = models.PositiveSmallIntegerField(
        _("contract-end notice (days)"), default=60)
    history = HistoricalRecords(bases=[HistorySource])

    class Meta:
        verbose_name = _("line billing plan")
        verbose_name_plural = _("line billing plans")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0),
                                   name="registers_billing_amount_not_negative"),
            models.CheckConstraint(condition=Q(period_months__in=BillingPeriodChoices.values),
                                   name="registers_billing_period_valid"),
        ]

    def __str__(self) -> str:
        return gettext("{line}: {amount} TL every {months} months").format(
            line=self.subscription, amount=self.amount, months=self.period_months)


class LinePayment(models.Model):
    """A payment made against one due date of a line (several may settle one due date)."""

    subscription = models.ForeignKey("gis_core.Subscription", on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("subscription"))
    due_date = models.DateField(_("due date paid"))
    amount = models.DecimalField(_("amount (TRY)"), max_digits=12,
                                 decimal_places=2)
    paid_on = models.DateField(_("paid on"))
    reference = models.CharField(_("invoice or receipt"), max_length=60,
                                 blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(bases=[HistorySource])

    class Meta:
        verbose_name = _("line payment")
        verbose_name_plural = _("line payments")
        ordering = ["due_date", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0),
                                              name="registers_payment_amount_positive")]
        indexes = [models.Index(fields=["subscription", "due_date"],
                                name="registers_payment_due_idx")]

    def __str__(self) -> str:
        return f"{self.subscription_id} {self.due_date}: {self.amount}"


class LineBuildingStatus(models.Model):
    """A building with overdue line payments, for the map (layer ``hat_odeme_gecikmesi``).

    Rebuilt by ``payments.refresh_overdue_map`` (after every payment or plan change and by
    the daily ``kentcbs registers payments-refresh``): a building is here while it has one.
    """

    building = models.OneToOneField("gis_core.Building", on_delete=models.CASCADE,
                                    related_name="+")
    overdue_lines = models.PositiveIntegerField(default=0)
    overdue_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    oldest_due = models.DateField()
    location = PointField(srid=settings.KENTCBS_SRID)
    refreshed_on = models.DateField()

    class Meta:
        verbose_name = _("building with overdue lines")
        verbose_name_plural = _("buildings with overdue lines")

    def __str__(self) -> str:
        return f"{self.building_id}: {self.overdue_lines}"
