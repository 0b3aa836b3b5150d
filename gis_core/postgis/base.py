"""GeoDjango's PostGIS backend, with a health check that costs no round trip.

Django's ``CONN_HEALTH_CHECKS`` sends ``SELECT 1`` before the first query of every
request that reuses a persistent connection. On a 1 ms vector tile that round trip
is a seventh of the request. A session the server has ended (a restart,
``pg_terminate_backend``, an idle timeout, a pooler closing it) leaves an error
message or an end-of-file on its socket; a live idle session has nothing to read.
So the socket is polled without waiting: nothing to read and no transaction open
means the session is usable; anything else falls back to Django's ``SELECT 1``,
which decides (a pending ``NOTIFY`` also makes the socket readable).

A connection cut without the server closing it (a network partition) is missed by
both checks alike: ``SELECT 1`` would block until the TCP timeout as the real query
does.
"""

from __future__ import annotations

import select

from django.contrib.gis.db.backends.postgis.base import (
    DatabaseWrapper as PostGISDatabaseWrapper,
)
from psycopg2 import extensions


class DatabaseWrapper(PostGISDatabaseWrapper):
    health_check_done: bool

    def session_looks_alive(self) -> bool:
        """True if the open session has nothing unread and no transaction in progress."""
        raw = self.connection
        if raw is None or raw.closed:
            return False
        if raw.info.transaction_status != extensions.TRANSACTION_STATUS_IDLE:
            return False
        try:
            poller = select.poll()
            poller.register(raw.fileno(), select.POLLIN | select.POLLPRI)
            return not poller.poll(0)
        except (OSError, ValueError, extensions.InterfaceError):
            return False

    def close_if_health_check_failed(self) -> None:
        if (self.connection is not None and self.health_check_enabled
                and not self.health_check_done and self.session_looks_alive()):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
