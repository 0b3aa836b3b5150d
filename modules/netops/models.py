"""Tables of the network operations module.

The Law 5651 records (``DhcpLease``, ``LeaseEnd``), the purge log and the lookup log
are append-only: the migration puts a trigger on each that refuses ``UPDATE``,
``TRUNCATE`` and any ``DELETE`` but a purge of rows past the legal minimum (see
``modules/netops/sql.py``), and revokes those privileges from ``PUBLIC``.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from modules.netops.choices import (
    AlertSource,
    BackupKind,
    BackupPolicy,
    DrillOutcome,
    EndReason,
    Importance,
    LeaseFormat,
    Reachability,
    RunStatus,
)


class DhcpLease(models.Model):
    """One use of an internal IP address by a device: address, start, end, MAC (5651)."""

    ip_address = models.GenericIPAddressField(_("IP address"))
    #: Lower case, colon separated (``aa:bb:cc:dd:ee:ff``).
    mac_address = models.CharField(_("MAC address"), max_length=17)
    starts_at = models.DateTimeField(_("start of use"))
    ends_at = models.DateTimeField(_("end of use"), null=True, blank=True)
    #: The offset from UTC the source wrote its times in, in minutes (ISC: 0).
    utc_offset = models.SmallIntegerField(_("source UTC offset (min)"))
    hostname = models.CharField(_("hostname"), max_length=255, blank=True)
    server = models.CharField(_("DHCP server"), max_length=100)
    source_format = models.CharField(_("format"), max_length=10,
                                     choices=LeaseFormat.choices)
    source_name = models.CharField(_("source file"), max_length=255)
    source_line = models.PositiveIntegerField(_("line"))
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        verbose_name = _("IP distribution record")
        verbose_name_plural = _("IP distribution records")
        constraints = [models.UniqueConstraint(
            fields=["server", "ip_address", "mac_address", "starts_at"], name="netops_lease_once")]
        indexes = [models.Index(fields=["ip_address", "starts_at"]),
                   models.Index(fields=["mac_address", "starts_at"]),
                   models.Index(fields=["starts_at"])]

    def __str__(self) -> str:
        return f"{self.ip_address} {self.mac_address} {self.starts_at:%Y-%m-%d %H:%M:%S}"


class LeaseEnd(models.Model):
    """A release or expiry seen in a log that records it apart from the start (Windows)."""

    ip_address = models.GenericIPAddressField(_("IP address"))
    mac_address = models.CharField(_("MAC address"), max_length=17)
    ended_at = models.DateTimeField(_("end"))
    utc_offset = models.SmallIntegerField(_("source UTC offset (min)"))
    reason = models.CharField(_("reason"), max_length=10, choices=EndReason.choices)
    server = models.CharField(_("DHCP server"), max_length=100)
    source_name = models.CharField(_("source file"), max_length=255)
    source_line = models.PositiveIntegerField(_("line"))
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        verbose_name = _("lease end")
        verbose_name_plural = _("lease ends")
        constraints = [models.UniqueConstraint(
            fields=["server", "ip_address", "mac_address", "ended_at"], name="netops_end_once")]
        indexes = [models.Index(fields=["ip_address", "ended_at"])]

    def __str__(self) -> str:
        return f"{self.ip_address} {self.mac_address} {self.ended_at:%Y-%m-%d %H:%M:%S}"


class LeaseFile(models.Model):
    """One intake of a DHCP file: what was read, stored, already known and unreadable."""

    name = models.CharField(_("file"), max_length=255)
    sha256 = models.CharField(max_length=64)
    server = models.CharField(_("DHCP server"), max_length=100)
    source_format = models.CharField(_("format"), max_length=10,
                                     choices=LeaseFormat.choices)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    received_by = models.CharField(_("received by"), max_length=150)
    lines = models.PositiveIntegerField(default=0)
    leases_new = models.PositiveIntegerField(default=0)
    leases_known = models.PositiveIntegerField(default=0)
    ends_new = models.PositiveIntegerField(default=0)
    #: ``[{"line": n, "reason": "..."}]`` for every line that could not be read.
    problems = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("DHCP file intake")
        verbose_name_plural = _("DHCP file intakes")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.server})"


class DailyArchive(models.Model):
    """A day's records as a file in btklog's layout, its SHA-256 and RFC 3161 token."""

    day = models.DateField(_("day"), unique=True)
    path = models.CharField(_("file"), max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    records = models.PositiveIntegerField(_("records"))
    token_path = models.CharField(_("time-stamp token"), max_length=255)
    tsa_url = models.CharField(max_length=500)
    time_stamped_at = models.DateTimeField(_("time stamped at"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("daily 5651 archive")
        verbose_name_plural = _("daily 5651 archives")
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} ({self.records})"


class PurgeRecord(models.Model):
    """A destruction of records past their retention (KVKK destruction log): kept 3 years."""

    purged_at = models.DateTimeField(default=timezone.now)
    before = models.DateTimeField(_("records before"))
    leases_deleted = models.PositiveIntegerField(default=0)
    ends_deleted = models.PositiveIntegerField(default=0)
    archives_deleted = models.JSONField(default=list, blank=True)
    purged_by = models.CharField(max_length=150)

    class Meta:
        verbose_name = _("destruction record")
        verbose_name_plural = _("destruction records")

    def __str__(self) -> str:
        return f"{self.purged_at:%Y-%m-%d} < {self.before:%Y-%m-%d}"


class LookupRecord(models.Model):
    """Who asked which address was whose, when, and why (KVKK)."""

    looked_at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    actor = models.CharField(max_length=150)
    ip_address = models.GenericIPAddressField()
    at = models.DateTimeField()
    reason = models.CharField(_("reason for the lookup"), max_length=300)
    found_mac = models.CharField(max_length=17, blank=True)
    found_asset = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name = _("IP lookup record")
        verbose_name_plural = _("IP lookup records")

    def __str__(self) -> str:
        return f"{self.actor} {self.ip_address} {self.at:%Y-%m-%d %H:%M}"


class AssetReachability(models.Model):
    """The last known state of an asset with an IP address, and since when."""

    asset = models.OneToOneField("gis_core.Asset", on_delete=models.CASCADE,
                                 related_name="reachability")
    state = models.CharField(_("state"), max_length=10, choices=Reachability.choices,
                             default=Reachability.UNKNOWN)
    since = models.DateTimeField(_("since"), default=timezone.now)
    checked_at = models.DateTimeField(_("last check"), default=timezone.now)
    detail = models.CharField(max_length=200, blank=True)
    #: How the last check asked: ``icmp``, ``tcp``, ``icmp+tcp`` (no echo reply, then TCP), or
    #: the external monitor's name for a state it reported.
    method = models.CharField(_("method"), max_length=15, blank=True)

    class Meta:
        verbose_name = _("reachability")
        verbose_name_plural = _("reachability")

    def __str__(self) -> str:
        return f"{self.asset_id} {self.state}"


class StateChange(models.Model):
    """An asset went down or came back (from the probe or an external monitor)."""

    asset = models.ForeignKey("gis_core.Asset", on_delete=models.CASCADE,
                              related_name="state_changes")
    building = models.ForeignKey("gis_core.Building", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    old_state = models.CharField(max_length=10, choices=Reachability.choices)
    new_state = models.CharField(max_length=10, choices=Reachability.choices)
    at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=15, choices=AlertSource.choices)
    detail = models.CharField(max_length=300, blank=True)
    #: How the check that saw the change asked (see ``AssetReachability.method``).
    method = models.CharField(_("method"), max_length=15, blank=True)

    class Meta:
        verbose_name = _("state change")
        verbose_name_plural = _("state changes")
        indexes = [models.Index(fields=["building", "at"]), models.Index(fields=["asset", "at"])]

    def __str__(self) -> str:
        return f"{self.asset_id} {self.old_state}->{self.new_state} {self.at:%Y-%m-%d %H:%M}"


class LinkReachability(models.Model):
    """The state of a network link (``gis_core.NetworkLink``), derived from its ends' states
    by :func:`modules.netops.monitoring.link_state`, and since when. Kept apart from the
    link's own ``status`` (what people record: planned, active, decommissioned...)."""

    link = models.OneToOneField("gis_core.NetworkLink", on_delete=models.CASCADE,
                                related_name="reachability")
    state = models.CharField(_("state"), max_length=10, choices=Reachability.choices,
                             default=Reachability.UNKNOWN)
    since = models.DateTimeField(_("since"), default=timezone.now)
    checked_at = models.DateTimeField(_("last evaluated"),
                                      default=timezone.now)
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("link state")
        verbose_name_plural = _("link states")

    def __str__(self) -> str:
        return f"link {self.link_id} {self.state}"


class LinkStateChange(models.Model):
    """A network link went down or came back; both ends' buildings, for their history."""

    link = models.ForeignKey("gis_core.NetworkLink", on_delete=models.CASCADE,
                             related_name="state_changes")
    a_building = models.ForeignKey("gis_core.Building", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    b_building = models.ForeignKey("gis_core.Building", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    old_state = models.CharField(max_length=10, choices=Reachability.choices)
    new_state = models.CharField(max_length=10, choices=Reachability.choices)
    at = models.DateTimeField(default=timezone.now)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("link state change")
        verbose_name_plural = _("link state changes")
        indexes = [models.Index(fields=["link", "at"]), models.Index(fields=["a_building", "at"]),
                   models.Index(fields=["b_building", "at"])]

    def __str__(self) -> str:
        return f"link {self.link_id} {self.old_state}->{self.new_state} {self.at:%Y-%m-%d %H:%M}"


class Alert(models.Model):
    """One outage of one asset or one network link, open while it lasts: notified once when
    it starts and once when it ends, to the IT unit responsible and to the departments housed
    in the building (for a link: in the buildings at both ends)."""

    asset = models.ForeignKey("gis_core.Asset", null=True, blank=True, on_delete=models.CASCADE,
                              related_name="+")
    link = models.ForeignKey("gis_core.NetworkLink", null=True, blank=True,
                             on_delete=models.CASCADE, related_name="+")
    building = models.ForeignKey("gis_core.Building", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    #: A link's other end, when it is in another building.
    other_building = models.ForeignKey("gis_core.Building", null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(max_length=15, choices=AlertSource.choices)
    title = models.CharField(_("title"), max_length=200)
    #: What is down, without words (``SW-2 (10.0.0.2, Zabıta Binası)``, a link's ends): the
    #: pages put it after a label in the reader's language; ``title`` stays as mailed.
    subject = models.CharField(_("asset or link"), max_length=200, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    #: e-mail addresses told of the outage (and later of its end)
    recipients = models.JSONField(default=list, blank=True)
    departments = models.JSONField(default=list, blank=True)
    #: What other modules' outage handlers made of it (``gis_core.modules.OutageReceipt``
    #: as dicts: module, ref, label, url), e.g. the helpdesk ticket it opened.
    receipts = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(fields=["asset"], condition=models.Q(
                closed_at__isnull=True, asset__isnull=False),
                name="netops_one_open_alert_per_asset"),
            models.UniqueConstraint(fields=["link"], condition=models.Q(
                closed_at__isnull=True, link__isnull=False),
                name="netops_one_open_alert_per_link"),
            models.CheckConstraint(condition=models.Q(asset__isnull=False, link__isnull=True)
                                   | models.Q(asset__isnull=True, link__isnull=False),
                                   name="netops_alert_asset_or_link"),
        ]

    def __str__(self) -> str:
        return self.title

    def what(self) -> str:
        """What is down, for a page: a link described in the reader's language (its medium
        is a label), else the stored ``subject``."""
        if self.link_id is not None and self.link is not None:
            from modules.netops.monitoring import describe_link

            return describe_link(self.link)
        return self.subject or self.title


class BackupTarget(models.Model):
    """Something that must be backed up, how important it is and how often (O11 ı)."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(_("kind"), max_length=20, choices=BackupKind.choices)
    importance = models.CharField(_("importance"), max_length=10,
                                  choices=Importance.choices, default=Importance.NORMAL)
    policy = models.CharField(_("policy"), max_length=12, choices=BackupPolicy.choices)
    department = models.ForeignKey("gis_core.Department", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("responsible unit"))
    asset = models.ForeignKey("gis_core.Asset", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    building = models.ForeignKey("gis_core.Building", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    notes = models.TextField(blank=True)

    class Meta:
        verbose_name = _("backup target")
        verbose_name_plural = _("backup register")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} ({self.get_policy_display()})"


class BackupRun(models.Model):
    """A backup job's result, reported by the job (CLI or webhook)."""

    target = models.ForeignKey(BackupTarget, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(_("result"), max_length=10, choices=RunStatus.choices)
    at = models.DateTimeField(_("at"), default=timezone.now)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    reported_by = models.CharField(max_length=150)

    class Meta:
        verbose_name = _("backup run")
        verbose_name_plural = _("backup runs")
        indexes = [models.Index(fields=["target", "at"])]

    def __str__(self) -> str:
        return f"{self.target_id} {self.status} {self.at:%Y-%m-%d %H:%M}"


class RestoreDrill(models.Model):
    """A restore test and its outcome."""

    target = models.ForeignKey(BackupTarget, on_delete=models.CASCADE, related_name="drills")
    at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=10, choices=DrillOutcome.choices)
    notes = models.TextField(blank=True)
    recorded_by = models.CharField(max_length=150)

    class Meta:
        verbose_name = _("restore drill")
        verbose_name_plural = _("restore drills")

    def __str__(self) -> str:
        return f"{self.target_id} {self.outcome} {self.at:%Y-%m-%d}"


class BackupAlert(models.Model):
    """A failed or overdue backup, open until a good run arrives; notified once each way."""

    target = models.ForeignKey(BackupTarget, on_delete=models.CASCADE, related_name="alerts")
    reason = models.CharField(max_length=10, choices=[("failed", _("failed")),
                                                      ("overdue", _("overdue"))])
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    recipients = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("backup alert")
        verbose_name_plural = _("backup alerts")
        constraints = [models.UniqueConstraint(fields=["target"], condition=models.Q(
            closed_at__isnull=True), name="netops_one_open_backup_alert")]

    def __str__(self) -> str:
        return f"{self.target_id} {self.reason}"


class DeviceConfig(models.Model):
    """One version of a network device's configuration (uploaded, or read from the folder
    RANCID or Oxidized writes); a new version only when the text changed."""

    device = models.CharField(_("device"), max_length=120)
    asset = models.ForeignKey("gis_core.Asset", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    version = models.PositiveIntegerField()
    text = models.TextField()
    sha256 = models.CharField(max_length=64)
    taken_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=200)
    recorded_by = models.CharField(max_length=150)

    class Meta:
        verbose_name = _("device configuration")
        verbose_name_plural = _("device configurations")
        constraints = [models.UniqueConstraint(fields=["device", "version"],
                                               name="netops_config_version_once")]
        ordering = ["device", "-version"]

    def __str__(self) -> str:
        return f"{self.device} v{self.version}"


class BuildingNetworkStatus(models.Model):
    """A building's network state for the map (layer ``ag_bina_durumu``): refreshed when one
    of its assets changes state."""

    building = models.OneToOneField("gis_core.Building", on_delete=models.CASCADE,
                                    related_name="network_status")
    state = models.CharField(_("state"), max_length=10,
                             choices=[("up", _("up")), ("degraded", _("degraded")),
                                      ("down", _("down"))])
    assets_up = models.PositiveIntegerField(default=0)
    assets_down = models.PositiveIntegerField(default=0)
    open_alerts = models.PositiveIntegerField(default=0)
    location = models.PointField(srid=settings.KENTCBS_SRID)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("building network status")
        verbose_name_plural = _("building network statuses")

    def __str__(self) -> str:
        return f"{self.building_id} {self.state}"
