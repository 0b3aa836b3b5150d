"""Foundation: the real PostGIS, the embedded cluster, the ``kentcbs`` command."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import psycopg2
import pytest
from django.db import connection

from gis_core import database
from gis_core.cli import main as kentcbs_main
from tests.conftest import ROOT, free_port, kentcbs


@pytest.mark.django_db
def test_tm30_point_transforms_to_known_wgs84_coordinates() -> None:
    """A point on TM30's central meridian lies at 30°E; 4,400,000 m north is 39.734°N."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform("
            "ST_SetSRID(ST_MakePoint(500000, 4400000), 5254), 4326) AS p) t"
        )
        lon, lat = cursor.fetchone()
    assert lon == pytest.approx(30.0, abs=1e-9)
    assert lat == pytest.approx(39.734050, abs=1e-6)


@pytest.mark.django_db
def test_eskisehir_centre_lands_in_tm30_and_areas_are_metric() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform("
            "ST_SetSRID(ST_MakePoint(30.5206, 39.7767), 4326), 5254) AS p) t"
        )
        easting, northing = cursor.fetchone()
        # 0.52° east of the central meridian at 39.8°N is about 44.6 km.
        assert 544_000 < easting < 545_200
        assert 4_400_000 < northing < 4_410_000
        cursor.execute(
            "SELECT ST_Area(ST_MakeEnvelope(500000, 4400000, 500100, 4400050, 5254))"
        )
        assert cursor.fetchone()[0] == pytest.approx(5000.0)


@pytest.mark.django_db
def test_embedded_cluster_is_durable() -> None:
    with connection.cursor() as cursor:
        values = {}
        for name in [*database.DURABLE_SETTINGS, "data_checksums"]:
            cursor.execute(f"SHOW {name}")
            values[name] = cursor.fetchone()[0]
    assert values == {"fsync": "on", "full_page_writes": "on", "synchronous_commit": "on",
                      "data_checksums": "on"}


@pytest.mark.django_db
def test_database_sorts_turkish_names_in_turkish_order() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n FROM unnest(ARRAY['Zafer', 'Çamlıca', 'İstiklal', 'Ilıca', 'Şirintepe', "
            "'Cumhuriyet', 'Osmangazi', 'Ömerağa']) AS n ORDER BY n COLLATE \"tr-TR-x-icu\""
        )
        names = [row[0] for row in cursor.fetchall()]
    assert names == ["Cumhuriyet", "Çamlıca", "Ilıca", "İstiklal", "Osmangazi", "Ömerağa",
                     "Şirintepe", "Zafer"]


def test_help_lists_operator_commands() -> None:
    result = kentcbs("--help")
    assert result.returncode == 0, result.stderr
    for command in ("db", "migrate", "serve", "demo", "check"):
        assert f"    {command}\n" in result.stdout


def test_db_status_reports_running_embedded_cluster() -> None:
    result = kentcbs("db", "status")
    assert result.returncode == 0, result.stderr
    assert "running      True" in result.stdout
    assert "postgis" in result.stdout


def _assert_one_line_error(result: subprocess.CompletedProcess[str], code: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert f"[{code}]" in lines[0]
    # The same prefix before the command runs (database) and inside it (Django's own
    # CommandError formatting would print the exception class instead).
    assert lines[0].startswith(f"kentcbs: [{code}]"), lines[0]


def test_unreachable_database_url_is_one_clear_line() -> None:
    port = free_port()
    result = kentcbs("migrate", env={"DATABASE_URL": f"postgis://u:p@127.0.0.1:{port}/x"})
    _assert_one_line_error(result, "DB_UNREACHABLE")
    assert f"127.0.0.1:{port}/x" in result.stderr
    assert "p@" not in result.stderr  # the password is never printed


def test_database_url_without_postgis_is_one_clear_line() -> None:
    cluster = database.EmbeddedCluster()
    role = f"nopostgis_{uuid.uuid4().hex[:8]}"
    password = secrets.token_hex(8)
    conn = cluster.connect()
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE ROLE {role} LOGIN PASSWORD %s", [password])
            cur.execute(f"CREATE DATABASE {role} OWNER {role} TEMPLATE template0")
        url = f"postgis://{role}:{password}@127.0.0.1:{cluster.port}/{role}"
        result = kentcbs("check", env={"DATABASE_URL": url})
        _assert_one_line_error(result, "DB_NO_POSTGIS")
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {role}")
            cur.execute(f"DROP ROLE IF EXISTS {role}")
        conn.close()


def test_database_url_never_starts_a_local_cluster() -> None:
    cluster = database.EmbeddedCluster()
    socket_dir = str(cluster.socket_dir).replace("/", "%2F")
    url = f"postgis://{database.DB_USER}@{socket_dir}:{cluster.port}/{database.DB_NAME}"
    result = kentcbs("db", "start", env={"DATABASE_URL": url})
    _assert_one_line_error(result, "DB_EXTERNAL")
    result = kentcbs("db", "status", env={"DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert "mode         external" in result.stdout


def test_port_in_use_is_one_clear_line() -> None:
    home = ROOT / "var" / f"test-home-{uuid.uuid4().hex[:8]}"
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        try:
            result = kentcbs("db", "start",
                             env={"KENTCBS_HOME": str(home), "KENTCBS_DB_PORT": str(port)})
        finally:
            shutil.rmtree(home, ignore_errors=True)
            # a root-run private checkout keeps the test's cluster under /var/lib/kentcbs
            shared = database.cluster_root(home)
            if shared.is_relative_to(database.SHARED_CLUSTERS):
                shutil.rmtree(shared.parent, ignore_errors=True)
    _assert_one_line_error(result, "DB_PORT_IN_USE")
    assert str(port) in result.stderr


def test_serve_refuses_a_busy_port() -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        result = kentcbs("serve", "--port", str(blocker.getsockname()[1]))
    _assert_one_line_error(result, "PORT_IN_USE")


def test_missing_postgresql_binaries_are_one_clear_line() -> None:
    result = kentcbs("db", "status", env={"KENTCBS_PG_BINDIR": "/nonexistent/bin"})
    _assert_one_line_error(result, "PG_BINARIES_MISSING")


def test_errors_inside_a_command_read_like_errors_before_it() -> None:
    _assert_one_line_error(kentcbs("layers", "show", "no_such_layer"), "UNKNOWN_LAYER")
    plain = kentcbs("migrate", "no_such_app")
    assert plain.returncode == 1 and plain.stderr.startswith("kentcbs: ")
    assert "Traceback" not in plain.stderr
    # Asked for, the traceback is there.
    assert "Traceback" in kentcbs("layers", "--traceback", "show", "no_such_layer").stderr


def test_old_python_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "version_info", (3, 11, 7, "final", 0))
    assert kentcbs_main(["kentcbs", "check"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "[PYTHON_TOO_OLD]" in err


def test_errors_are_turkish_first_then_english() -> None:
    result = kentcbs("db", "status", env={"KENTCBS_PG_BINDIR": "/nonexistent/bin"})
    message = result.stderr.split("] ", 1)[1]
    turkish, english = message.split(" / ", 1)
    assert "KENTCBS_PG_BINDIR" in english and "initdb" in english
    assert turkish != english and any(ch in turkish for ch in "ıİşŞğĞüÜöÖçÇ")


def test_production_profile_passes_deploy_checks() -> None:
    env = {
        "KENTCBS_ENV": "production",
        "KENTCBS_SECRET_KEY": secrets.token_urlsafe(64),
        "KENTCBS_ALLOWED_HOSTS": "cbs.odunpazari.bel.tr",
    }
    result = kentcbs("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    # Without its secret key the production profile refuses to start, in one line.
    result = kentcbs("check", env={**env, "KENTCBS_SECRET_KEY": ""})
    _assert_one_line_error(result, "CONFIG")


@pytest.mark.django_db(transaction=True)
def test_health_check_needs_no_round_trip_and_notices_an_ended_session() -> None:
    """gis_core.postgis: Django's per-request health check (CONN_HEALTH_CHECKS) without
    its SELECT 1 while the session is idle, and a session the server ended is replaced."""
    assert connection.settings_dict["ENGINE"] == "gis_core.postgis"
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'kentcbs health marker'")
    pid = connection.connection.info.backend_pid
    watcher = psycopg2.connect(**connection.get_connection_params())
    watcher.autocommit = True

    def last_statement() -> str | None:
        with watcher.cursor() as cursor:
            cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
            row = cursor.fetchone()
        return row[0] if row else None

    try:
        assert connection.health_check_enabled
        connection.health_check_done = False  # what every request's start does
        connection.close_if_health_check_failed()
        assert connection.connection is not None
        assert last_statement() == "SELECT 'kentcbs health marker'"  # no SELECT 1 was sent

        with watcher.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        deadline = time.monotonic() + 10
        while last_statement() is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        connection.health_check_done = False
        connection.close_if_health_check_failed()
        assert connection.connection is None  # closed here, not in the middle of a query
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            assert cursor.fetchone()[0] != pid
    finally:
        watcher.close()


@pytest.mark.server
def test_serve_runs_gunicorn_and_serves_static_files() -> None:
    port = free_port()
    exe = shutil.which("kentcbs", path=str(ROOT / ".venv" / "bin")) or "kentcbs"
    # the worker's database sessions carry a name of this run only (libpq's PGAPPNAME), so
    # that the test below ends its own session, never another run's on a shared cluster
    app_name = f"kentcbs-test-serve-{uuid.uuid4().hex[:12]}"
    proc = subprocess.Popen([exe, "serve", "--port", str(port), "--workers", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PGAPPNAME": app_name})
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health/", timeout=2) as resp:
                    body = resp.read().decode()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError("server did not start") from None
                time.sleep(0.3)
        assert '"status": "ok"' in body
        with urllib.request.urlopen(f"{base}/static/admin/css/base.css", timeout=5) as resp:
            assert resp.status == 200 and b"body" in resp.read()
            assert resp.headers["Server"].startswith("gunicorn")
        # The server ends the worker's persistent session (a restart, an idle timeout):
        # the next request notices before its first query and answers from a new session.
        admin = psycopg2.connect(**(connection.get_connection_params() | {"dbname": "postgres"}))
        try:
            admin.autocommit = True
            with admin.cursor() as cursor:
                # pg_terminate_backend only signals unless given a timeout: wait (up to 10 s)
                # until the session is gone, or the next request's health check may still find
                # it alive and its query meet the dying backend (seen once under load in CI)
                cursor.execute("SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
                               "WHERE application_name = %s AND state = 'idle' "
                               "AND query = 'SELECT postgis_lib_version()'", [app_name])
                ended = cursor.fetchall()
                # The master listens before its worker has imported the application: the
                # start-up polls wait in the backlog and may reach several of its threads.
                assert ended, "the worker's database session was not found"
                assert all(row[0] for row in ended), "a session outlived pg_terminate_backend"
        finally:
            admin.close()
        try:
            with urllib.request.urlopen(f"{base}/health/", timeout=5) as resp:
                assert resp.status == 200 and b'"status": "ok"' in resp.read()
        except urllib.error.HTTPError as exc:  # the server's own log says why
            proc.terminate()
            log = proc.communicate(timeout=30)[0]
            raise AssertionError(f"/health/ after the session ended: {exc}; server log:\n"
                                 f"{log[-6000:]}") from None
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)
