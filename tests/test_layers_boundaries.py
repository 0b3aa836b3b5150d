"""``layers.registry`` is the only entry point to layer definitions outside layers/."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = [
    re.compile(r"^\s*(from|import)\s+layers\.schema\b", re.MULTILINE),
    re.compile(r"^\s*from\s+layers\s+import\s+.*\bschema\b", re.MULTILINE),
    re.compile(r"layers[/\\\"', ]+definitions"),
    re.compile(r"layer_definitions.*\.ya?ml"),
]
#: Known offenders waiting for their owners to switch to ``layers.registry.build_definition``;
#: each must still offend (so the entry is removed once it is fixed).
PENDING = {"etl/testing.py"}


def test_no_code_outside_layers_reads_definitions_directly() -> None:
    offenders = []
    for folder in ("gis_core", "etl", "ogc_api", "web", "modules", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8", errors="replace")
            for pattern in FORBIDDEN:
                if pattern.search(text):
                    offenders.append(str(path.relative_to(ROOT)))
    assert set(offenders) - PENDING == set(), (
        "Use `from layers.registry import registry` instead of reading layer definitions "
        f"or importing layers.schema: {sorted(set(offenders) - PENDING)}")
    fixed = {name for name in PENDING if (ROOT / name).exists()} - set(offenders)
    assert not fixed, f"remove {fixed} from PENDING in this test: they are fixed"
