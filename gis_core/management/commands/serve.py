"""``kentcbs serve``: KentCBS under gunicorn, static files served by WhiteNoise."""

from __future__ import annotations

import os
from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from gis_core.database import port_is_free
from gis_core.errors import KentCBSError


class Command(BaseCommand):
    help = "Serve KentCBS with gunicorn (a production WSGI server), static files included."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default=os.environ.get("KENTCBS_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("KENTCBS_PORT", 8000)))
        parser.add_argument("--workers", type=int,
                            default=int(os.environ.get("KENTCBS_WORKERS", 3)))
        parser.add_argument("--threads", type=int,
                            default=int(os.environ.get("KENTCBS_THREADS", 4)))
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

        from gunicorn.app.base import BaseApplication

        from gis_core.wsgi import application

        class KentCBSServer(BaseApplication):  # type: ignore[misc]
            def load_config(self) -> None:
                self.cfg.set("bind", f"{host}:{port}")
                self.cfg.set("workers", options["workers"])
                self.cfg.set("threads", options["threads"])
                self.cfg.set("worker_class", "gthread")
                self.cfg.set("timeout", 120)
                self.cfg.set("accesslog", "-")
                self.cfg.set("proc_name", "kentcbs")

            def load(self):
                return application

        self.stdout.write(f"KentCBS: http://{host}:{port}/")
        KentCBSServer().run()
