"""``kentcbs demo``: load the deterministic demo municipality."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from gis_core.demo import load_demo
from gis_core.errors import KentCBSError
from gis_core.profiles import demo_profiles


class Command(BaseCommand):
    help = "Load the demo municipality (Odunpazarı by default, or --profile efeler)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        # the demo profiles are data: gis_core/data/demo_profiles.yaml
        parser.add_argument("--profile", choices=sorted(demo_profiles()), default=None)
        parser.add_argument("--no-modules", action="store_true",
                            help="the core's demo only (no helpdesk tickets, ...)")
        parser.add_argument("--timings", action="store_true",
                            help="print wall and CPU seconds of each stage (to stderr)")

    def handle(self, *args: Any, profile: str | None, timings: bool = False,
               no_modules: bool = False, **options: Any) -> None:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise KentCBSError("DB_NOT_MIGRATED", "The database has migrations not yet applied: "
                               "run `kentcbs migrate` first, then `kentcbs demo` again.")
        summary = load_demo(profile=profile, modules=not no_modules)
        if timings:
            from gis_core.demo import STAGES

            for stage, wall, cpu in STAGES:
                self.stderr.write(f"stage\t{stage}\t{wall:.2f}\t{cpu:.2f}")
        for key, value in summary.items():
            if isinstance(value, dict) and value and all(
                    isinstance(v, int) for v in value.values()):  # features per layer
                value = ", ".join(f"{k} {v}" for k, v in value.items())
            elif isinstance(value, dict) and value and all(
                    isinstance(v, str) for v in value.values()):  # one upload a line
                width = max(len(k) for k in value)
                lines = [f"{k:{width}}  {v}" for k, v in value.items()]
                value = ("\n" + " " * 15).join(lines)
            self.stdout.write(f"{key:14} {value}")
