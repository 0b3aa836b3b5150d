"""What changed between the applied definition of a table layer and the new one.

A change is *compatible* when every row valid under the old definition is valid
under the new one and the table can be altered in place: a new optional field
(or a required one with a default), a wider range, a longer ``max_length``,
more enum values, dropping ``required``/``unique``/a pattern, ``string`` to
``text``, ``integer`` to ``decimal``. Everything else (a removed field, a type
change, a narrower domain, a new required field without default, a different
geometry type, SRID or key) is *incompatible* and refused.

The layer's history table (:func:`layers.ddl.create_history_table`) follows: a new
field or a widened type is applied to it too (``history=False`` when it does not
exist yet: it is then created from the new definition).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from psycopg2 import sql

from layers import ddl

if TYPE_CHECKING:
    from layers.schema import FieldDefinition, LayerDefinition

WIDENING_TYPES = {("string", "text"), ("integer", "decimal")}


@dataclass
class Change:
    """One difference, with the SQL that applies it (none for metadata-only changes)."""

    description: str
    compatible: bool = True
    statements: list[sql.Composable] = field(default_factory=list)


def _bound_change(name: str, what: str, old: float | None, new: float | None,
                  *, lower: bool) -> Change | None:
    if old == new:
        return None
    if new is None:
        return Change(f"field '{name}': {what} {old} removed")
    if old is None:
        return Change(f"field '{name}': new {what} {new} (narrower range)", compatible=False)
    wider = new < old if lower else new > old
    return Change(f"field '{name}': {what} {old} -> {new}"
                  + ("" if wider else " (narrower range)"), compatible=wider)


def _field_changes(layer: LayerDefinition, old: FieldDefinition,
                   new: FieldDefinition, *, history: bool = True) -> list[Change]:
    name = new.name
    changes: list[Change] = []
    new_type = ddl.column_type(new)
    if old.type != new.type:
        if (old.type, new.type) in WIDENING_TYPES:
            changes.append(Change(f"field '{name}': type {old.type} -> {new.type}", statements=[
                ddl.alter_column(layer, name, sql.SQL("TYPE {}").format(new_type)),
                *([ddl.history_alter_type(layer, new)] if history else [])]))
        else:
            changes.append(Change(f"field '{name}': type {old.type} -> {new.type}",
                                  compatible=False))
    elif old.max_length != new.max_length:
        longer = new.max_length is None or (old.max_length is not None
                                            and new.max_length > old.max_length)
        changes.append(Change(
            f"field '{name}': max_length {old.max_length} -> {new.max_length}",
            compatible=longer,
            statements=[ddl.alter_column(layer, name, sql.SQL("TYPE {}").format(new_type)),
                        *([ddl.history_alter_type(layer, new)] if history else [])]))
    if old.required != new.required:
        if new.required:
            changes.append(Change(f"field '{name}': becomes required", compatible=False))
        else:
            changes.append(Change(f"field '{name}': no longer required", statements=[
                ddl.alter_column(layer, name, sql.SQL("DROP NOT NULL"))]))
    if old.default != new.default:
        action = (sql.SQL("DROP DEFAULT") if new.default is None
                  else sql.SQL("SET DEFAULT {}").format(sql.Literal(new.default)))
        changes.append(Change(f"field '{name}': default {old.default!r} -> {new.default!r}",
                              statements=[ddl.alter_column(layer, name, action)]))
    if old.unique != new.unique:
        changes.append(Change(f"field '{name}': " + ("becomes unique" if new.unique
                                                     else "no longer unique"),
                              compatible=not new.unique))
    if old.enum != new.enum:
        wider = new.enum is None or (old.enum is not None and set(old.enum) <= set(new.enum))
        changes.append(Change(f"field '{name}': enum {old.enum} -> {new.enum}", compatible=wider))
    for change in (_bound_change(name, "min", old.min, new.min, lower=True),
                   _bound_change(name, "max", old.max, new.max, lower=False)):
        if change:
            changes.append(change)
    if old.pattern != new.pattern:
        changes.append(Change(f"field '{name}': pattern {old.pattern!r} -> {new.pattern!r}",
                              compatible=new.pattern is None))
    return changes


def _geometry_rule_changes(old: LayerDefinition, new: LayerDefinition) -> list[Change]:
    changes = []
    before, after = old.geometry_rules, new.geometry_rules
    for rule in ("valid", "not_empty"):
        was, now = getattr(before, rule), getattr(after, rule)
        if was != now:
            changes.append(Change(f"geometry rule {rule}: {was} -> {now}", compatible=not now))
    if before.not_empty != after.not_empty and not after.not_empty:
        changes[-1].statements.append(
            ddl.alter_column(new, new.geometry_column, sql.SQL("DROP NOT NULL")))
    for rule in ("min_area", "min_length"):
        change = _bound_change("(geometry)", rule, getattr(before, rule), getattr(after, rule),
                               lower=True)
        if change:
            changes.append(change)
    return changes


def _constraint_statements(old: LayerDefinition, new: LayerDefinition,
                           render: ConstraintRenderer) -> list[sql.Composable]:
    """Drop constraints that went away or changed, add new or changed ones."""
    before = {name: render(body) for name, body in ddl.constraints(old).items()}
    after = ddl.constraints(new)
    statements: list[sql.Composable] = []
    for name in before:
        if name not in after or render(after[name]) != before[name]:
            statements.append(ddl.drop_constraint(new, name))
    for name, body in after.items():
        if name not in before or render(body) != before[name]:
            statements.append(ddl.add_constraint(new, name, body))
    return statements


class ConstraintRenderer:
    """Renders composed SQL to text (needs a connection for literal quoting)."""

    def __init__(self, connection: object) -> None:
        self.connection = connection

    def __call__(self, composed: sql.Composable) -> str:
        return composed.as_string(self.connection)  # type: ignore[arg-type]


def table_changes(old: LayerDefinition, new: LayerDefinition,
                  render: ConstraintRenderer, *, history: bool = True) -> list[Change]:
    """Every table-relevant change from ``old`` to ``new`` (metadata is not listed); with
    ``history``, the statements alter the layer's history table alike."""
    changes: list[Change] = []
    for attr in ("geometry_type", "srid", "geometry_column", "id_column"):
        if getattr(old, attr) != getattr(new, attr):
            changes.append(Change(f"{attr} {getattr(old, attr)} -> {getattr(new, attr)}",
                                  compatible=False))
    if old.backing.kind != new.backing.kind or old.backing.table != new.backing.table:
        changes.append(Change(f"storage {old.backing.kind}:{old.backing.table} -> "
                              f"{new.backing.kind}:{new.backing.table}", compatible=False))
    if old.key != new.key:
        changes.append(Change(f"key {old.key} -> {new.key}", compatible=False))
    if any(not change.compatible for change in changes):
        return changes
    old_fields = {item.name: item for item in old.fields}
    for item in new.fields:
        previous = old_fields.get(item.name)
        if previous is None:
            if item.required and item.default is None:
                changes.append(Change(f"new required field '{item.name}' without a default",
                                      compatible=False))
            else:
                changes.append(Change(f"new field '{item.name}' ({item.type})",
                                      statements=[ddl.add_column(new, item), *(
                                          [ddl.history_add_column(new, item)] if history
                                          else [])]))
        else:
            changes += _field_changes(new, previous, item, history=history)
    for name in old_fields:
        if name not in {item.name for item in new.fields}:
            changes.append(Change(f"field '{name}' removed", compatible=False))
    changes += _geometry_rule_changes(old, new)
    if all(change.compatible for change in changes):
        constraint_sql = _constraint_statements(old, new, render)
        if constraint_sql:
            changes.append(Change("constraints updated", statements=constraint_sql))
    return changes
