"""Benchmark (not a test): ``kentcbs demo`` from an empty database, as whole processes.

Drops and creates a scratch database (``kentcbs_bench_demo``) on the embedded
cluster (the one ``KENTCBS_DB_PORT`` names), with a scratch ``KENTCBS_HOME``, then
times, each as a whole process from its start to its exit, the steps of
``./bootstrap.sh run``: ``kentcbs migrate`` and ``kentcbs demo`` (its stages
printed by ``--timings``), and a second ``kentcbs demo``, which must change no row
of any table. The machine is shared: CPU seconds are printed beside wall seconds,
for the command's process tree (the Python process and the ETL's reader children)
and for the PostgreSQL server (postmaster and backends, read from ``/proc``).

    .venv/bin/python bench/demo_build.py [--limit 90] [--keep]

Exits 1 when migrate + the first demo take more than ``--limit`` wall seconds
(default 90, issue 17), or when the second run changed a row.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCRATCH = "kentcbs_bench_demo"
LIMIT_SECONDS = 90.0


def _admin():  # type: ignore[no-untyped-def]
    from gis_core.database import EmbeddedCluster

    conn = EmbeddedCluster().connect("postgres")
    conn.autocommit = True
    return conn


def create_scratch() -> str:
    """An empty PostGIS database (PostGIS is in the cluster's template1); its URL."""
    from gis_core.database import DB_USER, EmbeddedCluster

    conn = _admin()
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{SCRATCH}"')
    conn.close()
    cluster = EmbeddedCluster()
    return f"postgis://{DB_USER}@{quote(str(cluster.socket_dir), safe='')}:{cluster.port}/{SCRATCH}"


def drop_scratch() -> None:
    conn = _admin()
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')
    conn.close()


def server_cpu_seconds() -> float:
    """CPU seconds of the cluster so far: the postmaster, the backends it reaped, and the
    live ones (every process of this cluster descends from its postmaster)."""
    from gis_core.database import EmbeddedCluster

    pid = int((EmbeddedCluster().data_dir / "postmaster.pid").read_text().split()[0])
    tick = os.sysconf("SC_CLK_TCK")

    def fields(p: int | str) -> list[str]:
        text = Path(f"/proc/{p}/stat").read_text()
        return text[text.rindex(")") + 2:].split()  # after "pid (comm) "

    own = fields(pid)
    total = sum(int(v) for v in own[11:15])  # utime stime cutime cstime
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            f = fields(entry)
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(f[1]) == pid:  # ppid
            total += int(f[11]) + int(f[12])
    return total / tick


def table_counts(url: str) -> dict[str, int]:
    """Rows of every table of the scratch database (PostGIS's own excluded)."""
    import psycopg2
    from psycopg2 import sql

    from gis_core.database import DB_USER, EmbeddedCluster

    cluster = EmbeddedCluster()
    conn = psycopg2.connect(host=str(cluster.socket_dir), port=cluster.port, user=DB_USER,
                            dbname=SCRATCH)
    counts = {}
    with conn.cursor() as cur:
        cur.execute("""SELECT schemaname, tablename FROM pg_tables
                       WHERE schemaname NOT IN ('pg_catalog', 'information_schema', 'tiger',
                                                'topology')
                         AND tablename <> 'spatial_ref_sys' ORDER BY 1, 2""")
        for schema, table in cur.fetchall():
            cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table)))
            counts[f"{schema}.{table}"] = int(cur.fetchone()[0])
    conn.close()
    return counts


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """Run ``cmd`` to its end: wall, its process tree's CPU, the server's CPU, stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server = server_cpu_seconds()
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server = server_cpu_seconds() - server
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[1:])} failed (exit {proc.returncode}):\n"
                         f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return wall, cpu, server, proc.stderr


def stages(stderr: str) -> list[tuple[str, float, float]]:
    out = []
    for line in stderr.splitlines():
        parts = line.split("\t")
        if len(parts) == 4 and parts[0] == "stage":
            out.append((parts[1], float(parts[2]), float(parts[3])))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=LIMIT_SECONDS,
                        help="wall seconds that migrate + the first demo must not exceed")
    parser.add_argument("--keep", action="store_true",
                        help="keep the scratch database and KENTCBS_HOME afterwards")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gis_core.settings")
    import django

    django.setup()
    from gis_core.database import ensure_ready

    ensure_ready()
    url = create_scratch()
    home = Path(tempfile.mkdtemp(prefix="kentcbs-bench-demo-"))
    exe = shutil.which("kentcbs", path=str(Path(sys.executable).parent)) or "kentcbs"
    env = {**os.environ, "DATABASE_URL": url, "KENTCBS_HOME": str(home)}
    for key in ("DJANGO_SETTINGS_MODULE", "KENTCBS_TEST_DB_NAME"):
        env.pop(key, None)
    print(f"scratch database {SCRATCH}, KENTCBS_HOME {home}; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'step':34} {'wall s':>8} {'CPU s':>8} {'server CPU s':>13}")
    try:
        rows = []
        rows.append(("kentcbs migrate", *run([exe, "migrate", "--no-input", "-v", "0"], env)))
        rows.append(("kentcbs demo", *run([exe, "demo", "--timings"], env)))
        first = table_counts(url)
        rows.append(("kentcbs demo (second run)", *run([exe, "demo", "--timings"], env)))
        second = table_counts(url)
        for name, wall, cpu, server, err in rows:
            print(f"{name:34} {wall:>8.1f} {cpu:>8.1f} {server:>13.1f}")
            for stage, s_wall, s_cpu in stages(err):
                print(f"  {stage:32} {s_wall:>8.1f} {s_cpu:>8.1f}")
        total = rows[0][1] + rows[1][1]
        print(f"{'migrate + demo':34} {total:>8.1f} {rows[0][2] + rows[1][2]:>8.1f} "
              f"{rows[0][3] + rows[1][3]:>13.1f}  (limit {args.limit:.0f} s wall)")
        failures = []
        if total > args.limit:
            failures.append(f"migrate + demo took {total:.1f} s > {args.limit:.0f} s")
        changed = {t: (first.get(t), n) for t, n in second.items() if first.get(t) != n}
        if changed:
            failures.append(f"the second run changed rows (table: before, after): {changed}")
        for failure in failures:
            print(f"FAIL: {failure}")
        if not failures:
            print(f"OK: {sum(first.values())} rows in {len(first)} tables; the second run "
                  "changed none")
        return 1 if failures else 0
    finally:
        if not args.keep:
            drop_scratch()
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
