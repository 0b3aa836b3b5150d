"""`kentcbs db backup|restore|verify` on a real embedded cluster of the test's own.

Each test runs the real ``kentcbs`` command against a cluster in its own KENTCBS_HOME (on a
free port), so the test database of the run is never touched.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gis_core import backup, database
from tests.conftest import ROOT, free_port, kentcbs


@dataclass
class Site:
    home: Path
    env: dict[str, str]

    @property
    def cluster(self) -> database.EmbeddedCluster:
        return database.EmbeddedCluster(home=self.home, port=int(self.env["KENTCBS_DB_PORT"]))

    @property
    def media(self) -> Path:
        return self.home / "media"

    def run(self, *args: str, ok: bool = True) -> object:
        result = kentcbs(*args, env=self.env, timeout=600)
        if ok:
            assert result.returncode == 0, result.stderr
        return result

    def sql(self, statement: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        conn = self.cluster.connect(database.DB_NAME)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(statement, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()


@pytest.fixture
def site() -> Iterator[Site]:
    home = ROOT / "var" / f"test-backup-{uuid.uuid4().hex[:8]}"
    env = {"KENTCBS_HOME": str(home), "KENTCBS_DB_PORT": str(free_port()), "DATABASE_URL": ""}
    here = Site(home, env)
    try:
        here.run("db", "start")
        here.sql("CREATE TABLE parcel (id int PRIMARY KEY, name text, "
                 "geom geometry(Point, 5254))")
        here.sql("INSERT INTO parcel SELECT i, 'Parsel ' || i, "
                 "ST_SetSRID(ST_MakePoint(500000 + i, 4400000 + i), 5254) "
                 "FROM generate_series(1, 500) i")
        (here.media / "reports").mkdir(parents=True, exist_ok=True)
        (here.media / "reports" / "rapor.pdf").write_bytes(b"%PDF-1.4 kentcbs\n")
        yield here
    finally:
        kentcbs("db", "stop", env=env)
        root = database.cluster_root(home)
        shutil.rmtree(home, ignore_errors=True)
        if root.is_relative_to(database.SHARED_CLUSTERS):
            shutil.rmtree(root.parent, ignore_errors=True)


def _backup(site: Site, name: str, *extra: str) -> tuple[Path, dict[str, object]]:
    folder = site.home / "backups-test" / name
    out = site.run("db", "backup", "--to", str(folder), "--json", *extra)
    return folder, json.loads(out.stdout)  # type: ignore[attr-defined]


def test_backup_change_restore_gives_back_the_backup_point(site: Site) -> None:
    folder, info = _backup(site, "one")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["mode"] == "embedded"
    assert manifest["tables"]["public.parcel"]["rows"] == 500
    assert {"database/base.tar.gz", "database/pg_wal.tar.gz",
            "media/reports/rapor.pdf"} <= set(manifest["files"])
    assert info["tables"] == len(manifest["tables"])
    before = site.sql("SELECT md5(string_agg(p::text, ',' ORDER BY id)) FROM parcel p")

    # change data and media after the backup
    site.sql("DELETE FROM parcel WHERE id <= 100")
    site.sql("UPDATE parcel SET name = 'değişti' WHERE id = 300")
    site.sql("CREATE TABLE after_backup (id int)")
    (site.media / "reports" / "rapor.pdf").write_bytes(b"overwritten")
    (site.media / "reports" / "new.pdf").write_bytes(b"new")

    restored = json.loads(site.run("db", "restore", str(folder), "--json").stdout)  # type: ignore[attr-defined]
    assert site.sql("SELECT count(*) FROM parcel") == [(500,)]
    assert site.sql("SELECT md5(string_agg(p::text, ',' ORDER BY id)) FROM parcel p") == before
    assert site.sql("SELECT to_regclass('after_backup')::text") == [(None,)]
    assert (site.media / "reports" / "rapor.pdf").read_bytes() == b"%PDF-1.4 kentcbs\n"
    assert not (site.media / "reports" / "new.pdf").exists()
    # the pre-restore state is kept aside, never deleted
    assert Path(restored["kept_aside"]["media"], "reports", "new.pdf").read_bytes() == b"new"
    assert Path(restored["kept_aside"]["database"], "PG_VERSION").exists()
    # every table as the manifest recorded it at the backup point
    conn = site.cluster.connect(database.DB_NAME)
    with conn.cursor() as cur:
        assert backup.compare_figures(manifest["tables"], backup.table_figures(cur)) == []
    conn.close()
    # the restored cluster is writable (promoted), and backs up again
    site.sql("INSERT INTO parcel VALUES (501, 'yeni', NULL)")
    _backup(site, "two")


def test_point_in_time_restore_from_the_wal_archive(site: Site) -> None:
    # the first backup switches archiving on; it is active from the next start
    first, info = _backup(site, "first")
    assert info["point_in_time_recovery"] is False
    refused = site.run("db", "restore", str(first), "--until", "2030-01-01 00:00:00+00",
                       ok=False)
    assert "BACKUP_NO_PITR" in refused.stderr  # type: ignore[attr-defined]
    assert site.sql("SELECT count(*) FROM parcel") == [(500,)]  # nothing was touched
    site.run("db", "stop")
    site.run("db", "start")
    folder, info = _backup(site, "base")
    assert info["point_in_time_recovery"] is True

    site.sql("INSERT INTO parcel VALUES (1001, 'T anından önce', NULL)")
    (moment,) = site.sql("SELECT clock_timestamp()::text")[0]
    site.sql("INSERT INTO parcel VALUES (1002, 'T anından sonra', NULL)")
    # close the WAL segment so the archiver copies the commits above into the archive
    (segment,) = site.sql("SELECT pg_walfile_name(pg_switch_wal())")[0]
    for _ in range(600):
        (done,) = site.sql("SELECT last_archived_wal >= %s FROM pg_stat_archiver",
                           (segment,))[0]
        if done:
            break
        site.sql("SELECT pg_sleep(0.1)")
    assert done, "the archiver never archived the segment"

    site.run("db", "restore", str(folder), "--until", str(moment))
    ids = [row[0] for row in site.sql("SELECT id FROM parcel WHERE id > 1000 ORDER BY id")]
    assert ids == [1001]


def test_backup_verify_passes_and_a_damaged_backup_is_named(site: Site) -> None:
    folder, info = _backup(site, "checked", "--verify")
    assert info["verified"] is True
    assert site.run("db", "verify", str(folder)).returncode == 0  # type: ignore[attr-defined]

    # the manifest says 499 rows: the restored copy has 500, and verify names the table
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["tables"]["public.parcel"]["rows"] = 499
    manifest_path.write_text(json.dumps(manifest))
    result = site.run("db", "verify", str(folder), ok=False)
    assert result.returncode != 0  # type: ignore[attr-defined]
    assert "BACKUP_VERIFY_FAILED" in result.stderr  # type: ignore[attr-defined]
    assert "public.parcel: 499 rows saved, 500 restored" in result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in result.stderr  # type: ignore[attr-defined]

    # a changed file fails its checksum, before any restore
    (folder / "media" / "reports" / "rapor.pdf").write_bytes(b"bit rot")
    result = site.run("db", "verify", str(folder), ok=False)
    assert "media/reports/rapor.pdf: checksum differs" in result.stderr  # type: ignore[attr-defined]
    restore = site.run("db", "restore", str(folder), ok=False)
    assert "BACKUP_DAMAGED" in restore.stderr  # type: ignore[attr-defined]


def test_external_database_is_dumped_and_verified(site: Site) -> None:
    """With DATABASE_URL, pg_dump -Fc; verify restores it into a scratch cluster."""
    socket_dir = str(site.cluster.socket_dir).replace("/", "%2F")
    url = f"postgis://{database.DB_USER}@{socket_dir}:{site.env['KENTCBS_DB_PORT']}/kentcbs"
    external = Site(site.home, {**site.env, "DATABASE_URL": url})
    folder, info = _backup(external, "dump", "--verify")
    assert info["mode"] == "external" and info["verified"] is True
    assert (folder / "database" / "kentcbs.dump").stat().st_size > 0
    site.sql("DELETE FROM parcel")
    external.run("db", "restore", str(folder))
    assert site.sql("SELECT count(*) FROM parcel") == [(500,)]


@pytest.mark.django_db
def test_each_backup_run_reaches_the_netops_register() -> None:
    """netops declares a backup reporter (ModuleSpec.backup_reporters); gis_core calls it."""
    from gis_core.management.commands.db import _reporters
    from modules.netops.models import BackupRun

    reporters = _reporters()
    assert any(r.__module__ == "modules.netops.kentcbs" for r in reporters)
    assert backup.report(ok=True, size_bytes=1234, detail="/srv/yedek: 80 tables",
                         reporters=reporters) == []
    assert backup.report(ok=False, size_bytes=None, detail="pg_basebackup failed",
                         reporters=reporters) == []
    runs = list(BackupRun.objects.filter(target__code="kentcbs").order_by("id"))
    assert [(r.status, r.size_bytes) for r in runs] == [("ok", 1234), ("failed", None)]
    assert runs[1].target.alerts.filter(closed_at__isnull=True).exists()
