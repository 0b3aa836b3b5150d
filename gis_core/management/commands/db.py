"""``kentcbs db start|stop|status``: the embedded PostgreSQL/PostGIS cluster."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from gis_core import database
from gis_core.errors import KentCBSError


class Command(BaseCommand):
    help = "Start, stop or show the database (the embedded cluster unless DATABASE_URL is set)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["start", "stop", "status"])
        parser.add_argument("--json", action="store_true", help="status as JSON")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        url = database.database_url()
        if url:
            if action in {"start", "stop"}:
                raise KentCBSError(
                    "DB_EXTERNAL",
                    "DATABASE_URL is set: KentCBS uses that server and does not {action} one.",
                    action=action,
                )
            info = database.check_external(url)
        else:
            cluster = database.EmbeddedCluster()
            if action == "start":
                cluster.ensure_ready()
            elif action == "stop":
                cluster.stop()
            info = cluster.status()
        if options["json"]:
            self.stdout.write(json.dumps(info, indent=2))
            return
        for key, value in info.items():
            self.stdout.write(f"{key:12} {value}")
