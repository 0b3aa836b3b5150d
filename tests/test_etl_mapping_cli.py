"""``kentcbs ingest --auto-map`` and ``--suggest-mapping`` as an operator runs them (real
subprocess, real PostGIS): the department files of issue 18 go through from the CLI too."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import geopandas as gpd
import pytest
import shapely
import yaml
from django.db import connection

from etl.models import Batch, ValueAlias
from etl.testing import ensure_departments
from tests.conftest import kentcbs
from tests.test_web_mapping_browser import (
    X0,
    Y0,
    clean_buildings,
    department_buildings,
    expected_rows,
    neighbourhoods,
    stored_buildings,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def env():
    from layers.codelists import load_codelists

    load_codelists()
    ensure_departments()
    clean_buildings()
    # the GIS unit's aliases for the building use (kept in the admin)
    for alias, code in (("Karma", "Konut + Ticaret"), ("Ticari", "Ticaret"),
                        ("Kamu", "Kamu Hizmet")):
        ValueAlias.objects.create(codelist="bina_kullanim", alias=alias, code=code)
    db = connection.settings_dict
    url = (f"postgis://{db['USER']}@{quote(str(db['HOST']), safe='')}:{db['PORT']}/"
           f"{db['NAME']}")
    yield {"DATABASE_URL": url, "KENTCBS_TEST_DB_NAME": ""}
    clean_buildings()


def test_auto_map_loads_the_department_file(env, tmp_path: Path) -> None:
    path = department_buildings(tmp_path / "binalar.gpkg", first=0)
    plain = kentcbs("ingest", "bina", str(path), "--department", "imar_sehircilik", env=env)
    assert plain.returncode == 0, plain.stderr
    assert Batch.objects.get().count_loaded == 0  # without a mapping: every one "required"

    done = kentcbs("ingest", "bina", str(path), "--department", "imar_sehircilik",
                   "--auto-map", env=env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    cells = [[c.strip() for c in line.split("│")] for line in done.stdout.splitlines()
             if line.startswith("│") and line.count("│") == 6]
    printed = {row[1]: row[2] for row in cells if row[1]}
    assert {k: printed[k] for k in ("uavt_kodu", "mahalle", "KULLANIM_AMACI", "kat", "yil")} \
        == {"uavt_kodu": "uavt_bina_kodu", "mahalle": "mahalle_adi",
            "KULLANIM_AMACI": "kullanim", "kat": "kat_sayisi", "yil": "yapim_yili"}
    batch = Batch.objects.latest("pk")
    assert (batch.status, batch.count_read, batch.count_loaded, batch.count_rejected) == (
        "loaded", 8, 7, 1)
    assert "[VALUE_ALIAS]" in done.stdout and "[VALUE_NORMALISED]" in done.stdout
    assert stored_buildings() == expected_rows(0, 8, 7)


def test_suggest_mapping_prints_a_mapping_file(env, tmp_path: Path) -> None:
    path = department_buildings(tmp_path / "binalar.gpkg", first=200, bad=None)
    shown = kentcbs("ingest", "bina", str(path), "--department", "imar_sehircilik",
                    "--suggest-mapping", env=env)
    assert shown.returncode == 0, shown.stderr
    assert not Batch.objects.exists()  # it only prints
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(shown.stdout, encoding="utf-8")
    assert yaml.safe_load(shown.stdout)["fields"]["mahalle"] == "mahalle_adi"
    done = kentcbs("ingest", "bina", str(path), "--department", "imar_sehircilik",
                   "--mapping", str(mapping), env=env)
    assert done.returncode == 0, done.stderr
    assert stored_buildings() == expected_rows(200, 8, None)


def test_auto_map_uses_the_saved_mapping(env, tmp_path: Path) -> None:
    from etl.mapping import save_mapping

    path = tmp_path / "binalar.gpkg"
    names = neighbourhoods()
    gpd.GeoDataFrame({"A": [str(9_700_000_300 + i) for i in range(3)],
                      "B": [names[0]] * 3, "C": ["Konut"] * 3, "D": [2, 3, 4]},
                     geometry=[shapely.box(X0 + i * 40, Y0, X0 + i * 40 + 20, Y0 + 15)
                               for i in range(3)], crs=5254).to_file(path)
    save_mapping(department="imar_sehircilik", layer_code="bina",
                 mapping={"A": "uavt_bina_kodu", "B": "mahalle_adi", "C": "kullanim",
                          "D": "kat_sayisi"})
    done = kentcbs("ingest", "bina", str(path), "--department", "imar_sehircilik",
                   "--auto-map", env=env)
    assert done.returncode == 0, done.stderr
    assert Batch.objects.get().count_loaded == 3
    assert [row[0] for row in stored_buildings()] == [str(9_700_000_300 + i) for i in range(3)]


def test_neighbourhood_file_name_column_with_mahallesi(env, tmp_path: Path) -> None:
    """The municipal neighbourhood file of the issue (``name`` = "X Mahallesi"): every
    feature is mapped and loaded into the neighbourhoods under its official name."""
    from gis_core.models import Neighbourhood

    names = neighbourhoods()[:5]
    path = tmp_path / "mahalleler.gpkg"
    gpd.GeoDataFrame({"name": [f"{n} Mahallesi" for n in names],
                      "uavt_code": [str(1000 + i) for i in range(len(names))]},
                     geometry=[shapely.MultiPolygon([shapely.box(X0 + i * 500, Y0,
                                                                 X0 + i * 500 + 400, Y0 + 400)])
                               for i in range(len(names))], crs=5254).to_file(path)
    done = kentcbs("ingest", "mahalle", str(path), "--department", "cbs", "--auto-map",
                   env=env)
    assert done.returncode == 0, done.stderr
    batch = Batch.objects.get()
    assert (batch.status, batch.count_read, batch.count_loaded, batch.count_rejected) == (
        "loaded", len(names), len(names), 0)
    stored = dict(Neighbourhood.objects.filter(name__in=names).values_list("name", "uavt_code"))
    assert stored == {n: str(1000 + i) for i, n in enumerate(names)}
    assert "[VALUE_NORMALISED]" in done.stdout
