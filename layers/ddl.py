"""SQL for registry-managed tables, composed with ``psycopg2.sql`` (never string-formatted).

A table ``cbs.<code>`` has ``id bigserial``, one typed column per field, the
geometry column (``geometry(<type>, <srid>)``), ``batch_id`` (the ETL load that
wrote the row), ``created_at`` and ``updated_at``; CHECK constraints for enums,
ranges, patterns and the geometry rules a row can check on its own; a UNIQUE
constraint on the key and on unique fields; a GiST index on the geometry and a BRIN
index on ``batch_id``.

Beside it, ``cbs.<code>_history`` keeps every version a load or an undo replaced or
removed (:func:`create_history_table`): the row's ``id``, its fields, geometry,
``batch_id``, ``created_at`` and ``updated_at`` as they were, with
``replaced_by_batch`` (the batch that replaced or removed it), ``replaced_at`` and
``history_change`` (``update`` or ``delete``). The ETL writes it set-based in the
load's own transaction (no triggers), and ``kentcbs batches undo`` restores from it.
Its columns follow the layer's (no constraints: an old version stays as it was).

Code lists are not constraints: a list may change without touching the table
(old rows keep retired codes); the ETL validates values against them.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from psycopg2 import sql

if TYPE_CHECKING:
    from layers.schema import FieldDefinition, LayerDefinition

SQL_TYPES = {
    "text": "text", "integer": "bigint", "decimal": "numeric", "boolean": "boolean",
    "date": "date", "datetime": "timestamp with time zone",
}


def column_type(item: FieldDefinition, *, for_view: bool = False) -> sql.Composable:
    """The PostgreSQL type of a field (``varchar(n)`` for a bounded string)."""
    if item.type == "string":
        if item.max_length and not for_view:
            return sql.SQL("character varying({})").format(sql.Literal(item.max_length))
        return sql.SQL("text")
    return sql.SQL(SQL_TYPES[item.type])


def constraint_name(table: str, *parts: str) -> str:
    """A deterministic constraint name within PostgreSQL's 63-byte limit."""
    name = "_".join((table, *parts))
    if len(name.encode()) <= 63:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]  # noqa: S324 - a name, not security
    return f"{name[:54]}_{digest}"


def _qualified(layer: LayerDefinition) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(layer.table_schema),
                                   sql.Identifier(layer.table_name))


#: Suffix of a layer's history table (``cbs.bina`` -> ``cbs.bina_history``).
HISTORY_SUFFIX = "_history"
#: Columns of a history table that the layer's table does not have.
HISTORY_COLUMNS = ("history_id", "replaced_by_batch", "replaced_at", "history_change")


def history_table_name(layer: LayerDefinition) -> str:
    """Unqualified name of the layer's history table (within the 63-byte limit)."""
    return constraint_name(layer.table_name, HISTORY_SUFFIX.lstrip("_"))


def history_table(layer: LayerDefinition) -> str:
    """``schema.table`` of the layer's history table."""
    return f"{layer.table_schema}.{history_table_name(layer)}"


def _history_qualified(layer: LayerDefinition) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(layer.table_schema),
                                   sql.Identifier(history_table_name(layer)))


def create_history_table(layer: LayerDefinition) -> list[sql.Composed]:
    """Statements that create the layer's history table and its indexes.

    Examples
    --------
    >>> from etl.testing import make_layer  # doctest: +SKIP
    >>> len(create_history_table(make_layer()))  # doctest: +SKIP
    4
    """
    table = _history_qualified(layer)
    name = history_table_name(layer)
    columns: list[sql.Composable] = [
        sql.SQL("history_id bigserial PRIMARY KEY"),
        sql.SQL("{} bigint NOT NULL").format(sql.Identifier(layer.id_column)),
    ]
    columns += [sql.SQL("{} {}").format(sql.Identifier(item.name), column_type(item))
                for item in layer.fields]
    columns += [
        sql.SQL("{} {}").format(sql.Identifier(layer.geometry_column), geometry_type(layer)),
        sql.SQL("batch_id bigint"),
        sql.SQL("created_at timestamp with time zone"),
        sql.SQL("updated_at timestamp with time zone"),
        sql.SQL("replaced_by_batch bigint NOT NULL"),
        sql.SQL("replaced_at timestamp with time zone NOT NULL DEFAULT now()"),
        sql.SQL("history_change text NOT NULL CONSTRAINT {} "
                "CHECK (history_change IN ('update', 'delete'))").format(
            sql.Identifier(constraint_name(name, "change"))),
    ]
    return [
        sql.SQL("CREATE TABLE {} ({})").format(table, sql.SQL(", ").join(columns)),
        # undo: the versions a batch replaced; and which later batches replaced its own
        sql.SQL("CREATE INDEX {} ON {} (replaced_by_batch)").format(
            sql.Identifier(constraint_name(name, "replaced_idx")), table),
        sql.SQL("CREATE INDEX {} ON {} (batch_id)").format(
            sql.Identifier(constraint_name(name, "batch_idx")), table),
        sql.SQL("COMMENT ON TABLE {} IS {}").format(table, sql.Literal(
            f"{layer.title.tr} / {layer.title.en}: önceki sürümler / previous versions")),
    ]


def history_add_column(layer: LayerDefinition, item: FieldDefinition) -> sql.Composed:
    """A new field in the history table (nullable, no default: old versions lack it)."""
    return sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
        _history_qualified(layer), sql.Identifier(item.name), column_type(item))


def history_alter_type(layer: LayerDefinition, item: FieldDefinition) -> sql.Composed:
    """A widened field type in the history table."""
    return sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {}").format(
        _history_qualified(layer), sql.Identifier(item.name), column_type(item))


def column_definition(item: FieldDefinition) -> sql.Composed:
    """``name type [DEFAULT x] [NOT NULL]`` of one field."""
    parts: list[sql.Composable] = [sql.Identifier(item.name), column_type(item)]
    if item.default is not None:
        parts += [sql.SQL("DEFAULT"), sql.Literal(item.default)]
    if item.required:
        parts.append(sql.SQL("NOT NULL"))
    return sql.SQL(" ").join(parts)


def constraints(layer: LayerDefinition) -> dict[str, sql.Composed]:
    """Every named table constraint the definition implies: name -> constraint body."""
    table = layer.table_name
    geom = sql.Identifier(layer.geometry_column)
    found: dict[str, sql.Composed] = {}
    key_columns = sql.SQL(", ").join(sql.Identifier(name) for name in layer.key)
    found[constraint_name(table, "key")] = sql.SQL("UNIQUE ({})").format(key_columns)
    for item in layer.fields:
        column = sql.Identifier(item.name)
        if item.unique and layer.key != [item.name]:
            found[constraint_name(table, item.name, "uniq")] = sql.SQL("UNIQUE ({})").format(column)
        if item.enum is not None:
            found[constraint_name(table, item.name, "enum")] = sql.SQL("CHECK ({} IN ({}))").format(
                column, sql.SQL(", ").join(sql.Literal(value) for value in item.enum))
        bounds: list[sql.Composable] = []
        if item.min is not None:
            bounds.append(sql.SQL("{} >= {}").format(column, sql.Literal(item.min)))
        if item.max is not None:
            bounds.append(sql.SQL("{} <= {}").format(column, sql.Literal(item.max)))
        if bounds:
            found[constraint_name(table, item.name, "range")] = sql.SQL("CHECK ({})").format(
                sql.SQL(" AND ").join(bounds))
        if item.pattern is not None:
            found[constraint_name(table, item.name, "pattern")] = sql.SQL(
                "CHECK ({} ~ {})").format(column, sql.Literal(item.pattern))
    rules = layer.geometry_rules
    if rules.valid:
        found[constraint_name(table, "geom_valid")] = sql.SQL("CHECK (ST_IsValid({}))").format(geom)
    if rules.not_empty:
        found[constraint_name(table, "geom_not_empty")] = sql.SQL(
            "CHECK (NOT ST_IsEmpty({}))").format(geom)
    if rules.min_area is not None:
        found[constraint_name(table, "geom_min_area")] = sql.SQL(
            "CHECK (ST_Area({}) >= {})").format(geom, sql.Literal(rules.min_area))
    if rules.min_length is not None:
        found[constraint_name(table, "geom_min_length")] = sql.SQL(
            "CHECK (ST_Length({}) >= {})").format(geom, sql.Literal(rules.min_length))
    return found


def geometry_type(layer: LayerDefinition) -> sql.Composed:
    return sql.SQL("geometry({}, {})").format(sql.SQL(layer.geometry_type),
                                              sql.Literal(int(layer.srid)))


def create_table(layer: LayerDefinition) -> list[sql.Composed]:
    """Statements that create the layer's table, its constraints and indexes."""
    table = _qualified(layer)
    columns: list[sql.Composable] = [
        sql.SQL("{} bigserial PRIMARY KEY").format(sql.Identifier(layer.id_column)),
    ]
    columns += [column_definition(item) for item in layer.fields]
    geom = [sql.Identifier(layer.geometry_column), geometry_type(layer)]
    if layer.geometry_rules.not_empty:
        geom.append(sql.SQL("NOT NULL"))
    columns.append(sql.SQL(" ").join(geom))
    columns += [
        sql.SQL("batch_id bigint"),
        sql.SQL("created_at timestamp with time zone NOT NULL DEFAULT now()"),
        sql.SQL("updated_at timestamp with time zone NOT NULL DEFAULT now()"),
    ]
    columns += [sql.SQL("CONSTRAINT {} {}").format(sql.Identifier(name), body)
                for name, body in constraints(layer).items()]
    statements = [
        sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(layer.table_schema)),
        sql.SQL("CREATE TABLE {} ({})").format(table, sql.SQL(", ").join(columns)),
        sql.SQL("CREATE INDEX {} ON {} USING gist ({})").format(
            sql.Identifier(constraint_name(layer.table_name, "geom_gist")), table,
            sql.Identifier(layer.geometry_column)),
        # BRIN: batch ids grow with the table (a load appends its rows, an update writes
        # the new version at the end), so "what did batch N write" needs only a range summary
        # per 128 pages, which costs next to nothing on each inserted row (a B-tree did)
        sql.SQL("CREATE INDEX {} ON {} USING brin (batch_id) WITH (autosummarize = on)").format(
            sql.Identifier(constraint_name(layer.table_name, "batch_idx")), table),
    ]
    return statements + create_history_table(layer) + comments(layer)


def comments(layer: LayerDefinition) -> list[sql.Composed]:
    """``COMMENT ON`` statements: titles for people browsing the database (QGIS, psql)."""
    table = _qualified(layer)
    kind = sql.SQL("VIEW" if layer.is_model_backed else "TABLE")
    statements = [sql.SQL("COMMENT ON {} {} IS {}").format(
        kind, table, sql.Literal(f"{layer.title.tr} / {layer.title.en} (v{layer.version})"))]
    for item in layer.fields:
        text = f"{item.title.tr} / {item.title.en}"
        if item.unit:
            text += f" [{item.unit}]"
        statements.append(sql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(
            table, sql.Identifier(item.name), sql.Literal(text)))
    return statements


def add_constraint(layer: LayerDefinition, name: str, body: sql.Composed) -> sql.Composed:
    return sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
        _qualified(layer), sql.Identifier(name), body)


def drop_constraint(layer: LayerDefinition, name: str) -> sql.Composed:
    return sql.SQL("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}").format(
        _qualified(layer), sql.Identifier(name))


def alter_column(layer: LayerDefinition, column: str, action: sql.Composable) -> sql.Composed:
    return sql.SQL("ALTER TABLE {} ALTER COLUMN {} {}").format(
        _qualified(layer), sql.Identifier(column), action)


def add_column(layer: LayerDefinition, item: FieldDefinition) -> sql.Composed:
    return sql.SQL("ALTER TABLE {} ADD COLUMN {}").format(_qualified(layer),
                                                         column_definition(item))
