"""A failure in the middle of a load leaves the layer exactly as it was.

Three real failures: an error raised mid-COPY, the load connection terminated
from another connection (``pg_terminate_backend``) after the upsert but before
the commit, and the loading process killed with SIGKILL mid-COPY.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import quote

import geopandas as gpd
import pytest
import shapely
from django.db import connection, transaction
from pyproj import Transformer

from etl import load
from etl.models import BATCH_LOCK_SPACE, Batch, Quarantine
from etl.services import ingest
from etl.testing import create_layer_table, layer_rows, make_layer

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parent.parent
X0, Y0 = Transformer.from_crs(4326, 5254, always_xy=True).transform(30.52, 39.77)


def buildings(n: int, floors: int) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"bina_no": [f"B-{i}" for i in range(n)], "kat_sayisi": [floors] * n},
        geometry=[shapely.box(X0 + (i % 100) * 30, Y0 + (i // 100) * 30,
                              X0 + (i % 100) * 30 + 20, Y0 + (i // 100) * 30 + 20)
                  for i in range(n)], crs=5254)


@pytest.fixture
def loaded(tmp_path):
    """A layer with 50 features already stored, and a file that would change them all."""
    layer = make_layer("etl_fail")
    create_layer_table(layer)
    buildings(50, 2).to_file(tmp_path / "first.gpkg")
    assert ingest(layer=layer, path=tmp_path / "first.gpkg",
                  department="imar_sehircilik").status == "loaded"
    update = buildings(3000, 5)  # updates 49, inserts 2950
    update.loc[7, "kat_sayisi"] = 999  # one reject, so the quarantine is written too
    update.to_file(tmp_path / "second.gpkg")
    yield layer, tmp_path / "second.gpkg", layer_rows(layer)
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {layer.backing.table} CASCADE")


@pytest.mark.parametrize("fault", ["copy:raise", "upsert:raise", "upsert:terminate"])
def test_failure_leaves_layer_unchanged(loaded, monkeypatch, fault):
    layer, path, before = loaded
    monkeypatch.setattr(load, "FAULT", fault)
    batch = ingest(layer=layer, path=path, department="imar_sehircilik", chunk_size=1000)
    assert batch.status == "failed"
    assert batch.reason_code in ("LOAD_ERROR", "LOAD_DB_ERROR")
    assert "nothing was changed" in batch.message
    assert batch.count_loaded == 0 and batch.count_read > 0
    assert batch.count_read == batch.count_loaded + batch.count_rejected
    assert layer_rows(layer) == before
    assert Quarantine.objects.filter(batch=batch).count() == 0
    monkeypatch.setattr(load, "FAULT", None)
    retry = ingest(layer=layer, path=path, department="imar_sehircilik", chunk_size=1000)
    assert (retry.status, retry.count_inserted, retry.count_updated) == ("loaded", 2950, 49)


def test_no_environment_variable_or_setting_injects_a_fault(loaded, monkeypatch, settings):
    """The fault hook is reachable only from a test's own code: the environment variable
    that used to arm it, or a setting of that name, changes nothing."""
    layer, path, _before = loaded
    assert load.FAULT is None
    monkeypatch.setenv("KENTCBS_ETL_FAULT", "copy:raise")
    settings.KENTCBS_ETL_FAULT = "copy:raise"
    batch = ingest(layer=layer, path=path, department="imar_sehircilik", chunk_size=1000)
    assert (batch.status, batch.count_inserted, batch.count_updated) == ("loaded", 2950, 49)


def test_killed_process_mid_copy_leaves_layer_unchanged(loaded):
    layer, path, before = loaded
    db = connection.settings_dict
    url = (f"postgis://{db['USER']}@{quote(str(db['HOST']), safe='')}:{db['PORT']}/"
           f"{db['NAME']}")
    script = textwrap.dedent(f"""
        import django, os
        os.environ["DJANGO_SETTINGS_MODULE"] = "gis_core.settings"
        django.setup()
        from etl import load
        from etl.services import ingest
        from etl.testing import make_layer
        load.FAULT = "copy:kill"  # the test's own code, in the loading process
        b = ingest(layer=make_layer("etl_fail"), path={str(path)!r},
                   department="imar_sehircilik", chunk_size=1000)
        print("NOT KILLED", b.status, b.message)
    """)
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("KENTCBS_TEST_DB_NAME", None)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == -9, done.stderr[-2000:]
    assert "NOT KILLED" not in done.stdout
    assert layer_rows(layer) == before
    stale = Batch.objects.filter(layer_code="etl_fail").order_by("-pk").first()
    assert stale is not None and stale.status == "processing"  # its process died
    # the file's SHA-256 was stored beside the load, committed on its own
    assert stale.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert Quarantine.objects.filter(batch=stale).count() == 0
    # its lock died with its session: the next look at the batches says what happened
    assert Batch.objects.sweep_interrupted() == 1
    stale.refresh_from_db()
    assert (stale.status, stale.reason_code) == ("failed", "BATCH_INTERRUPTED")
    assert stale.message.startswith("Bu partiyi yükleyen süreç bitmeden durdu")  # Turkish first
    assert "Send the file again" in stale.message and stale.finished is not None
    assert stale.invariant_holds and stale.count_loaded == 0
    assert Batch.objects.sweep_interrupted() == 0


def test_a_running_batch_is_not_swept(loaded):
    """Only a batch whose process (its database session) is gone is marked interrupted."""
    import psycopg2

    layer, path, _before = loaded
    running = Batch.objects.create(layer_code=layer.code, department="imar_sehircilik",
                                   file_name="elsewhere.gpkg", sha256="")
    db = connection.settings_dict
    other = psycopg2.connect(host=db["HOST"], port=db["PORT"], dbname=db["NAME"],
                             user=db["USER"], password=db["PASSWORD"] or None)
    try:
        with other.cursor() as cur:  # the session of the process running it
            cur.execute("SELECT pg_advisory_lock(%s, %s)", [BATCH_LOCK_SPACE, running.pk])
        # an ingest meanwhile sweeps first: it leaves the running batch alone
        done = ingest(layer=layer, path=path, department="imar_sehircilik")
        assert done.status == "loaded"
        running.refresh_from_db()
        assert running.status == "processing"
    finally:
        other.close()  # that process dies
    # its backend ends after the client is gone: wait for the lock to be free (taking it
    # blocks until then), not for a time
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(%s, %s)", [BATCH_LOCK_SPACE, running.pk])
        cur.execute("SELECT pg_advisory_unlock(%s, %s)", [BATCH_LOCK_SPACE, running.pk])
    assert Batch.objects.sweep_interrupted() == 1
    running.refresh_from_db()
    assert (running.status, running.reason_code) == ("failed", "BATCH_INTERRUPTED")


def _indexes(table: str) -> list[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_get_indexdef(indexrelid) FROM pg_index "
                    "WHERE indrelid = %s::regclass ORDER BY 1", [table])
        return [row[0] for row in cur.fetchall()]


def test_bulk_load_rebuilds_indexes_and_restores_them_on_failure(loaded, monkeypatch):
    layer, path, before = loaded
    table = str(layer.backing.table)
    indexes = _indexes(table)
    assert any("gist" in ddl for ddl in indexes)
    monkeypatch.setattr(load, "BULK_MIN_ROWS", 10)
    monkeypatch.setattr(load, "FAULT", "upsert:raise")
    failed = ingest(layer=layer, path=path, department="imar_sehircilik")
    assert failed.status == "failed"
    assert layer_rows(layer) == before and _indexes(table) == indexes
    monkeypatch.setattr(load, "FAULT", None)
    done = ingest(layer=layer, path=path, department="imar_sehircilik")
    assert (done.status, done.count_inserted) == ("loaded", 2950)
    assert _indexes(table) == indexes


@pytest.mark.parametrize("fault", ["copy:raise", "upsert:raise"])
def test_failure_on_an_empty_layer_leaves_it_empty(tmp_path, monkeypatch, fault):
    """An empty layer is loaded by COPY straight into its table: still one transaction."""
    layer = make_layer("etl_fail_empty")
    create_layer_table(layer)
    update = buildings(3000, 5)
    update.loc[7, "kat_sayisi"] = 999
    update.to_file(tmp_path / "first.gpkg")
    try:
        monkeypatch.setattr(load, "FAULT", fault)
        failed = ingest(layer=layer, path=tmp_path / "first.gpkg",
                        department="imar_sehircilik", chunk_size=1000)
        assert (failed.status, failed.count_loaded) == ("failed", 0)
        assert layer_rows(layer) == []
        assert Quarantine.objects.filter(batch=failed).count() == 0
        monkeypatch.setattr(load, "FAULT", None)
        done = ingest(layer=layer, path=tmp_path / "first.gpkg", department="imar_sehircilik",
                      chunk_size=1000)
        assert (done.status, done.count_inserted, done.count_rejected) == ("loaded", 2999, 1)
        rows = layer_rows(layer)
        assert len(rows) == 2999 and all(r[4].startswith("SRID=5254;MULTIPOLYGON") for r in rows)
        assert {r[-1] for r in rows} == {done.pk}
        again = ingest(layer=layer, path=tmp_path / "first.gpkg", department="imar_sehircilik",
                       chunk_size=1000)
        assert (again.status, again.count_inserted, again.count_updated) == ("unchanged", 0, 0)
        assert layer_rows(layer) == rows
    finally:
        with connection.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {layer.backing.table} CASCADE")


def _constraints(table: str) -> list[tuple[str, str, str]]:
    with connection.cursor() as cur:
        cur.execute("SELECT conname, contype::text, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass ORDER BY 1", [table])
        return list(cur.fetchall())


@pytest.fixture
def empty_layer(tmp_path):
    """An empty layer with one more unique index the layer's standard does not know about
    (so validation lets a duplicate through and only the index rebuild can find it)."""
    layer = make_layer("etl_fail_keys")
    create_layer_table(layer)
    table = str(layer.backing.table)
    with connection.cursor() as cur:
        cur.execute(f"CREATE UNIQUE INDEX etl_fail_keys_ad ON {table} (ad)")
    yield layer, table
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
        cur.execute("DROP TABLE IF EXISTS etl_fail_keys_ref")


def test_bulk_load_into_empty_layer_rebuilds_keys_and_a_duplicate_rolls_back(
        empty_layer, tmp_path, monkeypatch):
    """Keys are dropped and built once after the load; a duplicate found only by that
    rebuild fails the batch, and the layer, its keys and indexes are as before."""
    layer, table = empty_layer
    constraints, indexes = _constraints(table), _indexes(table)
    assert {c[1] for c in constraints} >= {"p", "u", "c"}
    monkeypatch.setattr(load, "BULK_MIN_ROWS", 10)
    update = buildings(3000, 5)
    update["ad"] = [f"Bina {i}" for i in range(3000)]
    update.loc[2500, "ad"] = "Bina 10"  # a duplicate only the extra unique index sees
    update.to_file(tmp_path / "dup.gpkg")
    failed = ingest(layer=layer, path=tmp_path / "dup.gpkg", department="imar_sehircilik",
                    chunk_size=1000)
    assert (failed.status, failed.reason_code, failed.count_loaded) == (
        "failed", "LOAD_DB_ERROR", 0)
    assert "nothing was changed" in failed.message and "etl_fail_keys_ad" in failed.message
    assert failed.count_read == failed.count_rejected == 3000
    assert layer_rows(layer) == []
    assert Quarantine.objects.filter(batch=failed).count() == 0
    assert _constraints(table) == constraints and _indexes(table) == indexes

    update.loc[2500, "ad"] = "Bina 2500"
    update.loc[7, "bina_no"] = "B-6"  # caught by validation: quarantined, not loaded
    update.to_file(tmp_path / "good.gpkg")
    done = ingest(layer=layer, path=tmp_path / "good.gpkg", department="imar_sehircilik",
                  chunk_size=1000)
    assert (done.status, done.count_inserted, done.count_rejected) == ("loaded", 2999, 1)
    assert _constraints(table) == constraints and _indexes(table) == indexes
    with connection.cursor() as cur:  # the rebuilt keys are enforced
        cur.execute(f"SELECT count(*) FROM {table} WHERE bina_no = 'B-6'")
        assert cur.fetchone()[0] == 1
        with pytest.raises(Exception, match="etl_fail_keys_key"), transaction.atomic():
            cur.execute(f"INSERT INTO {table} (bina_no, geom) SELECT bina_no, geom "
                        f"FROM {table} LIMIT 1")


def test_keys_referenced_by_a_foreign_key_are_kept(empty_layer, monkeypatch):
    """A key that a foreign key references is not dropped for a bulk load; neither are
    the indexes a load grows in order (the serial primary key, batch_id)."""
    from etl.models import Batch

    layer, table = empty_layer
    with connection.cursor() as cur:
        cur.execute(f"CREATE TABLE etl_fail_keys_ref (bina text REFERENCES {table} (bina_no))")
    monkeypatch.setattr(load, "BULK_MIN_ROWS", 10)
    batch = Batch.objects.create(layer_code=layer.code, department="imar_sehircilik",
                                 file_name="x.gpkg")
    with pytest.raises(RuntimeError, match="look only"), load.BatchLoader(
            layer=layer, batch_id=batch.pk, expected_rows=1000):
        kept = {c[0] for c in _constraints(table)}
        kept_indexes = " ".join(_indexes(table))
        raise RuntimeError("look only")
    assert "etl_fail_keys_key" in kept  # referenced: kept
    assert "etl_fail_keys_pkey" in kept and "(batch_id)" in kept_indexes  # grown in order
    assert "etl_fail_keys_ad" not in kept_indexes and "gist" not in kept_indexes  # rebuilt
    assert {c[0] for c in _constraints(table)} >= {"etl_fail_keys_pkey", "etl_fail_keys_key"}
    assert "etl_fail_keys_ad" in " ".join(_indexes(table))  # restored by the rollback
