"""Hostile and broken uploads are refused with a reason code; nothing escapes the work folder."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import zipfile
from pathlib import Path

import pytest

from etl.errors import UploadRefused
from etl.read import open_upload, read_chunks
from etl.safety import Limits, run_limited


def refused(path: Path, workdir: Path, limits: Limits | None = None) -> str:
    with pytest.raises(UploadRefused) as info:
        info_ = open_upload(path, workdir=workdir, limits=limits)
        list(read_chunks(info_, limits=limits))
    text = str(info.value)
    assert "Traceback" not in text and text.startswith(f"[{info.value.code}]")
    return info.value.code


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def test_empty_file(tmp_path):
    (tmp_path / "bos.gpkg").write_bytes(b"")
    assert refused(tmp_path / "bos.gpkg", tmp_path / "w") == "EMPTY_FILE"


def test_not_geodata(tmp_path):
    (tmp_path / "notes.txt").write_text("just a note\n")
    (tmp_path / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    assert refused(tmp_path / "notes.txt", tmp_path / "w") == "NOT_GEODATA"
    assert refused(tmp_path / "x.png", tmp_path / "w") == "NOT_GEODATA"


def test_sqlite_that_is_not_a_geopackage(tmp_path):
    db = sqlite3.connect(tmp_path / "x.gpkg")
    db.execute("CREATE TABLE t (a int)")
    db.commit()
    db.close()
    assert refused(tmp_path / "x.gpkg", tmp_path / "w") == "NOT_GEODATA"


def test_corrupt_zip(tmp_path):
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04" + os.urandom(200))
    assert refused(tmp_path / "bad.zip", tmp_path / "w") == "ZIP_CORRUPT"


def test_zip_bomb_ratio_and_entry_count(tmp_path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.shp", b"\x00" * (50 * 1024 * 1024))
    assert refused(bomb, tmp_path / "w") == "ZIP_BOMB"
    assert not (tmp_path / "w" / "unpacked" / "a.shp").exists()
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(1001):
            zf.writestr(f"f{i}.txt", b"x")
    assert refused(many, tmp_path / "w2") == "ZIP_BOMB"


def test_zip_slip_writes_nothing_outside(tmp_path):
    evil = tmp_path / "slip.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("ok.txt", b"x")
        zf.writestr("../../escaped.txt", b"pwned")
    before = files_under(tmp_path)
    assert refused(evil, tmp_path / "w") == "ZIP_SLIP"
    assert not (tmp_path.parent / "escaped.txt").exists()
    assert files_under(tmp_path) - before <= {tmp_path / "w"}
    absolute = tmp_path / "abs.zip"
    with zipfile.ZipFile(absolute, "w") as zf:
        zf.writestr("/tmp/kentcbs_abs_escape.txt", b"pwned")
    assert refused(absolute, tmp_path / "w3") == "ZIP_SLIP"
    assert not Path("/tmp/kentcbs_abs_escape.txt").exists()


def test_symlink_in_archive(tmp_path):
    link = tmp_path / "link.zip"
    with zipfile.ZipFile(link, "w") as zf:
        info = zipfile.ZipInfo("a.dbf")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    assert refused(link, tmp_path / "w") == "ZIP_SYMLINK"


def test_vrt_and_virtual_paths(tmp_path):
    vrt = tmp_path / "data.gpkg"  # disguised by its name
    vrt.write_text('<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>/etc/passwd'
                   "</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>")
    assert refused(vrt, tmp_path / "w") == "INDIRECTION"
    packed = tmp_path / "vrt.zip"
    with zipfile.ZipFile(packed, "w") as zf:
        zf.write(vrt, "layer.vrt")
    assert refused(packed, tmp_path / "w2") == "INDIRECTION"
    for path in ("/vsicurl/http://example.invalid/a.shp", "/vsizip//tmp/a.zip",
                 "https://example.invalid/a.geojson"):
        assert refused(Path(path), tmp_path / "w3") == "PATH_REFUSED"


def test_symlinked_upload(tmp_path):
    (tmp_path / "real.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    (tmp_path / "l.geojson").symlink_to(tmp_path / "real.geojson")
    assert refused(tmp_path / "l.geojson", tmp_path / "w") == "PATH_REFUSED"


def test_deep_nesting_refused_before_gdal_or_geos(tmp_path):
    depth = 5000
    geom = '{"type":"Point","coordinates":[1,2]}'
    for _ in range(depth):
        geom = '{"type":"GeometryCollection","geometries":[' + geom + "]}"
    deep = tmp_path / "deep.geojson"
    deep.write_text('{"type":"FeatureCollection","features":[{"type":"Feature",'
                    '"properties":{},"geometry":' + geom + "}]}")
    assert refused(deep, tmp_path / "w") == "NESTING_TOO_DEEP"
    wkt = "POINT (1 2)"
    for _ in range(depth):
        wkt = f"GEOMETRYCOLLECTION ({wkt})"
    csv = tmp_path / "deep.csv"
    csv.write_text(f'id,wkt\n1,"{wkt}"\n')
    assert refused(csv, tmp_path / "w2") == "NESTING_TOO_DEEP"


def test_size_limit(tmp_path):
    path = tmp_path / "a.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}' + " " * 2000)
    assert refused(path, tmp_path / "w", Limits(max_bytes=1000)) == "TOO_LARGE"


def test_truncated_wkb_is_a_feature_problem_not_a_crash(tmp_path):
    import shapely

    good = shapely.to_wkb(shapely.box(0, 0, 10, 10), hex=True)
    csv = tmp_path / "wkb.csv"
    csv.write_text(f"id,wkb\n1,{good}\n2,{good[: len(good) // 2]}\n")
    info = open_upload(csv, workdir=tmp_path / "w")
    frame = next(read_chunks(info, crs="EPSG:5254"))
    assert len(frame) == 2
    assert frame.geometry.iloc[0].area == 100
    assert frame.geometry.iloc[1] is None  # reported as GEOM_EMPTY, feature kept


def _eat_memory() -> int:
    block = bytearray(3 * 1024**3)
    return len(block)


def _crash() -> int:
    os.kill(os.getpid(), signal.SIGSEGV)
    return 0


def test_parser_runs_under_limits(tmp_path):
    limits = Limits(memory_bytes=1024**3)
    with pytest.raises(UploadRefused) as info:
        run_limited(_eat_memory, limits=limits, what="x")
    assert info.value.code == "PARSE_LIMIT"
    with pytest.raises(UploadRefused) as info:
        run_limited(_crash, limits=limits, what="x")
    assert info.value.code == "PARSE_CRASHED"
    assert run_limited(len, "abc", limits=limits, what="x") == 3


def test_warm_up_starts_the_parser_server_in_the_background(tmp_path):
    """``warm_up`` (called by ``kentcbs ingest`` before Django starts, and by the upload
    page) starts the forkserver that preloads the readers, without waiting for it; the
    children forked from it still run under the limits.

    No clock: the server's preload list starts with a module that blocks on a FIFO until
    the test writes to it, so ``warm_up`` can only return if it does not wait for the
    server's imports; and the readers were not imported in the calling process."""
    import subprocess
    import sys

    fifo = tmp_path / "gate"
    os.mkfifo(fifo)
    (tmp_path / "kentcbs_test_gate.py").write_text(
        f"with open({str(fifo)!r}) as gate:\n    gate.read()\n")
    script = f"""
import multiprocessing.forkserver as fs, sys
from etl import safety
from etl.safety import Limits, run_limited, warm_up
safety._context().set_forkserver_preload(["kentcbs_test_gate", "etl.read"])
warm_up()  # returns although the server is still blocked in its first import
pid = fs._forkserver._forkserver_pid
imported_here = sorted(m for m in ("pyogrio", "geopandas", "etl.read") if m in sys.modules)
warm_up()  # running: nothing new
assert fs._forkserver._forkserver_pid == pid
with open({str(fifo)!r}, "w") as gate:  # lets the server go on importing
    gate.write("go")
with open(f"/proc/{{pid}}/cmdline", "rb") as handle:
    cmdline = handle.read().decode()
print(imported_here or "-", "etl.read" in cmdline,
      run_limited(len, "abcd", limits=Limits(), what="x"))
"""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "gis_core.settings",
           "PYTHONPATH": os.pathsep.join([str(tmp_path),
                                          *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=False,
                          cwd=Path(__file__).resolve().parent.parent, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    imported_here, preloads, result = done.stdout.split()
    assert imported_here == "-"  # the readers are imported by the server only
    assert preloads == "True" and result == "4"
