"""``kentcbs db start|stop|status|backup|restore|verify``: the database and its backups."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from gis_core import backup, database
from gis_core.errors import KentCBSError, bilingual


def _reporters() -> list[Any]:
    from gis_core.modules import discover

    return [reporter for spec in discover() for reporter in spec.backup_reporters]


class Command(BaseCommand):
    help = ("Start, stop or show the database (the embedded cluster unless DATABASE_URL is "
            "set); back it up with the media files, restore or verify a backup.")
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action",
                            choices=["start", "stop", "status", "backup", "restore", "verify"])
        parser.add_argument("source", nargs="?", type=Path,
                            help="restore, verify: the backup folder")
        parser.add_argument("--json", action="store_true", help="output as JSON")
        parser.add_argument("--to", type=Path, help="backup: the new backup folder "
                            "(default $KENTCBS_HOME/backups/<time>)")
        parser.add_argument("--verify", action="store_true",
                            help="backup: restore the new backup into a scratch cluster and "
                            "compare rows and checksums per table")
        parser.add_argument("--until", help="restore: roll the embedded cluster forward to "
                            "this time from the WAL archive (e.g. '2026-12-07 14:30:00+03')")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action in {"backup", "restore", "verify"}:
            info = getattr(self, f"_{action}")(options)
        else:
            info = self._cluster(action)
        if options["json"]:
            self.stdout.write(json.dumps(info, indent=2, ensure_ascii=False, default=str))
            return
        for key, value in info.items():
            self.stdout.write(f"{key:12} {value}")

    def _cluster(self, action: str) -> dict[str, Any]:
        url = database.database_url()
        if url:
            if action in {"start", "stop"}:
                raise KentCBSError(
                    "DB_EXTERNAL",
                    "DATABASE_URL is set: KentCBS uses that server and does not {action} one.",
                    action=action,
                )
            return database.check_external(url)
        cluster = database.EmbeddedCluster()
        if action == "start":
            cluster.ensure_ready()
        elif action == "stop":
            cluster.stop()
        return cluster.status()

    def _source(self, options: dict[str, Any]) -> Path:
        if options["source"] is None:
            raise KentCBSError("BACKUP_NO_SOURCE", "Name the backup folder, e.g. "
                               "'kentcbs db restore var/backups/20261207T020000Z'.")
        return Path(options["source"])

    def _backup(self, options: dict[str, Any]) -> dict[str, Any]:
        media = Path(settings.MEDIA_ROOT)
        try:
            result = backup.backup(to=options["to"], media_root=media)
            problems = backup.verify(result.folder) if options["verify"] else []
        except KentCBSError as exc:
            self._report(ok=False, size=None, detail=exc.english)
            raise
        tables = len(result.manifest["tables"])
        if problems:
            detail = f"{result.folder}: verify failed: " + "; ".join(problems)
            self._report(ok=False, size=result.size_bytes, detail=detail)
            raise backup.BackupError(
                "BACKUP_VERIFY_FAILED", "The restored copy of {path} differs: {problems}",
                path=result.folder, problems="; ".join(problems[:20]))
        verified = " (verified)" if options["verify"] else ""
        self._report(ok=True, size=result.size_bytes,
                     detail=f"{result.folder}: {tables} tables, "
                     f"{len(result.manifest['files'])} files{verified}")
        for note in result.notes:
            self.stderr.write(f"kentcbs: {note}")
        return {"folder": str(result.folder), "mode": result.manifest["mode"],
                "tables": tables, "files": len(result.manifest["files"]),
                "size_bytes": result.size_bytes, "verified": bool(options["verify"]),
                "point_in_time_recovery": result.manifest.get("point_in_time_recovery", False)}

    def _verify(self, options: dict[str, Any]) -> dict[str, Any]:
        folder = self._source(options)
        problems = backup.verify(folder)
        if problems:
            raise backup.BackupError(
                "BACKUP_VERIFY_FAILED", "The restored copy of {path} differs: {problems}",
                path=folder, problems="; ".join(problems[:20]))
        return {"folder": str(folder), "verified": True}

    def _restore(self, options: dict[str, Any]) -> dict[str, Any]:
        return backup.restore(self._source(options), media_root=Path(settings.MEDIA_ROOT),
                              until=options["until"])

    def _report(self, *, ok: bool, size: int | None, detail: str) -> None:
        for failure in backup.report(ok=ok, size_bytes=size, detail=detail,
                                     reporters=_reporters()):
            self.stderr.write("kentcbs: " + bilingual(
                "The backup register was not updated: {failure}", failure=failure))
