"""Errors of the network operations module, each with a stable code."""

from __future__ import annotations

from gis_core.errors import KentCBSError


class NetopsError(KentCBSError):
    """A netops command or page could not do what was asked (exit code 2)."""
