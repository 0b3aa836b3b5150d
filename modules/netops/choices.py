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
