"""``kentcbs batches list|show ID|report ID|undo ID``: reach ETL batches and their reports,
and undo a loaded batch (:func:`etl.undo.undo_batch`)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from rich.console import Console
from rich.table import Table

from etl.errors import BatchNotFound, UndoRefused
from etl.management.commands.ingest import problems_table, summary_table
from etl.models import Batch


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # `kentcbs check` runs them; keep output clean
    help = "Aktarım partileri / ETL batches: list, show ID, report ID, undo ID"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list")
        listing.add_argument("--layer", default=None)
        listing.add_argument("--limit", type=int, default=20)
        show = sub.add_parser("show")
        show.add_argument("id", type=int)
        rep = sub.add_parser("report")
        rep.add_argument("id", type=int)
        rep.add_argument("--format", choices=["html", "json", "gpkg"], default="html")
        undo = sub.add_parser("undo", help="Partiyi geri al / undo a loaded batch: remove the "
                              "features it inserted, restore those it updated")
        undo.add_argument("id", type=int)
        undo.add_argument("--user", default=None,
                          help="username of who undoes it (recorded; must be the batch's "
                               "sender or a GIS administrator)")

    def handle(self, *args: Any, **options: Any) -> None:
        out = Console(file=self.stdout, width=140, soft_wrap=True)
        action = options["action"]
        Batch.objects.sweep_interrupted()  # a dead process's batch is not shown as running
        if action == "list":
            rows = Batch.objects.all()
            if options["layer"]:
                rows = rows.filter(layer_code=options["layer"])
            table = Table(title="Partiler / Batches")
            for col in ("id", "created", "layer", "department", "file", "status", "read",
                        "loaded", "rejected"):
                table.add_column(col)
            for b in rows[: options["limit"]]:
                table.add_row(str(b.pk), b.created.strftime("%Y-%m-%d %H:%M"), b.layer_code,
                              b.department, b.file_name, b.status, str(b.count_read),
                              str(b.count_loaded), str(b.count_rejected))
            out.print(table)
            return
        if action == "undo":
            self._undo(out, options["id"], options["user"])
            return
        batch = Batch.objects.filter(pk=options["id"]).first()
        if batch is None:
            raise BatchNotFound("BATCH_NOT_FOUND", "There is no batch #{id}.", id=options["id"])
        if action == "show":
            out.print(summary_table(batch))
            listed = problems_table(batch)
            if listed is not None:
                out.print(listed)
            return
        path = {"html": batch.report_html, "json": batch.report_json,
                "gpkg": batch.report_gpkg}[options["format"]]
        if not path:
            raise BatchNotFound("REPORT_NOT_FOUND", "Batch #{id} has no {format} report.",
                                id=batch.pk, format=options["format"])
        self.stdout.write(path)

    def _undo(self, out: Console, pk: int, username: str | None) -> None:
        """Undo batch ``pk``; print the undo batch's summary and one line that says what it
        did. A refusal is raised (one line, Turkish then English, exit code 2)."""
        from django.contrib.auth import get_user_model

        from etl.undo import undo_batch

        user = None
        if username:
            user = get_user_model().objects.filter(username=username).first()
            if user is None:
                raise UndoRefused("UNKNOWN_USER", "There is no user '{user}'.", user=username)
        undo = undo_batch(batch_id=pk, user=user, check_user=user is not None)
        out.print(summary_table(undo))
        self.stdout.write(undo.message)
