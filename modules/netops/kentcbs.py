"""What the network operations module attaches to the core (``gis_core.modules``)."""

from __future__ import annotations

from gis_core.modules import MenuItem, ModuleSpec, Permission

NETWORK_ROLES = ("network_admin", "gis_admin")

MODULE = ModuleSpec(
    code="netops",
    title_tr="Ağ İşletimi",
    title_en="Network operations",
    urls="modules.netops.urls",
    menu_items=(MenuItem("netops:whois", "IP sorgusu (5651)", "IP lookup (5651)",
                         NETWORK_ROLES),),
    permissions=(
        Permission("netops.whois", "5651 IP dağıtım kayıtlarını sorgulama",
                   "Look up Law 5651 IP distribution records", NETWORK_ROLES,
                   pages=("netops:whois",)),
    ),
)
