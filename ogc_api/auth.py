"""Who is calling: the Django session (browsers) or HTTP Basic (QGIS, GDAL).

HTTP Basic carries a username and either the user's password or one of their
personal access tokens. A wrong Basic credential is a 401, never a silent
fallback to anonymous.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from typing import Any

from django.contrib.auth import authenticate, get_user_model
from django.http import HttpRequest
from django.utils import timezone

from ogc_api.models import PersonalAccessToken
from ogc_api.services import TOKEN_PREFIX, hash_token

#: Successful password checks are remembered briefly: QGIS sends Basic on every request,
#: and a password hash costs ~100 ms by design.
_PASSWORD_CACHE: dict[str, tuple[float, int]] = {}
_PASSWORD_TTL = 60.0
_LOCK = threading.Lock()


class BadCredentials(Exception):
    """HTTP Basic credentials were sent and are wrong."""


def _basic(request: HttpRequest) -> tuple[str, str] | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise BadCredentials from None
    username, sep, secret = decoded.partition(":")
    if not sep or not username or not secret:
        raise BadCredentials
    return username, secret


def _token_user(username: str, secret: str) -> Any | None:
    row = (PersonalAccessToken.objects.select_related("user")
           .filter(token_hash=hash_token(secret), revoked__isnull=True,
                   user__username=username, user__is_active=True).first())
    if row is None:
        return None
    now = timezone.now()
    if row.last_used is None or (now - row.last_used).total_seconds() > 60:
        PersonalAccessToken.objects.filter(pk=row.pk).update(last_used=now)
    return row.user


def _password_user(request: HttpRequest, username: str, secret: str) -> Any | None:
    key = hashlib.sha256(f"{username}\0{secret}".encode()).hexdigest()
    with _LOCK:
        hit = _PASSWORD_CACHE.get(key)
    if hit and hit[0] > time.monotonic():
        user = get_user_model().objects.filter(pk=hit[1], is_active=True).first()
        if user is not None:
            return user
    user = authenticate(request, username=username, password=secret)
    if user is not None:
        with _LOCK:
            _PASSWORD_CACHE[key] = (time.monotonic() + _PASSWORD_TTL, user.pk)
    return user


def request_user(request: HttpRequest) -> Any:
    """Return the caller: a Basic-authenticated user, the session user or anonymous.

    Raises :class:`BadCredentials` when Basic credentials are present and wrong.
    """
    credentials = _basic(request)
    if credentials is None:
        return request.user
    username, secret = credentials
    user = _token_user(username, secret) if secret.startswith(TOKEN_PREFIX) else None
    if user is None and not secret.startswith(TOKEN_PREFIX):
        user = _password_user(request, username, secret)
    if user is None:
        raise BadCredentials
    return user
