"""Who is calling: the Django session (browsers) or HTTP Basic (QGIS, GDAL).

HTTP Basic carries a username and either the user's password or one of their
personal access tokens. Both are checked by Django's ``authenticate()`` (tokens by
:class:`TokenBackend`), so the sign-in throttle (django-axes, :mod:`gis_core.signin`)
counts and refuses them like the sign-in form. An ``Authorization`` header that is
not usable Basic credentials (another scheme such as ``Bearer``, ``Basic`` with
nothing or garbage after it, non-ASCII bytes) and a wrong credential are a 401,
never a silent fallback to anonymous.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from typing import Any

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.backends import BaseBackend
from django.http import HttpRequest
from django.utils import timezone

from gis_core.signin import is_locked_out
from ogc_api.models import PersonalAccessToken
from ogc_api.services import TOKEN_PREFIX, hash_token

#: Successful password checks are remembered briefly: QGIS sends Basic on every request,
#: and a password hash costs ~100 ms by design. A failed check for a user forgets theirs.
_PASSWORD_CACHE: dict[str, tuple[float, int, str]] = {}
_PASSWORD_TTL = 60.0
_LOCK = threading.Lock()


class BadCredentials(Exception):
    """An ``Authorization`` header was sent and is not a valid Basic credential."""


class LockedOut(BadCredentials):
    """The account or the address is locked after too many failed sign-ins."""


def _basic(request: HttpRequest) -> tuple[str, str] | None:
    """The (username, secret) of a Basic header; ``None`` when no header was sent."""
    header = request.META.get("HTTP_AUTHORIZATION")
    if header is None:
        return None
    scheme, _sep, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        raise BadCredentials
    try:
        # WSGI hands header bytes over as latin-1 text: anything non-ASCII is not base64
        decoded = base64.b64decode(value.strip().encode("ascii"), validate=True).decode("utf-8")
    except (UnicodeError, binascii.Error, ValueError):
        raise BadCredentials from None
    username, sep, secret = decoded.partition(":")
    if not sep or not username:
        raise BadCredentials
    return username, secret


class TokenBackend(BaseBackend):
    """Authentication backend for personal access tokens (``authenticate(token=...)``).

    Only a call that passes ``token`` reaches it: the sign-in form (username and
    password) never signs in with a token.
    """

    def authenticate(self, request: HttpRequest | None, username: str | None = None,
                     token: str | None = None, **kwargs: Any) -> Any | None:
        if not username or not token or not token.startswith(TOKEN_PREFIX):
            return None
        row = (PersonalAccessToken.objects.select_related("user")
               .filter(token_hash=hash_token(token), revoked__isnull=True,
                       user__username=username, user__is_active=True).first())
        if row is None:
            return None
        now = timezone.now()
        if row.last_used is None or (now - row.last_used).total_seconds() > 60:
            PersonalAccessToken.objects.filter(pk=row.pk).update(last_used=now)
        return row.user

    def get_user(self, user_id: int) -> Any | None:
        return get_user_model().objects.filter(pk=user_id, is_active=True).first()


def _password_user(request: HttpRequest, username: str, secret: str) -> Any | None:
    key = hashlib.sha256(f"{username}\0{secret}".encode()).hexdigest()
    with _LOCK:
        hit = _PASSWORD_CACHE.get(key)
    if hit and hit[0] > time.monotonic():
        user = get_user_model().objects.filter(pk=hit[1], is_active=True).first()
        if user is not None:
            return user
    user = authenticate(request, username=username, password=secret)
    with _LOCK:
        if user is not None:
            _PASSWORD_CACHE[key] = (time.monotonic() + _PASSWORD_TTL, user.pk, username)
        else:  # a failure (perhaps the lockout) ends this process's shortcut for the user
            for stale in [k for k, v in _PASSWORD_CACHE.items() if v[2] == username]:
                del _PASSWORD_CACHE[stale]
    return user


def request_user(request: HttpRequest) -> Any:
    """Return the caller: a Basic-authenticated user, the session user or anonymous.

    Raises :class:`BadCredentials` when an ``Authorization`` header is present and not
    valid Basic credentials, :class:`LockedOut` when the throttle refuses the attempt.
    """
    credentials = _basic(request)
    if credentials is None:
        return request.user
    username, secret = credentials
    if secret.startswith(TOKEN_PREFIX):
        user = authenticate(request, username=username, token=secret)
    else:
        user = _password_user(request, username, secret)
    if user is None:
        raise LockedOut if is_locked_out(request) else BadCredentials
    return user
