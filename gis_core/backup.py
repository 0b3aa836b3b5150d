"""Backup, restore and verification of the database and the media files.

A backup is one folder::

    manifest.json            what was saved, SHA-256 of every file, rows and checksum per table
    database/base.tar.gz     embedded cluster: pg_basebackup (tar, gzip) ...
    database/pg_wal.tar.gz   ... with the WAL it needs to be consistent (-X stream)
    database/kentcbs.dump    external DATABASE_URL: pg_dump -Fc
    media/...                a copy of MEDIA_ROOT (reports, uploads, module archives)

On the embedded cluster the first backup also switches WAL archiving on
(``$cluster/wal_archive``, active from the next start of the cluster), so a base
backup can be rolled forward to any later moment (``kentcbs db restore --until``).

The per-table figures in the manifest are read from the source right after the
database copy, in one snapshot. On a database that is written to during the backup,
a table written in between differs after a restore to the backup point: ``--verify``
names it. Run verifying backups at a quiet hour (or use an external database, where
pg_dump and the figures share one exported snapshot and always agree).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dj_database_url
from psycopg2 import sql

from gis_core import database
from gis_core.errors import KentCBSError, bilingual

MANIFEST = "manifest.json"
FORMAT = 1
#: Schemas whose tables are never compared (catalogues; PostGIS's own reference data is kept).
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")


class BackupError(KentCBSError):
    """A backup, restore or verification that cannot be done or did not match."""


# -- per-table figures ------------------------------------------------------------------------
TABLES_SQL = """
SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%%' AND n.nspname NOT LIKE 'pg\\_temp%%'
ORDER BY 1, 2
"""


def table_figures(cursor: Any) -> dict[str, dict[str, Any]]:
    """Rows and an order-independent checksum of every user table (``schema.table``).

    The checksum is the sum, as a 64-bit-wide numeric, of the first 64 bits of each row's
    MD5 over its text form: equal row multisets give equal sums whatever the physical
    order (a restore rewrites tables in another order).
    """
    cursor.execute(TABLES_SQL)
    out: dict[str, dict[str, Any]] = {}
    for schema, table in cursor.fetchall():
        cursor.execute(sql.SQL(
            "SELECT count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 16))"
            "::bit(64)::bigint::numeric), 0)::text FROM {} t").format(
                sql.Identifier(schema, table)))
        rows, checksum = cursor.fetchone()
        out[f"{schema}.{table}"] = {"rows": int(rows), "checksum": checksum}
    return out


def compare_figures(expected: dict[str, dict[str, Any]],
                    actual: dict[str, dict[str, Any]]) -> list[str]:
    """Human-readable differences, one a table; empty when everything matches."""
    problems = []
    for name in sorted(set(expected) | set(actual)):
        want, got = expected.get(name), actual.get(name)
        if want is None:
            problems.append(f"{name}: only in the restored copy")
        elif got is None:
            problems.append(f"{name}: missing from the restored copy")
        elif want["rows"] != got["rows"]:
            problems.append(f"{name}: {want['rows']} rows saved, {got['rows']} restored")
        elif want["checksum"] != got["checksum"]:
            problems.append(f"{name}: same row count ({got['rows']}), different contents")
    return problems


# -- files -------------------------------------------------------------------------------------
def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_checksums(folder: Path) -> dict[str, dict[str, Any]]:
    """``{relative path: {sha256, size}}`` of every file under ``folder`` but the manifest."""
    out = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel == MANIFEST:
            continue
        out[rel] = {"sha256": sha256_of(path), "size": path.stat().st_size}
    return out


def check_files(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """What differs between the backup folder and its manifest's checksums."""
    problems = []
    recorded = manifest.get("files", {})
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*")
               if p.is_file() and p.name != MANIFEST}
    for rel, info in sorted(recorded.items()):
        path = folder / rel
        if not path.is_file():
            problems.append(f"{rel}: missing")
        elif sha256_of(path) != info["sha256"]:
            problems.append(f"{rel}: checksum differs")
    problems += [f"{rel}: not in the manifest" for rel in sorted(present - set(recorded))]
    return problems


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise BackupError("BACKUP_NO_MANIFEST",
                          "{path} is not a KentCBS backup (no readable manifest.json: {reason}).",
                          path=folder, reason=type(exc).__name__) from None
    if manifest.get("format") != FORMAT:
        raise BackupError("BACKUP_FORMAT", "{path} was written in an unknown backup format.",
                          path=folder)
    return manifest


# -- running PostgreSQL's tools ----------------------------------------------------------------
def _tool(name: str, args: list[str], env: dict[str, str] | None = None) -> None:
    bins = database.find_binaries()
    result = subprocess.run([bins.tool(name), *args], capture_output=True, text=True,  # noqa: S603
                            check=False, env={**os.environ, **(env or {})})
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError("BACKUP_TOOL_FAILED", "{command} failed: {reason}",
                          command=name, reason=lines[-1] if lines else result.returncode)


def _external_params(url: str) -> tuple[list[str], dict[str, str], str]:
    """libpq arguments, environment (password) and database name of ``DATABASE_URL``."""
    cfg = dj_database_url.parse(url)
    args = []
    if cfg.get("HOST"):
        args += ["-h", str(cfg["HOST"])]
    if cfg.get("PORT"):
        args += ["-p", str(cfg["PORT"])]
    if cfg.get("USER"):
        args += ["-U", str(cfg["USER"])]
    env = {"PGPASSWORD": str(cfg["PASSWORD"])} if cfg.get("PASSWORD") else {}
    return args, env, str(cfg["NAME"])


def _external_connect(url: str) -> Any:
    import psycopg2

    cfg = dj_database_url.parse(url)
    return psycopg2.connect(dbname=cfg.get("NAME"), user=cfg.get("USER") or None,
                            password=cfg.get("PASSWORD") or None, host=cfg.get("HOST") or None,
                            port=cfg.get("PORT") or None, connect_timeout=10)


# -- backup ------------------------------------------------------------------------------------
@dataclass
class BackupResult:
    folder: Path
    manifest: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    @property
    def size_bytes(self) -> int:
        return sum(int(info["size"]) for info in self.manifest["files"].values())


def default_folder() -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return database.kentcbs_home() / "backups" / stamp


def backup(*, to: Path | None, media_root: Path) -> BackupResult:
    """Copy the database and ``media_root`` into a new folder with a manifest."""
    try:
        return _backup(to=to, media_root=media_root)
    except OSError as exc:  # a full disk, a folder that cannot be written
        raise BackupError("BACKUP_IO", "The backup could not be written: {reason}",
                          reason=f"{exc.strerror or exc} ({exc.filename or ''})") from None


def _backup(*, to: Path | None, media_root: Path) -> BackupResult:
    folder = (to or default_folder()).resolve()
    if folder.exists() and any(folder.iterdir()):
        raise BackupError("BACKUP_FOLDER_NOT_EMPTY",
                          "{path} is not empty. Back up into a new folder.", path=folder)
    (folder / "database").mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    notes: list[str] = []
    url = database.database_url()
    manifest: dict[str, Any] = {"format": FORMAT, "started_at": started.isoformat(),
                                "database_name": database.DB_NAME}
    if url:
        manifest |= _backup_external(url, folder / "database")
    else:
        manifest |= _backup_embedded(folder / "database", notes)
    if media_root.is_dir():
        shutil.copytree(media_root, folder / "media", symlinks=True)
    else:
        (folder / "media").mkdir()
    manifest["files"] = file_checksums(folder)
    manifest["finished_at"] = dt.datetime.now(dt.UTC).isoformat()
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return BackupResult(folder, manifest, notes)


def _backup_embedded(target: Path, notes: list[str]) -> dict[str, Any]:
    cluster = database.EmbeddedCluster()
    if not cluster.is_running():
        raise BackupError("BACKUP_DB_STOPPED", "The database is not running. Start it with "
                          "'kentcbs db start' and back up again.")
    archiving = cluster.enable_archiving()
    if not archiving:
        notes.append(bilingual(
            "WAL archiving is switched on from the next start of the database (kentcbs db "
            "stop, kentcbs db start); until then a backup restores to its own moment only."))
    # The client needs no file access to the cluster: it streams over the socket (trust).
    _tool("pg_basebackup", ["-h", str(cluster.socket_dir), "-p", str(cluster.port),
                            "-U", database.DB_USER, "-D", str(target), "-Ft", "-z",
                            "-X", "stream", "-c", "fast",
                            "--label", f"kentcbs {target.parent.name}"])
    conn = cluster.connect(database.DB_NAME)
    try:
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with conn.cursor() as cur:
            cur.execute("SELECT current_setting('server_version')")
            version = cur.fetchone()[0]
            figures = table_figures(cur)
        conn.rollback()
    finally:
        conn.close()
    return {"mode": "embedded", "postgresql": version, "tables": figures,
            "wal_archive": str(cluster.wal_archive), "point_in_time_recovery": archiving}


def _backup_external(url: str, target: Path) -> dict[str, Any]:
    """pg_dump -Fc and the table figures from one exported snapshot: they always agree."""
    args, env, name = _external_params(url)
    conn = _external_connect(url)
    try:
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with conn.cursor() as cur:
            cur.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
            snapshot, version = cur.fetchone()
            _tool("pg_dump", [*args, "-Fc", "--snapshot", snapshot, "-f",
                              str(target / "kentcbs.dump"), name], env)
            figures = table_figures(cur)
        conn.rollback()
    finally:
        conn.close()
    return {"mode": "external", "postgresql": version, "tables": figures}


# -- scratch clusters --------------------------------------------------------------------------
@contextlib.contextmanager
def scratch_cluster() -> Iterator[database.EmbeddedCluster]:
    """A throw-away cluster on a free port, in a folder the cluster's user can reach."""
    import socket

    base = database.cluster_root().parent / "scratch"
    base.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="verify-", dir=base))
    home.chmod(0o755)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cluster = database.EmbeddedCluster(home=home, port=port)
    try:
        yield cluster
    finally:
        with contextlib.suppress(KentCBSError):
            cluster.stop()
        shutil.rmtree(home, ignore_errors=True)
        with contextlib.suppress(OSError):
            base.rmdir()  # only when no other verification runs


def _extract_base_backup(source: Path, data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    data_dir.chmod(0o700)
    with tarfile.open(source / "base.tar.gz") as tar:
        tar.extractall(data_dir, filter="fully_trusted")  # noqa: S202 (our checksummed backup)
    wal = data_dir / "pg_wal"
    wal.mkdir(exist_ok=True)
    with tarfile.open(source / "pg_wal.tar.gz") as tar:
        tar.extractall(wal, filter="fully_trusted")  # noqa: S202 (our checksummed backup)


def _recovery_settings(data_dir: Path, *, archive: Path | None, until: str | None) -> None:
    """Archive recovery to the backup's consistent point (or ``until``), then promote.

    Promotion starts a new timeline, so the WAL the restored cluster archives never
    collides with the archive's files of the timeline it came from.
    """
    restore = f"cp {archive}/%f %p" if archive and archive.is_dir() else "false"
    lines = ["# --- KentCBS restore (removed after recovery) ---",
             f"restore_command = '{restore}'", "recovery_target_action = 'promote'"]
    lines.append(f"recovery_target_time = '{until}'" if until else "recovery_target = 'immediate'")
    with open(data_dir / "postgresql.auto.conf", "a") as conf:
        conf.write("\n".join(lines) + "\n")
    (data_dir / "recovery.signal").touch()


def _clear_recovery_settings(cluster: database.EmbeddedCluster, *, timeout: float = 600) -> None:
    """Wait for the end of recovery (promotion), then drop the recovery settings."""
    conn = cluster.connect()
    conn.autocommit = True
    deadline = time.monotonic() + timeout
    try:
        with conn.cursor() as cur:
            while True:
                cur.execute("SELECT pg_is_in_recovery()")
                if not cur.fetchone()[0]:
                    break
                if time.monotonic() > deadline:
                    raise BackupError("BACKUP_RECOVERY_STUCK", "The restored database is still "
                                      "recovering. See {log}.", log=cluster.log_file)
                cur.execute("SELECT pg_sleep(0.2)")  # poll: recovery ends on its own
            for name in ("restore_command", "recovery_target_action", "recovery_target_time",
                         "recovery_target"):
                cur.execute(f"ALTER SYSTEM RESET {name}")
            cur.execute("SELECT pg_reload_conf()")
    finally:
        conn.close()


def _restore_into(cluster: database.EmbeddedCluster, source: Path, manifest: dict[str, Any], *,
                  until: str | None = None) -> None:
    """Fill ``cluster`` (stopped, empty data folder) from the backup's database part."""
    if manifest["mode"] == "embedded":
        _extract_base_backup(source / "database", cluster.data_dir)
        archive = Path(manifest["wal_archive"]) if manifest.get("wal_archive") else None
        _recovery_settings(cluster.data_dir, archive=archive, until=until)
        cluster._prepare_dirs()  # the cluster's own user owns the extracted files
        cluster.start(timeout=300)
        _clear_recovery_settings(cluster)
    else:
        cluster.ensure_ready()
        _pg_restore_local(cluster, source / "database" / "kentcbs.dump")


def _pg_restore_local(cluster: database.EmbeddedCluster, dump: Path) -> None:
    _tool("pg_restore", ["-h", str(cluster.socket_dir), "-p", str(cluster.port), "-U",
                         database.DB_USER, "-d", database.DB_NAME, "--clean", "--if-exists",
                         "--no-owner", "--no-privileges", str(dump)])


def figures_of(cluster: database.EmbeddedCluster) -> dict[str, dict[str, Any]]:
    conn = cluster.connect(database.DB_NAME)
    try:
        with conn.cursor() as cur:
            return table_figures(cur)
    finally:
        conn.close()


# -- verify ------------------------------------------------------------------------------------
def verify(folder: Path) -> list[str]:
    """Restore ``folder`` into a scratch cluster; return every difference (empty: all good).

    Checks the files against the manifest's SHA-256, then the restored tables' rows and
    checksums against the figures saved at backup time.
    """
    manifest = read_manifest(folder)
    problems = check_files(folder, manifest)
    if problems:
        return problems
    with scratch_cluster() as scratch:
        scratch._prepare_dirs()
        _restore_into(scratch, folder, manifest)
        problems += compare_figures(manifest["tables"], figures_of(scratch))
    return problems


# -- restore -----------------------------------------------------------------------------------
def restore(folder: Path, *, media_root: Path, until: str | None = None) -> dict[str, Any]:
    """Put the database and the media back as they were in the backup ``folder``.

    The embedded cluster's current data folder and the current media are kept beside
    (``data.before-restore-<time>``, ``media.before-restore-<time>``), never deleted.
    """
    folder = folder.resolve()
    manifest = read_manifest(folder)
    problems = check_files(folder, manifest)
    if problems:
        raise BackupError("BACKUP_DAMAGED", "The backup in {path} is damaged: {problems}",
                          path=folder, problems="; ".join(problems[:5]))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    kept: dict[str, Any] = {}
    url = database.database_url()
    if manifest["mode"] == "embedded":
        if url:
            raise BackupError("BACKUP_MODE_MISMATCH", "This backup is of an embedded cluster; "
                              "unset DATABASE_URL to restore it.")
        if until and not manifest.get("point_in_time_recovery"):
            raise BackupError("BACKUP_NO_PITR", "WAL archiving was not on when {path} was "
                              "taken: it restores to its own moment only (leave out --until).",
                              path=folder)
        cluster = database.EmbeddedCluster()
        cluster.stop()
        if cluster.data_dir.exists():
            aside = cluster.data_dir.with_name(f"data.before-restore-{stamp}")
            cluster.data_dir.rename(aside)
            kept["database"] = str(aside)
        _restore_into(cluster, folder, manifest, until=until)
    else:
        if until:
            raise BackupError("BACKUP_NO_PITR", "A pg_dump backup restores to its own moment "
                              "only; --until needs an embedded cluster's base backup.")
        if not url:
            raise BackupError("BACKUP_MODE_MISMATCH", "This backup is of an external database; "
                              "set DATABASE_URL to the database to restore it into.")
        args, env, name = _external_params(url)
        _tool("pg_restore", [*args, "-d", name, "--clean", "--if-exists", "--no-owner",
                             "--no-privileges", str(folder / "database" / "kentcbs.dump")], env)
    if media_root.exists():
        aside = media_root.with_name(f"{media_root.name}.before-restore-{stamp}")
        media_root.rename(aside)
        kept["media"] = str(aside)
    shutil.copytree(folder / "media", media_root, symlinks=True)
    return {"restored_from": str(folder), "kept_aside": kept, "until": until,
            "backup_started_at": manifest["started_at"]}


# -- reporting into other modules (netops' backup register) ------------------------------------
def report(*, ok: bool, size_bytes: int | None, detail: str,
           reporters: list[Callable[..., Any]]) -> list[str]:
    """Call every module's declared backup reporter; return the ones that failed (warnings).

    A register that cannot be written never turns a good backup into a failed one.
    """
    failures = []
    for reporter in reporters:
        try:
            reporter(ok=ok, size_bytes=size_bytes, detail=detail[:300], actor="kentcbs db backup")
        except Exception as exc:  # noqa: BLE001 (a module's failure is reported, never fatal)
            first = (str(exc).strip().splitlines() or [""])[0]
            failures.append(f"{getattr(reporter, '__module__', reporter)}: "
                            f"{type(exc).__name__}: {first[:200]}")
    return failures
