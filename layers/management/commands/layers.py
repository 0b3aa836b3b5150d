"""``kentcbs layers list|show|sync|diff``: the layer registry from the command line."""

from __future__ import annotations

import json
from typing import Any

import yaml
from django.core.management.base import BaseCommand, CommandParser

from layers.codelists import load_codelists
from layers.errors import LayerError
from layers.registry import registry
from layers.services import check_plan, plan_layer, sync_layer


class Command(BaseCommand):
    help = ("Katman kayıt defteri: list, show <kod>, diff [kod...], sync [kod...] / "
            "Layer registry: list, show <code>, diff [code...], sync [code...]")
    # The registry reports its own problems as one line (LayerDefinitionError).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="every layer with its version and storage")
        show = sub.add_parser("show", help="one layer's definition")
        show.add_argument("code")
        show.add_argument("--format", choices=["yaml", "json"], default="yaml")
        diff = sub.add_parser("diff", help="what sync would change")
        diff.add_argument("codes", nargs="*")
        sync = sub.add_parser("sync", help="load code lists; create or evolve tables and views")
        sync.add_argument("codes", nargs="*")
        sync.add_argument("--database", default="default")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            self._list()
        elif action == "show":
            self._show(options["code"], options["format"])
        elif action == "diff":
            self._diff(options["codes"])
        else:
            self._sync(options["codes"], options["database"])

    def _selected(self, codes: list[str]) -> list[Any]:
        return [registry.get(code) for code in codes] if codes else registry.all()

    def _list(self) -> None:
        self.stdout.write(f"{'code':<14} {'v':>3} {'geometry':<16} {'owner':<16} "
                          f"{'read':<12} storage")
        for layer in registry.all():
            read = ("public" if layer.access.read.public
                    else "departments" if layer.access.read.departments else "roles")
            self.stdout.write(f"{layer.code:<14} {layer.version:>3} {layer.geometry_type:<16} "
                              f"{layer.owner:<16} {read:<12} {layer.backing.table}"
                              f"{' <- ' + str(layer.backing.model) if layer.backing.model else ''}"
                              f"  {layer.title.tr}")

    def _show(self, code: str, fmt: str) -> None:
        data = registry.get(code).as_json()
        if fmt == "json":
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            self.stdout.write(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))

    def _diff(self, codes: list[str]) -> None:
        for layer in self._selected(codes):
            try:
                plan = plan_layer(layer)
            except LayerError as exc:
                self.stdout.write(f"{layer.code}: {exc}")
                continue
            if plan.action == "none":
                self.stdout.write(f"{layer.code}: up to date (v{layer.version})")
                continue
            self.stdout.write(f"{layer.code}: v{plan.applied_version or '-'} -> v{layer.version} "
                              f"({plan.action})")
            for line in plan.describe():
                self.stdout.write(f"  - {line}")
            try:
                check_plan(plan)
            except LayerError as exc:
                self.stdout.write(f"  ! {exc}")

    def _sync(self, codes: list[str], using: str) -> None:
        counts = load_codelists(using=using)
        self.stdout.write(f"code lists: {sum(counts.values())} entries in {len(counts)} lists")
        refused: list[LayerError] = []
        for layer in self._selected(codes):
            try:
                plan = sync_layer(layer, using=using)
            except LayerError as exc:  # reported below; the other layers still sync
                self.stderr.write(f"{layer.code}: {exc}")
                refused.append(exc)
                continue
            if plan.action == "none":
                self.stdout.write(f"{layer.code}: up to date (v{layer.version})")
            else:
                self.stdout.write(self.style.SUCCESS(
                    f"{layer.code}: {plan.action} {layer.backing.table} (v{layer.version})"))
                for line in plan.describe():
                    self.stdout.write(f"  - {line}")
        if refused:
            raise refused[0]
