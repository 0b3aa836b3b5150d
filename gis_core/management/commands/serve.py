"""``kentcbs serve``: KentCBS under gunicorn, static files served by WhiteNoise.

The command replaces itself (exec) with a gunicorn master configured by
``gis_core/gunicorn_conf.py``: the master never imports the application, so SIGHUP
reloads code and settings in new workers without failing a request (see that file).
"""

from __future__ import annotations

import os
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from gis_core.database import kentcbs_home, port_is_free
from gis_core.errors import KentCBSError
from gis_core.gunicorn_conf import default_workers

CONF = Path(__file__).resolve().parents[2] / "gunicorn_conf.py"


class Command(BaseCommand):
    help = ("Serve KentCBS with gunicorn (a production WSGI server), static files included. "
            "SIGHUP reloads code and settings without dropping requests.")

    def add_arguments(self, parser: ArgumentParser) -> None:
        env = os.environ.get
        parser.add_argument("--host", default=env("KENTCBS_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(env("KENTCBS_PORT", 8000)))
        parser.add_argument("--workers", type=int,
                            default=int(env("KENTCBS_WORKERS", default_workers())),
                            help="worker processes (default: two per core, plus one)")
        parser.add_argument("--threads", type=int, default=int(env("KENTCBS_THREADS", 2)),
                            help="threads per worker (default 2)")
        parser.add_argument("--max-requests", type=int,
                            default=int(env("KENTCBS_MAX_REQUESTS", 20000)),
                            help="replace a worker after this many requests (0: never)")
        parser.add_argument("--max-requests-jitter", type=int,
                            default=env("KENTCBS_MAX_REQUESTS_JITTER"),
                            help="random extra requests per worker (default: a tenth)")
        parser.add_argument("--no-collectstatic", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = options["host"], options["port"]
        if not port_is_free(port, "127.0.0.1" if host in {"0.0.0.0", "::"} else host):  # noqa: S104
            raise KentCBSError(
                "PORT_IN_USE",
                "Port {port} is in use by another program. Stop it or serve on another "
                "port with --port or KENTCBS_PORT.",
                port=port,
            )
        if not options["no_collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)
        env = {**os.environ, "KENTCBS_HOST": host, "KENTCBS_PORT": str(port),
               "KENTCBS_WORKERS": str(options["workers"]),
               "KENTCBS_THREADS": str(options["threads"]),
               "KENTCBS_MAX_REQUESTS": str(options["max_requests"]),
               "KENTCBS_HOME": str(kentcbs_home()),
               "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE",
                                                        "gis_core.settings")}
        if options["max_requests_jitter"] is not None:
            env["KENTCBS_MAX_REQUESTS_JITTER"] = str(options["max_requests_jitter"])
        self.stdout.write(f"KentCBS: http://{host}:{port}/ (pid {os.getpid()}; "
                          "kill -HUP reloads)")
        self.stdout.flush()
        # Same pid: a service manager's `kill -HUP $MAINPID` reaches the gunicorn master.
        argv = [sys.executable, "-m", "gunicorn", "-c", str(CONF), "gis_core.wsgi:application"]
        os.execve(sys.executable, argv, env)  # noqa: S606 (our own interpreter and arguments)
