"""Typed errors of the OGC API layer."""

from __future__ import annotations

from gis_core.errors import KentCBSError


class OgcApiError(KentCBSError):
    """Base of the OGC API errors."""


class TokenError(OgcApiError):
    """A personal access token could not be created or revoked."""
