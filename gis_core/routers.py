"""Reads from a PostgreSQL streaming replica, writes on the primary.

Switched on by ``KENTCBS_REPLICA_URL`` (a ``postgis://`` URL of a hot standby of the
``DATABASE_URL``/embedded primary): settings then add the ``replica`` alias, this
router and :class:`ReplicaReadsMiddleware`.

Which reads go to the replica
    GET and HEAD requests under ``KENTCBS_REPLICA_PATHS`` (the OGC API's items and tiles,
    the map's lookups, the modules' lists). Everything else (every write, admin pages,
    sign-in, sessions and users, management commands) stays on the primary.
Read-your-writes
    Once a request writes, its later reads go to the primary; and for
    ``KENTCBS_REPLICA_PIN_SECONDS`` (10) after a POST/PUT/PATCH/DELETE a cookie keeps that
    browser's reads on the primary, longer than a healthy replica lags.
A replica that does not answer
    is noticed before the request's first query (a connection attempt with a short
    timeout); reads fall back to the primary and the replica is tried again after
    ``KENTCBS_REPLICA_RETRY_SECONDS`` (30).

Raw SQL reads (tiles, item pages) take their connection from :func:`reader`.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse

PRIMARY = "default"
REPLICA = "replica"
PIN_COOKIE = "kentcbs_primary"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Apps whose reads always go to the primary: who is signed in must never lag.
PRIMARY_ONLY_APPS = frozenset({"sessions", "auth", "contenttypes", "admin", "axes"})
DEFAULT_PATHS = "/ogc/,/map/,/helpdesk/,/registers/,/netops/alerts/"

_reads: contextvars.ContextVar[str] = contextvars.ContextVar("kentcbs_reads", default=PRIMARY)
_down_until = 0.0


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def read_alias() -> str:
    """The alias reads of the current request go to (``default`` outside requests)."""
    return _reads.get()


def reader() -> Any:
    """The connection for raw-SQL reads: the replica when this request may use it."""
    return connections[read_alias()]


@contextlib.contextmanager
def reads_from(alias: str) -> Iterator[None]:
    token = _reads.set(alias)
    try:
        yield
    finally:
        _reads.reset(token)


def replica_paths() -> tuple[str, ...]:
    raw = os.environ.get("KENTCBS_REPLICA_PATHS", DEFAULT_PATHS)
    return tuple(p.strip() for p in raw.split(",") if p.strip())


def replica_available() -> bool:
    """True when the replica answers; a failure rests it for the retry period."""
    global _down_until
    if time.monotonic() < _down_until:
        return False
    conn = connections[REPLICA]
    try:
        # a replica that stopped since this session's last request: closed here, so the
        # reconnection below fails now (and falls back) rather than in the view's query
        conn.close_if_health_check_failed()
        conn.ensure_connection()
    except DatabaseError:
        _down_until = time.monotonic() + float(
            os.environ.get("KENTCBS_REPLICA_RETRY_SECONDS", "30"))
        with contextlib.suppress(DatabaseError):
            conn.close()
        return False
    return True


class ReplicaRouter:
    """Django database router: reads follow :func:`read_alias`, writes go to the primary."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        if model._meta.app_label in PRIMARY_ONLY_APPS:
            return PRIMARY
        return read_alias()

    def db_for_write(self, model: Any, **hints: Any) -> str:
        # read-your-writes: after a write, this request reads from the primary
        if _reads.get() != PRIMARY:
            _reads.set(PRIMARY)
        return PRIMARY

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # one database, two copies of it

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == PRIMARY


class ReplicaReadsMiddleware:
    """Sends this request's reads to the replica when it may, and pins after writes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.paths = replica_paths()

    def _may_use_replica(self, request: HttpRequest) -> bool:
        return (request.method in SAFE_METHODS
                and request.path.startswith(self.paths)
                and PIN_COOKIE not in request.COOKIES
                and replica_available())

    def __call__(self, request: HttpRequest) -> HttpResponse:
        alias = REPLICA if self._may_use_replica(request) else PRIMARY
        token = _reads.set(alias)
        try:
            response = self.get_response(request)
        finally:
            _reads.reset(token)
        response["X-KentCBS-Reads"] = alias
        if request.method not in SAFE_METHODS:
            response.set_cookie(PIN_COOKIE, "1",
                                max_age=int(os.environ.get("KENTCBS_REPLICA_PIN_SECONDS", "10")),
                                httponly=True, samesite="Lax",
                                secure=settings.SESSION_COOKIE_SECURE)
        return response
