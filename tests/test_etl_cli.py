"""``kentcbs ingest`` and ``kentcbs batches`` as an operator runs them (real subprocess)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import geopandas as gpd
import pytest
import shapely
from django.db import connection
from pyproj import Transformer

from etl.testing import ensure_departments
from tests.conftest import kentcbs

pytestmark = pytest.mark.django_db(transaction=True)
X0, Y0 = Transformer.from_crs(4326, 5254, always_xy=True).transform(30.52, 39.77)


@pytest.fixture
def env():
    from layers.codelists import load_codelists

    load_codelists()
    ensure_departments()
    with connection.cursor() as cur:
        cur.execute("TRUNCATE cbs.bina")
    db = connection.settings_dict
    url = (f"postgis://{db['USER']}@{quote(str(db['HOST']), safe='')}:{db['PORT']}/"
           f"{db['NAME']}")
    yield {"DATABASE_URL": url, "KENTCBS_TEST_DB_NAME": ""}
    with connection.cursor() as cur:
        cur.execute("TRUNCATE cbs.bina")


def bina_file(path: Path, n: int = 6) -> Path:
    gpd.GeoDataFrame({
        "UAVT_BINA_KODU": [f"{1000000000 + i}" for i in range(n)],
        "Mahalle Adı": ["Yenidoğan"] * (n - 1) + ["Yenidogan"],
        "Kat Sayısı": [4] * n,
        "KULLANIM": ["Konut"] * n,
    }, geometry=[shapely.box(X0 + i * 30, Y0, X0 + i * 30 + 20, Y0 + 15) for i in range(n)],
        crs=5254).to_file(path)
    return path


def one_line_error(result, code: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and f"[{code}]" in lines[0], result.stderr


def test_ingest_and_batches_commands(env, tmp_path):
    path = bina_file(tmp_path / "binalar.gpkg")
    done = kentcbs("ingest", "bina", str(path), "--department", "imar_sehircilik", env=env)
    assert done.returncode == 0, done.stderr
    assert "yüklenen / loaded" in done.stdout and "Traceback" not in done.stderr
    # issue 16: the rejected feature by its row as QGIS numbers it (6) and its key value
    listed = [line for line in done.stdout.splitlines() if "1000000005" in line]
    assert listed and "CODELIST" in listed[0], done.stdout
    assert listed[0].replace("│", " ").split()[0] == "6", listed[0]
    with connection.cursor() as cur:
        cur.execute("SELECT uavt_bina_kodu, mahalle_adi FROM cbs.bina ORDER BY 1")
        rows = cur.fetchall()
    assert len(rows) == 5 and rows[0] == ("1000000000", "Yenidoğan")
    listing = kentcbs("batches", "list", env=env)
    assert listing.returncode == 0 and "binalar.gpkg" in listing.stdout
    from etl.models import Batch

    batch = Batch.objects.get()
    assert (batch.count_read, batch.count_loaded, batch.count_rejected) == (6, 5, 1)
    shown = kentcbs("batches", "show", str(batch.pk), env=env)
    assert "loaded" in shown.stdout
    assert "satır / row" in shown.stdout and "1000000005" in shown.stdout
    report = kentcbs("batches", "report", str(batch.pk), env=env)
    assert Path(report.stdout.strip()).is_file()
    assert report.stdout.strip().endswith("report.html")
    one_line_error(kentcbs("batches", "show", "999999", env=env), "BATCH_NOT_FOUND")


def test_cli_errors_are_one_line(env, tmp_path):
    path = bina_file(tmp_path / "b.gpkg")
    one_line_error(kentcbs("ingest", "no_such_layer", str(path), "--department",
                           "imar_sehircilik", env=env), "UNKNOWN_LAYER")
    junk = tmp_path / "x.csv"
    junk.write_text("a,b\n1,2\n")
    one_line_error(kentcbs("ingest", "bina", str(junk), "--department", "imar_sehircilik",
                           env=env), "NOT_GEODATA")
    lonlat = tmp_path / "p.csv"
    lonlat.write_text("uavt_bina_kodu,lon,lat\n1000000001,30.5,39.7\n")
    one_line_error(kentcbs("ingest", "bina", str(lonlat), "--department", "imar_sehircilik",
                           env=env), "CRS_MISSING")
    strict = kentcbs("ingest", "bina", str(path), "--department", "imar_sehircilik",
                     "--strict", env=env)
    assert strict.returncode == 0 and "rejected" in strict.stdout
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM cbs.bina")
        assert cur.fetchone()[0] == 0
