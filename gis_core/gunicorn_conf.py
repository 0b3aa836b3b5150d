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
    """Two workers per core, plus one (gunicorn's own advice): a request is Python (one
    core per process, the interpreter lock) and waits on PostgreSQL between its queries;
    while one worker waits another runs. bench/load.py on 2 cores: 5 workers of 2 threads
    served the most with the shortest tail (README "Load")."""
    return 2 * cores() + 1


bind = f"{os.environ.get('KENTCBS_HOST', '127.0.0.1')}:{_int('KENTCBS_PORT', 8000)}"
workers = _int("KENTCBS_WORKERS", default_workers())
threads = _int("KENTCBS_THREADS", 2)
worker_class = "gthread"
timeout = 120
#: how long an old worker may finish its requests after a reload or rotation
graceful_timeout = _int("KENTCBS_GRACEFUL_TIMEOUT", 60)
#: A worker's start costs ~2.7 s of CPU (Django, GeoDjango, pygeoapi): at 2,000 requests
#: five workers under load restarted one every ~14 s, a tenth of the machine.
max_requests = _int("KENTCBS_MAX_REQUESTS", 20000)
max_requests_jitter = _int("KENTCBS_MAX_REQUESTS_JITTER", max(1, max_requests // 10))
#: One queue for all workers. No connection is kept after its response (keepalive 0) and a
#: worker accepts a connection only while one of its threads is free (worker_connections =
#: threads): waiting connections stay in the kernel's accept queue, first come first
#: served, until any worker has a thread free. With kept-alive connections each worker
#: serves the clients it happened to accept, and one with twice the clients of another
#: answers twice as slowly: bench/load.py measured a p95 of 850-1,000 ms with kept-alive
#: connections against 450-500 ms like this, at the same throughput. Browsers keep their
#: connections alive to the proxy in front (nginx, docs/OPERATIONS.md), which opens a new
#: one to gunicorn per request (~0.1 ms on the same machine); without a proxy each request
#: opens a TCP connection, cheap on an intranet. ``KENTCBS_KEEPALIVE=N`` keeps them again.
keepalive = _int("KENTCBS_KEEPALIVE", 0)
worker_connections = _int("KENTCBS_WORKER_CONNECTIONS", threads if keepalive == 0 else 1000)
accesslog = "-"
proc_name = "kentcbs"
preload_app = False
raw_env = _serve_env()
#: gunicorn's control socket lives at one fixed path per user (~/.gunicorn/gunicorn.ctl):
#: two instances on one machine (docs/SCALING.md) would take it from each other.
control_socket_disable = True
