"""Undo of a loaded batch from its report page (issue 18 §4).

The button is shown to the batch's sender (while they may edit the layer) and to the GIS
administrators (:func:`etl.undo.may_undo`); anyone else who posts gets a 403 page that
says who may. The undo runs :func:`etl.undo.undo_batch` (one transaction) and opens the
undo batch's own report; a refusal (later batches changed the same features, nothing
loaded, an undo itself) is a 409 page that says why, with links to the later batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from etl.errors import UndoRefused
from etl.models import Batch
from etl.undo import LaterBatch, later_batches, may_undo, undo_batch, undo_refusal
from web import reports


@dataclass
class UndoPanel:
    """What the report page shows about undoing its batch."""

    #: The batch this one undid (an undo batch), and the one that undid this one.
    undoes: Batch | None = None
    undone_by: Batch | None = None
    #: The user may undo this batch and it can be undone (shows the button).
    offered: bool = False
    #: Later batches that changed the same features (the button is replaced by them).
    later: list[LaterBatch] = field(default_factory=list)


def undo_panel(*, user: Any, batch: Batch, layer: Any) -> UndoPanel:
    """The undo section of the report page of ``batch`` for ``user``."""
    from layers.ddl import history_table

    panel = UndoPanel(undoes=batch.undoes,
                      undone_by=Batch.objects.filter(undoes=batch).first())
    if not may_undo(user=user, batch=batch, layer=layer) or undo_refusal(batch) is not None:
        return panel
    if layer.backing.kind != "table":
        return panel
    panel.later = later_batches(batch, history_table(layer))
    panel.offered = not panel.later
    return panel


def _message(error: UndoRefused) -> str:
    """The refusal in the user's language (the web shows one language)."""
    return _(error.template).format(**error.params)


@login_required
@require_POST
def report_undo(request: HttpRequest, pk: int) -> HttpResponse:
    """Undo batch ``pk`` (POST, with the confirmation ticked); open the undo's report."""
    found = reports.visible_batch(user=request.user, pk=pk)
    if found is None:
        raise Http404
    batch, layer = found
    if not may_undo(user=request.user, batch=batch, layer=layer):
        return render(request, "web/reports/undo_refused.html", {
            "batch": batch, "forbidden": True,
            "message": _("Only the sender of this upload and the GIS administrators may undo "
                         "it.")}, status=403)
    if not request.POST.get("confirm"):
        messages.error(request, _("Tick the confirmation to undo this upload."))
        return redirect("web:report_detail", pk=batch.pk)
    try:
        undo = undo_batch(batch_id=batch.pk, user=request.user)
    except UndoRefused as error:
        later: list[LaterBatch] = []
        if error.code == "UNDO_LATER_BATCHES":
            from layers.ddl import history_table

            later = later_batches(batch, history_table(layer))
        return render(request, "web/reports/undo_refused.html", {
            "batch": batch, "message": _message(error), "code": error.code,
            "later": later}, status=409)
    messages.success(request, _("Upload #%(pk)s was undone: %(deleted)s feature(s) it added "
                                "removed, %(restored)s feature(s) it changed restored.") % {
        "pk": batch.pk, "deleted": undo.count_deleted, "restored": undo.count_updated})
    return redirect("web:report_detail", pk=undo.pk)
