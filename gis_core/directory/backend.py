"""The directory sign-in backend: django-auth-ldap, with KentCBS's memberships and messages.

Order in ``AUTHENTICATION_BACKENDS`` (``gis_core.settings``): axes, tokens, Django's
``ModelBackend``, then :class:`DirectoryBackend`. Local accounts (the ones with a
KentCBS password, the administrator's among them) are checked first and never reach
the directory, so they sign in quickly and while the directory is down. A directory
account's KentCBS user has no usable password, so ``ModelBackend`` passes it on.
The directory backend never takes over a local account of the same name.

At every directory sign-in the user's memberships become exactly the (department,
role) pairs the group map (:mod:`gis_core.directory.groups`) gives for the user's
directory groups: added and removed. Why a sign-in was refused (wrong password,
disabled account, no mapped group, directory unreachable) is noted on the request
for the sign-in form (:func:`gis_core.signin.note_problem`).
"""

from __future__ import annotations

import logging
from typing import Any

import ldap
from django.conf import settings
from django.db import transaction
from django_auth_ldap.backend import LDAPBackend, _LDAPUser, ldap_error

from gis_core import signin
from gis_core.directory.groups import GroupMapError, load_group_map

log = logging.getLogger("kentcbs.directory")


def _on_ldap_error(sender: Any, context: str, request: Any = None, exception: Any = None,
                   **kwargs: Any) -> None:
    """django-auth-ldap's ``ldap_error``: the directory could not be asked.

    No answer (down, timed out, TLS refused) is "unreachable"; any other error while a
    request signs in (the service account refused, a search base that does not exist)
    is "not set up correctly". A user's own wrong password never comes here.
    """
    log.error("directory unavailable (%s): %s", context, _describe(exception))
    unreachable = isinstance(exception, UNREACHABLE_ERRORS)
    signin.note_problem(request, signin.DIRECTORY_UNREACHABLE if unreachable
                        else signin.DIRECTORY_MISCONFIGURED)


#: python-ldap's errors for "no answer from the directory".
UNREACHABLE_ERRORS = (ldap.SERVER_DOWN, ldap.TIMEOUT, ldap.CONNECT_ERROR, ldap.UNAVAILABLE,
                      ldap.BUSY)


def _describe(exception: Any) -> str:
    if isinstance(exception, ldap.LDAPError) and exception.args and isinstance(
            exception.args[0], dict):
        info = exception.args[0]
        return f"{type(exception).__name__}: {info.get('desc', '')} {info.get('info', '')}"
    return repr(exception)


def _local_account(username: str) -> bool:
    """Whether ``username`` is a local KentCBS account (it has a KentCBS password)."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username__iexact=username).first()
    return user is not None and user.has_usable_password()


def sync_memberships(*, user: Any, wanted: set[tuple[str, str]]) -> tuple[int, int]:
    """Make ``user``'s memberships exactly ``wanted`` (department code, role) pairs.

    Pairs naming a department that does not exist are left out (and logged). Returns
    (added, removed). Each change is a model save or delete, so history and role groups
    follow (``gis_core.signals``).
    """
    from gis_core.models import Department, Membership

    departments = {d.code: d for d in Department.objects.filter(
        code__in={code for code, _role in wanted})}
    for code in sorted({code for code, _role in wanted} - departments.keys()):
        log.error("directory group map names an unknown department %r: left out", code)
    wanted = {(code, role) for code, role in wanted if code in departments}
    added = removed = 0
    with transaction.atomic():
        for membership in Membership.objects.filter(user=user).select_related("department"):
            if (membership.department.code, membership.role) not in wanted:
                membership.delete()
                removed += 1
        have = set(Membership.objects.filter(user=user)
                   .values_list("department__code", "role"))
        for code, role in sorted(wanted - have):
            Membership.objects.create(user=user, department=departments[code], role=role)
            added += 1
    if added or removed:
        log.info("directory memberships of %s: %d added, %d removed", user.username, added,
                 removed)
    return added, removed


class DirectoryBackend(LDAPBackend):
    """LDAP / Active Directory sign-in (``KENTCBS_LDAP_*``, :mod:`gis_core.directory`)."""

    def authenticate(self, request: Any, username: str | None = None,
                     password: str | None = None, **kwargs: Any) -> Any:
        if not getattr(settings, "KENTCBS_LDAP_ENABLED", False) or not username or not password:
            return None
        if _local_account(username.strip()):
            return None  # a local account: ModelBackend answered already
        return super().authenticate(request, username=username, password=password, **kwargs)

    def ldap_to_django_username(self, username: str) -> str:
        # Directory names are case-insensitive: one KentCBS user however it is typed.
        return username.lower() if username.isascii() else username

    def get_user(self, user_id: int) -> Any:
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None

    def authenticate_ldap_user(self, ldap_user: _LDAPUser, password: str) -> Any:
        request = ldap_user._request
        user = ldap_user.authenticate(password)
        if user is not None:
            wanted = getattr(ldap_user, "kentcbs_memberships", set())
            sync_memberships(user=user, wanted=wanted)
            return user
        if signin.signin_problem(request) in (signin.DIRECTORY_UNREACHABLE,
                                              signin.DIRECTORY_MISCONFIGURED,
                                              signin.DIRECTORY_NO_GROUP):
            return None
        # A wrong password, an unknown name, or a disabled account: a disabled account's
        # bind fails like a wrong password (Active Directory, OpenLDAP's ppolicy), so ask.
        if self._disabled(ldap_user):
            signin.note_problem(request, signin.DIRECTORY_DISABLED)
            self._deactivate(ldap_user)
        else:
            signin.note_problem(request, signin.BAD_CREDENTIALS)
        return None

    def get_or_build_user(self, username: str, ldap_user: _LDAPUser) -> tuple[Any, bool]:
        """After the password was accepted: the user, if the group map gives it a role."""
        user, built = super().get_or_build_user(username, ldap_user)
        if not built and user.has_usable_password():
            # Never reached through authenticate(); a guard for populate_user().
            signin.note_problem(ldap_user._request, signin.BAD_CREDENTIALS)
            raise ldap_user.AuthenticationFailed("a local account of that name exists")
        try:
            group_map = load_group_map(settings.KENTCBS_LDAP_GROUPS_FILE)
        except GroupMapError as exc:
            log.error("%s", exc.english)
            signin.note_problem(ldap_user._request, signin.DIRECTORY_MISCONFIGURED)
            raise ldap_user.AuthenticationFailed(exc.english) from exc
        wanted = group_map.memberships(ldap_user.group_dns)
        if not wanted:
            if not built:  # the directory took away every KentCBS group: so does KentCBS
                sync_memberships(user=user, wanted=set())
            signin.note_problem(ldap_user._request, signin.DIRECTORY_NO_GROUP)
            raise ldap_user.AuthenticationFailed("in no mapped group")
        ldap_user.kentcbs_memberships = wanted  # type: ignore[attr-defined]
        user.is_active = True
        return user, built

    def _disabled(self, ldap_user: _LDAPUser) -> bool:
        """Whether the user's entry matches ``KENTCBS_LDAP_DISABLED_FILTER``.

        Asked on a fresh connection as the service account: the failed bind may have
        left the user's connection anonymous.
        """
        dn = ldap_user._user_dn
        if not dn:
            return False
        try:
            conn = self._service_connection(ldap_user)
            try:
                found = conn.search_s(dn, ldap.SCOPE_BASE, settings.KENTCBS_LDAP_DISABLED_FILTER,
                                      ["1.1"])
            finally:
                conn.unbind_s()
        except ldap.LDAPError as exc:
            log.warning("could not tell whether %s is disabled: %s", dn, _describe(exc))
            return False
        return bool(found)

    def _service_connection(self, ldap_user: _LDAPUser) -> Any:
        conn = self.ldap.initialize(self.settings.SERVER_URI, bytes_mode=False)
        for option, value in self.settings.CONNECTION_OPTIONS.items():
            conn.set_option(option, value)
        if self.settings.START_TLS:
            conn.start_tls_s()
        conn.simple_bind_s(self.settings.BIND_DN, self.settings.BIND_PASSWORD)
        return conn

    def _deactivate(self, ldap_user: _LDAPUser) -> None:
        """A disabled directory account's KentCBS user is inactive: its sessions end too."""
        from django.contrib.auth import get_user_model
        from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX

        username = self.ldap_to_django_username(ldap_user._username)
        get_user_model().objects.filter(
            username__iexact=username, is_active=True,
            password__startswith=UNUSABLE_PASSWORD_PREFIX).update(is_active=False)


ldap_error.connect(_on_ldap_error, sender=DirectoryBackend, dispatch_uid="kentcbs_ldap_error")
