"""Validation reports and uploads in the web: permission-aware reads and the upload runner.

Who sees what (every decision goes through :mod:`layers.access`):

* a batch is visible when its layer is readable (``can_read``); otherwise it does
  not exist for the caller (the views answer 404, no existence leak);
* its *rejected features* (problem rows with values, the error map, the
  GeoPackage, the problems in the JSON report) are shown to users who may edit
  the layer, to the sender and to GIS administrators; other readers see counts
  only. On a layer holding personal data they also need ``can_see_personal``
  (the sender excepted: the values are theirs), and each read is recorded in the
  personal-data access log (``ogc_api.services.record_access``, ``via="web"``).

Uploads run :func:`etl.services.ingest` in a background thread of the web process
that received the file (:func:`start_upload`); progress is written to
:class:`web.models.UploadJob`, so any worker answers the progress request.
"""

from __future__ import annotations

import html
import json
import logging
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext_noop, pgettext_lazy

from etl.models import Batch, BatchStatusChoices
from gis_core.errors import KentCBSError, bilingual
from gis_core.maps import OfflineMap, RenderedMap, render_parts
from gis_core.selectors import department_lineage, department_parents, user_access
from layers.access import (
    can_edit,
    can_read,
    can_see_personal,
    editable_layers,
    is_gis_admin,
    readable_layers,
)
from layers.errors import UnknownLayerError
from layers.registry import registry
from web.models import UploadJob, UploadJobPhaseChoices, UploadJobStatusChoices

logger = logging.getLogger(__name__)

#: Problem rows listed per page of a report.
PROBLEMS_PER_PAGE = 100
#: At most this many rejected features are drawn on the error map.
MAP_LIMIT = 5000
#: Uploads run at the same time in one web process; more wait as ``queued``.
MAX_CONCURRENT_UPLOADS = 2
#: A running job whose heartbeat is older than this is reported as interrupted.
STALE_AFTER = timedelta(minutes=2)
#: How often the progress writer stores progress and the heartbeat (seconds).
WRITE_EVERY = 0.5
HEARTBEAT_EVERY = 10.0

_slots = threading.BoundedSemaphore(MAX_CONCURRENT_UPLOADS)

#: Batch statuses in the UI (English msgids; the model's labels are Turkish).
STATUS_LABELS = {
    BatchStatusChoices.PROCESSING: pgettext_lazy("batch status", "Processing"),
    BatchStatusChoices.LOADED: pgettext_lazy("batch status", "Loaded"),
    BatchStatusChoices.UNCHANGED: pgettext_lazy("batch status", "Unchanged"),
    BatchStatusChoices.DRY_RUN: pgettext_lazy("batch status", "Dry run (not loaded)"),
    BatchStatusChoices.REJECTED: pgettext_lazy("batch status", "Rejected"),
    BatchStatusChoices.REFUSED: pgettext_lazy("batch status", "File refused"),
    BatchStatusChoices.FAILED: pgettext_lazy("batch status", "Failed"),
}


# -- reads ---------------------------------------------------------------------------
def layer_or_none(code: str) -> Any:
    """The registry definition of ``code``, or ``None`` (a test layer, a removed one)."""
    try:
        return registry.get(code)
    except UnknownLayerError:
        return None


def visible_batches(*, user: Any) -> QuerySet[Batch]:
    """Batches of the registry layers ``user`` may read, newest first (a batch whose process
    died is marked interrupted first: no page shows it as running)."""
    Batch.objects.sweep_interrupted()
    codes = [layer.code for layer in readable_layers(user)]
    return Batch.objects.filter(layer_code__in=codes).select_related("user").order_by(
        "-created", "-pk")


def filter_batches(batches: QuerySet[Batch], *, layer: str = "", status: str = "",
                   department: str = "") -> QuerySet[Batch]:
    """Narrow ``batches`` by layer code, status and department code (empty: no filter)."""
    if layer:
        batches = batches.filter(layer_code=layer)
    if status:
        batches = batches.filter(status=status)
    if department:
        batches = batches.filter(department=department)
    return batches


def visible_batch(*, user: Any, pk: int) -> tuple[Batch, Any] | None:
    """The batch ``pk`` and its layer, or ``None`` when missing or not readable."""
    Batch.objects.sweep_interrupted()
    batch = Batch.objects.select_related("user").filter(pk=pk).first()
    if batch is None:
        return None
    layer = layer_or_none(batch.layer_code)
    if layer is None or not can_read(user, layer):
        return None
    return batch, layer


def may_see_rejected(*, user: Any, batch: Batch, layer: Any) -> bool:
    """Whether ``user`` may see the rejected features of ``batch`` (not only its counts)."""
    if not can_read(user, layer):
        return False
    sender = batch.user_id is not None and batch.user_id == getattr(user, "pk", None)
    if sender:
        return True
    if not (can_edit(user, layer) or is_gis_admin(user)):
        return False
    return not layer.personal_data or can_see_personal(user, layer)


def record_rejected_read(*, user: Any, batch: Batch, layer: Any, path: str,
                         what: str) -> None:
    """Log a read of rejected features of a personal-data layer (KVKK access log)."""
    if not layer.personal_data:
        return
    from ogc_api.services import record_access

    record_access(user=user, layer=layer.code, path=path,
                  query=f"batch={batch.pk}&what={what}", via="web")


def media_file(value: str) -> Path | None:
    """A report path of a batch, if it is a file under ``MEDIA_ROOT`` (else ``None``)."""
    if not value:
        return None
    root = Path(settings.MEDIA_ROOT).resolve()
    path = Path(value).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


@dataclass(frozen=True)
class ReportData:
    """What the report page shows, read from the batch's ``report.json``."""

    available: bool
    diagnostics: list[dict[str, Any]]
    by_rule: list[dict[str, Any]]
    by_field: list[dict[str, Any]]
    problems: list[dict[str, Any]]
    problem_count: int
    rejected_features: int


def read_report(batch: Batch, *, with_problems: bool) -> ReportData:
    """The counts, diagnostics and (when asked) problem rows of ``batch``'s JSON report."""
    payload = load_report_json(batch)
    if payload is None:
        return ReportData(False, [], [], [], [], 0, 0)
    problems = [_with_row(p) for p in payload.get("problems") or [] if isinstance(p, dict)]
    counts = payload.get("counts") or {}
    errors = {p.get("row") for p in problems if p.get("severity") == "error"}
    rows = sorted(problems, key=lambda p: (p.get("row") or 0,
                                           p.get("severity") != "error", p.get("code") or ""))
    return ReportData(
        True, payload.get("diagnostics") or [], counts.get("by_rule") or [],
        counts.get("by_field") or [], rows if with_problems else [], len(problems),
        len(errors))


def _with_row(problem: dict[str, Any]) -> dict[str, Any]:
    """A problem with its 1-based ``row`` (reports before rows were numbered from 1 hold the
    0-based ``feature``)."""
    if "row" not in problem and isinstance(problem.get("feature"), int):
        return {**problem, "row": problem["feature"] + 1}
    return problem


def load_report_json(batch: Batch) -> dict[str, Any] | None:
    """The parsed ``report.json`` of ``batch`` (``None`` when it is missing or unreadable)."""
    path = media_file(batch.report_json)
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        logger.warning("web: report of batch %s cannot be read: %s", batch.pk, exc)
        return None
    return data if isinstance(data, dict) else None


def public_report(payload: dict[str, Any]) -> dict[str, Any]:
    """The JSON report without rejected features: summary, diagnostics and counts."""
    return {"summary": payload.get("summary", {}), "diagnostics": payload.get("diagnostics", []),
            "counts": payload.get("counts", {}),
            "problems_hidden": len(payload.get("problems") or [])}


# -- the error map ---------------------------------------------------------------------
def error_map(batch: Batch) -> RenderedMap | None:
    """A folium map of the rejected features of ``batch``: their own geometries, each in the
    colour of its first rule, over the municipality boundary, with a legend (``legend``).

    Read from ``rejected.gpkg``; ``None`` when there is no located rejected feature.
    Leaflet comes from the app's static files (django-leaflet); no CDN is referenced.
    """
    path = media_file(batch.report_gpkg)
    if path is None:
        return None
    import geopandas as gpd
    from pyogrio.errors import DataSourceError

    try:
        frame = gpd.read_file(path, engine="pyogrio", max_features=MAP_LIMIT)
    except (DataSourceError, OSError) as exc:
        logger.warning("web: rejected features of batch %s cannot be read: %s", batch.pk, exc)
        return None
    if frame.empty or frame.crs is None:
        return None
    geoms = frame.geometry
    frame = frame[~(geoms.isna() | geoms.is_empty)]
    if frame.empty:
        return None
    from etl.report import rule_colour

    rows = (frame["kentcbs_row"] if "kentcbs_row" in frame.columns
            else frame.get("kentcbs_feature", frame.index) + 1)  # older reports: 0-based
    shapes = frame.geometry.to_crs(4326)
    features = []
    rules: dict[str, int] = {}
    for row, key, codes, errors_tr, errors_en, shape in zip(
            rows, frame.get("kentcbs_key", ""), frame.get("kentcbs_codes", ""),
            frame.get("kentcbs_errors_tr", ""), frame.get("kentcbs_errors_en", ""),
            shapes, strict=False):
        if shape is None or shape.is_empty:
            continue
        rule = str(codes or "").split(",")[0]
        rules[rule] = rules.get(rule, 0) + 1
        features.append({"type": "Feature", "geometry": shape.__geo_interface__,
                         "properties": {"feature": int(row), "key": str(key or ""),
                                        "codes": str(codes or ""), "colour": rule_colour(rule),
                                        "tr": str(errors_tr or ""), "en": str(errors_en or "")}})
    if not features:
        return None
    return _render_map(features, rules=rules, boundary=_boundary_lonlat(frame.crs))


def _boundary_lonlat(crs: Any) -> dict[str, Any] | None:
    """The municipality boundary as GeoJSON in lon/lat (``None`` when none is stored)."""
    import geopandas as gpd

    from etl.services import municipality_area

    boundary, _box = municipality_area(int(crs.to_epsg() or settings.KENTCBS_SRID))
    if boundary is None:
        return None
    return dict(gpd.GeoSeries([boundary], crs=crs).to_crs(4326).iloc[0].__geo_interface__)


def _render_map(features: list[dict[str, Any]], *, rules: dict[str, int] | None = None,
                boundary: dict[str, Any] | None = None) -> RenderedMap:
    import folium
    import shapely

    from etl.report import rule_colour
    from gis_core.maps import add_features, popup

    fmap = OfflineMap(tiles=None, control_scale=True, prefer_canvas=True)
    if boundary is not None:
        folium.GeoJson(boundary, name="boundary", style_function=lambda _: {
            "color": "#333333", "weight": 2, "fill": False, "dashArray": "6 4"}).add_to(fmap)
    for feature in features:
        p = feature["properties"]
        head = f"#{p['feature']}" + (f" ({p['key']})" if p["key"] else "") + f" {p['codes']}"
        p["tooltip"] = head
        p["popup"] = popup(head, [(p["tr"], ""), (p["en"], "en")])
    add_features(fmap, features, name="rejected", point_radius=6, style=lambda f: {
        "color": f["properties"]["colour"], "weight": 2,
        "fillColor": f["properties"]["colour"], "fillOpacity": 0.35})
    minx, miny, maxx, maxy = shapely.total_bounds(
        [shapely.geometry.shape(f["geometry"]) for f in features])
    fmap.fit_bounds([[miny, minx], [maxy, maxx]], max_zoom=17)
    parts = render_parts(fmap)
    if not rules:
        return parts
    items = "".join(
        f'<li><span class="swatch" style="background:{rule_colour(code)}"></span>'
        f"<code>{html.escape(code)}</code> ({count})</li>" for code, count in sorted(rules.items()))
    return RenderedMap(header=parts.header, html=parts.html, script=parts.script,
                       map_name=parts.map_name,
                       legend=f'<ul class="legend" id="error-map-legend">{items}</ul>')


# -- uploads ---------------------------------------------------------------------------
def refused_shift(*, user: Any, pk: Any) -> tuple[Batch, str] | None:
    """The batch ``pk`` if ``user`` may see it and it was refused for a systematic shift
    against the stored features, with the shift in metres as text (e.g. ``"188"``), for
    the upload form's confirmation; else ``None``."""
    from etl.normalise import SHIFT_CODES

    found = visible_batch(user=user, pk=int(pk)) if str(pk).isdigit() else None
    if found is None or found[0].reason_code not in SHIFT_CODES:
        return None
    batch = found[0]
    payload = load_report_json(batch) or {}
    for diagnostic in payload.get("diagnostics", []):
        if diagnostic.get("code") == batch.reason_code:
            try:
                metres = float(diagnostic.get("params", {}).get("m", ""))
            except ValueError:
                break
            return batch, f"{metres:.0f}" if metres >= 10 else f"{metres:.1f}"
    return None


def upload_max_bytes() -> int:
    """The largest file the upload form accepts (``KENTCBS_UPLOAD_MAX_BYTES``)."""
    return int(settings.KENTCBS_UPLOAD_MAX_BYTES)


def upload_department(*, user: Any, layer: Any) -> str:
    """The department an upload by ``user`` into ``layer`` is sent for.

    The membership that grants editing (the owner or an ``access.edit`` department,
    ancestors included) wins; otherwise the user's first membership; a superuser with
    no membership sends for the layer's owner.
    """
    access = user_access(user)
    granted = {layer.owner, *layer.access.edit.departments}
    own = sorted(code for code, _role in access.memberships)
    if not own:
        return str(layer.owner)
    parents = department_parents()
    for code in own:
        if granted & set(department_lineage(code, parents)):
            return code
    return own[0]


def create_upload_job(*, user: Any, layer_code: str, upload: UploadedFile, crs: str = "",
                      dry_run: bool = False, strict: bool = False,
                      accept_shift: bool = False) -> UploadJob:
    """Store ``upload`` under ``MEDIA_ROOT/web/uploads/<job>/`` and record a queued job.

    Raises
    ------
    KentCBSError
        ``UPLOAD_NOT_EDITABLE`` when ``user`` may not edit the layer.
    """
    layer = layer_or_none(layer_code)
    if layer is None or not can_edit(user, layer):
        raise KentCBSError("UPLOAD_NOT_EDITABLE", gettext_noop(
            "You may not upload data into the layer {layer}."), layer=layer_code)
    name = get_valid_filename(Path(upload.name or "upload").name)[:200] or "upload"
    job = UploadJob.objects.create(
        user=user, layer_code=layer.code, department=upload_department(user=user, layer=layer),
        file_name=name, size=upload.size or 0, crs=crs.strip().upper(), dry_run=dry_run,
        strict=strict, accept_shift=accept_shift)
    folder = Path(settings.MEDIA_ROOT) / "web" / "uploads" / str(job.pk)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    with open(target, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    job.stored_path = str(target)
    job.save(update_fields=["stored_path"])
    return job


def start_upload(job: UploadJob) -> None:
    """Run ``job`` in a background thread once the current transaction commits.

    Why a thread, and what it means under gunicorn: ``kentcbs serve`` runs gthread
    workers, so a thread started here lives in the worker that received the file;
    the request returns at once and the page polls ``progress.json``, which any
    worker answers from the database. Uploads are not lost to a slow request
    timeout (the thread is not a request), but a worker that is *restarted or
    killed* (deploy, ``max_requests``, OOM) takes its running uploads with it:
    their heartbeat stops, :func:`job_progress` reports them as interrupted, and
    the ETL leaves the layer as it was (one transaction per batch) with the batch
    ``processing``. The thread closes its own database connections when it ends.
    A task queue would survive restarts; the intranet deployment does not need one yet.
    """
    transaction.on_commit(lambda: threading.Thread(
        target=_upload_thread, args=(job.pk,), name=f"kentcbs-upload-{job.pk}",
        daemon=True).start())


def _upload_thread(job_id: int) -> None:
    try:
        run_upload(job_id)
    finally:
        connection.close()  # this thread's own connection


class _ProgressWriter:
    """Stores progress from its own thread and database connection.

    ``ingest`` holds one transaction open on its thread's connection while it loads,
    so progress written there would stay invisible to other workers until commit.
    """

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.state: dict[str, Any] = {}
        self.written: dict[str, Any] = {}
        self.changed = threading.Event()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=f"kentcbs-progress-{job_id}",
                                       daemon=True)

    def __enter__(self) -> _ProgressWriter:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.changed.set()
        self.thread.join()

    def update(self, **values: Any) -> None:
        self.state.update(values)
        self.changed.set()

    def _loop(self) -> None:
        last = 0.0
        try:
            while True:
                self.changed.wait(HEARTBEAT_EVERY)
                self.changed.clear()
                pending = dict(self.state)
                now = time.monotonic()
                if pending != self.written or now - last >= HEARTBEAT_EVERY:
                    UploadJob.objects.filter(pk=self.job_id).update(heartbeat=timezone.now(),
                                                                    **pending)
                    self.written, last = pending, now
                if self.stopped.is_set():
                    return
                time.sleep(WRITE_EVERY)
        finally:
            connection.close()


def run_upload(job_id: int) -> UploadJob:
    """Run one upload job to its end in the calling thread; never raises for a bad file.

    The outcome of the file is the batch (``status``, ``reason_code``, ``message``);
    the job is ``error`` only when ingest itself could not run.
    """
    from etl.services import ingest
    from gis_core.audit import audit_context

    job = UploadJob.objects.select_related("user").get(pk=job_id)
    try:
        with _ProgressWriter(job.pk) as writer, _slots:  # queued jobs keep their heartbeat
            writer.update(status=UploadJobStatusChoices.RUNNING,
                          phase=UploadJobPhaseChoices.READING)

            def progress(done: int, total: int | None) -> None:
                finishing = total is not None and done >= total
                writer.update(done=done, total=total, phase=(
                    UploadJobPhaseChoices.FINISHING if finishing
                    else UploadJobPhaseChoices.VALIDATING))

            with audit_context(user=job.user, source="etl", request_id=f"upload-{job.pk}"):
                batch = ingest(layer=job.layer_code, path=Path(job.stored_path),
                               department=job.department, user=job.user, crs=job.crs or None,
                               dry_run=job.dry_run, strict=job.strict, progress=progress,
                               accept_shift=job.accept_shift, mapping=job.mapping)
        job.refresh_from_db()
        job.batch = batch
        job.done = batch.count_read
        job.total = batch.count_read
        job.status = UploadJobStatusChoices.DONE
        job.phase = UploadJobPhaseChoices.DONE
    except KentCBSError as exc:
        job.status, job.error_code, job.error_message = (UploadJobStatusChoices.ERROR,
                                                          exc.code, exc.text)
    except Exception as exc:
        logger.exception("web: upload job %s failed", job_id)
        job.status, job.error_code = UploadJobStatusChoices.ERROR, "UPLOAD_FAILED"
        job.error_message = bilingual(gettext_noop(
            "The upload could not be processed ({error}). The layer was left as it was."),
            error=type(exc).__name__)
    finally:
        job.finished = timezone.now()
        job.heartbeat = job.finished
        job.save()
        if job.stored_path:
            shutil.rmtree(Path(job.stored_path).parent, ignore_errors=True)
    return job


def visible_job(*, user: Any, pk: int) -> UploadJob | None:
    """The upload job ``pk`` if ``user`` sent it (nobody else sees its progress)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return UploadJob.objects.select_related("batch").filter(pk=pk, user=user).first()


def job_progress(job: UploadJob) -> dict[str, Any]:
    """The progress of ``job`` as JSON-ready data (what ``progress.json`` answers)."""
    status = job.status
    interrupted = (status in (UploadJobStatusChoices.RUNNING, UploadJobStatusChoices.QUEUED)
                   and timezone.now() - job.heartbeat > STALE_AFTER)
    total = job.total
    percent = (100 if status == UploadJobStatusChoices.DONE
               else int(100 * job.done / total) if total else None)
    data: dict[str, Any] = {
        "id": job.pk, "status": "interrupted" if interrupted else status, "phase": job.phase,
        "phase_label": str(UploadJobPhaseChoices(job.phase).label), "done": job.done,
        "total": total, "percent": percent, "batch": job.batch_id, "batch_status": None,
        "refused": False, "reason_code": "", "message": "", "report_url": None,
    }
    if interrupted:
        data["reason_code"] = "UPLOAD_INTERRUPTED"
        data["message"] = bilingual(gettext_noop(
            "The upload stopped: the server process running it ended. The layer was left as "
            "it was; send the file again."))
    elif status == UploadJobStatusChoices.ERROR:
        data["reason_code"], data["message"] = job.error_code, job.error_message
    if job.batch is not None:
        from django.urls import reverse

        batch = job.batch
        data["batch_status"] = batch.status
        data["refused"] = batch.status in (BatchStatusChoices.REFUSED, BatchStatusChoices.FAILED)
        data["reason_code"], data["message"] = batch.reason_code, batch.message
        data["report_url"] = reverse("web:report_detail", args=[batch.pk])
    return data


def upload_layers(*, user: Any) -> list[Any]:
    """Layers ``user`` may upload into: editable and loaded from files (table-backed, or an
    inventory kept in a core model that :mod:`etl.load_models` loads)."""
    from etl.load_models import IMPORTERS

    return [layer for layer in editable_layers(user)
            if layer.backing.kind == "table" or layer.code in IMPORTERS]


# -- the mapping step ------------------------------------------------------------------------
def suggest_for_job(job: UploadJob) -> Any:
    """The mapping suggestion for ``job``'s file (``None`` when the file cannot be read: the
    ETL then refuses it with its reason, in the batch's report)."""
    from etl.errors import UploadRefused
    from etl.mapping import suggest_for_file

    layer = layer_or_none(job.layer_code)
    if layer is None or not job.stored_path:
        return None
    try:
        return suggest_for_file(Path(job.stored_path), layer, department=job.department,
                                workdir=Path(job.stored_path).parent)
    except UploadRefused:
        return None


def mapping_job(*, user: Any, pk: int) -> UploadJob | None:
    """``user``'s job ``pk`` if it waits for its column mapping."""
    job = visible_job(user=user, pk=pk)
    return job if job is not None and job.status == UploadJobStatusChoices.MAPPING else None


def confirm_mapping(job: UploadJob, *, user: Any, mapping: dict[str, str],
                    aliases: list[tuple[str, str, str]]) -> None:
    """Keep the confirmed ``mapping`` (for the department and layer, proposed next time) and
    the confirmed ``aliases`` (``(codelist, value, code)``, the department's own), then queue
    the job with that mapping."""
    from etl.mapping import save_mapping
    from etl.models import ValueAlias
    from etl.textnorm import fold

    with transaction.atomic():
        save_mapping(department=job.department, layer_code=job.layer_code, mapping=mapping,
                     user=user)
        for codelist_name, value, code in aliases:
            ValueAlias.objects.update_or_create(
                codelist=codelist_name, alias_key=fold(value.strip()), department=job.department,
                defaults={"alias": value, "code": code, "created_by": user})
        job.mapping = dict(mapping)  # "": the column is not loaded
        job.status = UploadJobStatusChoices.QUEUED
        job.heartbeat = timezone.now()
        job.save(update_fields=["mapping", "status", "heartbeat"])
        start_upload(job)
