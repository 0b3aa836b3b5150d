"""Controlled lists of the core domain (stored as codes, shown in Turkish first)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RoleChoices(models.TextChoices):
    VIEWER = "viewer", _("Görüntüleyici / Viewer")
    DATA_ENTRY = "data_entry", _("Veri girişi / Data entry")
    GIS_ADMIN = "gis_admin", _("CBS yöneticisi / GIS admin")
    TECHNICIAN = "technician", _("Teknisyen / Technician")
    NETWORK_ADMIN = "network_admin", _("Ağ yöneticisi / Network admin")
    MANAGER = "manager", _("Yönetici / Manager")


class DepartmentKindChoices(models.TextChoices):
    DIRECTORATE = "directorate", _("Müdürlük / Directorate")
    UNIT = "unit", _("Birim / Unit")


class AssetCategoryChoices(models.TextChoices):
    DESKTOP = "desktop", _("Masaüstü bilgisayar / Desktop")
    LAPTOP = "laptop", _("Dizüstü bilgisayar / Laptop")
    MONITOR = "monitor", _("Monitör / Monitor")
    PRINTER = "printer", _("Yazıcı / Printer")
    SCANNER = "scanner", _("Tarayıcı / Scanner")
    SWITCH = "switch", _("Ağ anahtarı / Switch")
    ROUTER = "router", _("Yönlendirici / Router")
    MODEM = "modem", _("Modem / Modem")
    ACCESS_POINT = "access_point", _("Kablosuz erişim noktası / Access point")
    FIREWALL = "firewall", _("Güvenlik duvarı / Firewall")
    SERVER = "server", _("Sunucu / Server")
    STORAGE = "storage", _("Depolama ünitesi / Storage")
    UPS = "ups", _("Kesintisiz güç kaynağı / UPS")
    IP_CAMERA = "ip_camera", _("IP kamera / IP camera")
    PDKS_TERMINAL = "pdks_terminal", _("PDKS terminali / Personnel tracking terminal")
    PBX = "pbx", _("Santral / PBX")
    IP_PHONE = "ip_phone", _("IP telefon / IP phone")
    KIOSK = "kiosk", _("Kiosk / Kiosk")
    OTHER = "other", _("Diğer / Other")


#: Categories that are network devices (inventory of network devices, O11 b).
NETWORK_CATEGORIES = frozenset({"switch", "router", "modem", "access_point", "firewall"})


class AssetStatusChoices(models.TextChoices):
    IN_STOCK = "in_stock", _("Depoda / In stock")
    IN_SERVICE = "in_service", _("Kullanımda / In service")
    IN_REPAIR_INTERNAL = "in_repair_internal", _("Onarımda (iç) / In repair (internal)")
    IN_REPAIR_VENDOR = "in_repair_vendor", _("Onarımda (firma) / In repair (vendor)")
    IN_REPAIR_WARRANTY = "in_repair_warranty", _("Garantide onarımda / In repair (warranty)")
    SCRAPPED = "scrapped", _("Hurda / Scrapped")


REPAIR_STATUSES = frozenset({"in_repair_internal", "in_repair_vendor", "in_repair_warranty"})

#: Allowed lifecycle transitions: from -> set of to.
ASSET_TRANSITIONS: dict[str, frozenset[str]] = {
    "in_stock": frozenset({"in_service", *REPAIR_STATUSES, "scrapped"}),
    "in_service": frozenset({"in_stock", *REPAIR_STATUSES, "scrapped"}),
    **{status: frozenset({"in_service", "in_stock", "scrapped", *(REPAIR_STATUSES - {status})})
       for status in REPAIR_STATUSES},
    "scrapped": frozenset(),
}


class ScrappingStatusChoices(models.TextChoices):
    PROPOSED = "proposed", _("Önerildi / Proposed")
    APPROVED = "approved", _("Onaylandı (hurdaya ayrıldı) / Approved (scrapped)")
    REJECTED = "rejected", _("Reddedildi / Rejected")


class LinkMediumChoices(models.TextChoices):
    FIBER_SINGLE_MODE = "fiber_sm", _("Fiber (tek mod) / Single-mode fiber")
    FIBER_MULTI_MODE = "fiber_mm", _("Fiber (çok mod) / Multi-mode fiber")
    COPPER = "copper", _("Bakır kablo / Copper")
    WIRELESS_P2P = "wireless_p2p", _("Radyolink (noktadan noktaya) / Wireless point-to-point")
    LEASED_LINE = "leased_line", _("Kiralık hat / Leased line")
    METRO_ETHERNET = "metro_ethernet", _("Metro Ethernet / Metro Ethernet")
    XDSL = "xdsl", _("xDSL / xDSL")
    MOBILE = "mobile", _("Mobil (4G/5G) / Mobile")


class LinkStatusChoices(models.TextChoices):
    PLANNED = "planned", _("Planlandı / Planned")
    ACTIVE = "active", _("Aktif / Active")
    DEGRADED = "degraded", _("Sorunlu / Degraded")
    DOWN = "down", _("Kesik / Down")
    DECOMMISSIONED = "decommissioned", _("Kullanım dışı / Decommissioned")


class SubscriptionKindChoices(models.TextChoices):
    VOICE = "voice", _("Sabit telefon / Voice line")
    PBX_TRUNK = "pbx_trunk", _("Santral hattı (PRI/SIP) / PBX trunk")
    INTERNET = "internet", _("İnternet / Internet access")
    DATA = "data", _("Data hattı / Data line")
    METRO_ETHERNET = "metro_ethernet", _("Metro Ethernet / Metro Ethernet")
    XDSL = "xdsl", _("xDSL / xDSL")
    MOBILE = "mobile", _("Mobil hat / Mobile line")


class AuditSourceChoices(models.TextChoices):
    WEB = "web", _("Web")
    API = "api", _("API")
    ETL = "etl", _("ETL")
    SHELL = "shell", _("Komut satırı / Command line")
    SYSTEM = "system", _("Sistem / System")
