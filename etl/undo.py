"""Undo a loaded batch from the layer's history: ``kentcbs batches undo ID`` and the
report page's button (:func:`undo_batch`).

Every load keeps the version of each row it updates in the layer's history table
(:mod:`etl.load`, :func:`layers.ddl.create_history_table`), and every row keeps the id of
the batch that wrote it (``batch_id``). Undoing batch B, in one transaction under the
same table lock a load takes:

* each row B updated (``batch_id = B`` and a history version replaced by B) gets that
  previous version back, whole: fields, geometry, ``batch_id``, ``created_at`` and
  ``updated_at`` (so the table is exactly as before B);
* each row B inserted (``batch_id = B`` and no version replaced by B) is removed;
* the versions B wrote are kept in the history, replaced by the undo batch U
  (``history_change`` ``update`` or ``delete``);
* U is a batch of its own (policy ``undo``, ``undoes = B``) with its counts and report.

Refused, with nothing changed: when a later batch replaced a version B wrote (undo that
one first; an undone later batch does not count), when B loaded nothing (failed,
rejected, refused, dry run, unchanged), when B is itself an undo or already undone, and
when the rows written by B no longer match its counts (written by hand since, or loaded
before layers kept their history).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from pyproj import CRS

from etl import report as reports
from etl.errors import BatchNotFound, UndoForbidden, UndoRefused
from etl.load import _qualified, _quote, table_columns
from etl.models import Batch, BatchPolicyChoices, BatchStatusChoices
from gis_core.errors import bilingual

logger = logging.getLogger(__name__)

#: At most this many later batches are named in a refusal.
LATER_LISTED = 20


@dataclass(frozen=True)
class LaterBatch:
    """A later batch that replaced versions the batch to undo wrote."""

    pk: int
    created: Any
    file_name: str
    features: int

    def describe(self) -> str:
        return f"#{self.pk} ({self.created:%Y-%m-%d %H:%M}, {self.file_name}, {self.features})"


def may_undo(*, user: Any, batch: Batch, layer: Any) -> bool:
    """Whether ``user`` may undo ``batch``: its sender while they may still edit the layer,
    and the GIS administrators (:func:`layers.access.is_gis_admin`)."""
    from layers.access import can_edit, is_gis_admin

    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if is_gis_admin(user):
        return True
    sender = batch.user_id is not None and batch.user_id == user.pk
    return sender and can_edit(user, layer)


def undo_refusal(batch: Batch) -> UndoRefused | None:
    """Why ``batch`` cannot be undone whatever its rows hold (``None``: it may be).

    Examples
    --------
    >>> undo_refusal(Batch(pk=7, status="failed")).code  # doctest: +SKIP
    'UNDO_NOTHING_LOADED'
    """
    if batch.policy == BatchPolicyChoices.UNDO:
        return UndoRefused("UNDO_OF_UNDO", "Batch #{pk} is itself an undo (of batch #{undone}); "
                           "an undo cannot be undone. Send the file of batch #{undone} again "
                           "to load its features again.", pk=batch.pk, undone=batch.undoes_id)
    undone = Batch.objects.filter(undoes=batch).values_list("pk", flat=True).first()
    if undone is not None:
        return UndoRefused("UNDO_ALREADY_DONE", "Batch #{pk} was already undone by batch "
                           "#{by}.", pk=batch.pk, by=undone)
    if batch.status == BatchStatusChoices.LOADED:
        return None
    if batch.status == BatchStatusChoices.PROCESSING:
        return UndoRefused("UNDO_BATCH_RUNNING", "Batch #{pk} is still being loaded; wait for "
                           "it to finish.", pk=batch.pk)
    reason = {
        BatchStatusChoices.FAILED: "Batch #{pk} failed: nothing of it was loaded, there is "
                                   "nothing to undo.",
        BatchStatusChoices.REJECTED: "Batch #{pk} was rejected: nothing of it was loaded, "
                                     "there is nothing to undo.",
        BatchStatusChoices.REFUSED: "The file of batch #{pk} was refused: nothing of it was "
                                    "loaded, there is nothing to undo.",
        BatchStatusChoices.DRY_RUN: "Batch #{pk} was a dry run: nothing of it was loaded, "
                                    "there is nothing to undo.",
    }.get(batch.status, "Batch #{pk} changed nothing in its layer; there is nothing to undo.")
    return UndoRefused("UNDO_NOTHING_LOADED", reason, pk=batch.pk)


def later_batches(batch: Batch, history: str) -> list[LaterBatch]:
    """Batches after ``batch`` that replaced versions it wrote (those undone excluded),
    oldest first, with how many of its features each changed."""
    with connection.cursor() as cur:
        cur.execute(f"""SELECT h.replaced_by_batch, count(*) FROM {_qualified(history)} h
                         WHERE h.batch_id = %s AND h.replaced_by_batch <> %s
                         GROUP BY h.replaced_by_batch""",  # noqa: S608 - quoted identifiers
                    [batch.pk, batch.pk])
        touched = dict(cur.fetchall())
    if not touched:
        return []
    undone = set(Batch.objects.filter(undoes__in=list(touched)).values_list("undoes_id",
                                                                            flat=True))
    rows = Batch.objects.filter(pk__in=[pk for pk in touched if pk not in undone]).order_by(
        "created", "pk")
    return [LaterBatch(b.pk, b.created, b.file_name, int(touched[b.pk])) for b in rows]


def undo_batch(*, batch_id: int, user: Any = None, check_user: bool = True) -> Batch:
    """Undo the loaded batch ``batch_id``; return the undo batch (status ``loaded``, policy
    ``undo``).

    Parameters
    ----------
    batch_id : int
        The batch to undo.
    user : User, optional
        Who undoes it (recorded as the undo batch's user).
    check_user : bool
        Refuse unless ``user`` is the sender or a GIS administrator (:func:`may_undo`); the
        command line (an operator on the server) passes ``False``.

    Raises
    ------
    BatchNotFound
        No such batch.
    UndoForbidden
        ``user`` may not undo it.
    UndoRefused
        It cannot be undone (see the module's text); nothing was changed.
    """
    from layers.ddl import history_table
    from layers.errors import UnknownLayerError
    from layers.registry import registry

    with transaction.atomic():
        batch = Batch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None:
            raise BatchNotFound("BATCH_NOT_FOUND", "There is no batch #{id}.", id=batch_id)
        try:
            layer = registry.get(batch.layer_code)
        except UnknownLayerError:
            raise UndoRefused("UNDO_LAYER_UNKNOWN", "The layer {layer} of batch #{pk} is no "
                              "longer in the registry.", layer=batch.layer_code,
                              pk=batch.pk) from None
        if check_user and not may_undo(user=user, batch=batch, layer=layer):
            raise UndoForbidden("UNDO_FORBIDDEN", "Only the sender of batch #{pk} and the GIS "
                                "administrators may undo it.", pk=batch.pk)
        refusal = undo_refusal(batch)
        if refusal is not None:
            raise refusal
        table, history = str(layer.backing.table), history_table(layer)
        if layer.backing.kind != "table" or not table_columns(history):
            raise UndoRefused("UNDO_NO_HISTORY", "The layer {layer} keeps no history of its "
                              "rows; batch #{pk} cannot be undone.", layer=layer.code,
                              pk=batch.pk)
        with connection.cursor() as cur:  # no load of this layer meanwhile (as BatchLoader)
            cur.execute(f"LOCK TABLE {_qualified(table)} IN SHARE ROW EXCLUSIVE MODE")
        later = later_batches(batch, history)
        if later:
            listed = ", ".join(b.describe() for b in later[-LATER_LISTED:][::-1])
            raise UndoRefused("UNDO_LATER_BATCHES", "Batch #{pk} cannot be undone: later "
                              "batches changed the same features: {batches}. Undo them first, "
                              "the latest first.", pk=batch.pk, batches=listed)
        undo = Batch.objects.create(
            layer_code=batch.layer_code, department=batch.department,
            user=user if getattr(user, "is_authenticated", False) else None,
            file_name=f"undo #{batch.pk}: {batch.file_name}"[:255], sha256="",
            file_format="undo", policy=BatchPolicyChoices.UNDO, undoes=batch,
            crs=batch.crs)
        try:
            deleted, restored = _restore(layer, table, history, batch=batch.pk, undo=undo.pk)
        except IntegrityError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise UndoRefused("UNDO_CONFLICT", "Batch #{pk} cannot be undone: a previous "
                              "version no longer fits the table ({reason}).", pk=batch.pk,
                              reason=first) from None
        if (deleted, restored) != (batch.count_inserted, batch.count_updated):
            raise UndoRefused(
                "UNDO_HISTORY_INCOMPLETE", "Batch #{pk} cannot be undone: the layer holds "
                "{deleted} feature(s) it inserted and {restored} it updated, its counts say "
                "{inserted} and {updated} (rows changed outside KentCBS, or loaded before "
                "layers kept their history).", pk=batch.pk, deleted=deleted,
                restored=restored, inserted=batch.count_inserted,
                updated=batch.count_updated)
        undo.count_read = undo.count_loaded = deleted + restored
        undo.count_deleted, undo.count_updated = deleted, restored
        undo.status = BatchStatusChoices.LOADED
        undo.message = bilingual(
            "Undoes batch #{pk}: {deleted} feature(s) it inserted removed, {restored} "
            "feature(s) it updated restored to their previous version.", pk=batch.pk,
            deleted=deleted, restored=restored)
        undo.finished = timezone.now()
        undo.save()
    _write_report(undo, batch, layer)
    _audit(undo, batch)
    logger.info("etl: batch %s undid batch %s (%s removed, %s restored)", undo.pk, batch.pk,
                undo.count_deleted, undo.count_updated)
    return undo


def _restore(layer: Any, table: str, history: str, *, batch: int, undo: int) -> tuple[int, int]:
    """The statements of an undo (inside its transaction): keep the versions ``batch`` wrote
    (replaced by ``undo``), put back the ones it replaced, remove the rows it inserted.
    Return (removed, restored)."""
    row_id = _quote(layer.id_column)
    fields = [_quote(f.name) for f in layer.fields]
    geom = _quote(layer.geometry_column)
    system = ['"batch_id"', '"created_at"', '"updated_at"']
    kept = [row_id, *fields, geom, *system]
    target, hist = _qualified(table), _qualified(history)
    replaced = (f"EXISTS (SELECT 1 FROM {hist} p WHERE p.replaced_by_batch = "  # noqa: S608
                f"{int(batch)} AND p.{row_id} = t.{row_id})")
    with connection.cursor() as cur:
        cur.execute(f"""INSERT INTO {hist} ({", ".join(kept)}, replaced_by_batch, history_change)
                        SELECT {", ".join(f"t.{c}" for c in kept)}, %s,
                               CASE WHEN {replaced} THEN 'update' ELSE 'delete' END
                          FROM {target} t WHERE t."batch_id" = %s""",  # noqa: S608
                    [undo, batch])
        sets = ", ".join(f"{c} = h.{c}" for c in [*fields, geom, *system])
        cur.execute(f"""UPDATE {target} t SET {sets} FROM {hist} h
                         WHERE h.replaced_by_batch = %s AND h.{row_id} = t.{row_id}
                           AND t."batch_id" = %s""",  # noqa: S608
                    [batch, batch])
        restored = cur.rowcount
        cur.execute(f"""DELETE FROM {target} t WHERE t."batch_id" = %s
                           AND NOT {replaced}""",  # noqa: S608
                    [batch])
        deleted = cur.rowcount
    return deleted, restored


def _write_report(undo: Batch, batch: Batch, layer: Any) -> None:
    """The undo batch's report (JSON, HTML): its summary and what it did."""
    from etl.normalise import Diagnostic

    report = reports.BatchReport()
    report.summary = {
        "batch": undo.pk, "layer": undo.layer_code, "file": undo.file_name,
        "department": undo.department, "status": undo.status, "policy": undo.policy,
        "undoes": batch.pk, "message": undo.message, "read": undo.count_read,
        "loaded": undo.count_loaded, "rejected": 0, "deleted": undo.count_deleted,
        "updated": undo.count_updated}
    report.diagnostics.append(Diagnostic(
        "BATCH_UNDONE", "info", "Undoes batch #{pk}: {deleted} feature(s) it inserted "
        "removed, {restored} feature(s) it updated restored to their previous version.",
        {"pk": batch.pk, "deleted": undo.count_deleted,
         "restored": undo.count_updated}).as_dict())
    try:
        paths = reports.write_all(undo.pk, report, crs=CRS.from_epsg(int(layer.srid)))
    except (OSError, ValueError, DatabaseError) as exc:  # the undo stands, unreported
        logger.error("etl: undo batch %s: its report could not be written: %s", undo.pk, exc)
        return
    Batch.objects.filter(pk=undo.pk).update(report_json=paths["json"],
                                            report_html=paths["html"],
                                            report_gpkg=paths["gpkg"])
    undo.report_json, undo.report_html, undo.report_gpkg = (paths["json"], paths["html"],
                                                           paths["gpkg"])


def _audit(undo: Batch, batch: Batch) -> None:
    """Record the undo's bulk writes (they bypass model signals)."""
    try:
        from gis_core.audit import record_bulk_change
    except ImportError:
        return
    description = f"ETL undo #{undo.pk} of batch #{batch.pk}"
    if undo.count_deleted:
        record_bulk_change(target=undo.layer_code, action="delete", count=undo.count_deleted,
                           description=description, user=undo.user, source="etl",
                           batch_id=undo.pk, undoes=batch.pk)
    if undo.count_updated:
        record_bulk_change(target=undo.layer_code, action="update", count=undo.count_updated,
                           description=description, user=undo.user, source="etl",
                           batch_id=undo.pk, undoes=batch.pk)


__all__ = ["LaterBatch", "later_batches", "may_undo", "undo_batch", "undo_refusal"]
