"""Benchmark: ETL validate-and-load vs ``ogr2ogr -f PostgreSQL`` of the same GeoPackage.

Not a test. A seeded generator writes N building polygons with known counts of
each violation; the same file is loaded in the same run by ogr2ogr (COPY, no
validation) and by ``etl.services.ingest`` (read in limited children,
normalise, validate every rule, report, COPY + upsert + quarantine in one
transaction). Prints times, the ratio and peak memory.

    .venv/bin/python bench/etl_load.py --n 100000 [--n 1000000] [--repeat 3] [--keep]

Target: ETL within 1.5x of ogr2ogr; peak memory < 4 GiB at 1M features.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
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


def run_ogr2ogr(path: Path) -> float:
    ogr2ogr = shutil.which("ogr2ogr")
    if not ogr2ogr:
        raise SystemExit("ogr2ogr is not installed (apt-get install gdal-bin)")
    cmd = [ogr2ogr, "-f", "PostgreSQL", f"PG:{pg_dsn()}", str(path), "-nln", "bench.ogr_bina",
           "-lco", "GEOMETRY_NAME=geom", "-lco", "SPATIAL_INDEX=GIST", "-overwrite",
           "--config", "PG_USE_COPY", "YES"]
    start = time.perf_counter()
    done = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"ogr2ogr failed: {done.stderr.strip()[-2000:]}")
    return time.perf_counter() - start


ETL_CHILD = r"""
import json, os, sys, threading, time
os.environ["DJANGO_SETTINGS_MODULE"] = "gis_core.settings"


def tree_rss_kib(pid):
    # resident memory of a process and all its descendants (parser children included)
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                total += next(int(l.split()[1]) for l in fh if l.startswith("VmRSS:"))
            with open(f"/proc/{p}/task/{p}/children") as fh:
                stack += [int(c) for c in fh.read().split()]
        except (OSError, StopIteration, ValueError):
            pass
    return total


peak = [0]
stop = threading.Event()


def sample():
    while not stop.is_set():
        peak[0] = max(peak[0], tree_rss_kib(os.getpid()))
        time.sleep(0.05)


if __name__ == "__main__":
    # as `kentcbs ingest` does: the parser children's server imports beside the start-up
    from etl.safety import warm_up
    warm_up()
    import django
    django.setup()
    from etl.services import ingest
    from etl.testing import create_layer_table, make_layer
    layer = make_layer("bench_bina", backing={"kind": "table", "table": "bench.etl_bina"})
    create_layer_table(layer)
    threading.Thread(target=sample, daemon=True).start()
    start = time.perf_counter()
    batch = ingest(layer=layer, path=sys.argv[1], department="imar_sehircilik")
    seconds = time.perf_counter() - start
    stop.set()
    hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    print(json.dumps({"seconds": seconds, "status": batch.status, "read": batch.count_read,
                      "loaded": batch.count_loaded, "rejected": batch.count_rejected,
                      "inserted": batch.count_inserted, "message": batch.message,
                      "hwm_self_kib": hwm, "peak_tree_kib": peak[0]}))
"""


def run_etl(path: Path) -> dict[str, object]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "gis_core.settings"}
    script = Path(tempfile.mkdtemp(prefix="kentcbs-bench-etl-")) / "etl_child.py"
    script.write_text(ETL_CHILD)  # a file, so the forkserver can import __main__ safely
    done = subprocess.run([sys.executable, str(script), str(path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    shutil.rmtree(script.parent, ignore_errors=True)
    if done.returncode != 0:
        raise SystemExit(f"ETL run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, action="append", help="feature count (repeatable)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each side on the same file; medians are printed")
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
            settle()
            ogr = run_ogr2ogr(path)
            settle()
            etl = run_etl(path)
            peak_mib = int(etl["peak_tree_kib"]) / 1024  # ETL process + its parser children
            ogrs.append(ogr)
            etls.append(float(etl["seconds"]))
            peaks.append(peak_mib)
            print(f"{n:>9} {ogr:>10.2f} {etl['seconds']:>8.2f} {etl['seconds'] / ogr:>6.2f} "
                  f"{peak_mib:>13.0f} {etl['read']:>9} {etl['loaded']:>9} {etl['rejected']:>9} "
                  f"{expected:>12}  (run {run + 1}; {etl['status']})", flush=True)
            assert etl["read"] == n == int(etl["loaded"]) + int(etl["rejected"])
            if int(etl["rejected"]) != expected:
                print(f"  rejected {etl['rejected']} != expected {expected}: {counts}")
        ogr_m, etl_m = float(np.median(ogrs)), float(np.median(etls))
        ratios = ", ".join(f"{e / o:.2f}" for e, o in zip(etls, ogrs, strict=True))
        print(f"{n:>9} {ogr_m:>10.2f} {etl_m:>8.2f} {etl_m / ogr_m:>6.2f} "
              f"{max(peaks):>13.0f}  median of {args.repeat} (ratio of medians; peak = max; "
              f"ratios per run {ratios}; "
              f"generated in {gen:.1f} s)", flush=True)
    for table, what in describe_tables().items():
        print(f"{table}: {what}")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"self peak (generator + driver) {own:.0f} MiB")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
