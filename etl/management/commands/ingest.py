"""``kentcbs ingest LAYER FILE --department D``: validate, report and load one upload."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from etl.errors import LoadFailed, UploadRefused
from etl.models import BatchStatusChoices


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # `kentcbs check` runs them; keep output clean
    help = ("Kontrol et, raporla ve yükle / Validate, report and load a department upload into "
            "a layer.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("layer", help="layer code (kentcbs layers list)")
        parser.add_argument("file", type=Path,
                            help="GPKG, zipped Shapefile, GeoJSON, CSV, KML, DXF, XLSX, ODS "
                                 "(a sheet with lon/lat, x/y or WKT columns, or attributes "
                                 "only for inventories)")
        parser.add_argument("--department", required=True, help="department code of the sender")
        parser.add_argument("--crs", default=None,
                            help="CRS when the file has none, e.g. EPSG:5254")
        parser.add_argument("--dry-run", action="store_true", help="validate and report only")
        parser.add_argument("--strict", action="store_true", help="any error rejects the batch")
        parser.add_argument("--mapping", type=Path, default=None,
                            help="YAML mapping of column names to field names")
        parser.add_argument("--auto-map", action="store_true",
                            help="map columns by the confident suggestions and the "
                                 "department's saved mapping (printed; --mapping wins)")
        parser.add_argument("--suggest-mapping", action="store_true",
                            help="print the suggested mapping as a YAML for --mapping and stop")
        parser.add_argument("--accept-shift", action="store_true",
                            help="load even when the data sits systematically shifted from "
                                 "the same features already stored (they move with it)")
        parser.add_argument("--chunk-size", type=int, default=200_000)

    def handle(self, *args: Any, **options: Any) -> None:
        from etl.services import ingest

        console = Console(stderr=True)
        mapping: Any = options["mapping"]
        if options["suggest_mapping"] or options["auto_map"]:
            from etl.mapping import CONFIDENT, suggest_for_file
            from etl.normalise import load_mapping
            from layers.registry import registry

            found = suggest_for_file(options["file"], registry.get(options["layer"]),
                                     department=options["department"])
            if options["suggest_mapping"]:
                self.stdout.write(found.as_yaml(), ending="")
                return
            mapping = (found.mapping(min_confidence=CONFIDENT)
                       | dict.fromkeys(found.left_out(), "") | load_mapping(mapping))
            Console(file=self.stdout, width=120, soft_wrap=True).print(
                mapping_table(found, mapping))
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console, transient=True,
                      disable=not console.is_terminal) as bar:
            task = bar.add_task(str(options["file"].name), total=None)

            def progress(done: int, total: int | None) -> None:
                bar.update(task, completed=done, total=total)

            batch = ingest(layer=options["layer"], path=options["file"],
                           department=options["department"], crs=options["crs"],
                           dry_run=options["dry_run"], strict=options["strict"],
                           mapping=mapping, progress=progress,
                           chunk_size=options["chunk_size"],
                           accept_shift=options["accept_shift"])
        out = Console(file=self.stdout, width=120, soft_wrap=True)
        out.print(summary_table(batch))
        # the stored message is already "Turkish / English": printed whole (it may hold
        # " / " itself, as in "TUREF / TM30")
        listed = problems_table(batch)
        if listed is not None:
            out.print(listed)
        if batch.status == BatchStatusChoices.REFUSED:
            raise UploadRefused(batch.reason_code, "{reason}", reason=batch.message)
        if batch.status == BatchStatusChoices.FAILED:
            raise LoadFailed(batch.reason_code, "{reason}", reason=batch.message)


def mapping_table(found: Any, mapping: dict[str, str]) -> Table:
    """What ``--auto-map`` mapped: each column, its field (or why not) and, for code-list
    fields, the share of values in the list and the values without an entry."""
    table = Table(title="Sütun eşleştirmesi / Column mapping (--auto-map)")
    for column in ("sütun / column", "alan / field", "güven / confidence", "neden / why",
                   "kod listesi / code list"):
        table.add_column(column)
    for item in found.columns:
        target = mapping.get(item.column, "")
        share = "" if item.codelist_share is None else f"{item.codelist_share:.0%}"
        if item.unmatched:
            share += " ? " + ", ".join(f"{v} (→ {p})" if p else v
                                       for v, p in list(item.unmatched.items())[:5])
        table.add_row(Text(item.column), Text(target or "—"), f"{item.confidence:.2f}",
                      Text(item.reason if target else (
                          f"yüklenmez / not loaded ({item.field}?)" if item.field
                          else "yüklenmez / not loaded")), Text(share))
    return table


def report_findings(batch: Any) -> list[tuple[str, str]]:
    """Every diagnostic of the batch's report (``[CODE] message``, errors and warnings) and
    every rule with warnings (``[CODE] n feature(s)``): read from its JSON report."""
    path = Path(batch.report_json) if batch.report_json else None
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError):
        return []
    found = [(str(d.get("severity", "")), f"[{d.get('code', '')}] {d.get('message', '')}")
             for d in data.get("diagnostics", [])]
    found += [("warning", f"[{r.get('code', '')}] {r.get('count', 0)} nesne / feature(s)")
              for r in data.get("counts", {}).get("by_rule", [])
              if r.get("severity") == "warning"]
    return found


def summary_table(batch: Any) -> Table:
    table = Table(title=f"Parti / Batch #{batch.pk}: {batch.layer_code} ← {batch.file_name}")
    table.add_column("")
    table.add_column("")
    rows = [
        ("durum / status", batch.status), ("okunan / read", batch.count_read),
        ("yüklenen / loaded", batch.count_loaded), ("reddedilen / rejected",
                                                   batch.count_rejected),
        ("uyarı / warnings", batch.count_warnings), ("eklenen / inserted", batch.count_inserted),
        ("güncellenen / updated", batch.count_updated),
        ("değişmeyen / unchanged", batch.count_unchanged), ("kodlama / encoding", batch.encoding),
        ("koordinat sistemi / CRS", batch.crs), ("ileti / message", batch.message),
        ("rapor / report (HTML)", batch.report_html), ("rapor / report (JSON)", batch.report_json),
        ("reddedilenler / rejected (GPKG)", batch.report_gpkg),
    ]
    if getattr(batch, "undoes_id", None) is not None:
        rows[1:1] = [("geri aldığı / undoes", f"#{batch.undoes_id}"),
                     ("silinen / deleted", batch.count_deleted)]
    undone_by = type(batch).objects.filter(undoes=batch.pk).values_list("pk", flat=True).first()
    if undone_by is not None:
        rows.insert(1, ("geri alındı / undone by", f"#{undone_by}"))
    for severity, text in report_findings(batch):
        rows.append(("hata / error" if severity == "error" else "uyarı / warning", text))
    for key, value in rows:
        table.add_row(key, Text(str(value)))  # not rich markup: "[CODE] ..." stays as it is
    return table


#: The CLI lists this many problems; all are in the reports.
CLI_PROBLEMS = 20


def problems_table(batch: Any, limit: int = CLI_PROBLEMS) -> Table | None:
    """The batch's first problems, by row (1-based, as QGIS numbers them) and key value."""
    import json

    if not batch.report_json:
        return None
    try:
        with open(batch.report_json, encoding="utf-8") as handle:
            problems = json.load(handle).get("problems") or []
    except (OSError, ValueError):
        return None
    if not problems:
        return None
    problems.sort(key=lambda p: (p.get("row") or 0, p.get("severity") != "error"))
    more = len(problems) - limit
    table = Table(title="Sorunlar / Problems" + (
        f" (ilk / first {limit} of {len(problems)})" if more > 0 else ""))
    for column in ("satır / row", "anahtar / key", "kural / rule", "önem / severity",
                   "ileti / message"):
        table.add_column(column)
    for p in problems[:limit]:
        table.add_row(str(p.get("row", "")), str(p.get("key") or ""), str(p.get("code", "")),
                      str(p.get("severity", "")),
                      f"{p.get('message_tr', '')} / {p.get('message_en', '')}")
    return table
