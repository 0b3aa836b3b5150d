"""Who changed what, from where: an audit context for web, API, ETL and shell.

``audit_context`` sets the actor (user, source, request id) for everything done
inside it; history records (django-simple-history) and bulk-change records take
it from there. The web middleware sets it per request, the ``kentcbs`` command
per invocation (source ``shell``), the ETL per batch (source ``etl``). Bulk
writes bypass model signals, so audited querysets call ``record_bulk_change``.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

SOURCES = ("web", "api", "etl", "shell", "system")


@dataclass(frozen=True)
class AuditContext:
    """Who acts, from where. ``actor`` may be lazy (a request's ``user``): it is looked
    up only when a change asks for ``user``, so a request that changes nothing (a tile,
    a page of items) never loads the user for the audit's sake."""

    actor: Any = None
    source: str = "system"
    request_id: str = ""

    @property
    def user(self) -> Any:
        """The acting user, or None for an anonymous caller or no caller at all."""
        actor = self.actor
        if actor is None or not getattr(actor, "is_authenticated", False):
            return None
        return actor


#: AuditContext is a frozen dataclass, so the shared default cannot be mutated.
_current: ContextVar[AuditContext] = ContextVar(
    "kentcbs_audit", default=AuditContext())  # noqa: B039


def new_request_id() -> str:
    """A fresh request id: 16 hex digits (64 random bits)."""
    return secrets.token_hex(8)


def current() -> AuditContext:
    """Return the audit context in force (``source='system'`` when none was set)."""
    return _current.get()


@contextlib.contextmanager
def audit_context(*, user: Any = None, source: str,
                  request_id: str | None = None) -> Iterator[AuditContext]:
    """Attribute every change made inside the block to ``user`` from ``source``.

    Examples
    --------
    >>> with audit_context(source="shell"):  # doctest: +SKIP
    ...     asset.save()
    """
    if source not in SOURCES:
        raise ValueError(f"unknown audit source {source!r}; one of {SOURCES}")
    ctx = AuditContext(actor=user, source=source, request_id=request_id or new_request_id())
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def record_bulk_change(*, target: str = "", action: str = "upsert", count: int = 0,
                       description: str = "",
                       user: Any = None, source: str | None = None,
                       batch_id: int | None = None, **details: Any) -> Any:
    """Record a write that bypassed model signals (``update()``, ``bulk_create``, COPY).

    Parameters
    ----------
    target : str
        The table, model label or layer code written to.
    action : str
        ``insert``, ``update``, ``delete`` or ``upsert``.
    count : int
        Rows affected.
    """
    from gis_core.models import BulkChange

    target = target or str(details.get("layer_code") or details.get("table") or "?")
    ctx = current()
    actor = user if user is not None else ctx.user
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    safe = {k: v for k, v in details.items() if isinstance(v, str | int | float | bool | None)}
    return BulkChange.objects.create(
        target=target, action=action, count=count, description=description[:500],
        user=actor, source=source or ctx.source, request_id=ctx.request_id,
        batch_id=batch_id, details=safe,
    )
