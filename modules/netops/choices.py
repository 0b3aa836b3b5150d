"""Choices of the network operations module (ASCII codes; English msgids, Turkish in the
module's ``locale/tr``)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class LeaseFormat(models.TextChoices):
    ISC = "isc", _("ISC dhcpd.leases")
    KEA = "kea", _("Kea (lease CSV or legal_log)")
    WINDOWS = "windows", _("Windows DHCP audit log")
    BTKLOG = "btklog", _("btklog output")


class EndReason(models.TextChoices):
    RELEASED = "released", _("released")
    EXPIRED = "expired", _("expired")
    DELETED = "deleted", _("deleted")


class Reachability(models.TextChoices):
    UP = "up", _("reachable")
    DOWN = "down", _("unreachable")
    UNKNOWN = "unknown", _("unknown")


class AlertSource(models.TextChoices):
    PROBE = "probe", _("KentCBS probe")
    ALERTMANAGER = "alertmanager", _("Prometheus Alertmanager")
    ZABBIX = "zabbix", _("Zabbix")


class BackupKind(models.TextChoices):
    SERVER = "server", _("server")
    DATABASE = "database", _("database")
    NETWORK_CONFIG = "network_config", _("network device configuration")
    KENTCBS = "kentcbs", _("KentCBS")
    OTHER = "other", _("other")


class Importance(models.TextChoices):
    CRITICAL = "critical", _("critical")
    HIGH = "high", _("high")
    NORMAL = "normal", _("normal")
    LOW = "low", _("low")


class BackupPolicy(models.TextChoices):
    HOURLY = "hourly", _("hourly")
    DAILY = "daily", _("daily")
    WEEKLY = "weekly", _("weekly")
    MONTHLY = "monthly", _("monthly")
    SEMIANNUAL = "semiannual", _("six-monthly")


#: How long each policy allows between two good backups.
POLICY_PERIOD_HOURS = {"hourly": 1, "daily": 24, "weekly": 24 * 7, "monthly": 24 * 31,
                       "semiannual": 24 * 183}


class RunStatus(models.TextChoices):
    OK = "ok", _("successful")
    FAILED = "failed", _("failed")


class DrillOutcome(models.TextChoices):
    SUCCESS = "success", _("successful")
    PARTIAL = "partial", _("partly successful")
    FAILED = "failed", _("failed")
