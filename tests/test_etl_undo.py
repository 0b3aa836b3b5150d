"""History of registry layers and batch undo (issue 16, last item of §2; issue 18 §4).

Every load keeps the version of each row it updates in ``cbs.<layer>_history``; undoing a
batch restores the layer exactly (row by row: id, every field, the geometry's WKB,
batch id and timestamps) and is a batch of its own. Real ``cbs.bina`` in the test
PostGIS, files written with geopandas, the CLI as a real subprocess, the web button
through the test client as the users who may and may not press it.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import geopandas as gpd
import pytest
import shapely
from django.db import connection
from pyproj import Transformer

from etl.errors import UndoForbidden, UndoRefused
from etl.models import Batch
from etl.services import ingest
from etl.testing import ensure_departments
from etl.undo import undo_batch
from layers.registry import registry
from tests.conftest import kentcbs
from tests.people import member, member_of, signed_in

pytestmark = pytest.mark.django_db(transaction=True)

X0, Y0 = Transformer.from_crs(4326, 5254, always_xy=True).transform(30.52, 39.77)
LAYER = "bina"


@pytest.fixture
def env(settings, tmp_path):
    """An empty ``cbs.bina`` and history, reports under a temporary MEDIA_ROOT; the
    database URL for the ``kentcbs`` subprocess."""
    from layers.codelists import load_codelists

    settings.MEDIA_ROOT = str(tmp_path / "media")
    load_codelists()
    ensure_departments()
    _empty()
    db = connection.settings_dict
    url = (f"postgis://{db['USER']}@{quote(str(db['HOST']), safe='')}:{db['PORT']}/"
           f"{db['NAME']}")
    yield {"DATABASE_URL": url, "KENTCBS_TEST_DB_NAME": ""}
    _empty()


def _empty() -> None:
    with connection.cursor() as cur:
        cur.execute("TRUNCATE cbs.bina, cbs.bina_history")


def bina_file(path: Path, keys: list[int], *, floors: dict[int, int] | None = None,
              wider: tuple[int, ...] = ()) -> Path:
    """Buildings with UAVT codes ``1000000000 + k``, each in its own place (by ``k``); 4
    floors unless ``floors`` says otherwise; those in ``wider`` have a larger footprint
    around the same centre (a geometry update that moves nothing)."""
    floors = floors or {}

    def box(k: int) -> shapely.Geometry:
        x, y = X0 + k * 30, Y0
        grow = 2.0 if k in wider else 0.0
        return shapely.box(x - grow, y - grow, x + 20 + grow, y + 15 + grow)

    gpd.GeoDataFrame({
        "UAVT_BINA_KODU": [f"{1000000000 + k}" for k in keys],
        "Mahalle Adı": ["Yenidoğan"] * len(keys),
        "Kat Sayısı": [floors.get(k, 4) for k in keys],
        "KULLANIM": ["Konut"] * len(keys),
    }, geometry=[box(k) for k in keys], crs=5254).to_file(path)
    return path


def table_state() -> list[tuple]:
    """Every row of ``cbs.bina``, every column (geometry as WKB), ordered by id."""
    layer = registry.get(LAYER)
    cols = ["id", *(f'"{f.name}"' for f in layer.fields), "ST_AsBinary(geom)", "batch_id",
            "created_at", "updated_at"]
    with connection.cursor() as cur:
        cur.execute(f"SELECT {', '.join(cols)} FROM cbs.bina ORDER BY id")
        return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                for row in cur.fetchall()]


def history(replaced_by: int) -> list[tuple[str, str, int]]:
    with connection.cursor() as cur:
        cur.execute("SELECT uavt_bina_kodu, history_change, batch_id FROM cbs.bina_history "
                    "WHERE replaced_by_batch = %s ORDER BY uavt_bina_kodu", [replaced_by])
        return list(cur.fetchall())


def load(tmp_path: Path, name: str, keys: list[int], user=None, **kwargs) -> Batch:
    batch = ingest(layer=LAYER, path=bina_file(tmp_path / f"{name}.gpkg", keys, **kwargs),
                   department="imar_sehircilik", user=user)
    assert batch.status == "loaded", (batch.status, batch.message)
    return batch


def code(k: int) -> str:
    return f"{1000000000 + k}"


# -- history of a load -----------------------------------------------------------------------
def test_a_load_keeps_the_previous_version_of_each_row_it_updates(env, tmp_path):
    a = load(tmp_path, "a", [0, 1, 2, 3, 4, 5])
    assert history(a.pk) == []  # an empty layer: nothing replaced
    before = {row[1]: row for row in table_state()}
    b = load(tmp_path, "b", [3, 4, 5, 6, 7, 8], floors={3: 5}, wider=(4,))
    assert (b.count_inserted, b.count_updated, b.count_unchanged) == (3, 2, 1)
    # the two versions B replaced, as A wrote them: not the unchanged one, not the new ones
    assert history(b.pk) == [(code(3), "update", a.pk), (code(4), "update", a.pk)]
    with connection.cursor() as cur:
        cur.execute("SELECT id, kat_sayisi, ST_AsBinary(geom), created_at, updated_at "
                    "FROM cbs.bina_history WHERE replaced_by_batch = %s ORDER BY id", [b.pk])
        kept = cur.fetchall()
    layer = registry.get(LAYER)
    floors = 1 + [f.name for f in layer.fields].index("kat_sayisi")
    for row_id, kat, wkb, created, updated in kept:
        old = next(row for row in before.values() if row[0] == row_id)
        assert (kat, bytes(wkb), created, updated) == (old[floors], old[-4], old[-2], old[-1])


# -- undo ------------------------------------------------------------------------------------
def test_undo_restores_the_layer_exactly_and_is_a_batch_of_its_own(env, tmp_path):
    a = load(tmp_path, "a", [0, 1, 2, 3, 4, 5])
    after_a = table_state()
    b = load(tmp_path, "b", [3, 4, 5, 6, 7, 8], floors={3: 5, 4: 7}, wider=(4,))
    assert table_state() != after_a

    undo = undo_batch(batch_id=b.pk, check_user=False)

    assert table_state() == after_a  # row by row: ids, fields, WKB, batch ids, timestamps
    assert (undo.status, undo.policy, undo.undoes_id) == ("loaded", "undo", b.pk)
    assert (undo.count_deleted, undo.count_updated, undo.count_inserted) == (3, 2, 0)
    assert undo.count_read == undo.count_loaded == 5 and undo.invariant_holds
    assert f"#{b.pk}" in undo.message and " / " in undo.message  # Turkish / English
    assert Path(undo.report_json).is_file() and Path(undo.report_html).is_file()
    # recorded in history: the versions B wrote, replaced by the undo
    assert history(undo.pk) == [(code(3), "update", b.pk), (code(4), "update", b.pk),
                                (code(6), "delete", b.pk), (code(7), "delete", b.pk),
                                (code(8), "delete", b.pk)]

    # undoing A now (B is undone) removes what A inserted
    undo_a = undo_batch(batch_id=a.pk, check_user=False)
    assert table_state() == []
    assert (undo_a.count_deleted, undo_a.count_updated) == (6, 0)


def test_an_undone_batch_an_undo_and_a_batch_that_loaded_nothing_are_refused(env, tmp_path):
    load(tmp_path, "a", [0, 1])
    b = load(tmp_path, "b", [2])
    undo = undo_batch(batch_id=b.pk, check_user=False)
    with pytest.raises(UndoRefused) as again:
        undo_batch(batch_id=b.pk, check_user=False)
    assert again.value.code == "UNDO_ALREADY_DONE" and f"#{undo.pk}" in again.value.text
    with pytest.raises(UndoRefused) as of_undo:
        undo_batch(batch_id=undo.pk, check_user=False)
    assert of_undo.value.code == "UNDO_OF_UNDO"
    # every feature rejected (a 1 m² footprint is under the minimum area)
    path = tmp_path / "tiny.gpkg"
    bina_file(path, [9])
    frame = gpd.read_file(path)
    frame.loc[0, "geometry"] = shapely.box(X0, Y0 + 500, X0 + 1, Y0 + 501)
    frame.to_file(path)
    rejected = ingest(layer=LAYER, path=path, department="imar_sehircilik")
    assert rejected.status == "rejected"
    with pytest.raises(UndoRefused) as nothing:
        undo_batch(batch_id=rejected.pk, check_user=False)
    assert nothing.value.code == "UNDO_NOTHING_LOADED"
    assert nothing.value.text.startswith(f"#{rejected.pk} numaralı parti reddedildi")
    failed = Batch.objects.create(layer_code=LAYER, department="imar_sehircilik",
                                  file_name="x.gpkg", sha256="", status="failed")
    with pytest.raises(UndoRefused) as failure:
        undo_batch(batch_id=failed.pk, check_user=False)
    assert failure.value.code == "UNDO_NOTHING_LOADED"
    assert Batch.objects.filter(policy="undo").count() == 1  # refusals made no batch


def test_undo_is_refused_while_a_later_batch_changed_the_same_features(env, tmp_path):
    a = load(tmp_path, "a", [0, 1, 2])
    b = load(tmp_path, "b", [2, 3], floors={2: 9})  # updates A's feature 2
    c = load(tmp_path, "c", [7])  # another feature: does not block
    state = table_state()

    with pytest.raises(UndoRefused) as refused:
        undo_batch(batch_id=a.pk, check_user=False)

    assert refused.value.code == "UNDO_LATER_BATCHES"
    assert f"#{b.pk} (" in refused.value.text and f"#{c.pk} (" not in refused.value.text
    assert "b.gpkg" in refused.value.text
    assert table_state() == state  # nothing changed
    assert not Batch.objects.filter(policy="undo").exists()
    # undo the later one first, then A goes
    undo_batch(batch_id=b.pk, check_user=False)
    undo_batch(batch_id=a.pk, check_user=False)
    assert [row[1] for row in table_state()] == [code(7)]


# -- the command line ------------------------------------------------------------------------
def test_cli_undo_prints_one_line_and_refuses_with_exit_code_2(env, tmp_path):
    a = load(tmp_path, "a", [0, 1, 2])
    b = load(tmp_path, "b", [2, 3], floors={2: 9})
    after_b = table_state()

    refused = kentcbs("batches", "undo", str(a.pk), env=env)

    assert refused.returncode == 2, refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in refused.stderr
    assert lines[0].startswith(f"kentcbs: [UNDO_LATER_BATCHES] #{a.pk} numaralı parti geri "
                               "alınamaz")  # Turkish first
    assert f"/ Batch #{a.pk} cannot be undone" in lines[0] and f"#{b.pk} (" in lines[0]
    assert table_state() == after_b

    done = kentcbs("batches", "undo", str(b.pk), env=env)

    assert done.returncode == 0, done.stderr
    undo = Batch.objects.get(undoes=b)
    assert f"Undoes batch #{b.pk}" in done.stdout.strip().splitlines()[-1]
    assert (undo.count_deleted, undo.count_updated) == (1, 1)
    assert kentcbs("batches", "undo", str(undo.pk), env=env).returncode == 2
    missing = kentcbs("batches", "undo", "999999", env=env)
    assert missing.returncode == 2 and "[BATCH_NOT_FOUND]" in missing.stderr


# -- the button on the report page -----------------------------------------------------------
def test_the_sender_undoes_from_the_report_page(env, tmp_path):
    sender = member("imar.katip", "imar_sehircilik", "data_entry")
    load(tmp_path, "a", [0, 1], user=sender)
    after_a = table_state()
    b = load(tmp_path, "b", [1, 2], user=sender, floors={1: 6})
    client = signed_in(sender)

    page = client.get(f"/reports/{b.pk}/")
    assert page.status_code == 200 and 'id="undo-button"' in page.content.decode()

    response = client.post(f"/reports/{b.pk}/undo/", {"confirm": "1"})

    undo = Batch.objects.get(undoes=b)
    assert response.status_code == 302 and response["Location"] == f"/reports/{undo.pk}/"
    assert table_state() == after_a
    assert undo.user == sender
    shown = client.get(f"/reports/{undo.pk}/").content.decode()
    assert 'id="undoes"' in shown and f"/reports/{b.pk}/" in shown
    assert 'id="undo-button"' not in shown  # an undo cannot be undone
    assert 'id="undone-by"' in client.get(f"/reports/{b.pk}/").content.decode()


def test_a_clerk_of_another_department_may_not_undo(env, tmp_path):
    sender = member("imar.katip2", "imar_sehircilik", "data_entry")
    b = load(tmp_path, "b", [0, 1], user=sender)
    clerk = member("fen.katip", "fen_isleri", "data_entry")  # reads bina, edits none of it
    other = signed_in(clerk)
    state = table_state()

    assert 'id="undo-button"' not in other.get(f"/reports/{b.pk}/").content.decode()
    response = other.post(f"/reports/{b.pk}/undo/", {"confirm": "1"})

    assert response.status_code == 403
    assert "GIS administrators may undo" in response.content.decode() or \
        "CBS yöneticileri" in response.content.decode()
    assert table_state() == state and not Batch.objects.filter(policy="undo").exists()
    with pytest.raises(UndoForbidden):
        undo_batch(batch_id=b.pk, user=clerk)


def test_a_gis_administrator_undoes_and_sees_why_when_refused(env, tmp_path):
    sender = member("imar.katip4", "imar_sehircilik", "data_entry")
    a = load(tmp_path, "a", [0, 1], user=sender)
    b = load(tmp_path, "b", [1, 2], user=sender, floors={1: 6})
    admin = signed_in(member_of("cbs.admin", ("cbs", "gis_admin")))

    page = admin.get(f"/reports/{a.pk}/").content.decode()
    assert 'id="undo-blocked"' in page and f"/reports/{b.pk}/" in page
    refused = admin.post(f"/reports/{a.pk}/undo/", {"confirm": "1"})
    assert refused.status_code == 409
    assert f"/reports/{b.pk}/" in refused.content.decode()

    done = admin.post(f"/reports/{b.pk}/undo/", {"confirm": "1"})
    assert done.status_code == 302
    assert Batch.objects.get(undoes=b).user.username == "cbs.admin"


# -- the history table follows its layer (layers sync) ----------------------------------------
def _history_columns(table: str) -> dict[str, str]:
    with connection.cursor() as cur:
        cur.execute("SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = 'cbs' AND table_name = %s", [table])
        return dict(cur.fetchall())


@pytest.mark.django_db  # DDL is transactional: every table made here rolls back
def test_sync_creates_and_evolves_the_history_table(tmp_path):
    from layers.services import plan_layer, sync_layer
    from tests.test_layers_tables import CODE, tree_layer
    from tests.test_layers_tables import load as definition

    v1 = tree_layer()
    sync_layer(definition(tmp_path, v1))
    cols = _history_columns(f"{CODE}_history")
    assert {"id", "agac_no", "geom", "batch_id", "created_at", "updated_at",
            "replaced_by_batch", "replaced_at", "history_change"} <= set(cols)
    assert cols["agac_no"] == "character varying"
    # a table made before layers kept history gets one at the next sync (no version bump)
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE cbs.{CODE}_history")
    plan = plan_layer(definition(tmp_path, v1))
    assert plan.action == "metadata" and plan.describe() == [
        f"create history table cbs.{CODE}_history"]
    sync_layer(definition(tmp_path, v1))
    assert "history_change" in _history_columns(f"{CODE}_history")
    # a new field and a widened type reach the history table too
    fields = list(v1["fields"])
    fields[3] = {**fields[3], "type": "decimal"}
    fields.append({"name": "sulama", "type": "boolean", "title": {"tr": "Sulama",
                                                                 "en": "Watered"}})
    sync_layer(definition(tmp_path, {**v1, "version": 2, "fields": fields}))
    cols = _history_columns(f"{CODE}_history")
    assert cols["sulama"] == "boolean" and cols["dikim_yili"] == "numeric"


def test_a_load_into_a_layer_without_history_fails_and_changes_nothing(env, tmp_path):
    load(tmp_path, "a", [0])
    state = table_state()
    with connection.cursor() as cur:
        cur.execute("ALTER TABLE cbs.bina_history RENAME TO bina_history_away")
    try:
        batch = ingest(layer=LAYER, path=bina_file(tmp_path / "b.gpkg", [0, 1],
                                                   floors={0: 8}),
                       department="imar_sehircilik")
    finally:
        with connection.cursor() as cur:
            cur.execute("ALTER TABLE cbs.bina_history_away RENAME TO bina_history")
    assert (batch.status, batch.reason_code) == ("failed", "LAYER_HISTORY_MISSING")
    assert "kentcbs migrate" in batch.message
    assert table_state() == state
