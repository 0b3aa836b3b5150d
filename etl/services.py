"""The ETL's one entry point: :func:`ingest` (used by the CLI and the web upload form)."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import inspect
import logging
import operator
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg2
import shapely
from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from pyproj import CRS

from etl import report as reports
from etl.errors import LoadFailed, UploadRefused
from etl.load import BatchLoader, fault, run_load_error, table_columns
from etl.mapping import alias_table, normalise_values
from etl.models import Batch, BatchPolicyChoices, BatchStatusChoices
from etl.normalise import (
    Diagnostic,
    diagnose_crs,
    diagnose_datum_shift,
    expected_ed50_shift,
    load_mapping,
    match_fields,
    resolve_crs,
    to_storage,
)
from etl.read import (
    SourceInfo,
    open_upload,
    read_chunks_with_wkb,
    require_geometry,
    table_crs,
)
from etl.safety import Limits, warm_up
from etl.validate import FileState, _problems, validate_chunk
from gis_core.errors import bilingual

logger = logging.getLogger(__name__)
Progress = Callable[[int, int | None], None]
DEFAULT_CHUNK = 200_000


def pipeline_chunk(features: int, chunk_size: int) -> int:
    """Chunk size for ``features``: at most ``chunk_size``, and small enough that a file is
    read in about four chunks (not below 10,000 features), so that parsing, validating and
    loading overlap for a small file too.

    Examples
    --------
    >>> pipeline_chunk(100_000, 200_000), pipeline_chunk(1_000_000, 200_000)
    (25000, 200000)
    >>> pipeline_chunk(3_000, 1_000), pipeline_chunk(-1, 200_000)
    (1000, 200000)
    """
    if features <= 0:  # not known before reading (CSV)
        return chunk_size
    return min(chunk_size, max(-(-features // 4), 10_000))


def chunk_plan(features: int, chunk_size: int) -> list[int] | None:
    """Sizes of the chunks a file of ``features`` is read in (``None``: not known before
    reading, e.g. CSV): :func:`pipeline_chunk` ones, except a smaller first chunk (the
    pipeline starts sooner: nothing else runs while it is parsed) and smaller last ones.
    The database loads a chunk more slowly than the next one is validated only at the
    end, where nothing else is left to overlap with it; so the last chunks shrink, each
    5/8 of the one before (while at least one chunk of the others' size is left), down
    to a small last one (less to load after the last validation). Small ones are a
    quarter of the others, at least 10,000 features (or the others' size if less).

    Examples
    --------
    >>> chunk_plan(1_000_000, 200_000)
    [50000, 174219, 174219, 174219, 174218, 125000, 78125, 50000]
    >>> chunk_plan(100_000, 200_000)
    [10000, 21459, 21458, 21458, 15625, 10000]
    >>> chunk_plan(3_000, 1_000), chunk_plan(-1, 200_000)
    ([1000, 1000, 1000], None)
    """
    if features < 0:
        return None
    base = pipeline_chunk(features, chunk_size)
    small = max(base // 4, min(base, 10_000))
    first = min(features, small)
    last = min(features - first, small)
    taper: list[int] = []
    size = base * 5 // 8
    while size >= small * 5 // 4 and first + last + sum(taper) + size + base <= features:
        taper.append(size)
        size = size * 5 // 8
    middle = features - first - last - sum(taper)
    parts = -(-middle // base)
    sizes = [first, *(middle // parts + (i < middle % parts) for i in range(parts)), *taper,
             last]
    return [n for n in sizes if n > 0]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _hash_and_store(path: Path, batch_pk: int) -> str:
    """The file's SHA-256, also written to the batch at once on this thread's own connection
    (committed outside the load's transaction: a batch whose process dies still names its
    file)."""
    value = file_sha256(path)
    try:
        Batch.objects.filter(pk=batch_pk, sha256="").update(sha256=value)
    except DatabaseError:  # the batch row gets it at the end anyway
        logger.warning("etl: batch %s: the file's SHA-256 could not be stored early", batch_pk)
    finally:
        connection.close()  # this thread's connection
    return value


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (if it runs) for the block.

    A large upload makes millions of container objects that live until its end (shapely
    geometries, kept for the overlap checks of later chunks; match objects, lists): the
    collector's automatic passes kept walking them and found almost nothing (~20,000
    objects in cycles for 1,000,000 features; ~0.6 s of CPU at 1M). Reference counting
    still frees everything else at once. Process-wide, like ``gc.freeze()`` in
    ``gis_core.wsgi``: another upload finishing meanwhile may resume it early, which only
    costs time.
    """
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()


def _layer(layer: Any) -> Any:
    if isinstance(layer, str):
        from etl.load_models import inventory_layer
        from layers.registry import registry

        return inventory_layer(layer) or registry.get(layer)
    return layer


def _check_department(code: str) -> None:
    try:
        model = apps.get_model("gis_core", "Department")
    except LookupError:
        return
    if not model.objects.filter(code=code).exists():
        raise UploadRefused("UNKNOWN_DEPARTMENT", "There is no department with the code "
                            "'{department}'.", department=code)


def municipality_area(srid: int) -> tuple[Any, tuple[float, float, float, float]]:
    """The municipality boundary in ``srid`` (or ``None``) and its lon/lat bounding box.

    Read from ``gis_core.Municipality`` when it holds a boundary; otherwise the
    profile's centre with a 0.4 degree margin gives the box (and no boundary).
    """
    from gis_core.profiles import get_profile

    profile = get_profile(settings.KENTCBS_PROFILE)
    cx, cy = profile.centre
    box = (cx - 0.4, cy - 0.4, cx + 0.4, cy + 0.4)
    try:
        model = apps.get_model("gis_core", "Municipality")
    except LookupError:
        return None, box
    geom_fields = [f.name for f in model._meta.get_fields()
                   if f.__class__.__name__ in ("MultiPolygonField", "PolygonField")]
    if not geom_fields:
        return None, box
    rows = model.objects.exclude(**{f"{geom_fields[0]}__isnull": True})
    if any(f.name == "code" for f in model._meta.get_fields()):
        rows = rows.filter(code=settings.KENTCBS_PROFILE)
    row = rows.first()
    if row is None:
        return None, box
    geom = getattr(row, geom_fields[0]).clone()
    geom.transform(srid)
    import shapely

    boundary = shapely.from_wkb(bytes(geom.wkb))
    ll = getattr(row, geom_fields[0]).transform(4326, clone=True).extent
    return boundary, (ll[0], ll[1], ll[2], ll[3])


def _unique_lookup(layer: Any) -> Callable[[str, list[Any]], pd.DataFrame] | None:
    table = str(layer.backing.table)
    if not table_columns(table):
        return None
    from etl.load import _qualified, _quote

    def lookup(field: str, values: list[Any]) -> pd.DataFrame:
        keys = ", ".join(f"{_quote(k)}::text AS {_quote(k)}" for k in layer.key)
        with connection.cursor() as cur:
            cur.execute(f"SELECT {_quote(field)}::text AS value, {keys} "  # noqa: S608
                        f"FROM {_qualified(table)} WHERE {_quote(field)}::text = ANY(%s)",
                        [values])
            rows = cur.fetchall()
        return pd.DataFrame(rows, columns=["value", *layer.key])

    return lookup


def _stored_offsets(layer: Any, frame: gpd.GeoDataFrame) -> np.ndarray:
    """Centroid offsets (stored - uploaded) for up to 500 features already in the layer."""
    if len(layer.key) != 1 or frame.empty or not table_columns(str(layer.backing.table)):
        return np.empty((0, 2))
    from etl.load import _qualified, _quote

    key = layer.key[0]
    geoms = frame.geometry
    # only features with a key and a geometry: a null or unreadable one has no centroid
    # (it is rejected as GEOM_EMPTY; it tells nothing about a shift)
    sample = frame[frame[key].notna() & ~(geoms.isna() | geoms.is_empty)].head(500)
    if sample.empty:
        return np.empty((0, 2))
    geom = _quote(layer.geometry_column)
    with connection.cursor() as cur:
        cur.execute(f"SELECT {_quote(key)}::text, ST_X(ST_Centroid({geom})), "  # noqa: S608
                    f"ST_Y(ST_Centroid({geom})) FROM {_qualified(str(layer.backing.table))} "
                    f"WHERE {_quote(key)}::text = ANY(%s)",
                    [sample[key].astype(str).tolist()])
        stored = {r[0]: (r[1], r[2]) for r in cur.fetchall()}
    if not stored:
        return np.empty((0, 2))
    cents = sample.geometry.centroid
    keys = sample[key].astype(str).to_numpy()
    rows = [(stored[k][0] - c.x, stored[k][1] - c.y)
            for k, c in zip(keys, cents, strict=True)
            if k in stored and None not in stored[k] and not c.is_empty]
    return np.asarray(rows, dtype=float).reshape(-1, 2)


def _unchanged_wkb(result: gpd.GeoDataFrame, original: gpd.GeoDataFrame,
                   wkb: np.ndarray) -> np.ndarray:
    """The parser's WKB of each feature whose geometry is still the very object read from
    it (not transformed, not replaced by a part), ``None`` for the others."""
    unchanged = np.fromiter(map(operator.is_, result.geometry.to_numpy(),
                                original.geometry.to_numpy()), dtype=bool, count=len(result))
    kept = np.array(wkb, dtype=object)
    kept[~unchanged] = None
    return kept


def _errors_per_feature(problems: pd.DataFrame) -> pd.Series:
    """Errors grouped per feature number: ``{feature: [{code, field, ...}, ...]}``."""
    errs = problems[problems["severity"] == "error"]
    grouped: dict[int, list[dict[str, Any]]] = {}
    cols = ["code", "field", "value", "detail", "suggestion"]
    for feature, *values in errs[["feature", *cols]].itertuples(index=False, name=None):
        grouped.setdefault(int(feature), []).append(dict(zip(cols, values, strict=True)))
    return pd.Series(grouped, dtype=object)


def ingest(*, layer: Any, path: Path, department: str, user: Any = None,
           crs: str | None = None, dry_run: bool = False, strict: bool = False,
           mapping: Path | dict[str, str] | None = None, progress: Progress | None = None,
           chunk_size: int = DEFAULT_CHUNK, limits: Limits | None = None,
           accept_shift: bool = False) -> Batch:
    """Read, normalise, validate, report and load one upload into one layer.

    Parameters
    ----------
    layer : str
        Layer code (``registry.get(layer)``); a ``LayerDefinition`` is accepted too.
    path : Path
        The uploaded file.
    department : str
        Department code of the sender.
    user : User, optional
        Who sends it.
    crs : str, optional
        CRS to use when the file has none (or to override it), e.g. ``EPSG:5254``.
    dry_run : bool
        Validate and report only; nothing is loaded or quarantined.
    strict : bool
        Any error rejects the whole batch (nothing is loaded).
    mapping : Path or dict, optional
        YAML file mapping column names to field names, or the mapping itself (``{column:
        field}``; ``""`` leaves a column out), e.g. as confirmed on the mapping page.
    progress : callable, optional
        ``progress(features_done, features_total_or_None)``.
    accept_shift : bool
        Load even when the data sits systematically shifted from the same features already
        stored (``CRS_ED50_SUSPECTED``, ``DATA_SHIFTED``: refused otherwise); the shift is
        then reported as a warning.

    Returns
    -------
    Batch
        Its ``status`` says what happened (``loaded``, ``unchanged``, ``dry_run``,
        ``rejected``, ``refused``, ``failed``); ``reason_code``/``message``
        explain a refusal or failure; reports are under ``MEDIA_ROOT``.
    """
    warm_up()  # the parser children's server imports meanwhile (no-op when it runs)
    definition = _layer(layer)
    path = Path(path)
    policy = (BatchPolicyChoices.DRY_RUN if dry_run else
              BatchPolicyChoices.STRICT if strict else BatchPolicyChoices.NORMAL)
    Batch.objects.sweep_interrupted()
    with transaction.atomic():  # visible to others only with its lock held
        batch = Batch.objects.create(
            layer_code=definition.code, department=department, user=user,
            file_name=path.name, sha256="", policy=policy)
        batch.hold_lock()
    locked = True  # until the final status is stored (or the session ends)
    # the file's SHA-256 is computed in a thread (hashlib releases the GIL) while the upload
    # is inspected, read and loaded, and stored by that thread as soon as it is known
    hashing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="etl-sha256")
    digest = (hashing.submit(_hash_and_store, path, batch.pk)
              if path.is_file() and not path.is_symlink() else None)
    hashing.shutdown(wait=False)
    workdir = Path(settings.MEDIA_ROOT) / "etl" / "work" / str(batch.pk)
    report = reports.BatchReport()
    storage_crs = CRS.from_epsg(int(definition.srid))
    try:
        _check_department(department)
        run = _run
        if definition.backing.kind == "model":  # an inventory: loaded through the models
            from etl.load_models import IMPORTERS, run_models

            # a model-backed layer no importer loads (mahalle) may still be checked (dry
            # run) against its standard; a real load of it is refused by run_models
            if definition.code in IMPORTERS or not dry_run:
                run = run_models
        with collector_paused():
            run(batch, definition, path, workdir, report, crs=crs, dry_run=dry_run,
                 strict=strict, mapping=mapping, progress=progress, chunk_size=chunk_size,
                 limits=limits, digest=digest, accept_shift=accept_shift)
    except UploadRefused as exc:
        batch.status = BatchStatusChoices.REFUSED
        batch.reason_code, batch.message = exc.code, exc.text
        batch.count_loaded, batch.count_rejected = 0, batch.count_read
    except (LoadFailed, DatabaseError, psycopg2.Error, RuntimeError) as exc:
        failure = exc if isinstance(exc, LoadFailed) else run_load_error(exc)
        connection.close()  # the connection may be gone (terminated backend); its lock too
        locked = False
        _fail(batch, failure)
    except Exception as exc:  # a defect: the batch fails now, with its own code
        # (not left "processing" for a later sweep to call its process dead); the load's
        # transaction was rolled back by BatchLoader.__exit__
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        # one line where a user may see it (the command's stderr); the trace for developers
        logger.error("etl: batch %s stopped on an unexpected error: %s", batch.pk, reason)
        logger.debug("etl: batch %s: the error's trace", batch.pk, exc_info=True)
        _fail(batch, LoadFailed("INGEST_ERROR", "The batch stopped on an unexpected error; "
                                "nothing was changed: {reason}", reason=reason))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if digest is not None:  # also when the upload was refused before _run stored it
            batch.sha256 = digest.result()
    # a loaded (or rejected) batch's status and counts were committed with its rows, in the
    # load's own transaction (_close_in_load): a process killed from here on leaves a batch
    # that says what its rows say; only its report paths are missing
    fault("committed")
    # what the first chunk found about the columns stays in the summary (the report says
    # which column was loaded as which field)
    report.summary = _summary(batch, definition) | {
        k: v for k, v in report.summary.items() if k in ("mapping", "unknown_columns")}
    try:
        paths = reports.write_all(batch.pk, report, crs=storage_crs)
    except Exception as exc:  # disk full, a defect: the batch keeps what it did, unreported
        logger.error("etl: batch %s: its reports could not be written: %s: %s", batch.pk,
                     type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
        logger.debug("etl: batch %s: the error's trace", batch.pk, exc_info=True)
        paths = {"json": "", "html": "", "gpkg": ""}
    batch.report_json, batch.report_html, batch.report_gpkg = (
        paths["json"], paths["html"], paths["gpkg"])
    batch.finished = batch.finished or timezone.now()
    assert batch.invariant_holds, "read = loaded + rejected"
    batch.save()
    if locked:  # after the final status is stored: a sweep never sees it unlocked before
        batch.release_lock()
    _audit(batch)
    return batch


def _fail(batch: Batch, failure: LoadFailed) -> None:
    """Mark ``batch`` failed with ``failure``'s code and text; nothing of it is loaded."""
    batch.status = BatchStatusChoices.FAILED
    batch.reason_code, batch.message = failure.code, failure.text
    batch.count_loaded = batch.count_inserted = batch.count_updated = 0
    batch.count_unchanged = 0
    batch.count_rejected = batch.count_read
    batch.finished = None


def _summary(batch: Batch, layer: Any) -> dict[str, Any]:
    return {"batch": batch.pk, "layer": layer.code, "file": batch.file_name,
            "sha256": batch.sha256, "department": batch.department, "status": batch.status,
            "policy": batch.policy, "reason_code": batch.reason_code, "message": batch.message,
            "encoding": batch.encoding, "crs": batch.crs, "read": batch.count_read,
            "loaded": batch.count_loaded, "rejected": batch.count_rejected,
            "warnings": batch.count_warnings, "inserted": batch.count_inserted,
            "updated": batch.count_updated, "unchanged": batch.count_unchanged}


def _audit(batch: Batch) -> None:
    try:
        from gis_core import audit  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return
    record = getattr(audit, "record_bulk_change", None)
    if record is None or batch.status != BatchStatusChoices.LOADED:
        return
    offered: dict[str, Any] = {
        "target": batch.layer_code, "action": "upsert", "source": "etl", "user": batch.user,
        "layer_code": batch.layer_code, "batch_id": batch.pk,
        "inserted": batch.count_inserted, "updated": batch.count_updated,
        "count": batch.count_inserted + batch.count_updated,
        "description": f"ETL batch #{batch.pk}: {batch.file_name}"}
    params = inspect.signature(record).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        record(**offered)
        return
    try:
        bound = inspect.signature(record).bind(**{k: v for k, v in offered.items()
                                                  if k in params})
    except TypeError as exc:
        logger.warning("etl: batch %s not recorded by gis_core.audit.record_bulk_change: %s",
                       batch.pk, exc)
        return
    record(*bound.args, **bound.kwargs)


def _run(batch: Batch, layer: Any, path: Path, workdir: Path, report: reports.BatchReport, *,
         crs: str | None, dry_run: bool, strict: bool, mapping: Path | dict[str, str] | None,
         progress: Progress | None, chunk_size: int, limits: Limits | None,
         digest: Future[str] | None = None, accept_shift: bool = False) -> None:
    limits = limits or Limits.from_settings()
    info: SourceInfo = open_upload(path, workdir=workdir, limits=limits)
    report.diagnostics += [d.as_dict() for d in info.diagnostics]
    batch.file_format = info.format
    batch.encoding = f"{info.encoding or 'utf-8'} ({info.encoding_note})"[:60]
    require_geometry(info, layer)
    source_crs, notes = resolve_crs(file_crs=table_crs(info, crs, report), declared=crs,
                                    file_says=info.crs_text)
    batch.crs = (f"EPSG:{source_crs.to_epsg()}" if source_crs.to_epsg()
                 else source_crs.name)[:120]
    report.diagnostics += [d.as_dict() for d in notes]
    # a column mapped to "" is left out, even when its name is a field's ("-" is no field)
    mapping_dict = ({k: v or "-" for k, v in mapping.items()} if isinstance(mapping, dict)
                    else load_mapping(mapping))
    aliases = {f.codelist: alias_table(f.codelist, department=batch.department)
               for f in layer.fields if f.codelist}
    boundary, mun_box = municipality_area(int(layer.srid))
    report.boundary = boundary
    if boundary is None and layer.geometry_rules.within_municipality:
        report.diagnostics.append(Diagnostic(
            "MUNICIPALITY_BOUNDARY_MISSING", "warning",
            "No municipality boundary is stored; OUTSIDE_MUNICIPALITY was not checked.").as_dict())
    state = FileState()
    lookup = _unique_lookup(layer)
    total = info.feature_count if info.feature_count >= 0 else None
    loader = None if dry_run else BatchLoader(
        layer=layer, batch_id=batch.pk, expected_rows=max(info.feature_count, 0),
        incremental=not strict)
    errors_seen = 0
    first = True
    far_box: tuple[float, float, float, float] | None = None
    if loader is not None:
        loader.__enter__()
        if lookup is not None:
            raw_lookup = lookup

            def lookup(field: str, values: list[Any]) -> pd.DataFrame:
                loader.wait()  # one thread at a time on the connection
                return raw_lookup(field, values)

    try:
        for chunk, wkb in read_chunks_with_wkb(
                info, crs=source_crs.to_wkt(), chunk_size=chunk_size,
                sizes=chunk_plan(info.feature_count, chunk_size), limits=limits):
            chunk = chunk.set_crs(source_crs, allow_override=True)
            if first:
                first = False
                far_box = _first_chunk_checks(chunk, layer, source_crs, mun_box, report,
                                              file_says=None if crs else info.crs_text)
                if boundary is not None and layer.geometry_rules.within_municipality:
                    far_box = None  # validate_chunk rejects them against the boundary
                match = match_fields([c for c in chunk.columns if c != chunk.geometry.name],
                                     layer.field_names, mapping=mapping_dict)
                report.summary["unknown_columns"] = match.unknown
                report.summary["mapping"] = match.rename
                if match.unknown:
                    report.diagnostics.append(Diagnostic(
                        "UNKNOWN_COLUMNS", "warning",
                        "Columns not in the layer's standard (kept in the report, not loaded): "
                        "{columns}", {"columns": ", ".join(match.unknown)}).as_dict())
                if match.missing:
                    report.diagnostics.append(Diagnostic(
                        "MISSING_COLUMNS", "warning", "Fields of the standard not in the file: "
                        "{columns}", {"columns": ", ".join(match.missing)}).as_dict())
            original = chunk
            renamed = chunk.rename(columns=match.rename)
            # "Emek Mahallesi" -> "Emek", aliases -> entries: each change a warning
            renamed, value_notes = normalise_values(renamed, layer, aliases=aliases)
            stored = to_storage(renamed, int(layer.srid))
            result = validate_chunk(stored, layer, state, boundary=boundary,
                                    unique_lookup=lookup)
            if len(value_notes):
                result.problems = pd.concat([result.problems, value_notes], ignore_index=True)
            if far_box is not None:
                _reject_far(result, stored, far_box)
            if first is False and batch.count_read == 0:
                if loader is not None:
                    loader.wait()
                offsets = _stored_offsets(layer, result.frame)
                if len(offsets):
                    minx, miny, maxx, maxy = result.frame.total_bounds
                    c = shapely.Point((minx + maxx) / 2, (miny + maxy) / 2)
                    shift = expected_ed50_shift(target_srid=int(layer.srid), x=c.x, y=c.y)
                    _shift_checks(diagnose_datum_shift(
                        offsets, shift, tolerance=layer.geometry_rules.snap_tolerance),
                        report, accept_shift=accept_shift)
            rejected = result.rejected
            bad = result.frame.index.isin(rejected)
            problems = result.problems
            errors_seen += len(rejected)
            batch.count_read += len(chunk)
            batch.count_rejected += int(bad.sum())
            batch.count_loaded += int((~bad).sum())
            warn = problems[problems["severity"] == "warning"]["feature"].unique()
            batch.count_warnings += len(warn)
            report.problems.append(problems)
            if bad.any():
                rej = original.loc[bad]
                rej = to_storage(rej.set_crs(source_crs, allow_override=True), int(layer.srid))
                report.rejected.append(rej)
            flagged = original.index.isin(problems["feature"].unique())
            if flagged.any():
                report.locations.append(stored.geometry[flagged])
            if loader is not None:
                # both go to the loader thread (quarantine COPY, then this chunk's load)
                # and run there while the next chunk is validated
                if bad.any():
                    rej_props = original.loc[bad].rename(columns=match.rename)
                    rej_props = to_storage(rej_props, int(layer.srid))
                    loader.quarantine(rej_props, _errors_per_feature(problems))
                loader.stage(result.frame.loc[~bad],
                             wkb=None if wkb is None else _unchanged_wkb(
                                 result.frame, original, wkb)[~bad])
            if progress:
                progress(batch.count_read, total)
        if batch.count_read == 0:
            raise UploadRefused("EMPTY_DATASET", "The file holds no features.")
        strict_reject = strict and errors_seen > 0
        if loader is not None:
            # PostgreSQL upserts and rebuilds indexes while this thread prepares the reports
            # (messages, rejected.gpkg, JSON and HTML pages but for their summary)
            finishing = loader.finish_async(upsert=not strict_reject)
            report.prepare(batch.pk, crs=CRS.from_epsg(int(layer.srid)))
            state.polygons.clear()  # the file's polygons and keys are freed meanwhile too
            state.seen.clear()
            counts = finishing.result()
            batch.count_inserted, batch.count_updated = counts.inserted, counts.updated
            batch.count_unchanged = counts.unchanged
        _final_status(batch, layer, strict=strict, dry_run=dry_run, errors_seen=errors_seen,
                      digest=digest)
        if loader is not None:
            # the final status and counts commit with the rows (and the quarantine) they
            # describe: no sweep can find this batch "processing" once its rows are there
            batch.finished = timezone.now()
            assert batch.invariant_holds, "read = loaded + rejected"
            batch.save()
    except BaseException:
        if loader is not None:
            loader.__exit__(*__import__("sys").exc_info())
        raise
    if loader is not None:
        loader.__exit__(None, None, None)


def _final_status(batch: Batch, layer: Any, *, strict: bool, dry_run: bool, errors_seen: int,
                  digest: Future[str] | None) -> None:
    """Set the status (and message) that says what the batch did."""
    if digest is not None:
        # before this connection writes the batch's row: the hashing thread writes it on
        # its own connection and would wait for this transaction
        batch.sha256 = digest.result()
    if dry_run:
        batch.status = BatchStatusChoices.DRY_RUN
    elif strict and errors_seen:
        batch.status = BatchStatusChoices.REJECTED
        batch.count_rejected, batch.count_loaded = batch.count_read, 0
        batch.message = bilingual("Strict: {n} feature(s) with errors; nothing was loaded.",
                                  n=errors_seen)
    elif batch.count_loaded == 0:
        # every feature has an error: rejected, not "unchanged" (nothing was compared)
        batch.status = BatchStatusChoices.REJECTED
        batch.message = bilingual("Every feature ({n}) has errors; nothing was loaded. The "
                                  "report lists them.", n=batch.count_rejected)
    elif batch.count_inserted == 0 and batch.count_updated == 0:
        batch.status = BatchStatusChoices.UNCHANGED
        earlier = (Batch.objects.filter(layer_code=layer.code, sha256=batch.sha256,
                                        status__in=[BatchStatusChoices.LOADED,
                                                    BatchStatusChoices.UNCHANGED])
                   .exclude(pk=batch.pk).order_by("created").first())
        if earlier is not None:
            batch.message = bilingual("Same file as batch #{pk}; nothing changed.",
                                      pk=earlier.pk)
        elif batch.count_rejected:
            batch.message = bilingual(
                "Nothing changed: the {n} feature(s) without errors are already stored as "
                "sent; {rejected} feature(s) were rejected.", n=batch.count_loaded,
                rejected=batch.count_rejected)
        else:
            batch.message = bilingual("Every feature is already stored as sent; nothing "
                                      "changed.")
    else:
        batch.status = BatchStatusChoices.LOADED


def _shift_checks(found: list[Diagnostic], report: reports.BatchReport, *,
                  accept_shift: bool) -> None:
    """A systematic shift against the stored features refuses the upload, unless the
    sender accepted it: then it is reported as a warning, with who accepted what."""
    for d in found:
        if not accept_shift:
            report.diagnostics.append(d.as_dict())
            raise UploadRefused(d.code, d.message, **d.params)
        report.diagnostics.append(Diagnostic(d.code, "warning", d.message, d.params).as_dict())
        report.diagnostics.append(Diagnostic(
            "SHIFT_ACCEPTED", "warning", "The sender accepted the shift of {m:.1f} m: the "
            "stored features move with this batch.", d.params).as_dict())


#: Degrees around the municipality's lon/lat box within which a feature is "near" (the
#: margin diagnose_crs gives the whole file).
NEAR_MARGIN = 0.25


def _first_chunk_checks(chunk: gpd.GeoDataFrame, layer: Any, source_crs: CRS,
                        mun_box: tuple[float, float, float, float],
                        report: reports.BatchReport, file_says: str | None = None
                        ) -> tuple[float, float, float, float] | None:
    """Judge the file's CRS from its first chunk (refuse it on an error).

    The CRS is judged on the features near the municipality when most of them are: a
    few far away (another country) are then features in the wrong place, not a wrong
    CRS; they are rejected one by one with ``OUTSIDE_MUNICIPALITY``, and the municipality's
    box with the margin, in the storage CRS, is returned for :func:`_reject_far` (else
    ``None``). When most of the file lies far away, the whole extent is judged as before
    (a wrong CRS refuses the file)."""
    geoms = chunk.geometry
    geoms = geoms[~(geoms.isna() | geoms.is_empty)]
    if geoms.empty:
        return None
    bounds = np.asarray(geoms.total_bounds)
    near = _near(np.asarray(geoms.to_numpy()), source_crs, mun_box)
    far_box = None
    if 2 * int(near.sum()) > len(near):
        far_box = _storage_box(mun_box, int(layer.srid))
        if not near.all():
            bounds = shapely.total_bounds(np.asarray(geoms.to_numpy())[near])
    found = diagnose_crs(bounds, source_crs, municipality_lonlat=mun_box,
                         file_says=file_says)
    report.diagnostics += [d.as_dict() for d in found]
    for d in found:
        if d.severity == "error":
            raise UploadRefused(d.code, d.message, **d.params)
    return far_box


def _near(geoms: np.ndarray, crs: CRS, mun_box: tuple[float, float, float, float]
          ) -> np.ndarray:
    """Which geometries' bounding-box centres lie in the municipality's lon/lat box with
    :data:`NEAR_MARGIN` (read in ``crs``)."""
    from pyproj import Transformer

    b = shapely.bounds(geoms)
    x, y = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    try:
        with np.errstate(invalid="ignore"):
            lon, lat = Transformer.from_crs(crs, 4326, always_xy=True).transform(x, y)
    except Exception:  # noqa: BLE001 - pyproj's errors for coordinates it cannot place
        return np.zeros(len(geoms), dtype=bool)
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    with np.errstate(invalid="ignore"):
        return ((lon >= mun_box[0] - NEAR_MARGIN) & (lon <= mun_box[2] + NEAR_MARGIN)
                & (lat >= mun_box[1] - NEAR_MARGIN) & (lat <= mun_box[3] + NEAR_MARGIN))


def _storage_box(mun_box: tuple[float, float, float, float], srid: int
                 ) -> tuple[float, float, float, float]:
    """The municipality's lon/lat box with :data:`NEAR_MARGIN`, as a box in ``srid``."""
    from pyproj import Transformer

    box = Transformer.from_crs(4326, srid, always_xy=True).transform_bounds(
        mun_box[0] - NEAR_MARGIN, mun_box[1] - NEAR_MARGIN, mun_box[2] + NEAR_MARGIN,
        mun_box[3] + NEAR_MARGIN, densify_pts=21)
    return (float(box[0]), float(box[1]), float(box[2]), float(box[3]))


def _reject_far(result: Any, stored: gpd.GeoDataFrame,
                box: tuple[float, float, float, float]) -> None:
    """Add an ``OUTSIDE_MUNICIPALITY`` error for each feature entirely outside ``box`` (in
    the storage CRS) that has none yet: a file that belongs to the municipality but holds a
    few features far away."""
    b = shapely.bounds(np.asarray(stored.geometry.to_numpy()))
    with np.errstate(invalid="ignore"):  # missing geometries (NaN) are never far
        far = (b[:, 2] < box[0]) | (b[:, 0] > box[2]) | (b[:, 3] < box[1]) | (b[:, 1] > box[3])
    if not far.any():
        return
    problems = result.problems
    flagged = problems.loc[(problems["code"] == "OUTSIDE_MUNICIPALITY")
                           & (problems["severity"] == "error"), "feature"].to_numpy()
    features = stored.index.to_numpy()[far]
    features = features[~np.isin(features, flagged)]
    if len(features):
        result.problems = pd.concat(
            [problems, _problems(features, "OUTSIDE_MUNICIPALITY", "error", detail="far")],
            ignore_index=True)
