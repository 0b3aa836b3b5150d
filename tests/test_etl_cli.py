"""``kentcbs ingest`` and ``kentcbs batches`` as an operator runs them (real subprocess)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import geopandas as gpd
import pytest
import shapely
from django.db import connection
from pyproj import Transformer

from etl.testing import ensure_departments
from tests.conftest import kentcbs

#: ``kentcbs`` as the console script runs it, with the ETL's fault hook set by the test's
#: own code (``etl.load.FAULT`` is read from no environment variable or setting).
STOPPING_INGEST = (
    "import sys; from etl import load; load.FAULT = 'copy:stop'; "
    "from gis_core.cli import main; sys.argv[0] = 'kentcbs'; sys.exit(main())"
)

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
    lonlat.write_text("uavt_bina_kodu,x,y\n1000000001,1000,2000\n")  # a site grid
    one_line_error(kentcbs("ingest", "bina", str(lonlat), "--department", "imar_sehircilik",
                           env=env), "CRS_MISSING")
    strict = kentcbs("ingest", "bina", str(path), "--department", "imar_sehircilik",
                     "--strict", env=env)
    assert strict.returncode == 0 and "rejected" in strict.stdout
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM cbs.bina")
        assert cur.fetchone()[0] == 0


def test_null_geometries_over_stored_keys_print_a_summary(env, tmp_path):
    """Issue 16: a corrected file re-sent with null geometries, over keys already stored,
    crashed the datum-shift check with a traceback (exit 1)."""
    first = bina_file(tmp_path / "first.gpkg")
    assert kentcbs("ingest", "bina", str(first), "--department", "imar_sehircilik",
                   env=env).returncode == 0
    frame = gpd.read_file(first)
    frame["Kat Sayısı"] = 5
    frame.loc[[0, 2], "geometry"] = None
    frame.to_file(tmp_path / "second.gpkg")
    done = kentcbs("ingest", "bina", str(tmp_path / "second.gpkg"), "--department",
                   "imar_sehircilik", env=env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "yüklenen / loaded" in done.stdout
    from etl.models import Batch

    batch = Batch.objects.order_by("-pk").first()
    assert (batch.status, batch.count_rejected, batch.count_updated) == ("loaded", 3, 3)


class VanishingDatabase:
    """A TCP front for the test cluster's socket, the database of a ``kentcbs`` subprocess,
    that the test makes vanish as a stopped PostgreSQL does for its clients: every open
    connection is cut and nothing listens any more (a new connection is refused). With
    ``connections``, it vanishes by itself once that many have been opened."""

    def __init__(self, connections: int | None = None) -> None:
        db = connection.settings_dict
        self.target = f"{db['HOST']}/.s.PGSQL.{db['PORT']}"
        self.limit = connections
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        self.url = f"postgis://{db['USER']}@127.0.0.1:{self.port}/{db['NAME']}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        accepted = 0
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(self.target)
            with self.lock:
                self.open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()
            accepted += 1
            if self.limit is not None and accepted >= self.limit:
                self.listener.close()  # the next connection is refused
                return

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(1 << 16):
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def vanish(self) -> None:
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() (Linux)
        except OSError:
            pass
        self.listener.close()
        with self.lock:
            for s in self.open:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()


def _stopped(pid: int) -> bool:
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state in ("T", "t")


def test_database_gone_during_ingest_is_one_line(env, tmp_path):
    """Issue 16: PostgreSQL gone in the middle of ``kentcbs ingest`` printed a long
    OperationalError traceback (exit 1). Now one line, Turkish then English, exit 2; the
    layer is as it was and the batch is swept as interrupted."""
    from etl.models import Batch

    path = bina_file(tmp_path / "binalar.gpkg")
    db = VanishingDatabase()
    proc = subprocess.Popen(
        [sys.executable, "-c", STOPPING_INGEST, "ingest", "bina", str(path),
         "--department", "imar_sehircilik"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **env, "DATABASE_URL": db.url})
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and not _stopped(proc.pid):  # mid-COPY, it stops itself
            assert time.monotonic() < deadline, "the ingest never reached its COPY"
            time.sleep(0.02)
        assert proc.poll() is None, proc.communicate()
        db.vanish()
        os.kill(proc.pid, signal.SIGCONT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    result = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    one_line_error(result, "DB_CONNECTION_LOST")
    line = err.strip()
    assert line.index("Veritabanı") < line.index("The database stopped answering"), line
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM cbs.bina")
        assert cur.fetchone()[0] == 0
    assert Batch.objects.sweep_interrupted() == 1
    assert Batch.objects.get().reason_code == "BATCH_INTERRUPTED"


def test_database_gone_after_the_start_of_any_command_is_one_line(env, tmp_path):
    """The check before the command got through; the command's own connection does not."""
    for args in (("batches", "list"), ("ingest", "bina", str(bina_file(tmp_path / "b.gpkg")),
                                       "--department", "imar_sehircilik")):
        db = VanishingDatabase(connections=1)
        done = kentcbs(*args, env={**env, "DATABASE_URL": db.url})
        one_line_error(done, "DB_CONNECTION_LOST")
        assert "The database stopped answering" in done.stderr
        # and a database that is not there at all, before the command
        one_line_error(kentcbs(*args, env={**env, "DATABASE_URL": db.url}), "DB_UNREACHABLE")
        db.vanish()


def test_shift_is_refused_without_accept_shift_and_the_summary_lists_diagnostics(env,
                                                                                 tmp_path):
    """Issue 16: ED50 numbers declared as TUREF moved the stored buildings by 188 m with
    only a warning, and the summary showed "warnings 0" and no message."""
    first = bina_file(tmp_path / "first.gpkg")
    assert kentcbs("ingest", "bina", str(first), "--department", "imar_sehircilik",
                   env=env).returncode == 0
    with connection.cursor() as cur:
        cur.execute("SELECT uavt_bina_kodu, ST_AsText(geom) FROM cbs.bina ORDER BY 1")
        stored = cur.fetchall()
    ed50 = gpd.read_file(first).to_crs(2320).set_crs(5254, allow_override=True)
    ed50.to_file(tmp_path / "ed50.gpkg")
    args = ("ingest", "bina", str(tmp_path / "ed50.gpkg"), "--department", "imar_sehircilik")
    refused = kentcbs(*args, env=env)
    one_line_error(refused, "CRS_ED50_SUSPECTED")
    assert "Veri, kayıtlı aynı nesnelerden" in refused.stderr
    assert "declared as ITRF96. Declare its real CRS with --crs" in refused.stderr
    with connection.cursor() as cur:
        cur.execute("SELECT uavt_bina_kodu, ST_AsText(geom) FROM cbs.bina ORDER BY 1")
        assert cur.fetchall() == stored
    accepted = kentcbs(*args, "--accept-shift", env=env)
    assert accepted.returncode == 0, accepted.stderr
    out = " ".join(accepted.stdout.split())  # the table wraps long cells
    assert "[CRS_ED50_SUSPECTED]" in out and "[SHIFT_ACCEPTED]" in out
    assert "probably ED50" in out and "[CODELIST] 1" not in out  # CODELIST is an error
    with connection.cursor() as cur:
        cur.execute("SELECT uavt_bina_kodu, ST_AsText(geom) FROM cbs.bina ORDER BY 1")
        assert cur.fetchall() != stored


def test_refusal_line_is_whole_turkish_and_english(env, tmp_path):
    """The one-line refusal was cut at the last " / " (inside "TUREF / TM30")."""
    path = tmp_path / "tm33.gpkg"
    frame = gpd.read_file(bina_file(tmp_path / "b.gpkg"))
    frame.to_crs(5255).set_crs(5254, allow_override=True).to_file(path)  # TM33 numbers
    done = kentcbs("ingest", "bina", str(path), "--department", "imar_sehircilik", env=env)
    one_line_error(done, "CRS_WRONG_ZONE")
    line = done.stderr.strip()
    assert line.count("EPSG:5254 (TUREF / TM30)") == 2, line  # in Turkish and in English
    assert line.index("ile veri belediyeden") < line.index("the data lies")
    assert line.endswith("Declare --crs EPSG:5255."), line


def test_every_feature_rejected_is_shown_rejected(env, tmp_path):
    """Issue 16: the summary said "unchanged" for an upload whose every feature was
    rejected."""
    frame = gpd.read_file(bina_file(tmp_path / "b.gpkg"))
    frame["Mahalle Adı"] = "Bilinmeyen"  # not in the code list: every feature has an error
    frame.to_file(tmp_path / "hepsi_hatali.gpkg")
    done = kentcbs("ingest", "bina", str(tmp_path / "hepsi_hatali.gpkg"), "--department",
                   "imar_sehircilik", env=env)
    assert done.returncode == 0, done.stderr
    out = " ".join(done.stdout.split())
    assert "durum / status │ rejected" in out, out
    assert "unchanged │" not in out.replace("değişmeyen / unchanged │", "")
    assert "Every feature (6) has errors; nothing was loaded" in out
