"""Two batches on one layer, from two processes on two connections: the second waits for
the first, and readers are not blocked while a batch loads.

Synchronised by events, not by time: batch A (its own process) stops after its first
COPY, inside its transaction, at a gate (a session advisory lock the test holds) and
says so on its stdout; batch B (another process) is then seen waiting for the layer's
lock in ``pg_locks``. Meanwhile a reader takes its lock with ``NOWAIT`` (a conflict would
raise at once) and sees the layer as it was, and a writer's ``NOWAIT`` lock fails. Once
the gate opens, A commits and B loads after it: B finds A's rows (updates 50, inserts 50).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import quote

import geopandas as gpd
import psycopg2
import pytest
import shapely
from django.db import connection
from psycopg2 import errors
from pyproj import Transformer

from etl.services import ingest
from etl.testing import create_layer_table, layer_rows, make_layer

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parent.parent
X0, Y0 = Transformer.from_crs(4326, 5254, always_xy=True).transform(30.52, 39.77)
GATE = 5254_0023  # advisory lock key of the gate

SCRIPT = textwrap.dedent("""
    import os, sys
    os.environ["DJANGO_SETTINGS_MODULE"] = "gis_core.settings"
    import django
    django.setup()
    import psycopg2
    from django.db import connection
    from etl import load
    from etl.services import ingest
    from etl.testing import make_layer

    path, gate = sys.argv[1], int(sys.argv[2])

    def at_gate(point, raw=None):  # the test's own hook, in this process only
        if point != "copy" or not gate:
            return
        print("PAUSED", flush=True)  # inside the load's transaction, layer locked
        waiter = psycopg2.connect(**connection.get_connection_params())
        with waiter.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", [gate])  # until the test opens it
        waiter.close()

    load.fault = at_gate
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        print("PID", cur.fetchone()[0], flush=True)
    batch = ingest(layer=make_layer("etl_conc"), path=path, department="imar_sehircilik")
    print("DONE", batch.status, batch.count_inserted, batch.count_updated, flush=True)
""")


def buildings(keys: range, floors: int) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"bina_no": [f"B-{i}" for i in keys], "kat_sayisi": [floors] * len(keys)},
        geometry=[shapely.box(X0 + (i % 100) * 30, Y0 + (i // 100) * 30,
                              X0 + (i % 100) * 30 + 20, Y0 + (i // 100) * 30 + 20)
                  for i in keys], crs=5254)


def start(path: Path, gate: int) -> subprocess.Popen[str]:
    db = connection.settings_dict
    url = (f"postgis://{db['USER']}@{quote(str(db['HOST']), safe='')}:{db['PORT']}/"
           f"{db['NAME']}")
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("KENTCBS_TEST_DB_NAME", None)
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(path), str(gate)], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def line(proc: subprocess.Popen[str], word: str) -> list[str]:
    """The process's next stdout line, which must start with ``word`` (blocks until then)."""
    assert proc.stdout is not None
    text = proc.stdout.readline()
    if not text.startswith(word):
        proc.kill()
        raise AssertionError(f"expected {word}, got {text!r}: {proc.communicate()[1][-3000:]}")
    return text.split()[1:]


@pytest.fixture
def layer(tmp_path):
    definition = make_layer("etl_conc")
    create_layer_table(definition)
    buildings(range(1000, 1010), 1).to_file(tmp_path / "first.gpkg")
    assert ingest(layer=definition, path=tmp_path / "first.gpkg",
                  department="imar_sehircilik").status == "loaded"
    yield definition
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {definition.backing.table} CASCADE")


def waiting_for(watch, pid: int, table: str) -> bool:
    with watch.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND relation = %s::regclass "
                    "AND NOT granted", [pid, table])
        return bool(cur.fetchone()[0])


def test_batches_on_one_layer_wait_for_each_other_and_readers_do_not(layer, tmp_path):
    table = str(layer.backing.table)
    buildings(range(0, 100), 2).to_file(tmp_path / "a.gpkg")
    buildings(range(50, 150), 3).to_file(tmp_path / "b.gpkg")
    params = connection.get_connection_params()
    gatekeeper = psycopg2.connect(**params)
    gatekeeper.autocommit = True
    watch = psycopg2.connect(**params)
    watch.autocommit = True
    reader = psycopg2.connect(**params)
    first = second = None
    try:
        with gatekeeper.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", [GATE])
        first = start(tmp_path / "a.gpkg", GATE)
        line(first, "PID")
        line(first, "PAUSED")  # A has COPYed its first chunk and holds the layer's lock

        second = start(tmp_path / "b.gpkg", 0)
        b_pid = int(line(second, "PID")[0])
        # B reaches the layer's lock and waits there (a condition, polled in the database)
        with watch.cursor() as cur:
            for _ in range(3000):  # a guard against a hang only
                if waiting_for(watch, b_pid, table) or second.poll() is not None:
                    break
                cur.execute("SELECT pg_sleep(0.02)")
        assert waiting_for(watch, b_pid, table), "batch B is not waiting for batch A"
        assert second.poll() is None

        # a reader is not blocked: its lock is granted at once (NOWAIT raises otherwise),
        # and it sees the layer as it was before A
        with reader.cursor() as cur:
            cur.execute(f"LOCK TABLE {table} IN ACCESS SHARE MODE NOWAIT")
            cur.execute(f"SELECT count(*), count(*) FILTER (WHERE kat_sayisi = 1) FROM {table}")
            assert cur.fetchone() == (10, 10)
        reader.rollback()
        # a third writer could not start either
        with reader.cursor() as cur, pytest.raises(errors.LockNotAvailable):
            cur.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE NOWAIT")
        reader.rollback()

        with gatekeeper.cursor() as cur:  # open the gate: A commits, then B loads
            cur.execute("SELECT pg_advisory_unlock(%s)", [GATE])
        assert line(first, "DONE") == ["loaded", "100", "0"]
        assert line(second, "DONE") == ["loaded", "50", "50"]  # it saw A's rows
    finally:
        for proc in (first, second):
            if proc is not None:
                proc.kill()
                proc.communicate()
        for conn in (gatekeeper, watch, reader):
            conn.close()
    rows = {r[0]: r[3] for r in layer_rows(layer)}
    assert len(rows) == 160
    assert {rows[f"B-{i}"] for i in range(0, 50)} == {2}
    assert {rows[f"B-{i}"] for i in range(50, 150)} == {3}
