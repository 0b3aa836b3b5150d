"""Test setup: a real PostGIS (the embedded cluster, or DATABASE_URL), never a mock.

A skipped test fails the run: a test that did not run proves nothing, and a
missing database, client or browser must not pass silently. Set
``KENTCBS_ALLOW_SKIPS=1`` only when running a subset by hand.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gis_core import database

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


def pytest_configure(config: pytest.Config) -> None:
    database.ensure_ready()
    from django.conf import settings

    # Password hashing is deliberately slow (PBKDF2, ~0.3 s a user); the tests create
    # hundreds of users and test permissions, not hash strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # WhiteNoise warns at every start when STATIC_ROOT does not exist yet (tests serve
    # static files from the finders; `kentcbs serve` runs collectstatic).
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if skipped and not os.environ.get("KENTCBS_ALLOW_SKIPS"):
        terminalreporter.write_line(
            f"KentCBS: {len(skipped)} skipped test(s) count as failures "
            "(atlanan testler başarısız sayılır).",
            red=True,
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and not os.environ.get("KENTCBS_ALLOW_SKIPS") and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def kentcbs_exe() -> str:
    """The ``kentcbs`` console command of this environment."""
    return shutil.which("kentcbs", path=str(Path(sys.executable).parent)) or "kentcbs"


def kentcbs(*args: str, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the real ``kentcbs`` console command in a subprocess."""
    exe = kentcbs_exe()
    full_env = {**os.environ, **(env or {})}
    full_env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run([exe, *args], capture_output=True, text=True, env=full_env,
                          timeout=timeout, check=False)


@pytest.fixture
def artifacts_dir(request: pytest.FixtureRequest) -> Iterator[Path]:
    """A folder kept after the run for screenshots and reports (test-artifacts/)."""
    path = ARTIFACTS / request.node.name
    path.mkdir(parents=True, exist_ok=True)
    yield path


def _transactional(request: pytest.FixtureRequest) -> bool:
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        return True
    return bool({"live_server", "transactional_db"} & set(request.fixturenames))


@pytest.fixture(autouse=True)
def _layer_tables_emptied_after_a_transactional_test(
        request: pytest.FixtureRequest) -> Iterator[None]:
    """Django's flush after a transactional test empties the models' tables only; the
    registry's layer tables (schema ``cbs``: the demo city, history, generalised outlines)
    would carry one test's features into the next. Empty them too."""
    yield
    if not _transactional(request):
        return
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) "
                       "FROM pg_tables WHERE schemaname = 'cbs'")
        tables = [row[0] for row in cursor.fetchall()]
        if tables:
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
