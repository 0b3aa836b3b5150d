"""A batch's status says what happened, and it never contradicts the layer's table.

Issue 16: a raised error is a failed batch with its own reason code at once (not swept
later as a dead process); the final status commits in the load's own transaction (a kill
between the commit and the reports leaves a batch that says ``loaded``); an upload whose
every feature is rejected is not ``unchanged``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import quote

import geopandas as gpd
import pytest
import shapely
from django.db import connection
from pyproj import Transformer

from etl.models import Batch, Quarantine
from etl.services import ingest
from etl.testing import create_layer_table, layer_rows, make_layer
from tests.conftest import kentcbs

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parent.parent
X0, Y0 = Transformer.from_crs(4326, 5254, always_xy=True).transform(30.52, 39.77)


def buildings(n: int, floors: int = 3) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"bina_no": [f"B-{i}" for i in range(n)], "kat_sayisi": [floors] * n},
        geometry=[shapely.box(X0 + i * 30, Y0, X0 + i * 30 + 20, Y0 + 20) for i in range(n)],
        crs=5254)


@pytest.fixture
def layer():
    definition = make_layer("etl_status")
    create_layer_table(definition)
    yield definition
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {definition.backing.table} CASCADE")


def database_url() -> str:
    db = connection.settings_dict
    return (f"postgis://{db['USER']}@{quote(str(db['HOST']), safe='')}:{db['PORT']}/"
            f"{db['NAME']}")


def test_null_geometries_over_stored_keys_load_without_a_crash(layer, tmp_path):
    """Re-sending a corrected file whose earlier version loaded, with null geometries in it:
    the datum-shift check skipped them (it crashed on ``None.is_empty``)."""
    first = buildings(6)
    first.to_file(tmp_path / "first.gpkg")
    assert ingest(layer=layer, path=tmp_path / "first.gpkg",
                  department="imar_sehircilik").status == "loaded"
    second = buildings(6, floors=4)
    second.loc[[0, 3], "geometry"] = None
    second.to_file(tmp_path / "second.gpkg")
    batch = ingest(layer=layer, path=tmp_path / "second.gpkg", department="imar_sehircilik")
    assert (batch.status, batch.count_loaded, batch.count_rejected, batch.count_updated) == (
        "loaded", 4, 2, 4)
    assert {q.errors[0]["code"] for q in Quarantine.objects.filter(batch=batch)} == {
        "GEOM_EMPTY"}


def test_an_unexpected_error_fails_the_batch_at_once(layer, tmp_path, monkeypatch):
    """Not a database or load error: the batch is failed with its own code, its lock is
    released, and no later sweep rewrites it as an interrupted process."""
    from etl import services

    def broken(*args, **kwargs):
        raise AttributeError("'NoneType' object has no attribute 'is_empty'")

    buildings(6).to_file(tmp_path / "first.gpkg")
    assert ingest(layer=layer, path=tmp_path / "first.gpkg",
                  department="imar_sehircilik").status == "loaded"
    before = layer_rows(layer)
    monkeypatch.setattr(services, "_stored_offsets", broken)
    buildings(6, floors=5).to_file(tmp_path / "second.gpkg")
    batch = ingest(layer=layer, path=tmp_path / "second.gpkg", department="imar_sehircilik")
    assert (batch.status, batch.reason_code) == ("failed", "INGEST_ERROR")
    assert "is_empty" in batch.message and "nothing was changed" in batch.message
    assert batch.invariant_holds and batch.count_loaded == 0 and batch.finished is not None
    assert layer_rows(layer) == before
    assert Batch.objects.sweep_interrupted() == 0
    batch.refresh_from_db()
    assert (batch.status, batch.reason_code) == ("failed", "INGEST_ERROR")


def test_killed_between_commit_and_reports_the_batch_says_loaded(layer, tmp_path):
    """Chaos: the ingest process is killed (SIGKILL) right after its load committed, before
    the reports are written. The batch's status committed with its rows: no sweep makes it
    "failed, nothing loaded", and sending the file again says unchanged, consistently."""
    frame = buildings(40)
    frame.loc[5, "kat_sayisi"] = 999  # one reject: the quarantine commits with the rows too
    path = tmp_path / "binalar.gpkg"
    frame.to_file(path)
    script = textwrap.dedent(f"""
        import django, os
        os.environ["DJANGO_SETTINGS_MODULE"] = "gis_core.settings"
        django.setup()
        from etl import load
        from etl.services import ingest
        from etl.testing import make_layer
        load.FAULT = "committed:kill"  # the test's own code, in the loading process
        b = ingest(layer=make_layer("etl_status"), path={str(path)!r},
                   department="imar_sehircilik")
        print("NOT KILLED", b.status)
    """)
    for kill in range(3):  # a few kills: each leaves a batch that agrees with the table
        env = {**os.environ, "DATABASE_URL": database_url(), "KENTCBS_TEST_DB_NAME": ""}
        done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == -9, done.stderr[-2000:]
        assert "NOT KILLED" not in done.stdout
        killed = Batch.objects.order_by("-pk").first()
        assert Batch.objects.sweep_interrupted() == 0  # its status is stored: not swept
        shown = kentcbs("batches", "show", str(killed.pk),
                        env={"DATABASE_URL": database_url(), "KENTCBS_TEST_DB_NAME": ""})
        assert shown.returncode == 0, shown.stderr
        killed.refresh_from_db()
        rows = layer_rows(layer)
        assert len(rows) == 39
        if kill == 0:
            assert (killed.status, killed.count_loaded, killed.count_rejected,
                    killed.count_inserted) == ("loaded", 39, 1, 39)
            assert "loaded" in shown.stdout and "39" in shown.stdout
            assert {row[-1] for row in rows} == {killed.pk}
        else:  # the same file again: unchanged, and it says so although it was killed too
            assert (killed.status, killed.count_loaded, killed.count_rejected,
                    killed.count_unchanged) == ("unchanged", 39, 1, 39)
            assert "unchanged" in shown.stdout
        assert killed.invariant_holds and killed.finished is not None
        assert Quarantine.objects.filter(batch=killed).count() == 1
    again = ingest(layer=layer, path=path, department="imar_sehircilik")
    assert (again.status, again.count_unchanged) == ("unchanged", 39)
    assert Batch.objects.filter(status="failed").count() == 0


def test_every_feature_rejected_is_not_unchanged(layer, tmp_path):
    frame = buildings(4)
    frame["kat_sayisi"] = 999  # RANGE error on every feature
    frame.to_file(tmp_path / "all_bad.gpkg")
    batch = ingest(layer=layer, path=tmp_path / "all_bad.gpkg", department="imar_sehircilik")
    assert (batch.status, batch.count_loaded, batch.count_rejected) == ("rejected", 0, 4)
    assert "already stored" not in batch.message and "nothing changed" not in batch.message
    assert batch.message.startswith("Her nesnede (4) hata var")  # Turkish first
    assert "Every feature (4) has errors; nothing was loaded" in batch.message
    assert Quarantine.objects.filter(batch=batch).count() == 4
    assert layer_rows(layer) == []
    # the same again over stored rows: still rejected, never "unchanged"
    buildings(4).to_file(tmp_path / "good.gpkg")
    assert ingest(layer=layer, path=tmp_path / "good.gpkg",
                  department="imar_sehircilik").status == "loaded"
    again = ingest(layer=layer, path=tmp_path / "all_bad.gpkg", department="imar_sehircilik")
    assert (again.status, again.count_rejected) == ("rejected", 4)


def test_nothing_changed_with_some_rejects_says_both(layer, tmp_path):
    frame = buildings(4)
    frame.to_file(tmp_path / "good.gpkg")
    assert ingest(layer=layer, path=tmp_path / "good.gpkg",
                  department="imar_sehircilik").status == "loaded"
    frame.loc[1, "kat_sayisi"] = 999
    frame.to_file(tmp_path / "one_bad.gpkg")
    batch = ingest(layer=layer, path=tmp_path / "one_bad.gpkg", department="imar_sehircilik")
    assert (batch.status, batch.count_rejected, batch.count_unchanged) == ("unchanged", 1, 3)
    assert "Every feature is already stored" not in batch.message
    assert "the 3 feature(s) without errors are already stored as sent; 1 feature(s) were " \
           "rejected" in batch.message


def test_reports_that_cannot_be_written_leave_the_batch_as_loaded(layer, tmp_path, monkeypatch):
    """After the commit nothing can turn a loaded batch into a failure or a traceback: a
    report that cannot be written (disk full) is logged and the batch has no report paths."""
    from etl import report

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report, "write_all", disk_full)
    buildings(5).to_file(tmp_path / "b.gpkg")
    batch = ingest(layer=layer, path=tmp_path / "b.gpkg", department="imar_sehircilik")
    assert (batch.status, batch.count_inserted, batch.report_json) == ("loaded", 5, "")
    batch.refresh_from_db()
    assert batch.status == "loaded" and batch.finished is not None
    assert len(layer_rows(layer)) == 5
