"""``layers.registry`` is the only entry point to layer definitions outside layers/.

No module outside ``layers/`` imports ``layers.schema`` at run time or reads the
definition files. Type hints may name the classes: ``layers.registry`` re-exports
``LayerDefinition`` and ``FieldDefinition``; an import of ``layers.schema`` under
``if TYPE_CHECKING:`` is tolerated (it creates no run-time dependency).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("gis_core", "etl", "ogc_api", "web", "modules", "bench")
READS_FILES = re.compile(
    r"layers[/\\\"', ]+(definitions|codelists)\b|layer_definitions[^\n]*\.ya?ml")

#: Known offenders waiting for their owners to switch to ``layers.registry.build_definition``;
#: each must still offend (so the entry is removed once it is fixed).
PENDING: set[str] = set()


def _is_type_checking_block(node: ast.AST) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def schema_imports(tree: ast.AST) -> list[int]:
    """Line numbers of run-time imports of ``layers.schema`` in a parsed module."""
    lines: list[int] = []

    def visit(node: ast.AST, typing_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            guarded = typing_only or (_is_type_checking_block(node) and child in node.body)
            if isinstance(child, ast.ImportFrom) and not guarded:
                module = child.module or ""
                names = {alias.name for alias in child.names}
                if module == "layers.schema" or module.startswith("layers.schema.") or (
                        module == "layers" and "schema" in names):
                    lines.append(child.lineno)
            elif isinstance(child, ast.Import) and not guarded:
                if any(alias.name.startswith("layers.schema") for alias in child.names):
                    lines.append(child.lineno)
            visit(child, guarded)

    visit(tree, False)
    return lines


def test_the_checker_tells_run_time_from_typing_imports() -> None:
    code = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from layers.schema import LayerDefinition\n"
            "def f():\n    from layers.schema import FieldDefinition\n"
            "import layers.schema\n")
    assert schema_imports(ast.parse(code)) == [5, 6]


def test_no_code_outside_layers_reads_definitions_directly() -> None:
    offenders: dict[str, str] = {}
    for folder in FOLDERS:
        for path in (ROOT / folder).rglob("*.py"):
            name = str(path.relative_to(ROOT))
            text = path.read_text(encoding="utf-8", errors="replace")
            lines = schema_imports(ast.parse(text))
            if lines:
                offenders[name] = f"imports layers.schema (line {lines[0]})"
            elif READS_FILES.search(text):
                offenders[name] = "reads layer definition or code list files"
    unexpected = {name: why for name, why in offenders.items() if name not in PENDING}
    assert unexpected == {}, (
        "Use `from layers.registry import registry` (types: `from layers.registry import "
        f"LayerDefinition`; data: `layers.registry.build_definition`): {unexpected}")
    fixed = {name for name in PENDING if (ROOT / name).exists()} - set(offenders)
    assert not fixed, f"remove {fixed} from PENDING in this test: they are fixed"
