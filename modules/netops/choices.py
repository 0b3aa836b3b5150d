"""Choices of the network operations module (Turkish labels, ASCII codes)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class LeaseFormat(models.TextChoices):
    ISC = "isc", _("ISC dhcpd.leases")
    KEA = "kea", _("Kea (kira CSV'si veya legal_log)")
    WINDOWS = "windows", _("Windows DHCP denetim günlüğü")
    BTKLOG = "btklog", _("btklog çıktısı")


class EndReason(models.TextChoices):
    RELEASED = "released", _("bırakıldı")
    EXPIRED = "expired", _("süresi doldu")
    DELETED = "deleted", _("silindi")


class Reachability(models.TextChoices):
    UP = "up", _("erişilebilir")
    DOWN = "down", _("erişilemiyor")
    UNKNOWN = "unknown", _("bilinmiyor")


class AlertSource(models.TextChoices):
    PROBE = "probe", _("KentCBS yoklaması")
    ALERTMANAGER = "alertmanager", _("Prometheus Alertmanager")
    ZABBIX = "zabbix", _("Zabbix")


class BackupKind(models.TextChoices):
    SERVER = "server", _("sunucu")
    DATABASE = "database", _("veritabanı")
    NETWORK_CONFIG = "network_config", _("ağ cihazı yapılandırması")
    KENTCBS = "kentcbs", _("KentCBS")
    OTHER = "other", _("diğer")


class Importance(models.TextChoices):
    CRITICAL = "critical", _("kritik")
    HIGH = "high", _("yüksek")
    NORMAL = "normal", _("normal")
    LOW = "low", _("düşük")


class BackupPolicy(models.TextChoices):
    HOURLY = "hourly", _("saatlik")
    DAILY = "daily", _("günlük")
    WEEKLY = "weekly", _("haftalık")
    MONTHLY = "monthly", _("aylık")
    SEMIANNUAL = "semiannual", _("altı aylık")


#: How long each policy allows between two good backups.
POLICY_PERIOD_HOURS = {"hourly": 1, "daily": 24, "weekly": 24 * 7, "monthly": 24 * 31,
                       "semiannual": 24 * 183}


class RunStatus(models.TextChoices):
    OK = "ok", _("başarılı")
    FAILED = "failed", _("başarısız")


class DrillOutcome(models.TextChoices):
    SUCCESS = "success", _("başarılı")
    PARTIAL = "partial", _("kısmen başarılı")
    FAILED = "failed", _("başarısız")
