"""Checks of definitions against the rest of KentCBS (departments, roles, models)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from layers.registry import DefinitionProblem

if TYPE_CHECKING:
    from layers.registry import LayerRegistry
    from layers.schema import LayerDefinition


def known_departments() -> frozenset[str] | None:
    """Department codes in the database; None when they cannot be read."""
    from django.apps import apps
    from django.db import DatabaseError

    try:
        model = apps.get_model("gis_core", "Department")
    except LookupError:
        return None
    try:
        return frozenset(model.objects.values_list("code", flat=True))
    except DatabaseError:
        return None


def known_roles() -> frozenset[str] | None:
    """Role codes of ``gis_core.choices.RoleChoices``; None when not available."""
    try:
        from gis_core.choices import RoleChoices  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return frozenset(str(value) for value in RoleChoices.values)


def department_problems(layer: LayerDefinition, path: str,
                        departments: frozenset[str]) -> list[DefinitionProblem]:
    places = {"owner": [layer.owner],
              "access.read.departments": layer.access.read.departments,
              "access.edit.departments": layer.access.edit.departments,
              "access.personal.departments": layer.access.personal.departments}
    problems = []
    for where, codes in places.items():
        for code in codes:
            if code not in departments:
                problems.append(DefinitionProblem(
                    "layers.E002", path, where, f"unknown department '{code}'"))
    return problems


def role_problems(layer: LayerDefinition, path: str,
                  roles: frozenset[str]) -> list[DefinitionProblem]:
    places = {"access.read.roles": layer.access.read.roles,
              "access.edit.roles": layer.access.edit.roles,
              "access.personal.roles": layer.access.personal.roles}
    return [DefinitionProblem("layers.E007", path, where, f"unknown role '{code}'")
            for where, codes in places.items() for code in codes if code not in roles]


def model_problems(layer: LayerDefinition, path: str) -> list[DefinitionProblem]:
    """The backing model and every field's source path must exist."""
    from layers.views import resolve_model, resolve_source

    if not layer.is_model_backed:
        return []
    try:
        model = resolve_model(layer)
    except LookupError as exc:
        # A warning (layers.W006), not an error: the core app may not ship the model yet.
        return [DefinitionProblem("layers.W006", path, "backing.model", str(exc.args[0]))]
    problems = []
    geometry = layer.backing.geometry_source or layer.geometry_column
    try:
        resolve_source(model, geometry)
    except LookupError as exc:
        problems.append(DefinitionProblem("layers.E006", path, "backing.geometry_source",
                                          str(exc.args[0])))
    for item in layer.fields:
        try:
            resolve_source(model, item.source_path)
        except LookupError as exc:
            problems.append(DefinitionProblem("layers.E006", path,
                                              f"fields[{item.name}].source", str(exc.args[0])))
    return problems


def rows_problems(layer: LayerDefinition, path: str) -> list[DefinitionProblem]:
    """``access.rows`` must name an importable callable (the module's row selector)."""
    from layers.access import row_selector

    if layer.access.rows is None:
        return []
    try:
        selector = row_selector(layer)
    except ImportError as exc:
        return [DefinitionProblem("layers.E010", path, "access.rows", str(exc))]
    if not callable(selector):
        return [DefinitionProblem("layers.E010", path, "access.rows",
                                  f"'{layer.access.rows}' is not callable")]
    return []


def reference_problems(registry: LayerRegistry) -> list[DefinitionProblem]:
    """Problems of loaded definitions that need departments, roles or models."""
    departments = known_departments()
    roles = known_roles()
    problems: list[DefinitionProblem] = []
    for layer in registry.all():
        path = registry.source(layer.code)
        if departments:
            problems += department_problems(layer, path, departments)
        if roles:
            problems += role_problems(layer, path, roles)
        problems += model_problems(layer, path)
        problems += rows_problems(layer, path)
    return problems
