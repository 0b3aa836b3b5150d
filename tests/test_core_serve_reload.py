"""`kentcbs serve` reloads on SIGHUP and rotates workers without failing a request."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

from tests.conftest import free_port, kentcbs_exe


def children(pid: int) -> set[int]:
    """The live worker processes of the gunicorn master ``pid`` (from /proc)."""
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.add(int(stat.parent.name))
    return out


def get(port: int, path: str, host: str = "127.0.0.1") -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Host": host})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


class Load:
    """Threads sending requests back to back, each on a new connection, counting outcomes."""

    def __init__(self, port: int, threads: int = 4) -> None:
        self.port = port
        self.outcomes: Counter[str] = Counter()
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(threads)]

    def _run(self, index: int) -> None:
        paths = ["/health/", "/static/admin/css/base.css"]
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                status = get(self.port, paths[(index + n) % len(paths)])
                key = str(status)
            except (OSError, http.client.HTTPException) as exc:
                key = "error"
                with self.lock:
                    self.errors.append(f"{type(exc).__name__}: {exc}")
            with self.lock:
                self.outcomes[key] += 1

    @property
    def total(self) -> int:
        with self.lock:
            return sum(self.outcomes.values())

    def wait_for(self, more: int, deadline: float) -> None:
        target = self.total + more
        while self.total < target:
            assert time.monotonic() < deadline, f"load stalled at {self.total}"
            time.sleep(0.05)


def wait_until(check, deadline: float, what: str) -> None:  # type: ignore[no-untyped-def]
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_sighup_reload_and_worker_rotation_fail_no_request(tmp_path: Path) -> None:
    port = free_port()
    serve_env = tmp_path / "serve.env"
    serve_env.write_text("# read again on every SIGHUP\n")
    env = {**os.environ, "KENTCBS_SERVE_ENV": str(serve_env)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen(
        [kentcbs_exe(), "serve", "--port", str(port), "--workers", "2", "--threads", "2",
         "--max-requests", "40", "--max-requests-jitter", "10", "--no-collectstatic"],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    load = Load(port)
    deadline = time.monotonic() + 600
    try:
        def up() -> bool:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            try:
                return get(port, "/health/") == 200
            except OSError:
                return False

        wait_until(up, deadline, "the server did not start")
        assert get(port, "/health/", host="yeni.example") == 400  # not an allowed host yet
        seen: set[int] = set()
        watcher_stop = threading.Event()

        def watch() -> None:
            while not watcher_stop.is_set():
                seen.update(children(proc.pid))
                time.sleep(0.05)

        watcher = threading.Thread(target=watch)
        watcher.start()
        for thread in load.threads:
            thread.start()
        load.wait_for(100, deadline)

        # 1. a reload: new workers on the settings as they are now, the old ones finish
        before = children(proc.pid)
        serve_env.write_text("KENTCBS_ALLOWED_HOSTS=127.0.0.1,localhost,yeni.example\n")
        os.kill(proc.pid, signal.SIGHUP)
        wait_until(lambda: not (children(proc.pid) & before), deadline,
                   "the old workers never left after SIGHUP")
        load.wait_for(100, deadline)
        assert get(port, "/health/", host="yeni.example") == 200, "settings were not reloaded"

        # 2. a second reload straight into rotations
        before = children(proc.pid)
        os.kill(proc.pid, signal.SIGHUP)
        wait_until(lambda: not (children(proc.pid) & before), deadline,
                   "the old workers never left after the second SIGHUP")
        # 3. rotations: max 40 (+0..10) requests a worker, 2 workers
        seen.update(children(proc.pid))
        rotated_from = len(seen)
        load.wait_for(250, deadline)
        watcher_stop.set()
        watcher.join()
    finally:
        load.stop.set()
        for thread in load.threads:
            if thread.is_alive():
                thread.join()
        proc.terminate()
        proc.wait(timeout=60)
        log.close()
    assert load.errors == [], load.errors[:5]
    assert set(load.outcomes) == {"200"}, load.outcomes
    # at least 250 requests after the reloads on 2 workers of at most 50 requests each
    assert len(seen) - rotated_from >= 4, f"only {len(seen)} workers seen: no rotation"
