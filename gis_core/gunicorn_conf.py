"""gunicorn's configuration for ``kentcbs serve``, read at start and again on every SIGHUP.

``kentcbs serve`` execs a gunicorn master that never imports Django (no preload): each
worker imports the code and settings after its fork. So SIGHUP (``kill -HUP <pid>``)
starts new workers on the code and settings as they are now, then lets the old workers
finish their requests and exit; no request fails. Workers are also replaced after
``KENTCBS_MAX_REQUESTS`` requests (plus a random jitter, so that they do not all go at
once): a slow leak never grows without bound.

Settings changes for the reload go into ``$KENTCBS_HOME/serve.env`` (``NAME=value``
lines; another file with ``KENTCBS_SERVE_ENV``): this file is read again on every
SIGHUP, the process environment is not.

A worker killed with SIGKILL (or the OOM killer) loses the requests it was serving:
see docs/OPERATIONS.md for the proxy settings that retry idempotent requests.
"""

from __future__ import annotations

import os
from pathlib import Path


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _serve_env() -> list[str]:
    home = Path(os.environ.get("KENTCBS_HOME", Path(__file__).resolve().parent.parent / "var"))
    path = Path(os.environ.get("KENTCBS_SERVE_ENV", home / "serve.env"))
    if not path.is_file():
        return []
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#") and "=" in line:
            lines.append(line)
    return lines


def cores() -> int:
    """The processor cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_workers() -> int:
    """One worker per core, plus one: a request is Python (one core per process, the GIL)
    and PostgreSQL on the same machine wants its share; the threads of each worker
    overlap the waits on the database (bench/load.py, README "Benchmarks")."""
    return cores() + 1


bind = f"{os.environ.get('KENTCBS_HOST', '127.0.0.1')}:{_int('KENTCBS_PORT', 8000)}"
workers = _int("KENTCBS_WORKERS", default_workers())
threads = _int("KENTCBS_THREADS", 4)
worker_class = "gthread"
timeout = 120
#: how long an old worker may finish its requests after a reload or rotation
graceful_timeout = _int("KENTCBS_GRACEFUL_TIMEOUT", 60)
max_requests = _int("KENTCBS_MAX_REQUESTS", 2000)
max_requests_jitter = _int("KENTCBS_MAX_REQUESTS_JITTER", max(1, max_requests // 10))
#: seconds an idle kept-alive connection stays open. Longer than the client's own idle
#: limit (nginx's upstream ``keepalive_timeout`` 60 s, httpx 5 s), so that the client closes
#: first: a server closing a connection just as the client reuses it fails that request
#: (bench/load.py saw 5 in 5,000 with 2 s). Idle connections cost no thread in gthread.
keepalive = _int("KENTCBS_KEEPALIVE", 75)
accesslog = "-"
proc_name = "kentcbs"
preload_app = False
raw_env = _serve_env()
#: gunicorn's control socket lives at one fixed path per user (~/.gunicorn/gunicorn.ctl):
#: two instances on one machine (docs/SCALING.md) would take it from each other.
control_socket_disable = True
