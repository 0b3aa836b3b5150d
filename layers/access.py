"""Who may read, edit and see personal data of a layer: the one place that decides.

Rules (ADR "permission model"):

* a superuser may do everything;
* ``access.read.public`` layers are readable by everyone, anonymous included;
* otherwise an authenticated user reads when one of their departments (with
  ancestors) is the owner or in ``access.read.departments``, or one of their
  roles is in ``access.read.roles``;
* the GIS administrators (role ``gis_admin`` in ``bilgi_islem`` or its unit
  ``cbs``) read every layer;
* editing needs the owner department or ``access.edit`` departments/roles;
  nobody anonymous edits;
* fields marked ``personal`` are seen by readers that match ``access.personal``
  (the owner department always does);
* ``access.rows`` (model-backed layers of modules) names the module's selector
  that decides which records a user sees in the module's own pages; a reader of
  the layer sees exactly those rows on every path (:func:`row_condition`).

Department membership includes ancestors (``gis_core.selectors.user_access``),
so a member of unit ``teknik_destek`` counts as ``bilgi_islem`` too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from layers.schema import LayerDefinition

#: (role, department) pairs that read every layer.
GIS_ADMIN_ROLE = "gis_admin"
GIS_ADMIN_DEPARTMENTS = frozenset({"bilgi_islem", "cbs"})


def _access(user: Any) -> Any:
    from gis_core.selectors import user_access

    return user_access(user)


def _is_gis_admin(access: Any) -> bool:
    return GIS_ADMIN_ROLE in access.roles and bool(access.departments & GIS_ADMIN_DEPARTMENTS)


def is_gis_admin(user: Any) -> bool:
    """Superusers and the GIS administrators (``gis_admin`` in the IT directorate or GIS unit)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    access = _access(user)
    return access.is_superuser or _is_gis_admin(access)


def _matches(access: Any, departments: list[str], roles: list[str], owner: str) -> bool:
    wanted = {owner, *departments}
    return bool(access.departments & wanted) or bool(access.roles & set(roles))


def can_read(user: Any, layer: LayerDefinition) -> bool:
    """Return True if ``user`` (may be anonymous or None) may read ``layer``.

    Examples
    --------
    >>> from layers.registry import registry  # doctest: +SKIP
    >>> can_read(AnonymousUser(), registry.get("yol"))  # doctest: +SKIP
    True
    """
    if layer.access.read.public:
        return True
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    access = _access(user)
    if access.is_superuser or _is_gis_admin(access):
        return True
    read = layer.access.read
    return _matches(access, read.departments, read.roles, layer.owner)


def can_edit(user: Any, layer: LayerDefinition) -> bool:
    """Return True if ``user`` may create, change or delete features of ``layer``."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    access = _access(user)
    if access.is_superuser:
        return True
    edit = layer.access.edit
    return _matches(access, edit.departments, edit.roles, layer.owner)


def can_see_personal(user: Any, layer: LayerDefinition) -> bool:
    """Return True if ``user`` may see the fields of ``layer`` marked ``personal``.

    Layers without personal fields: the same as :func:`can_read`.
    """
    if not layer.personal_fields:
        return can_read(user, layer)
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    access = _access(user)
    if access.is_superuser:
        return True
    if not can_read(user, layer):
        return False
    personal = layer.access.personal
    return _matches(access, personal.departments, personal.roles, layer.owner)


def visible_fields(user: Any, layer: LayerDefinition) -> list[str]:
    """Field names of ``layer`` that ``user`` may see (empty when they may not read it)."""
    if not can_read(user, layer):
        return []
    if can_see_personal(user, layer):
        return layer.field_names
    return layer.public_fields


class AllRows:
    """Marker: ``user`` sees every row of the layer (no ``access.rows``, or the selector
    returned the unfiltered queryset)."""


ALL_ROWS = AllRows()


def row_selector(layer: LayerDefinition) -> Any | None:
    """The callable named by ``access.rows`` (``selector(*, user) -> QuerySet``), or None."""
    if layer.access.rows is None:
        return None
    from django.utils.module_loading import import_string

    return import_string(layer.access.rows)


def row_condition(user: Any, layer: LayerDefinition) -> str | AllRows:
    """The rows of ``layer`` that ``user`` sees, as an SQL condition on the layer's table.

    The one row rule of a layer: its module's selector (``access.rows``), the same
    function the module's pages use. Returns :data:`ALL_ROWS` when nothing is
    filtered, ``"FALSE"`` for no row, else ``"<id> IN (<the selector's query>)"``
    with every value inlined as an SQL literal (psycopg2's quoting), to be run
    without parameters. Callers that cannot read the layer get ``"FALSE"``.

    Examples
    --------
    >>> row_condition(technician, registry.get("helpdesk_ticket"))  # doctest: +SKIP
    '"id" IN (SELECT U0."id" FROM "helpdesk_ticket" U0 WHERE ...)'
    """
    if not can_read(user, layer):
        return "FALSE"
    selector = row_selector(layer)
    if selector is None:
        return ALL_ROWS
    queryset = selector(user=user)
    if queryset.query.is_empty():
        return "FALSE"
    if not queryset.query.where:
        return ALL_ROWS
    from django.db import connection
    from psycopg2 import sql

    text, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        inner = cursor.mogrify(text, params)
        column = sql.Identifier(layer.id_column).as_string(cursor.connection)
    if isinstance(inner, bytes):
        inner = inner.decode()
    return f"{column} IN ({inner})"


def readable_layers(user: Any) -> list[LayerDefinition]:
    """Every layer ``user`` may read, sorted by code."""
    from layers.registry import registry

    return [layer for layer in registry.all() if can_read(user, layer)]


def editable_layers(user: Any) -> list[LayerDefinition]:
    """Every layer ``user`` may edit, sorted by code."""
    from layers.registry import registry

    return [layer for layer in registry.all() if can_edit(user, layer)]
