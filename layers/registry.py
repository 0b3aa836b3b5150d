"""The layer registry: the one entry point to learn about a CBS layer.

>>> from layers.registry import registry          # doctest: +SKIP
>>> registry.get("yol").title.tr                   # doctest: +SKIP
'Yol Orta Hatları'
>>> [layer.code for layer in registry.all()]       # doctest: +SKIP

Definitions are read lazily (on first use) and cached: every YAML file under
``layers/definitions/``, ``layer_definitions/*.yaml`` of every installed app in
the ``modules`` package, and the folders listed in ``KENTCBS_LAYER_DIRS``. A
broken definition raises :class:`~layers.errors.LayerDefinitionError`, one line
naming the file and the field; ``kentcbs check`` lists every problem as ``layers.E00x``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from layers.codelists import SAFE_LOADER
from layers.errors import LayerDefinitionError, UnknownLayerError
from layers.schema import FieldDefinition, LayerDefinition

#: ``LayerDefinition`` and ``FieldDefinition`` are re-exported for type hints elsewhere:
#: ``from layers.registry import LayerDefinition``.
__all__ = ["FieldDefinition", "LayerDefinition", "LayerRegistry", "build_definition",
           "registry"]

LAYERS_DIR = Path(__file__).resolve().parent
DEFINITIONS_DIR = LAYERS_DIR / "definitions"
MODULE_DEFINITIONS_FOLDER = "layer_definitions"


@dataclass(frozen=True)
class DefinitionProblem:
    """Something wrong in one definition file (becomes a system check error)."""

    check_id: str
    path: str
    location: str
    message: str

    def as_error(self, *, more: int = 0) -> LayerDefinitionError:
        return LayerDefinitionError(path=self.path, location=self.location, problem=self.message,
                                    check_id=self.check_id, more=more)


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(LAYERS_DIR.parent))
    except ValueError:
        return str(path)


def _location(loc: Sequence[int | str], data: Any) -> str:
    """Render a pydantic error location, naming list items by their ``name``."""
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int):
            name = node[item].get("name") if isinstance(node, list) and item < len(node) \
                and isinstance(node[item], dict) else None
            parts[-1:] = [f"{parts[-1] if parts else ''}[{name or item}]"]
            node = node[item] if isinstance(node, list) and item < len(node) else None
        else:
            parts.append(str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts) or "(file)"


def parse_definition_file(path: Path, *, default_srid: int | None = None
                          ) -> tuple[LayerDefinition | None, list[DefinitionProblem]]:
    """Read and validate one YAML definition; return it or the problems found."""
    shown = _display_path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)  # noqa: S506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return None, [DefinitionProblem("layers.E001", shown, where, f"not valid YAML: {reason}")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [DefinitionProblem("layers.E001", shown, "(file)", f"cannot be read: {exc}")]
    if not isinstance(data, dict):
        return None, [DefinitionProblem("layers.E001", shown, "(file)",
                                        "must be a mapping of definition fields")]
    context = {"default_srid": default_srid} if default_srid else None
    try:
        definition = LayerDefinition.model_validate(data, context=context)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            message = error["msg"].removeprefix("Value error, ")
            problems.append(DefinitionProblem("layers.E001", shown,
                                              _location(error["loc"], data), message))
        return None, problems
    problems = []
    if path.stem != definition.code:
        problems.append(DefinitionProblem(
            "layers.E005", shown, "code",
            f"code '{definition.code}' does not match the file name '{path.name}'"))
    problems.extend(_semantic_problems(definition, shown))
    return definition, problems


def _semantic_problems(definition: LayerDefinition, shown: str) -> list[DefinitionProblem]:
    """Cross-references inside a definition and to the code lists (no database needed)."""
    from layers.codelists import codelist_names

    problems: list[DefinitionProblem] = []
    names = set(definition.field_names)
    for index, name in enumerate(definition.key):
        if name not in names:
            problems.append(DefinitionProblem(
                "layers.E004", shown, f"key[{index}]",
                f"key field '{name}' is not one of the layer's fields"))
    known = codelist_names()
    for item in definition.fields:
        if item.codelist and item.codelist not in known:
            problems.append(DefinitionProblem(
                "layers.E003", shown, f"fields[{item.name}].codelist",
                f"unknown code list '{item.codelist}' (known: {', '.join(sorted(known))})"))
    for index, rule in enumerate(definition.style.rules):
        if rule.field not in names:
            problems.append(DefinitionProblem(
                "layers.E004", shown, f"style.rules[{index}].field",
                f"style rule field '{rule.field}' is not one of the layer's fields"))
    if "tucbs_tema" in known:
        from layers.codelists import file_entries

        themes = {entry.code for entry in file_entries("tucbs_tema")}
        if definition.theme not in themes:
            problems.append(DefinitionProblem(
                "layers.E009", shown, "theme",
                f"unknown TUCBS theme '{definition.theme}' (known: {', '.join(sorted(themes))})"))
    return problems


def build_definition(data: Mapping[str, Any], *, default_srid: int | None = None,
                     name: str = "<data>") -> LayerDefinition:
    """Validate a definition given as data (tests, benchmarks, generated layers).

    Raises :class:`~layers.errors.LayerDefinitionError` naming the field, like a file would.

    Examples
    --------
    >>> layer = build_definition({"code": "deneme", ...})  # doctest: +SKIP
    """
    context = {"default_srid": default_srid} if default_srid else None
    try:
        return LayerDefinition.model_validate(dict(data), context=context)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        raise LayerDefinitionError(
            path=name, location=_location(first["loc"], data),
            problem=first["msg"].removeprefix("Value error, "), more=len(errors) - 1) from None


def module_definition_dirs() -> list[Path]:
    """Definition folders of installed ``modules.*`` apps.

    Each app's ``layer_definitions/`` folder, and the ``layer_definitions_dir``
    its ``kentcbs.py`` declares (``gis_core.modules.ModuleSpec``), if another.
    """
    from django.apps import apps

    found: list[Path] = []
    paths: dict[str, Path] = {}
    for config in apps.get_app_configs():
        if config.name.startswith("modules."):
            paths[config.name] = Path(config.path)
            folder = Path(config.path) / MODULE_DEFINITIONS_FOLDER
            if folder.is_dir():
                found.append(folder.resolve())
    try:
        from gis_core.modules import discover
    except ImportError:  # the core does not ship module discovery
        return found
    for spec in discover():
        declared = spec.layer_definitions_dir
        if declared is None:
            continue
        folder = Path(declared)
        if not folder.is_absolute() and spec.app_name in paths:
            folder = paths[spec.app_name] / folder
        folder = folder.resolve()
        if folder.is_dir() and folder not in found:
            found.append(folder)
    return found


def extra_definition_dirs() -> list[Path]:
    """Folders in ``KENTCBS_LAYER_DIRS`` (``:``-separated): a municipality's own layers
    kept outside the code tree."""
    value = os.environ.get("KENTCBS_LAYER_DIRS", "")
    return [Path(item) for item in value.split(os.pathsep) if item.strip()]


class LayerRegistry:
    """All layer definitions, loaded once and cached.

    Parameters
    ----------
    paths : sequence of Path, optional
        Folders to read ``*.yaml`` from; default ``layers/definitions``.
    include_modules : bool
        Also read ``layer_definitions/`` of installed ``modules.*`` apps.
    default_srid : int, optional
        SRID for definitions that give none; default ``settings.KENTCBS_SRID``.
    """

    def __init__(self, *, paths: Sequence[Path] | None = None, include_modules: bool = True,
                 default_srid: int | None = None) -> None:
        self._paths = [Path(p) for p in paths] if paths is not None else [DEFINITIONS_DIR]
        self._include_modules = include_modules
        self._default_srid = default_srid
        self._lock = threading.RLock()
        self._layers: dict[str, LayerDefinition] | None = None
        self._sources: dict[str, str] = {}
        self._problems: list[DefinitionProblem] = []

    # -- loading -----------------------------------------------------------
    def files(self) -> list[Path]:
        """Every definition file the registry reads, in load order."""
        folders = list(self._paths)
        if self._include_modules:
            folders += module_definition_dirs()
            folders += extra_definition_dirs()
        result: list[Path] = []
        for folder in folders:
            result += sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
        return result

    def _load(self) -> dict[str, LayerDefinition]:
        with self._lock:
            if self._layers is not None:
                return self._layers
            layers: dict[str, LayerDefinition] = {}
            sources: dict[str, str] = {}
            problems: list[DefinitionProblem] = []
            for path in self.files():
                definition, found = parse_definition_file(path, default_srid=self._default_srid)
                problems += found
                if definition is None:
                    continue
                if definition.code in layers:
                    problems.append(DefinitionProblem(
                        "layers.E005", _display_path(path), "code",
                        f"layer code '{definition.code}' is already defined in "
                        f"{sources[definition.code]}"))
                    continue
                layers[definition.code] = definition
                sources[definition.code] = _display_path(path)
            self._problems = problems
            self._sources = sources
            self._layers = layers
            return layers

    def _checked(self) -> dict[str, LayerDefinition]:
        layers = self._load()
        if self._problems:
            raise self._problems[0].as_error(more=len(self._problems) - 1)
        return layers

    def problems(self) -> list[DefinitionProblem]:
        """Every problem found in the definition files (never raises)."""
        self._load()
        return list(self._problems)

    def reload(self) -> None:
        """Forget the cache; the next call reads the files again."""
        with self._lock:
            self._layers = None

    # -- the public API ------------------------------------------------------
    def get(self, code: str) -> LayerDefinition:
        """Return the definition of layer ``code``.

        Raises
        ------
        UnknownLayerError
            No layer has that code.
        LayerDefinitionError
            A definition file is broken.
        """
        layers = self._checked()
        try:
            return layers[code]
        except KeyError:
            raise UnknownLayerError(code) from None

    def all(self) -> list[LayerDefinition]:
        """Every layer definition, sorted by code."""
        return [layer for _, layer in sorted(self._checked().items())]

    def codes(self) -> list[str]:
        """Every layer code, sorted."""
        return sorted(self._checked())

    def source(self, code: str) -> str:
        """The file a layer was read from (for messages)."""
        self.get(code)
        return self._sources[code]

    def __contains__(self, code: object) -> bool:
        return code in self._checked()

    def __iter__(self) -> Iterator[LayerDefinition]:
        return iter(self.all())


#: The registry every part of KentCBS uses.
registry = LayerRegistry()
