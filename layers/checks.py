"""System checks of the layer registry (``kentcbs check``): ids ``layers.E001``...

=========== ===========================================================
id          problem
=========== ===========================================================
layers.E001 a definition file is broken (YAML or schema), with file and field
layers.E002 owner or access department is not a known department
layers.E003 a field refers to an unknown code list
layers.E004 a key field or a style rule field is not one of the layer's fields
layers.E005 a layer code is defined twice or does not match its file name
layers.E006 the backing model or a model field path of a model-backed layer does not exist
layers.E007 an access role is not a known role
layers.W006 the backing model is not installed (yet): its view cannot be created
layers.E009 the theme is not a TUCBS theme of the ``tucbs_tema`` code list
layers.E010 ``access.rows`` does not name an importable row selector
=========== ===========================================================
"""

from __future__ import annotations

from typing import Any

from django.core import checks


def _error(check_id: str, path: str, location: str, message: str) -> checks.CheckMessage:
    kind = checks.Warning if ".W" in check_id else checks.Error
    return kind(f"{path}, field '{location}': {message}", id=check_id, obj=path)


@checks.register("layers")
def check_layer_definitions(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every problem of every definition file, one message each."""
    from layers.registry import registry

    registry.reload()
    found: list[checks.CheckMessage] = [
        _error(p.check_id, p.path, p.location, p.message) for p in registry.problems()
    ]
    if found:
        return found
    from layers.validation import reference_problems

    for problem in reference_problems(registry):
        found.append(_error(problem.check_id, problem.path, problem.location, problem.message))
    return found
