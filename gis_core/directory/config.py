"""Directory sign-in settings from the environment (read by ``gis_core.settings``).

No Django model is imported here: :func:`directory_settings` runs while the settings
module loads. It returns django-auth-ldap's ``AUTH_LDAP_*`` settings and KentCBS's own
``KENTCBS_LDAP_*`` ones; with ``KENTCBS_LDAP_URI`` unset the directory is off and
only ``KENTCBS_LDAP_ENABLED = False`` comes back.

=================================  ==========================================================
``KENTCBS_LDAP_URI``               ``ldap://dc1.belediye.local`` or ``ldaps://…:636``; several
                                   servers separated by spaces. Unset: directory sign-in off.
``KENTCBS_LDAP_BIND_DN``           the service account that searches the directory
``KENTCBS_LDAP_BIND_PASSWORD``     its password
``KENTCBS_LDAP_USER_BASE``         where users are searched (subtree)
``KENTCBS_LDAP_USER_FILTER``       ``(sAMAccountName=%(user)s)`` (Active Directory)
``KENTCBS_LDAP_GROUP_BASE``        where groups are searched (subtree)
``KENTCBS_LDAP_GROUP_FILTER``      ``(|(objectClass=group)(objectClass=groupOfNames))``
``KENTCBS_LDAP_NESTED_GROUPS``     ``1``: membership through nested groups counts too
``KENTCBS_LDAP_DISABLED_FILTER``   which user entries are disabled accounts; Active
                                   Directory's flag by default, ``(pwdAccountLockedTime=*)``
                                   for OpenLDAP's password policy
``KENTCBS_LDAP_START_TLS``         ``1``: StartTLS on an ``ldap://`` connection
``KENTCBS_LDAP_CA_FILE``           CA certificate(s) that signed the server's certificate
``KENTCBS_LDAP_TIMEOUT``           seconds to wait for the server (5)
``KENTCBS_LDAP_GROUPS_FILE``       the YAML that maps groups to departments and roles
                                   (``$KENTCBS_HOME/directory-groups.yaml``)
=================================  ==========================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: Active Directory: userAccountControl has ACCOUNTDISABLE (2) set.
AD_DISABLED_FILTER = "(userAccountControl:1.2.840.113556.1.4.803:=2)"
AD_USER_FILTER = "(sAMAccountName=%(user)s)"
GROUP_FILTER = "(|(objectClass=group)(objectClass=groupOfNames))"


def _flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in {"1", "true", "yes", "on", "evet"}


def directory_settings(env: Mapping[str, str], *, home: Path) -> dict[str, Any]:
    """Return the directory settings for ``env`` (``os.environ`` in production).

    Examples
    --------
    >>> directory_settings({}, home=Path("var"))
    {'KENTCBS_LDAP_ENABLED': False}
    >>> s = directory_settings({"KENTCBS_LDAP_URI": "ldap://dc1", "KENTCBS_LDAP_USER_BASE":
    ...                         "ou=people,dc=b", "KENTCBS_LDAP_GROUP_BASE": "dc=b"},
    ...                        home=Path("var"))
    >>> s["AUTH_LDAP_SERVER_URI"], s["AUTH_LDAP_START_TLS"]
    ('ldap://dc1', False)
    """
    uri = env.get("KENTCBS_LDAP_URI", "").strip()
    if not uri:
        return {"KENTCBS_LDAP_ENABLED": False}
    import ldap
    from django_auth_ldap.config import LDAPSearch, MemberDNGroupType, NestedMemberDNGroupType

    timeout = float(env.get("KENTCBS_LDAP_TIMEOUT", "5") or 5)
    options: dict[int, Any] = {
        ldap.OPT_NETWORK_TIMEOUT: timeout,
        ldap.OPT_TIMEOUT: timeout,
        # Active Directory answers searches at the domain root with referrals to
        # other partitions; following them anonymously fails.
        ldap.OPT_REFERRALS: 0,
    }
    ca_file = env.get("KENTCBS_LDAP_CA_FILE", "").strip()
    if ca_file:
        options[ldap.OPT_X_TLS_CACERTFILE] = ca_file
        options[ldap.OPT_X_TLS_REQUIRE_CERT] = ldap.OPT_X_TLS_DEMAND
        options[ldap.OPT_X_TLS_NEWCTX] = 0  # last: builds the TLS context from the above
    user_filter = env.get("KENTCBS_LDAP_USER_FILTER", "").strip() or AD_USER_FILTER
    group_filter = env.get("KENTCBS_LDAP_GROUP_FILTER", "").strip() or GROUP_FILTER
    group_type = (NestedMemberDNGroupType if _flag(env, "KENTCBS_LDAP_NESTED_GROUPS")
                  else MemberDNGroupType)(member_attr="member")
    groups_file = env.get("KENTCBS_LDAP_GROUPS_FILE", "").strip()
    return {
        "KENTCBS_LDAP_ENABLED": True,
        "KENTCBS_LDAP_GROUPS_FILE": Path(groups_file) if groups_file
        else home / "directory-groups.yaml",
        "KENTCBS_LDAP_DISABLED_FILTER": env.get("KENTCBS_LDAP_DISABLED_FILTER", "").strip()
        or AD_DISABLED_FILTER,
        "AUTH_LDAP_SERVER_URI": uri,
        "AUTH_LDAP_BIND_DN": env.get("KENTCBS_LDAP_BIND_DN", ""),
        "AUTH_LDAP_BIND_PASSWORD": env.get("KENTCBS_LDAP_BIND_PASSWORD", ""),
        "AUTH_LDAP_START_TLS": _flag(env, "KENTCBS_LDAP_START_TLS"),
        "AUTH_LDAP_CONNECTION_OPTIONS": options,
        "AUTH_LDAP_USER_SEARCH": LDAPSearch(env.get("KENTCBS_LDAP_USER_BASE", ""),
                                            ldap.SCOPE_SUBTREE, user_filter),
        "AUTH_LDAP_GROUP_SEARCH": LDAPSearch(env.get("KENTCBS_LDAP_GROUP_BASE", ""),
                                             ldap.SCOPE_SUBTREE, group_filter),
        "AUTH_LDAP_GROUP_TYPE": group_type,
        "AUTH_LDAP_USER_ATTR_MAP": {"first_name": "givenName", "last_name": "sn",
                                    "email": "mail"},
        # Names and e-mail follow the directory at every sign-in, like memberships.
        "AUTH_LDAP_ALWAYS_UPDATE_USER": True,
        # Roles come from the group map (gis_core.directory.groups), never from
        # directory groups mirrored into Django's.
        "AUTH_LDAP_MIRROR_GROUPS": False,
        "AUTH_LDAP_FIND_GROUP_PERMS": False,
        "AUTH_LDAP_CACHE_TIMEOUT": 0,
    }
