"""``kentcbs generalise [code ...]``: build the zoomed-out outlines of dense polygon layers.

The tiles build them on first use after a change (``ogc_api.generalise``); run this
after a bulk load so that the first zoomed-out view does not wait for it.
"""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from gis_core.errors import KentCBSError
from layers.registry import registry
from ogc_api import generalise


class Command(BaseCommand):
    help = "Build the generalised (zoomed-out) tiles of dense polygon layers."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("codes", nargs="*", help="layer codes (default: every such layer)")

    def handle(self, *args: Any, **options: Any) -> None:
        codes = options["codes"] or [layer.code for layer in registry.all()
                                     if generalise.applies(layer, None)]
        for code in codes:
            if code not in registry:
                raise KentCBSError("LAYER_UNKNOWN", "There is no layer {layer}.", layer=code)
            layer = registry.get(code)
            if not generalise.applies(layer, None):
                self.stdout.write(f"{code}: -")
                continue
            started = time.monotonic()
            rows = generalise.build(layer)
            self.stdout.write(f"{code}: {rows} outlines, {time.monotonic() - started:.1f} s")
