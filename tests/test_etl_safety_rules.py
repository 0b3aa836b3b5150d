"""Data-safety rules of issue 16: a systematic shift against stored data refuses the batch
unless the sender accepts it; a few far features are rejected, not the whole file; every
row names the batch that wrote it."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from django.db import connection
from pyproj import Transformer

from etl.models import Quarantine
from etl.services import ingest
from etl.testing import create_layer_table, layer_rows, make_layer

pytestmark = pytest.mark.django_db(transaction=True)
X0, Y0 = Transformer.from_crs(4326, 5254, always_xy=True).transform(30.52, 39.77)


@pytest.fixture
def layer():
    definition = make_layer("etl_shift")
    create_layer_table(definition)
    yield definition
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {definition.backing.table} CASCADE")


def grid(n: int = 20) -> gpd.GeoDataFrame:
    cells = [(X0 + (i % 5) * 40, Y0 + (i // 5) * 40) for i in range(n)]
    return gpd.GeoDataFrame({"bina_no": [f"B-{i}" for i in range(n)], "kat_sayisi": [2] * n},
                            geometry=[shapely.box(x, y, x + 20, y + 20) for x, y in cells],
                            crs=5254)


def diagnostics(batch) -> dict[str, dict]:
    report = json.loads(Path(batch.report_json).read_text(encoding="utf-8"))
    return {d["code"]: d for d in report["diagnostics"]}


def test_ed50_declared_as_turef_is_refused_unless_the_shift_is_accepted(layer, tmp_path):
    frame = grid()
    frame.to_file(tmp_path / "itrf.gpkg")
    assert ingest(layer=layer, path=tmp_path / "itrf.gpkg",
                  department="imar_sehircilik").status == "loaded"
    stored = layer_rows(layer)
    ed50 = frame.to_crs(2320).set_crs(5254, allow_override=True)  # ED50 numbers, TUREF label
    ed50.to_file(tmp_path / "ed50.gpkg")
    refused = ingest(layer=layer, path=tmp_path / "ed50.gpkg", department="imar_sehircilik")
    assert (refused.status, refused.reason_code) == ("refused", "CRS_ED50_SUSPECTED")
    assert refused.count_loaded == 0 and refused.invariant_holds
    metres = float(diagnostics(refused)["CRS_ED50_SUSPECTED"]["params"]["m"])
    assert 150 < metres < 220, metres  # ~188 m at Odunpazarı
    assert "--accept-shift" in refused.message and refused.message.startswith("Veri, kayıtlı")
    assert layer_rows(layer) == stored  # the stored buildings did not move
    # a dry run tells the same
    dry = ingest(layer=layer, path=tmp_path / "ed50.gpkg", department="imar_sehircilik",
                 dry_run=True)
    assert (dry.status, dry.reason_code) == ("refused", "CRS_ED50_SUSPECTED")

    accepted = ingest(layer=layer, path=tmp_path / "ed50.gpkg", department="imar_sehircilik",
                      accept_shift=True)
    assert (accepted.status, accepted.count_updated) == ("loaded", 20)
    found = diagnostics(accepted)
    assert found["CRS_ED50_SUSPECTED"]["severity"] == "warning"
    assert found["SHIFT_ACCEPTED"]["severity"] == "warning"
    assert layer_rows(layer) != stored


@pytest.mark.parametrize(("dx", "dy", "refused"), [
    (3.0, -2.0, True),  # a systematic few metres: refused (over the 1 m default tolerance)
    (0.4, 0.0, False),  # under the tolerance: a re-survey, loads
])
def test_any_systematic_shift_over_the_tolerance_is_refused(layer, tmp_path, dx, dy, refused):
    frame = grid()
    frame.to_file(tmp_path / "first.gpkg")
    assert ingest(layer=layer, path=tmp_path / "first.gpkg",
                  department="imar_sehircilik").status == "loaded"
    moved = frame.copy()
    moved["geometry"] = moved.geometry.translate(dx, dy)
    moved.to_file(tmp_path / "moved.gpkg")
    batch = ingest(layer=layer, path=tmp_path / "moved.gpkg", department="imar_sehircilik")
    if refused:
        assert (batch.status, batch.reason_code) == ("refused", "DATA_SHIFTED")
        assert "3.6 m" in batch.message and "+3.0 m east" in batch.message
        assert ingest(layer=layer, path=tmp_path / "moved.gpkg", department="imar_sehircilik",
                      accept_shift=True).status == "loaded"
    else:
        assert batch.status == "loaded"


def test_a_few_edited_features_are_not_a_shift(layer, tmp_path):
    frame = grid()
    frame.to_file(tmp_path / "first.gpkg")
    ingest(layer=layer, path=tmp_path / "first.gpkg", department="imar_sehircilik")
    edited = frame.copy()
    edited.loc[[1, 7, 12], "geometry"] = edited.loc[[1, 7, 12], "geometry"].translate(15, 5)
    edited.to_file(tmp_path / "edited.gpkg")
    batch = ingest(layer=layer, path=tmp_path / "edited.gpkg", department="imar_sehircilik")
    assert (batch.status, batch.count_updated) == ("loaded", 3)


def helsinki(n: int) -> list[shapely.Polygon]:
    hx, hy = Transformer.from_crs(4326, 5254, always_xy=True).transform(24.94, 60.17)
    return [shapely.box(hx + i * 30, hy, hx + i * 30 + 20, hy + 20) for i in range(n)]


def test_a_few_features_far_away_are_rejected_not_the_whole_file(layer, tmp_path):
    frame = grid(50)
    frame.loc[45:, "geometry"] = helsinki(5)  # 45 in the municipality, 5 in Helsinki
    frame.to_file(tmp_path / "mixed.gpkg")
    batch = ingest(layer=layer, path=tmp_path / "mixed.gpkg", department="imar_sehircilik")
    assert (batch.status, batch.count_loaded, batch.count_rejected) == ("loaded", 45, 5)
    codes = {q.feature_index: [e["code"] for e in q.errors]
             for q in Quarantine.objects.filter(batch=batch)}
    assert codes == {i: ["OUTSIDE_MUNICIPALITY"] for i in range(45, 50)}
    assert len(layer_rows(layer)) == 45


def test_a_file_mostly_far_away_is_refused_whole(layer, tmp_path):
    frame = grid(50)
    frame.loc[5:, "geometry"] = helsinki(45)  # 5 in the municipality, 45 in Helsinki
    frame.to_file(tmp_path / "far.gpkg")
    batch = ingest(layer=layer, path=tmp_path / "far.gpkg", department="imar_sehircilik")
    assert (batch.status, batch.reason_code) == ("refused", "CRS_OUTSIDE_AREA")
    assert layer_rows(layer) == []


def test_every_row_names_the_batch_that_last_wrote_it(layer, tmp_path):
    """Ready for a batch undo: each row carries the id of the batch that wrote its current
    version (an unchanged row keeps the older one)."""
    frame = grid(6)
    frame.to_file(tmp_path / "first.gpkg")
    first = ingest(layer=layer, path=tmp_path / "first.gpkg", department="imar_sehircilik")
    frame.loc[[0, 1], "kat_sayisi"] = 7
    frame.to_file(tmp_path / "second.gpkg")
    second = ingest(layer=layer, path=tmp_path / "second.gpkg", department="imar_sehircilik")
    assert (second.count_updated, second.count_unchanged) == (2, 4)
    batches = {row[0]: row[-1] for row in layer_rows(layer)}
    assert batches == {"B-0": second.pk, "B-1": second.pk,
                       **{f"B-{i}": first.pk for i in range(2, 6)}}
