"""The database KentCBS runs on: an external PostGIS or its own embedded cluster.

With ``DATABASE_URL`` set, KentCBS uses that server and never starts one of its
own. Without it, KentCBS keeps a PostgreSQL cluster with PostGIS in a
project-local data directory (``$KENTCBS_HOME/postgres``), on its own port and
socket. PostgreSQL refuses to run as root, so when KentCBS runs as root the
cluster belongs to an unprivileged system user (``kentcbs``).

This module is imported by ``settings.py``: it must not import Django settings.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import pwd
import shutil
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dj_database_url

from gis_core.errors import DatabaseSetupError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PORT = 55432
#: GeoDjango's PostGIS backend with a round-trip-free health check (gis_core/postgis/base.py).
DB_ENGINE = "gis_core.postgis"
DB_NAME = "kentcbs"
DB_USER = "kentcbs"
SYSTEM_USER = "kentcbs"

#: Durability settings of the embedded cluster; read back by the tests.
DURABLE_SETTINGS = {
    "fsync": "on",
    "full_page_writes": "on",
    "synchronous_commit": "on",
}


def kentcbs_home() -> Path:
    """Return the folder that holds KentCBS's runtime data (``var/`` by default)."""
    return Path(os.environ.get("KENTCBS_HOME", PROJECT_ROOT / "var")).resolve()


#: Where a root-run checkout keeps its cluster when the system user cannot reach the
#: checkout (root's home is mode 0700): one folder per checkout.
SHARED_CLUSTERS = Path("/var/lib/kentcbs")


def reachable_by(path: Path, user: str) -> bool:
    """Return True if ``user`` may traverse every existing folder above ``path``.

    Reads the mode bits (owner, group, others) of each ancestor; a user that does
    not exist yet is judged as "others".
    """
    try:
        entry = pwd.getpwnam(user)
        uid = entry.pw_uid
        gids = {entry.pw_gid, *os.getgrouplist(user, entry.pw_gid)}
    except KeyError:
        uid, gids = -1, set()
    for folder in [path, *path.parents]:
        try:
            st = folder.stat()
        except FileNotFoundError:
            continue
        if uid == 0:
            continue
        if st.st_uid == uid:
            bit = stat.S_IXUSR
        elif st.st_gid in gids:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return False
    return True


def cluster_root(home: Path | None = None) -> Path:
    """Return the folder of the embedded cluster for this checkout.

    ``$KENTCBS_HOME/postgres`` as a rule. When KentCBS runs as root and the system
    user that owns the cluster cannot traverse the checkout (a clone under
    ``/root``, mode 0700), the cluster lives in ``/var/lib/kentcbs/<name>-<hash>/``
    instead, one folder per checkout, and nothing is granted on the private folders.
    """
    home = home or kentcbs_home()
    local = home / "postgres"
    if os.geteuid() != 0 or (local / "data" / "PG_VERSION").exists():
        return local
    if reachable_by(local, SYSTEM_USER):
        return local
    digest = hashlib.sha256(str(home).encode()).hexdigest()[:10]
    slug = "".join(ch if ch.isalnum() else "-" for ch in home.parent.name)[:40] or "kentcbs"
    return SHARED_CLUSTERS / f"{slug}-{digest}" / "postgres"


def database_url() -> str | None:
    """Return ``DATABASE_URL`` if the operator configured an external database."""
    url = os.environ.get("DATABASE_URL", "").strip()
    return url or None


def django_database_settings() -> dict[str, object]:
    """Return Django's ``DATABASES['default']`` for the configured database."""
    test_name = os.environ.get("KENTCBS_TEST_DB_NAME")
    url = database_url()
    if url:
        config: dict[str, object] = dict(
            dj_database_url.parse(url, engine=DB_ENGINE)
        )
    else:
        cluster = EmbeddedCluster()
        config = {
            "ENGINE": DB_ENGINE,
            "NAME": DB_NAME,
            "USER": DB_USER,
            "PASSWORD": "",
            "HOST": str(cluster.socket_dir),
            "PORT": str(cluster.port),
        }
    config["CONN_MAX_AGE"] = int(os.environ.get("KENTCBS_DB_CONN_MAX_AGE", "60"))
    config["CONN_HEALTH_CHECKS"] = True
    if test_name:
        config["TEST"] = {"NAME": test_name}
    return config


def replica_database_settings(url: str) -> dict[str, object]:
    """Django's ``DATABASES['replica']`` for ``KENTCBS_REPLICA_URL`` (a hot standby).

    A short connect timeout: a replica that does not answer costs a request at most this
    long before its reads fall back to the primary (``gis_core.routers``). In tests the
    alias mirrors the test database.
    """
    config: dict[str, object] = dict(dj_database_url.parse(url, engine=DB_ENGINE))
    config["CONN_MAX_AGE"] = int(os.environ.get("KENTCBS_DB_CONN_MAX_AGE", "60"))
    config["CONN_HEALTH_CHECKS"] = True
    config["OPTIONS"] = {"connect_timeout": int(os.environ.get("KENTCBS_REPLICA_TIMEOUT", "2"))}
    config["TEST"] = {"MIRROR": "default"}
    return config


@dataclass(frozen=True)
class PostgresBinaries:
    """Where the PostgreSQL server programs of one major version live."""

    bindir: Path
    version: int

    def tool(self, name: str) -> str:
        return str(self.bindir / name)


def _postgis_installed_for(version: int) -> bool:
    share = Path(f"/usr/share/postgresql/{version}/extension/postgis.control")
    return share.exists()


def find_binaries() -> PostgresBinaries:
    """Find ``initdb``/``pg_ctl`` of a PostgreSQL that has PostGIS installed.

    ``KENTCBS_PG_BINDIR`` overrides the search. Otherwise the newest major
    version under ``/usr/lib/postgresql`` (Debian/Ubuntu layout) that has the
    PostGIS extension wins.
    """
    override = os.environ.get("KENTCBS_PG_BINDIR")
    if override:
        bindir = Path(override)
        if not (bindir / "initdb").exists():
            raise DatabaseSetupError(
                "PG_BINARIES_MISSING",
                "KENTCBS_PG_BINDIR={path} has no initdb. Point it at PostgreSQL's bin folder.",
                path=bindir,
            )
        out = subprocess.run(
            [str(bindir / "postgres"), "--version"], capture_output=True, text=True, check=False
        ).stdout
        version = int(out.split()[-1].split(".")[0]) if out else 0
        return PostgresBinaries(bindir, version)
    candidates = []
    for initdb in Path("/usr/lib/postgresql").glob("*/bin/initdb"):
        with contextlib.suppress(ValueError):
            candidates.append(int(initdb.parent.parent.name))
    if not candidates:
        raise DatabaseSetupError(
            "PG_BINARIES_MISSING",
            "PostgreSQL server programs were not found. Install PostgreSQL with PostGIS "
            "(run ./bootstrap.sh) or set DATABASE_URL to an existing PostGIS server.",
        )
    with_postgis = [v for v in candidates if _postgis_installed_for(v)]
    if not with_postgis:
        raise DatabaseSetupError(
            "POSTGIS_MISSING",
            "PostgreSQL {versions} is installed but PostGIS is not. Install "
            "postgresql-{version}-postgis-3 (run ./bootstrap.sh) or set DATABASE_URL.",
            versions=", ".join(map(str, sorted(candidates))),
            version=max(candidates),
        )
    version = max(with_postgis)
    return PostgresBinaries(Path(f"/usr/lib/postgresql/{version}/bin"), version)


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Return True if nothing listens on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) != 0


class EmbeddedCluster:
    """KentCBS's own PostgreSQL cluster in ``$KENTCBS_HOME/postgres``.

    Examples
    --------
    >>> cluster = EmbeddedCluster()  # doctest: +SKIP
    >>> cluster.ensure_ready()       # init, start, create database and PostGIS
    """

    def __init__(self, home: Path | None = None, port: int | None = None) -> None:
        self.root = cluster_root(home)
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "run"
        self.log_file = self.root / "log" / "postgres.log"
        self.port = port or int(os.environ.get("KENTCBS_DB_PORT", DEFAULT_PORT))

    # -- running as root -------------------------------------------------
    @property
    def as_root(self) -> bool:
        return os.geteuid() == 0

    def _ensure_system_user(self) -> None:
        try:
            pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            useradd = shutil.which("useradd") or "/usr/sbin/useradd"
            result = subprocess.run(
                [useradd, "--system", "--no-create-home", "--home-dir", "/nonexistent",
                 "--shell", "/usr/sbin/nologin", SYSTEM_USER],
                capture_output=True, text=True, check=False,
            )
            if result.returncode != 0:
                raise DatabaseSetupError(
                    "DB_SYSTEM_USER",
                    "Could not create the system user '{user}' that owns the database: {reason}",
                    user=SYSTEM_USER, reason=result.stderr.strip(),
                ) from None

    def _run(self, args: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = ["runuser", "-u", SYSTEM_USER, "--", *args] if self.as_root else args
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            reason = (result.stderr or result.stdout).strip().splitlines()
            raise DatabaseSetupError(
                "DB_COMMAND_FAILED",
                "{command} failed: {reason}. See {log}.",
                command=Path(args[0]).name,
                reason=reason[-1] if reason else f"exit {result.returncode}",
                log=self.log_file,
            )
        return result

    def _prepare_dirs(self) -> None:
        for path in (self.root, self.socket_dir, self.log_file.parent):
            path.mkdir(parents=True, exist_ok=True)
        if self.root.is_relative_to(SHARED_CLUSTERS):
            SHARED_CLUSTERS.chmod(0o755)
            (self.root.parent / "checkout").write_text(f"{kentcbs_home()}\n")
        if self.as_root:
            self._ensure_system_user()
            entry = pwd.getpwnam(SYSTEM_USER)
            for dirpath, _dirs, files in os.walk(self.root):
                # a running server removes files meanwhile (pg_internal.init, temporary
                # files): one that is gone needs no owner
                with contextlib.suppress(FileNotFoundError):
                    os.chown(dirpath, entry.pw_uid, entry.pw_gid)
                for name in files:
                    with contextlib.suppress(FileNotFoundError):
                        os.chown(os.path.join(dirpath, name), entry.pw_uid, entry.pw_gid)
            probe = subprocess.run(
                ["runuser", "-u", SYSTEM_USER, "--", "test", "-w", str(self.root)],
                check=False,
            )
            if probe.returncode != 0:
                raise DatabaseSetupError(
                    "DB_DIR_NOT_REACHABLE",
                    "The system user '{user}' cannot reach {path} (a parent folder is private). "
                    "Set KENTCBS_HOME to a folder it can reach, e.g. /var/lib/kentcbs.",
                    user=SYSTEM_USER, path=self.root,
                )

    # -- state -------------------------------------------------------------
    @property
    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def is_running(self) -> bool:
        if not self.initialised:
            return False
        bins = find_binaries()
        return self._run([bins.tool("pg_ctl"), "-D", str(self.data_dir), "status"],
                         check=False).returncode == 0

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- actions -----------------------------------------------------------
    def init(self) -> None:
        """Create the cluster: data checksums on, ICU Turkish collation, durable settings."""
        bins = find_binaries()
        self._prepare_dirs()
        self.data_dir.mkdir(exist_ok=True)
        if self.as_root:
            entry = pwd.getpwnam(SYSTEM_USER)
            os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        os.chmod(self.data_dir, 0o700)
        base = [bins.tool("initdb"), "-D", str(self.data_dir), "-U", DB_USER, "-E", "UTF8",
                "--auth-local=trust", "--auth-host=scram-sha-256", "--data-checksums"]
        # C.UTF-8 by default: a Turkish default collation would upper-case 'point' to
        # 'POİNT' inside PostGIS's own catalogue views and break GDAL and QGIS. Turkish
        # names carry the ICU collation "tr-TR-x-icu" on their own columns instead.
        self._run([*base, "--locale=C.UTF-8"])
        lines = [f"{key} = {value}" for key, value in DURABLE_SETTINGS.items()]
        lines += ["shared_buffers = 256MB", "max_connections = 200",
                  "work_mem = 32MB", "maintenance_work_mem = 256MB"]
        with open(self.data_dir / "postgresql.conf", "a") as conf:
            conf.write("\n# --- KentCBS (embedded cluster) ---\n" + "\n".join(lines) + "\n")

    def _accepts_connections(self) -> bool:
        import psycopg2

        try:
            self.connect().close()
        except psycopg2.OperationalError:
            return False
        return True

    def _postmaster_alive(self) -> bool:
        """True while the PID in ``postmaster.pid`` is a live process."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split()[0])
            os.kill(pid, 0)
        except (FileNotFoundError, IndexError, ValueError, ProcessLookupError):
            return False
        except PermissionError:
            return True
        return True

    def start(self, *, timeout: float = 60) -> None:
        """Start the cluster on its port and socket; a no-op when it already runs.

        Right after the postmaster was killed, ``pg_ctl status`` can still report it
        (its PID lingers while its backends exit) and a new postmaster refuses the
        still-attached shared memory: start waits until the old one answers or is
        gone, and retries the start until the deadline.
        """
        bins = find_binaries()
        self._prepare_dirs()
        deadline = time.monotonic() + timeout
        while self.is_running() or self._postmaster_alive():
            if self._accepts_connections():
                return
            if time.monotonic() > deadline:
                raise DatabaseSetupError(
                    "DB_NOT_READY",
                    "The database in {path} is running but does not accept connections. "
                    "See {log}.", path=self.data_dir, log=self.log_file,
                )
            time.sleep(0.2)
        # A stale postmaster.pid means a crash just now: its socket may linger briefly.
        crashed = (self.data_dir / "postmaster.pid").exists()
        while crashed and not port_is_free(self.port) and time.monotonic() < deadline:
            time.sleep(0.2)
        if not port_is_free(self.port):
            raise DatabaseSetupError(
                "DB_PORT_IN_USE",
                "Port {port} is in use by another program, so the embedded database cannot "
                "start. Stop that program or choose another port with KENTCBS_DB_PORT.",
                port=self.port,
            )
        options = (f"-p {self.port} -k {self.socket_dir} "
                   "-c listen_addresses=127.0.0.1" + self._archive_options())
        command = [bins.tool("pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file),
                   "-w", "-t", "60", "-o", options, "start"]
        while True:
            try:
                self._run(command)
                return
            except DatabaseSetupError:
                # The dead postmaster's backends may still hold its shared memory or
                # socket for a moment: try again until the deadline.
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
                if self._accepts_connections():
                    return

    # -- WAL archiving (point-in-time recovery) ---------------------------
    @property
    def wal_archive(self) -> Path:
        """Where the cluster archives its WAL once ``kentcbs db backup`` switched it on.

        The folder's existence is the switch: the first backup creates it, and every
        start of the cluster from then on runs with ``archive_mode = on``.
        """
        return self.root / "wal_archive"

    @property
    def archiving_configured(self) -> bool:
        return self.wal_archive.is_dir()

    def archive_command(self) -> str:
        target = self.wal_archive
        return f"test ! -f {target}/%f && cp %p {target}/%f"

    def _archive_options(self) -> str:
        if not self.archiving_configured:
            return ""
        # pg_ctl hands -o to a shell; postgres takes a -c value literally (no quotes)
        return f' -c archive_mode=on -c "archive_command={self.archive_command()}"'

    def enable_archiving(self) -> bool:
        """Create the archive folder; True when the running server already archives.

        ``archive_mode`` only changes at a restart: until then a base backup is still
        complete (it carries its own WAL) but cannot be rolled forward in time.
        """
        self.wal_archive.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            entry = pwd.getpwnam(SYSTEM_USER)
            os.chown(self.wal_archive, entry.pw_uid, entry.pw_gid)
        if not self.is_running():
            return False
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT current_setting('archive_mode')")
                return bool(cur.fetchone()[0] == "on")
        finally:
            conn.close()

    def stop(self) -> None:
        if not self.is_running():
            return
        bins = find_binaries()
        self._run([bins.tool("pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"])

    def connect(self, dbname: str = "postgres"):
        import psycopg2

        return psycopg2.connect(host=str(self.socket_dir), port=self.port, user=DB_USER,
                                dbname=dbname, connect_timeout=10)

    def create_database(self) -> None:
        """Create the ``kentcbs`` database, with PostGIS in it and in template1."""
        # PostGIS in template1 first, so every new database (tests' too) has it.
        self._create_postgis("template1")
        conn = self.connect()
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME])
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{DB_NAME}"')
        conn.close()
        self._create_postgis(DB_NAME)

    def _create_postgis(self, dbname: str) -> None:
        conn = self.connect(dbname)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.close()

    def ensure_ready(self) -> None:
        """Initialise if needed, start if stopped, and make sure the database exists."""
        with self._lock():
            if not self.initialised:
                self.init()
            self.start()
            self.create_database()

    def status(self) -> dict[str, object]:
        info: dict[str, object] = {
            "mode": "embedded", "data_dir": str(self.data_dir), "port": self.port,
            "socket_dir": str(self.socket_dir), "initialised": self.initialised,
            "running": self.is_running(),
        }
        if info["running"]:
            conn = self.connect(DB_NAME)
            with conn.cursor() as cur:
                cur.execute("SELECT current_setting('server_version'), postgis_lib_version()")
                info["postgresql"], info["postgis"] = cur.fetchone()
            conn.close()
        return info


def check_external(url: str) -> dict[str, object]:
    """Connect to ``DATABASE_URL`` and make sure PostGIS is there (or can be created)."""
    import psycopg2

    cfg = dj_database_url.parse(url)
    where = f"{cfg.get('HOST') or 'localhost'}:{cfg.get('PORT') or 5432}/{cfg.get('NAME')}"
    try:
        conn = psycopg2.connect(
            dbname=cfg.get("NAME"), user=cfg.get("USER") or None,
            password=cfg.get("PASSWORD") or None, host=cfg.get("HOST") or None,
            port=cfg.get("PORT") or None, connect_timeout=5,
        )
    except psycopg2.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "no answer"
        raise DatabaseSetupError(
            "DB_UNREACHABLE",
            "The database in DATABASE_URL ({where}) cannot be reached: {reason}. "
            "Check the host, port, user and password.",
            where=where, reason=reason,
        ) from None
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")
            row = cur.fetchone()
            if row is None:
                try:
                    cur.execute("CREATE EXTENSION postgis")
                except psycopg2.Error:
                    raise DatabaseSetupError(
                        "DB_NO_POSTGIS",
                        "The database in DATABASE_URL ({where}) has no PostGIS and it cannot "
                        "be created there. Ask its administrator to run "
                        "CREATE EXTENSION postgis.",
                        where=where,
                    ) from None
            cur.execute("SELECT current_setting('server_version'), postgis_lib_version()")
            version, postgis = cur.fetchone()
    finally:
        conn.close()
    return {"mode": "external", "database": where, "postgresql": version, "postgis": postgis,
            "running": True}


def ensure_ready() -> dict[str, object]:
    """Make the configured database usable; return its status."""
    url = database_url()
    if url:
        return check_external(url)
    cluster = EmbeddedCluster()
    cluster.ensure_ready()
    return cluster.status()
