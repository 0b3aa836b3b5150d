"""Typed errors of the layer registry (codes are stable and documented)."""

from __future__ import annotations

from gis_core.errors import KentCBSError


class LayerError(KentCBSError):
    """Base class of every layer registry error."""


class UnknownLayerError(LayerError):
    """No layer definition has the requested code."""

    def __init__(self, code: str) -> None:
        self.layer = code
        super().__init__("UNKNOWN_LAYER", "There is no layer with code '{layer}'.", layer=code)


class LayerDefinitionError(LayerError):
    """A definition file is broken: one line naming the file and the field."""

    def __init__(self, *, path: str, location: str, problem: str, check_id: str = "layers.E001",
                 more: int = 0) -> None:
        self.path = path
        self.location = location
        self.problem = problem
        self.check_id = check_id
        if more:
            super().__init__(
                "LAYER_DEFINITION_INVALID",
                "Layer definition {path}, field '{location}': {problem} (and {more} more "
                "problem(s); run 'kentcbs check').",
                path=path, location=location, problem=problem, more=more,
            )
        else:
            super().__init__(
                "LAYER_DEFINITION_INVALID",
                "Layer definition {path}, field '{location}': {problem}",
                path=path, location=location, problem=problem,
            )


class UnknownCodeListError(LayerError):
    """No code list has the requested name."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__("UNKNOWN_CODELIST", "There is no code list named '{name}'.", name=name)


class CodeListFileError(LayerError):
    """A code list file cannot be read."""

    def __init__(self, *, path: str, problem: str) -> None:
        super().__init__("CODELIST_FILE_INVALID", "Code list file {path}: {problem}",
                         path=path, problem=problem)


class IncompatibleChangeError(LayerError):
    """A definition change cannot be applied to the existing table."""

    def __init__(self, *, layer: str, changes: str) -> None:
        self.layer = layer
        self.changes = changes
        super().__init__(
            "LAYER_CHANGE_INCOMPATIBLE",
            "Layer '{layer}' cannot be changed in place: {changes}. Keep the old definition, or "
            "publish the new standard under a new layer code (e.g. {layer}_v2) and migrate the "
            "data into it, or migrate the table by hand and run 'kentcbs layers sync' again.",
            layer=layer, changes=changes,
        )


class VersionNotBumpedError(LayerError):
    """The table-relevant part of a definition changed but its version did not increase."""

    def __init__(self, *, layer: str, applied: int, version: int, changes: str) -> None:
        super().__init__(
            "LAYER_VERSION_NOT_BUMPED",
            "Layer '{layer}' changes its table ({changes}) but its version ({version}) is not "
            "greater than the applied version ({applied}). Increase 'version' in its definition.",
            layer=layer, applied=applied, version=version, changes=changes,
        )


class UntrackedTableError(LayerError):
    """A table with the layer's name exists but the registry did not create it."""

    def __init__(self, *, layer: str, table: str) -> None:
        super().__init__(
            "LAYER_TABLE_UNTRACKED",
            "Table {table} of layer '{layer}' exists but was not created by the registry. Rename "
            "or drop it, then run 'kentcbs layers sync' again.",
            layer=layer, table=table,
        )


class BackingModelError(LayerError):
    """A model-backed layer points at a model or model field that does not exist."""

    def __init__(self, *, layer: str, problem: str) -> None:
        super().__init__("LAYER_BACKING_INVALID",
                         "Layer '{layer}' cannot be backed by its model: {problem}",
                         layer=layer, problem=problem)
