"""The install step brings what the embedded cluster needs, and root can run it anywhere.

These read the real machine: the PostgreSQL major Debian installed, dpkg's record
of which package owns the PostGIS control file, and a real cluster started as root
from a mode-0700 folder.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from gis_core import database
from tests.conftest import ROOT, free_port, kentcbs


def _installed_major() -> int:
    majors = [int(p.parent.parent.name) for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    assert majors, "PostgreSQL server programs are not installed"
    return max(majors)


def test_bootstrap_asks_for_the_package_that_owns_the_postgis_extension() -> None:
    """Debian's `postgis` only recommends the extension: bootstrap must name it itself."""
    major = _installed_major()
    # postgis.control is an alternatives link to postgis-3.control: ask about the file.
    control = os.path.realpath(f"/usr/share/postgresql/{major}/extension/postgis.control")
    owner = subprocess.run(["dpkg-query", "-S", control], capture_output=True, text=True,
                           check=True).stdout.split(":")[0].strip()
    listed = subprocess.run([str(ROOT / "bootstrap.sh"), "packages"], capture_output=True,
                            text=True, check=True).stdout.split()
    assert owner == f"postgresql-{major}-postgis-3-scripts"
    assert owner in listed
    assert f"postgresql-{major}-postgis-3" in listed
    # The extension's library comes with the package bootstrap asks for, not a recommend.
    library_owner = subprocess.run(
        ["dpkg-query", "-S", f"/usr/lib/postgresql/{major}/lib/postgis-3.so"],
        capture_output=True, text=True, check=True).stdout.split(":")[0].strip()
    assert library_owner in listed
    # And apt would install them without recommends (a dry run resolves every name).
    dry = subprocess.run(["apt-get", "install", "-s", "--no-install-recommends",
                          *(p for p in listed if p.startswith("postgresql-"))],
                         capture_output=True, text=True, check=False)
    assert dry.returncode == 0, dry.stderr


def test_root_runs_the_cluster_from_a_private_checkout(tmp_path: Path) -> None:
    """A clone in a mode-0700 folder: the cluster's data goes where 'kentcbs' can reach.

    Not as root, the cluster runs as the user itself, who reaches its own checkout: it
    stays in ``var/`` (asserted); as root (CI) the real cluster is started from there.
    """
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    home = private / "checkout" / "var"
    root = database.cluster_root(home)
    if os.geteuid() != 0:
        assert root == home / "postgres"
        return
    assert root.is_relative_to(database.SHARED_CLUSTERS)
    assert database.cluster_root(home) == root, "the same checkout keeps the same cluster"
    assert not database.reachable_by(home, database.SYSTEM_USER)
    env = {"KENTCBS_HOME": str(home), "KENTCBS_DB_PORT": str(free_port())}
    try:
        started = kentcbs("db", "start", env=env, timeout=180)
        assert started.returncode == 0, started.stderr
        status = kentcbs("db", "status", "--json", env=env)
        assert '"running": true' in status.stdout
        assert str(root / "data") in status.stdout
        # Nothing was granted on the private folder.
        assert (private.stat().st_mode & 0o777) == 0o700
    finally:
        kentcbs("db", "stop", env=env)
        shutil.rmtree(root.parent, ignore_errors=True)


def test_a_reachable_checkout_keeps_its_cluster_in_var() -> None:
    folder = Path(tempfile.mkdtemp(prefix="kentcbs-open-", dir="/tmp"))
    try:
        folder.chmod(0o755)
        home = folder / "var"
        assert database.reachable_by(home, database.SYSTEM_USER)
        assert database.cluster_root(home) == home / "postgres"
    finally:
        shutil.rmtree(folder)


def test_start_right_after_the_postmaster_was_killed_succeeds() -> None:
    """kill -9 of the postmaster, then `kentcbs db start` at once: it starts, every time."""
    folder = Path(tempfile.mkdtemp(prefix="kentcbs-crash-", dir="/tmp"))
    folder.chmod(0o755)
    env = {"KENTCBS_HOME": str(folder / "var"), "KENTCBS_DB_PORT": str(free_port())}
    cluster_dir = database.cluster_root(folder / "var")
    try:
        first = kentcbs("db", "start", env=env, timeout=180)
        assert first.returncode == 0, first.stderr
        for _ in range(3):
            pid = int((cluster_dir / "data" / "postmaster.pid").read_text().split()[0])
            os.kill(pid, signal.SIGKILL)
            again = kentcbs("db", "start", env=env, timeout=180)
            assert again.returncode == 0, again.stderr
            assert "Traceback" not in again.stderr
            status = kentcbs("db", "status", "--json", env=env)
            assert '"running": true' in status.stdout, status.stdout + status.stderr
            new_pid = int((cluster_dir / "data" / "postmaster.pid").read_text().split()[0])
            assert new_pid != pid
    finally:
        kentcbs("db", "stop", env=env)
        shutil.rmtree(folder, ignore_errors=True)
