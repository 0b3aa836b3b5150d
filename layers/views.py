"""Views ``cbs.v_<code>`` over the core models of model-backed layers.

The view has the layer's columns and nothing else: ``id``, the geometry and one
column per field, named and typed as the definition says (a field's ``source``
is the model field path, e.g. ``neighbourhood.name``: a left join).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from psycopg2 import sql

from layers.ddl import column_type

if TYPE_CHECKING:
    from layers.schema import LayerDefinition


#: Django fields stored as text, where a blank value means "no value".
TEXT_TYPES = frozenset({"CharField", "TextField", "SlugField", "EmailField", "URLField"})


@dataclass(frozen=True)
class ResolvedSource:
    """Where a model field path lives: an optional join and a column."""

    column: str
    #: (table, fk column on the base table, target column) when the path crosses a relation.
    join: tuple[str, str, str] | None = None
    #: Django's internal field type (``GenericIPAddressField`` ...).
    internal_type: str = ""


def resolve_model(layer: LayerDefinition) -> Any:
    """The Django model class behind a model-backed layer (``LookupError`` if none)."""
    from django.apps import apps

    dotted = str(layer.backing.model)
    app_label, _, name = dotted.rpartition(".")
    try:
        return apps.get_model(app_label.rsplit(".", 1)[-1], name)
    except (LookupError, ValueError):
        raise LookupError(f"model '{dotted}' is not installed") from None


def _concrete(model: Any, name: str) -> Any:
    from django.core.exceptions import FieldDoesNotExist

    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        raise LookupError(f"{model._meta.label} has no field '{name}'") from None
    if not getattr(field, "concrete", False) or field.many_to_many:
        raise LookupError(f"{model._meta.label}.{name} is not a column")
    return field


def resolve_source(model: Any, path: str) -> ResolvedSource:
    """Resolve ``name`` or ``relation.name`` on ``model`` (``LookupError`` if impossible)."""
    first, _, rest = path.partition(".")
    field = _concrete(model, first)
    if not rest:
        return ResolvedSource(column=field.column, internal_type=field.get_internal_type())
    if not (field.many_to_one or field.one_to_one):
        raise LookupError(f"{model._meta.label}.{first} is not a foreign key")
    target = field.related_model
    target_field = _concrete(target, rest)
    return ResolvedSource(column=target_field.column,
                          join=(target._meta.db_table, field.column,
                                field.target_field.column),
                          internal_type=target_field.get_internal_type())


def view_tables(layer: LayerDefinition, model: Any) -> list[str]:
    """Every table the view reads (the model's and the joined ones)."""
    tables = [model._meta.db_table]
    for item in layer.fields:
        source = resolve_source(model, item.source_path)
        if source.join is not None and source.join[0] not in tables:
            tables.append(source.join[0])
    return tables


def view_sql(layer: LayerDefinition, model: Any) -> sql.Composed:
    """``CREATE VIEW`` statement of a model-backed layer."""
    base = sql.Identifier("t")
    columns = [
        sql.SQL("{}.{} AS {}").format(base, sql.Identifier(model._meta.pk.column),
                                      sql.Identifier(layer.id_column)),
    ]
    geometry = resolve_source(model, layer.backing.geometry_source or layer.geometry_column)
    columns.append(sql.SQL("{}.{} AS {}").format(base, sql.Identifier(geometry.column),
                                                 sql.Identifier(layer.geometry_column)))
    joins: dict[tuple[str, str, str], sql.Identifier] = {}
    for item in layer.fields:
        source = resolve_source(model, item.source_path)
        if source.join is None:
            alias = base
        else:
            alias = joins.setdefault(source.join, sql.Identifier(f"j{len(joins) + 1}"))
        value: sql.Composable = sql.SQL("{}.{}").format(alias, sql.Identifier(source.column))
        if source.internal_type == "GenericIPAddressField":
            value = sql.SQL("host({})").format(value)  # inet::text would append "/32"
        elif source.internal_type in TEXT_TYPES:
            value = sql.SQL("NULLIF({}, '')").format(value)  # blank is NULL, as in tables
        columns.append(sql.SQL("CAST({} AS {}) AS {}").format(
            value, column_type(item, for_view=True), sql.Identifier(item.name)))
    join_sql = [
        sql.SQL("LEFT JOIN {} AS {} ON {}.{} = {}.{}").format(
            sql.Identifier(table), alias, alias, sql.Identifier(target), base,
            sql.Identifier(fk))
        for (table, fk, target), alias in joins.items()
    ]
    return sql.SQL("CREATE VIEW {}.{} AS SELECT {} FROM {} AS {} {}").format(
        sql.Identifier(layer.table_schema), sql.Identifier(layer.table_name),
        sql.SQL(", ").join(columns), sql.Identifier(model._meta.db_table), base,
        sql.SQL(" ").join(join_sql))


def drop_view_sql(layer: LayerDefinition) -> sql.Composed:
    return sql.SQL("DROP VIEW IF EXISTS {}.{}").format(
        sql.Identifier(layer.table_schema), sql.Identifier(layer.table_name))
