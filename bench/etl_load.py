"""Benchmark: ``kentcbs ingest`` vs ``ogr2ogr -f PostgreSQL`` of the same GeoPackage.

Not a test. A seeded generator writes N building polygons with known counts of
each violation; the same file is loaded in the same run by ogr2ogr (COPY, no
validation) and by ``kentcbs ingest`` (read in limited children, normalise,
validate every rule, report, COPY + quarantine in one transaction). Both are
timed alike: as whole processes, from their start to their exit (the ETL's
Python and Django start-up, database checks and parser server included), each
after the same settling of the database. Prints times, the ratio and peak
memory; exits 1 when a run's counts are not the generated ones (status, read =
loaded + rejected, rejected = the generated violations) or a target is missed.

    .venv/bin/python bench/etl_load.py --n 100000 [--n 1000000] [--repeat 3] [--keep]

Target: ETL within 1.5x of ogr2ogr (``--target``); peak memory < 4 GiB at 1M
features (``--max-peak-gib``).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: Share of features carrying each violation (each on its own feature).
VIOLATIONS = {
    "GEOM_INVALID": 0.005, "BELOW_MIN_AREA": 0.003, "UNIQUE_IN_FILE": 0.002,
    "CODELIST": 0.003, "RANGE": 0.003, "REQUIRED": 0.001, "GEOM_OVERLAP": 0.002,
    "GEOM_EMPTY": 0.001, "GEOM_DUPLICATE": 0.001,
}
NAMES = ["Yenidoğan", "Şirintepe", "Gökmeydan", "Akarbaşı"]
LAYER, TABLE = "bench_bina", "bench.etl_bina"
#: Targets: the ETL within 1.5x of ogr2ogr (ratio of medians); peak memory < 4 GiB.
TARGET_RATIO, MAX_PEAK_GIB = 1.5, 4.0


def generate(path: Path, n: int, seed: int = 42) -> dict[str, int]:
    """Write ``n`` buildings to ``path`` (GPKG, EPSG:5254); return violation counts."""
    import geopandas as gpd
    import shapely
    from pyproj import Transformer

    rng = np.random.default_rng(seed)
    x0, y0 = Transformer.from_crs(4326, 5254, always_xy=True).transform(30.40, 39.70)
    side = int(np.ceil(np.sqrt(n)))
    i = np.arange(n)
    gx, gy = x0 + (i % side) * 30.0, y0 + (i // side) * 30.0
    w, h = rng.uniform(8, 20, n), rng.uniform(8, 20, n)
    geoms = shapely.box(gx, gy, gx + w, gy + h)
    keys = np.array([f"B-{k}" for k in range(n)], dtype=object)
    mahalle = np.array(NAMES, dtype=object)[rng.integers(0, len(NAMES), n)]
    floors = rng.integers(1, 20, n).astype(float)
    # violations go on features i % 10 == 0 (i > 0), whose neighbour i - 1 stays clean
    slots = rng.permutation(np.arange(10, n, 10))
    counts: dict[str, int] = {}
    start = 0
    for code, share in VIOLATIONS.items():
        k = int(n * share)
        idx = np.sort(slots[start:start + k])
        start += k
        counts[code] = k
        if code == "GEOM_INVALID":  # bow-tie
            geoms[idx] = shapely.polygons(np.stack([
                np.stack([gx[idx], gy[idx]], 1), np.stack([gx[idx] + 10, gy[idx] + 10], 1),
                np.stack([gx[idx] + 10, gy[idx]], 1), np.stack([gx[idx], gy[idx] + 10], 1),
                np.stack([gx[idx], gy[idx]], 1)], 1))
        elif code == "BELOW_MIN_AREA":
            geoms[idx] = shapely.box(gx[idx], gy[idx], gx[idx] + 1, gy[idx] + 1)
        elif code == "UNIQUE_IN_FILE":
            keys[idx] = keys[idx - 1]
        elif code == "CODELIST":
            mahalle[idx] = "Yenidogan"
        elif code == "RANGE":
            floors[idx] = 99
        elif code == "REQUIRED":
            keys[idx] = None
        elif code == "GEOM_OVERLAP":
            geoms[idx] = shapely.box(gx[idx - 1] + 2, gy[idx - 1] + 2, gx[idx - 1] + 12,
                                     gy[idx - 1] + 12)
        elif code == "GEOM_EMPTY":
            geoms[idx] = None
        elif code == "GEOM_DUPLICATE":
            geoms[idx] = geoms[idx - 1]
    frame = gpd.GeoDataFrame({"BINA_NO": keys, "Mahalle Adı": mahalle, "KAT_SAYISI": floors,
                              "AD": "Bina"}, geometry=geoms, crs=5254)
    frame.to_file(path, driver="GPKG", layer="binalar")
    return counts


def pg_dsn() -> str:
    from gis_core.database import DB_NAME, DB_USER, EmbeddedCluster, database_url

    url = database_url()
    if url:
        import dj_database_url

        cfg = dj_database_url.parse(url)
        return (f"host={cfg['HOST']} port={cfg['PORT']} dbname={cfg['NAME']} "
                f"user={cfg['USER']} password={cfg['PASSWORD']}")
    cluster = EmbeddedCluster()
    return f"host={cluster.socket_dir} port={cluster.port} dbname={DB_NAME} user={DB_USER}"


def tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants (the parser children's
    forkserver and the children forked from it included)."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                total += next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
            with open(f"/proc/{p}/task/{p}/children") as fh:
                stack += [int(c) for c in fh.read().split()]
        except (OSError, StopIteration, ValueError):
            pass
    return total


def run_timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Run ``cmd`` as a whole process: wall time from its start to its exit, the peak
    resident memory of its process tree (sampled every 50 ms), its stderr on failure."""
    peak = [0]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], tree_rss_kib(proc.pid))
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _out, err = proc.communicate()
    seconds = time.perf_counter() - start
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} {cmd[1]} failed (exit {proc.returncode}):\n{err[-3000:]}")
    return seconds, peak[0], err


def run_ogr2ogr(path: Path) -> float:
    ogr2ogr = shutil.which("ogr2ogr")
    if not ogr2ogr:
        raise SystemExit("ogr2ogr is not installed (apt-get install gdal-bin)")
    cmd = [ogr2ogr, "-f", "PostgreSQL", f"PG:{pg_dsn()}", str(path), "-nln", "bench.ogr_bina",
           "-lco", "GEOMETRY_NAME=geom", "-lco", "SPATIAL_INDEX=GIST", "-overwrite",
           "--config", "PG_USE_COPY", "YES"]
    return run_timed(cmd)[0]


def layer_folder() -> Path:
    """A ``KENTCBS_LAYER_DIRS`` folder holding the bench layer's definition, so that the
    real command loads it from the registry like any municipality's own layer."""
    import yaml

    from etl.testing import layer_data

    folder = Path(tempfile.mkdtemp(prefix="kentcbs-bench-layers-"))
    (folder / f"{LAYER}.yaml").write_text(
        yaml.safe_dump(layer_data(LAYER, theme="bina",
                                  backing={"kind": "table", "table": TABLE}),
                       allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


def run_etl(path: Path, layers: Path) -> dict[str, object]:
    """``kentcbs ingest`` as a whole process (interpreter start, Django start-up, database
    checks, the parser server's start, the load, the reports, the exit), timed like
    ogr2ogr; the batch's counts are read from the database afterwards."""
    from django.db import connection

    from etl.models import Batch

    exe = shutil.which("kentcbs", path=str(Path(sys.executable).parent)) or "kentcbs"
    env = {**os.environ, "KENTCBS_LAYER_DIRS": str(layers)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    seconds, peak_kib, _err = run_timed(
        [exe, "ingest", LAYER, str(path), "--department", "imar_sehircilik"], env=env)
    batch = Batch.objects.filter(layer_code=LAYER).order_by("-pk").first()
    connection.close()
    assert batch is not None
    return {"seconds": seconds, "status": batch.status, "read": batch.count_read,
            "loaded": batch.count_loaded, "rejected": batch.count_rejected,
            "inserted": batch.count_inserted, "message": batch.message,
            "peak_tree_kib": peak_kib}


def reset_tables() -> None:
    """Before each run: ogr2ogr's table gone (it creates its own, inside its timed run),
    the layer's table empty as the registry's DDL makes it (as after ``kentcbs layers
    sync``)."""
    from django.db import connection

    from etl.testing import create_layer_table, make_layer

    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench.ogr_bina")
    create_layer_table(make_layer(LAYER, backing={"kind": "table", "table": TABLE}))
    connection.close()


def settle() -> None:
    """Start each timed run from the same state: the tables loaded so far vacuumed (else
    autovacuum works through the last 1M-row load during the next run), dirty pages
    written (the generated file, the other side's load) and a CHECKPOINT, so that neither
    side pays for the other's WAL (either landing inside a run moved single runs by up to
    25 %)."""
    from django.db import DatabaseError, connection

    with connection.cursor() as cur:
        for table in ("bench.ogr_bina", "bench.etl_bina"):
            cur.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
            if cur.fetchone()[0]:
                cur.execute(f"VACUUM (ANALYZE) {table}")
    os.sync()
    try:
        with connection.cursor() as cur:
            cur.execute("CHECKPOINT")
    except DatabaseError:  # not allowed for this role (an external database): skip
        pass
    connection.close()


def describe_tables() -> dict[str, str]:
    """What each side's table carries after its load (so the comparison can be judged)."""
    from django.db import connection

    out: dict[str, str] = {}
    with connection.cursor() as cur:
        for table in ("bench.ogr_bina", "bench.etl_bina"):
            cur.execute("""SELECT count(*) FILTER (WHERE contype = 'c'),
                                  count(*) FILTER (WHERE contype IN ('u', 'p'))
                             FROM pg_constraint WHERE conrelid = %s::regclass""", [table])
            checks, uniques = cur.fetchone()
            cur.execute("SELECT indexdef FROM pg_indexes WHERE schemaname || '.' || tablename "
                        "= %s ORDER BY indexname", [table])
            kinds = [d.split(" USING ", 1)[1].split(" ", 1)[0] for (d,) in cur.fetchall()]
            out[table] = (f"{checks} CHECK, {uniques} unique/primary, indexes: "
                          f"{', '.join(kinds)}")
    connection.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, action="append", help="feature count (repeatable)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each side on the same file; medians are printed")
    parser.add_argument("--target", type=float, default=TARGET_RATIO,
                        help="the ratio of medians (ETL / ogr2ogr) a run must not exceed")
    parser.add_argument("--max-peak-gib", type=float, default=MAX_PEAK_GIB,
                        help="peak resident memory of the ETL's process tree not to exceed")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gis_core.settings")
    import django

    django.setup()
    from gis_core.database import ensure_ready

    ensure_ready()
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("CREATE SCHEMA IF NOT EXISTS bench")
    connection.close()
    work = Path(tempfile.mkdtemp(prefix="kentcbs-bench-"))
    layers = layer_folder()
    misses: list[str] = []
    print("both sides timed as whole processes: `ogr2ogr ...` and `kentcbs ingest ...`, "
          "start to exit, on the same file, each after the same settling")
    print(f"{'n':>9} {'ogr2ogr s':>10} {'ETL s':>8} {'ratio':>6} {'ETL peak MiB':>13} "
          f"{'read':>9} {'loaded':>9} {'rejected':>9} {'expected rej':>12}")
    for n in args.n or [100_000]:
        path = work / f"bina_{n}.gpkg"
        t = time.perf_counter()
        counts = generate(path, n)
        gen = time.perf_counter() - t
        expected = sum(counts.values())
        ogrs: list[float] = []
        etls: list[float] = []
        peaks: list[float] = []
        for run in range(args.repeat):  # alternate, so both sides share the machine's mood
            reset_tables()
            settle()
            ogr = run_ogr2ogr(path)
            settle()
            etl = run_etl(path, layers)
            peak_mib = int(etl["peak_tree_kib"]) / 1024  # ETL process + its parser children
            ogrs.append(ogr)
            etls.append(float(etl["seconds"]))
            peaks.append(peak_mib)
            print(f"{n:>9} {ogr:>10.2f} {etl['seconds']:>8.2f} {etl['seconds'] / ogr:>6.2f} "
                  f"{peak_mib:>13.0f} {etl['read']:>9} {etl['loaded']:>9} {etl['rejected']:>9} "
                  f"{expected:>12}  (run {run + 1}; {etl['status']})", flush=True)
            if etl["status"] != "loaded":
                misses.append(f"n={n} run {run + 1}: status {etl['status']} "
                              f"({etl['message']}), expected loaded")
            if not (etl["read"] == n == int(etl["loaded"]) + int(etl["rejected"])):
                misses.append(f"n={n} run {run + 1}: read {etl['read']}, loaded "
                              f"{etl['loaded']}, rejected {etl['rejected']}: read = loaded + "
                              f"rejected = {n} expected")
            if int(etl["rejected"]) != expected:
                misses.append(f"n={n} run {run + 1}: rejected {etl['rejected']} != expected "
                              f"{expected} {counts}")
        ogr_m, etl_m = float(np.median(ogrs)), float(np.median(etls))
        ratios = ", ".join(f"{e / o:.2f}" for e, o in zip(etls, ogrs, strict=True))
        print(f"{n:>9} {ogr_m:>10.2f} {etl_m:>8.2f} {etl_m / ogr_m:>6.2f} "
              f"{max(peaks):>13.0f}  median of {args.repeat} (ratio of medians; peak = max; "
              f"ratios per run {ratios}; "
              f"generated in {gen:.1f} s)", flush=True)
        if etl_m / ogr_m > args.target:
            misses.append(f"n={n}: ratio of medians {etl_m / ogr_m:.2f} > target {args.target}")
        if max(peaks) > args.max_peak_gib * 1024:
            misses.append(f"n={n}: peak {max(peaks):.0f} MiB > {args.max_peak_gib} GiB")
    for table, what in describe_tables().items():
        print(f"{table}: {what}")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"self peak (generator + driver) {own:.0f} MiB")
    shutil.rmtree(layers, ignore_errors=True)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    for miss in misses:
        print(f"MISSED: {miss}", file=sys.stderr)
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
