"""Typed registers errors (stable codes, Turkish and English messages)."""

from __future__ import annotations

from gis_core.errors import KentCBSError


class RegistersError(KentCBSError):
    """A registers rule was broken; the message says which, in Turkish and English."""
