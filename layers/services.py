"""Writes of the layer registry: create and evolve tables and views (``kentcbs layers sync``).

``plan_layer`` compares a definition with the one last applied (stored in
``layers_layerstate``) and with the database; ``sync_layer`` applies the plan
in one transaction or refuses it with a message that says what to do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from django.db import connections, transaction
from psycopg2 import sql
from pydantic import ValidationError

from layers import ddl
from layers.errors import (
    BackingModelError,
    IncompatibleChangeError,
    UntrackedTableError,
    VersionNotBumpedError,
)
from layers.evolution import Change, ConstraintRenderer, table_changes

if TYPE_CHECKING:
    from layers.registry import LayerRegistry
    from layers.schema import LayerDefinition

logger = logging.getLogger(__name__)

Action = Literal["create", "alter", "view", "metadata", "none"]


@dataclass
class SyncPlan:
    """What ``sync`` would do to one layer."""

    layer: LayerDefinition
    action: Action
    applied_version: int | None = None
    changes: list[Change] = field(default_factory=list)
    statements: list[sql.Composable] = field(default_factory=list)

    @property
    def incompatible(self) -> list[Change]:
        return [change for change in self.changes if not change.compatible]

    def describe(self) -> list[str]:
        """Human-readable lines, one per change."""
        if self.action == "create":
            return [f"create {'view' if self.layer.is_model_backed else 'table'} "
                    f"{self.layer.backing.table}"]
        lines = [("REFUSED: " if not change.compatible else "") + change.description
                 for change in self.changes]
        if self.action == "metadata" and not lines:
            lines = ["titles, access or style changed (no table change)"]
        return lines


def _relation_exists(cursor: object, table: str) -> bool:
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])  # type: ignore[attr-defined]
    return bool(cursor.fetchone()[0])  # type: ignore[attr-defined]


def _applied(code: str, using: str) -> tuple[LayerDefinition | None, int | None, str | None]:
    """The stored definition, version and hash of a layer (Nones if never applied)."""
    from layers.models import LayerState
    from layers.schema import LayerDefinition

    state = LayerState.objects.using(using).filter(code=code).first()
    if state is None:
        return None, None, None
    try:
        definition = LayerDefinition.model_validate(state.definition)
    except ValidationError:
        definition = None
    return definition, state.version, state.definition_hash


def _raw_connection(using: str) -> object:
    connection = connections[using]
    connection.ensure_connection()
    return connection.connection


def plan_layer(layer: LayerDefinition, *, using: str = "default") -> SyncPlan:
    """Compare ``layer`` with what is applied; raise if it cannot be applied.

    Raises
    ------
    IncompatibleChangeError
        The change cannot be made in place.
    VersionNotBumpedError
        The table changes but the version did not increase.
    UntrackedTableError
        The table exists but the registry did not create it.
    """
    old, version, applied_hash = _applied(layer.code, using)
    with connections[using].cursor() as cursor:
        exists = _relation_exists(cursor, str(layer.backing.table))
    if old is None and version is not None and exists and not layer.is_model_backed:
        raise IncompatibleChangeError(
            layer=layer.code, changes="the applied definition stored in layers_layerstate "
            "can no longer be read by this version of KentCBS")
    if layer.is_model_backed:
        return _plan_view(layer, exists=exists, version=version, applied_hash=applied_hash,
                          using=using)
    if old is None or not exists:
        if exists:
            raise UntrackedTableError(layer=layer.code, table=str(layer.backing.table))
        return SyncPlan(layer, "create", version, statements=ddl.create_table(layer))
    with connections[using].cursor() as cursor:
        has_history = _relation_exists(cursor, ddl.history_table(layer))
    # a table made before layers kept their history gets its history table (no version
    # bump needed: the layer's own table does not change)
    history = [] if has_history else [Change(
        f"create history table {ddl.history_table(layer)}",
        statements=list(ddl.create_history_table(layer)))]
    if applied_hash == layer.definition_hash():
        return SyncPlan(layer, "metadata" if history else "none", version, changes=history)
    render = ConstraintRenderer(_raw_connection(using))
    changes = table_changes(old, layer, render, history=has_history)
    plan = SyncPlan(layer, "alter" if changes else "metadata", version,
                    changes=changes + history)
    return plan


def check_plan(plan: SyncPlan) -> None:
    """Raise when ``plan`` must not be applied."""
    if plan.incompatible:
        raise IncompatibleChangeError(
            layer=plan.layer.code,
            changes="; ".join(change.description for change in plan.incompatible))
    if plan.action == "alter" and plan.applied_version is not None \
            and plan.layer.version <= plan.applied_version:
        raise VersionNotBumpedError(
            layer=plan.layer.code, applied=plan.applied_version, version=plan.layer.version,
            changes="; ".join(change.description for change in plan.changes))


def _plan_view(layer: LayerDefinition, *, exists: bool, version: int | None,
               applied_hash: str | None, using: str) -> SyncPlan:
    from layers.views import drop_view_sql, resolve_model, view_sql, view_tables

    if exists and applied_hash == layer.definition_hash():
        return SyncPlan(layer, "none", version)
    try:
        model = resolve_model(layer)
        create = view_sql(layer, model)
    except LookupError as exc:
        raise BackingModelError(layer=layer.code, problem=str(exc.args[0])) from None
    missing = [table for table in view_tables(layer, model)
               if table not in connections[using].introspection.table_names()]
    if missing:
        raise BackingModelError(
            layer=layer.code,
            problem=f"table {', '.join(missing)} does not exist yet (run 'kentcbs migrate')")
    schema = sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(layer.table_schema))
    return SyncPlan(layer, "create" if not exists else "view", version,
                    changes=[Change(f"(re)create view {layer.backing.table}")],
                    statements=[schema, drop_view_sql(layer), create, *ddl.comments(layer)])


def _save_state(layer: LayerDefinition, using: str) -> None:
    from layers.models import LayerState

    LayerState.objects.using(using).update_or_create(
        code=layer.code,
        defaults={"version": layer.version, "kind": layer.backing.kind,
                  "table": str(layer.backing.table), "definition_hash": layer.definition_hash(),
                  "definition": layer.as_json()})


def sync_layer(layer: LayerDefinition, *, using: str = "default") -> SyncPlan:
    """Create or evolve the table (or view) of ``layer`` in one transaction.

    Returns the plan that was applied. Raises the errors of :func:`plan_layer`
    and :func:`check_plan`; nothing is changed then.

    Examples
    --------
    >>> from layers.registry import registry  # doctest: +SKIP
    >>> sync_layer(registry.get("yol")).action  # doctest: +SKIP
    'create'
    """
    with transaction.atomic(using=using):
        plan = plan_layer(layer, using=using)
        check_plan(plan)
        if plan.action == "none":
            return plan
        statements = list(plan.statements)
        for change in plan.changes:
            statements += change.statements
        if plan.action in {"alter", "metadata"}:
            statements += ddl.comments(layer)
        raw = _raw_connection(using)
        with connections[using].cursor() as cursor:
            for statement in statements:
                cursor.execute(statement.as_string(raw))  # type: ignore[arg-type]
        _save_state(layer, using)
    logger.info("layers: %s %s (v%s)", plan.action, layer.backing.table, layer.version)
    return plan


def sync_all(*, registry: LayerRegistry | None = None, codes: list[str] | None = None,
             using: str = "default", skip_missing_models: bool = False) -> list[SyncPlan]:
    """Sync every layer (or ``codes``); model-backed layers whose model is missing are
    skipped with a warning when ``skip_missing_models`` (used after ``migrate``)."""
    if registry is None:
        from layers.registry import registry as default_registry

        registry = default_registry
    plans = []
    for layer in registry.all():
        if codes and layer.code not in codes:
            continue
        try:
            plans.append(sync_layer(layer, using=using))
        except BackingModelError as exc:
            if not skip_missing_models:
                raise
            logger.warning("layers: view of %s not created: %s", layer.code, exc.english)
    return plans
