"""Writes of the OGC API: personal access tokens and the personal-data access log."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from ogc_api.errors import TokenError
from ogc_api.models import AccessLog, PersonalAccessToken

TOKEN_PREFIX = "kcbs_"  # noqa: S105 - a public prefix, not a secret


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a token (the only form that is stored)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(*, username: str, name: str) -> tuple[PersonalAccessToken, str]:
    """Create a personal access token for ``username``.

    Returns the stored row and the token text, which is shown once and never stored.

    Examples
    --------
    >>> row, token = create_token(username="ayse", name="QGIS")  # doctest: +SKIP
    >>> token.startswith("kcbs_")  # doctest: +SKIP
    True
    """
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise TokenError("TOKEN_USER_UNKNOWN", "There is no user called {username}.",
                         username=username)
    if not name.strip():
        raise TokenError("TOKEN_NAME_EMPTY", "A token needs a name (e.g. QGIS).")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = PersonalAccessToken.objects.create(user=user, name=name.strip()[:100],
                                             token_hash=hash_token(token),
                                             prefix=token[:12])
    return row, token


def revoke_token(*, token_id: int, user: Any | None = None) -> PersonalAccessToken:
    """Revoke a token (by id; limited to ``user``'s own tokens when given)."""
    tokens = PersonalAccessToken.objects.all()
    if user is not None:
        tokens = tokens.filter(user=user)
    row = tokens.filter(pk=token_id).first()
    if row is None:
        raise TokenError("TOKEN_UNKNOWN", "There is no token with id {token_id}.",
                         token_id=token_id)
    if row.revoked is None:
        row.revoked = timezone.now()
        row.save(update_fields=["revoked"])
    return row


def record_access(*, user: Any, layer: str, path: str, query: str, bbox: str = "",
                  filter_text: str = "", via: str = "ogc") -> None:
    """Record a read of a layer that holds personal data."""
    authenticated = bool(user is not None and getattr(user, "is_authenticated", False))
    AccessLog.objects.create(
        user=user if authenticated else None,
        username=user.get_username() if authenticated else "",
        layer=layer, path=path[:500], query=query, bbox=bbox[:200], filter=filter_text,
        via=via)
