"""Reads from a streaming replica, writes on the primary, fallback when the replica stops.

A hot standby of the test cluster is made with ``pg_basebackup -R`` on another port; a
real ``kentcbs serve`` runs with ``DATABASE_URL`` (the primary's test database) and
``KENTCBS_REPLICA_URL`` (the same database on the standby).
"""

from __future__ import annotations

import http.cookiejar
import json
import math
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from gis_core import database
from tests.conftest import ROOT, free_port, kentcbs_exe

LON, LAT = 30.52, 39.78
ITEMS = "/ogc/collections/yol/items?limit=100&f=json"


def _streets(first: int, count: int) -> None:
    with connection.cursor() as cursor:
        for i in range(first, first + count):
            cursor.execute(
                "INSERT INTO cbs.yol (yol_kodu, yol_adi, yol_tipi, genislik_m, serit_sayisi, "
                "tek_yon, geom) VALUES (%s, %s, 'Sokak', 6, 1, false, ST_Multi(ST_Transform("
                "ST_SetSRID(ST_MakeLine(ST_MakePoint(%s, %s), ST_MakePoint(%s, %s)), 4326), "
                "5254)))",
                [str(5000 + i), f"Sokak {i}", LON + i * 1e-4, LAT, LON + i * 1e-4 + 5e-4, LAT])


def _url(cluster: database.EmbeddedCluster, name: str) -> str:
    host = urllib.parse.quote(str(cluster.socket_dir), safe="")
    return f"postgis://{database.DB_USER}@{host}:{cluster.port}/{name}"


def _sql(cluster: database.EmbeddedCluster, name: str, statement: str,
         params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    conn = cluster.connect(name)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


@pytest.fixture
def standby() -> Iterator[database.EmbeddedCluster]:
    """A streaming replica of the test cluster (pg_basebackup -R), on a port of its own."""
    primary = database.EmbeddedCluster()
    home = ROOT / "var" / f"test-replica-{uuid.uuid4().hex[:8]}"
    replica = database.EmbeddedCluster(home=home, port=free_port())
    replica._prepare_dirs()
    bins = database.find_binaries()
    try:
        subprocess.run([bins.tool("pg_basebackup"), "-h", str(primary.socket_dir), "-p",
                        str(primary.port), "-U", database.DB_USER, "-D", str(replica.data_dir),
                        "-R", "-X", "stream", "-c", "fast"], check=True, capture_output=True)
        replica._prepare_dirs()  # the cluster's user owns the copy
        replica.data_dir.chmod(0o700)
        replica.start(timeout=300)
        yield replica
    finally:
        replica.stop()
        shutil.rmtree(home, ignore_errors=True)


class Browser:
    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        try:
            with self.opener.open(self.base + path, timeout=60) as resp:
                return resp.status, dict(resp.headers.items()), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers.items()), err.read()

    def post(self, path: str, data: dict[str, str]) -> int:
        body = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(self.base + path, data=body,
                                         headers={"Referer": self.base + path})
        try:
            with self.opener.open(request, timeout=60) as resp:
                return resp.status
        except urllib.error.HTTPError as err:
            return err.code

    def streets(self) -> tuple[int, str]:
        status, headers, body = self.get(ITEMS)
        assert status == 200, body[:500]
        return len(json.loads(body)["features"]), headers.get("X-KentCBS-Reads", "")


@pytest.mark.django_db(transaction=True)
def test_reads_from_replica_writes_to_primary_and_fallback(
        standby: database.EmbeddedCluster, tmp_path: Path) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    name = connection.settings_dict["NAME"]
    primary = database.EmbeddedCluster()
    _streets(0, 25)
    user = get_user_model().objects.create(username="okur", email="okur@example.org")
    user.password = PBKDF2PasswordHasher().encode("Gizli-parola-42", "tuzlu1234567")
    user.save()
    # the standby has replayed the committed rows
    lsn = _sql(primary, name, "SELECT pg_current_wal_lsn()::text")[0][0]
    deadline = time.monotonic() + 120
    while not _sql(standby, name, "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,))[0][0]:
        assert time.monotonic() < deadline, "the standby does not replay"
        time.sleep(0.1)

    port = free_port()
    marker = f"kentcbs-replica-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": _url(primary, name),
           "KENTCBS_REPLICA_URL": _url(standby, name), "PGAPPNAME": marker,
           "KENTCBS_REPLICA_RETRY_SECONDS": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen([kentcbs_exe(), "serve", "--port", str(port), "--workers", "1",
                             "--threads", "2", "--no-collectstatic"],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"{base}/health/", timeout=5):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)

        anonymous = Browser(base)
        assert anonymous.streets() == (25, "replica")
        n = 2**16
        col = int((LON + 0.0002 + 180) / 360 * n)
        row = int((1 - math.asinh(math.tan(math.radians(LAT))) / math.pi) / 2 * n)
        tile_path = f"/ogc/collections/yol/tiles/WebMercatorQuad/16/{row}/{col}"
        status, headers, tile = anonymous.get(tile_path)
        assert status == 200 and b"yol" in tile and headers["X-KentCBS-Reads"] == "replica"
        sessions = _sql(standby, "postgres", "SELECT count(*) FROM pg_stat_activity "
                        "WHERE application_name = %s AND datname = %s", (marker, name))
        assert sessions[0][0] >= 1, "no session of the app on the replica"

        # Marker: the standby stops replaying; a row written on the primary now is only
        # there. The app's anonymous reads still show 25: they come from the replica.
        _sql(standby, name, "SELECT pg_wal_replay_pause()")
        _streets(100, 1)
        assert anonymous.streets() == (25, "replica")

        # A sign-in writes (session, last login) on the primary, and pins this browser's
        # reads to the primary: it sees its own world, 26 streets.
        reader = Browser(base)
        status, _h, page = reader.get("/accounts/login/")
        assert status == 200
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token is not None
        assert reader.post("/accounts/login/", {
            "csrfmiddlewaretoken": token.group(1).decode(), "username": "okur",
            "password": "Gizli-parola-42"}) == 200
        cookies = {c.name: c.value for c in reader.jar}
        assert "sessionid" in cookies, "the sign-in failed"
        assert "kentcbs_primary" in cookies, "no read-your-writes pin after a write"
        session_key = cookies["sessionid"]
        find = "SELECT count(*) FROM django_session WHERE session_key = %s"
        assert _sql(primary, name, find, (session_key,)) == [(1,)]
        assert _sql(standby, name, find, (session_key,)) == [(0,)]
        assert reader.streets() == (26, "default")
        assert anonymous.streets() == (25, "replica")

        # The replica stops: reads fall back to the primary, nothing fails.
        _sql(standby, name, "SELECT pg_wal_replay_resume()")
        standby.stop()
        for _ in range(5):
            assert anonymous.streets() == (26, "default")
        status, headers, tile = anonymous.get(tile_path)
        assert status == 200 and b"yol" in tile and headers["X-KentCBS-Reads"] == "default"
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()
