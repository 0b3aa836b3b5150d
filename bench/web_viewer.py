"""Benchmark (not a test): the map viewer with 100,000 building footprints, in headless Chromium.

Run: ``.venv/bin/python bench/web_viewer.py [--rows 100000] [--repeat 3]`` (uses the
configured database; the layer ``bench_bina`` lives in ``cbs.bench_bina`` and is
kept between runs).

Compared in the same run, same browser, same footprints, cache disabled:

* **KentCBS**: ``/map/?layers=bench_bina`` served by ``kentcbs serve`` (gunicorn),
  the layer drawn from vector tiles of the OGC API;
* **reference**: the page folium makes out of the box, ``folium.GeoJson`` of the
  same footprints embedded in the HTML (the approach the issue warns against),
  served as a static file by a plain HTTP server (no compression on either side).

Measured: bytes transferred for the first view (every response, tiles included,
as Chromium's ``encodedDataLength``) and the time from navigation start until the
map has drawn the layer (KentCBS: the ``kentcbs-map-ready`` mark set when the
first view's tiles are drawn; reference: the ``load`` event, after which folium's
inline script has added every polygon), and when the main thread is idle again
(no long task for 500 ms; a proxy for "interactive").

Targets (issue 6): first page load under 5 MB, interactive within 3 s.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CODE = "bench_bina"
DEFINITION = f"""
code: {CODE}
version: 1
title: {{tr: Kıyaslama binaları, en: Benchmark buildings}}
theme: bina
geometry_type: MultiPolygon
fields:
  - {{name: bina_no, type: string, max_length: 20, title: {{tr: Bina no, en: Building no}}}}
  - {{name: kat_sayisi, type: integer, title: {{tr: Kat sayısı, en: Floors}}}}
key: [bina_no]
owner: imar_sehircilik
access: {{read: {{public: true}}}}
style: {{color: "#636363", fill_color: "#bdbdbd", weight: 1, fill_opacity: 0.6, min_zoom: 15}}
backing: {{kind: table}}
"""
FOLDER = Path(tempfile.mkdtemp(prefix="kentcbs-bench-web-"))
(FOLDER / f"{CODE}.yaml").write_text(DEFINITION, encoding="utf-8")
os.environ["KENTCBS_LAYER_DIRS"] = str(FOLDER)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gis_core.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402

from gis_core.profiles import get_profile  # noqa: E402
from layers.registry import registry  # noqa: E402
from layers.services import sync_layer  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
USER, PASSWORD = "bench.viewer", "bench-Viewer-2026"
VIEWPORT = {"width": 1366, "height": 768}
MB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(rows: int) -> tuple[float, float]:
    """``rows`` square footprints (12 m, on a 20 m grid) around the profile's centre."""
    layer = registry.get(CODE)
    sync_layer(layer)
    lon, lat = get_profile(settings.KENTCBS_PROFILE).centre
    with connection.cursor() as cursor:
        cursor.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_SetSRID("
                       "ST_MakePoint(%s, %s), 4326), %s) AS p) AS c", [lon, lat, layer.srid])
        cx, cy = cursor.fetchone()
        cursor.execute(f"SELECT count(*) FROM cbs.{CODE}")
        if cursor.fetchone()[0] != rows:
            print(f"generating {rows:,} footprints ...", flush=True)
            side = int(rows ** 0.5) + 1
            cursor.execute(f"TRUNCATE cbs.{CODE} RESTART IDENTITY")
            cursor.execute(
                f"INSERT INTO cbs.{CODE} (bina_no, kat_sayisi, geom) "
                "SELECT 'B-' || i, 1 + i %% 8, ST_Multi(ST_MakeEnvelope(x, y, x + 12, y + 12, "
                "%(srid)s)) FROM (SELECT i, %(x0)s + (i %% %(side)s) * 20 AS x, "
                "%(y0)s + (i / %(side)s) * 20 AS y FROM generate_series(0, %(n)s - 1) AS i) AS g",
                {"srid": layer.srid, "side": side, "n": rows,
                 "x0": cx - side * 10, "y0": cy - side * 10})
            cursor.execute(f"ANALYZE cbs.{CODE}")
    user, _created = get_user_model().objects.get_or_create(username=USER)
    user.set_password(PASSWORD)
    user.save()
    return lon, lat


def reference_page(lon: float, lat: float, folder: Path) -> Path:
    """folium's out-of-the-box page: every footprint as GeoJSON inside the HTML."""
    import folium
    import geopandas as gpd

    layer = registry.get(CODE)
    with warnings.catch_warnings():  # pandas prefers SQLAlchemy; a DB-API connection works
        warnings.simplefilter("ignore", UserWarning)
        frame = gpd.read_postgis(f"SELECT bina_no, kat_sayisi, geom FROM cbs.{CODE}",
                                 connection.connection, geom_col="geom",
                                 crs=f"EPSG:{layer.srid}")
    fmap = folium.Map(location=[lat, lon], zoom_start=15, tiles=None, prefer_canvas=True)
    # The same local Leaflet as the app (no CDN); nothing else.
    shutil.copytree(Path(sys.modules["leaflet"].__file__).parent / "static" / "leaflet",
                    folder / "leaflet")
    fmap.default_js = [("leaflet", "leaflet/leaflet.js")]
    fmap.default_css = [("leaflet_css", "leaflet/leaflet.css")]
    folium.GeoJson(frame.to_crs(4326), name=CODE,
                   style_function=lambda _f: {"color": "#636363", "weight": 1,
                                              "fillColor": "#bdbdbd",
                                              "fillOpacity": 0.6}).add_to(fmap)
    path = folder / "reference.html"
    fmap.save(str(path))
    return path


class Server:
    """``kentcbs serve`` (gunicorn) in a child process, as in production."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "KENTCBS_ALLOWED_HOSTS": "127.0.0.1,localhost"}
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "kentcbs"), "serve", "--port", str(self.port),
             "--workers", "2", "--threads", "4"], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/health/", timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise SystemExit("kentcbs serve did not answer within 120 s")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


class StaticServer:
    """A plain HTTP server for the reference page (and its local Leaflet)."""

    def __init__(self, folder: Path) -> None:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


IDLE_JS = """() => new Promise(resolve => {
  let last = performance.now();
  new PerformanceObserver(list => { for (const e of list.getEntries())
    last = Math.max(last, e.startTime + e.duration); }).observe({type: 'longtask', buffered: true});
  const check = () => performance.now() - last > 500 ? resolve(last) : setTimeout(check, 100);
  check();
})"""


def measure(page, url: str, ready: str) -> dict[str, float]:
    """Bytes and times of one cold load of ``url`` in ``page``."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    sizes: dict[str, float] = {}
    cdp.on("Network.loadingFinished",
           lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    page.goto(url, wait_until="load", timeout=600_000)
    if ready == "mark":
        page.wait_for_function("performance.getEntriesByName('kentcbs-map-ready').length > 0",
                               timeout=600_000)
        drawn = page.evaluate("performance.getEntriesByName('kentcbs-map-ready')[0].startTime")
    else:
        drawn = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
    idle = page.evaluate(IDLE_JS)
    page.wait_for_load_state("networkidle", timeout=600_000)
    cdp.detach()
    return {"mb": sum(sizes.values()) / MB, "drawn_s": drawn / 1000, "idle_s": idle / 1000,
            "requests": len(sizes)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    lon, lat = prepare(args.rows)
    ref_folder = Path(tempfile.mkdtemp(prefix="kentcbs-bench-ref-"))
    reference = reference_page(lon, lat, ref_folder)
    print(f"reference page: {reference.stat().st_size / MB:.1f} MB of HTML", flush=True)
    server, static = Server(), StaticServer(ref_folder)
    ours: list[dict[str, float]] = []
    theirs: list[dict[str, float]] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for _round in range(args.repeat):
                context = browser.new_context(viewport=VIEWPORT)
                page = context.new_page()
                page.goto(f"{server.url}/accounts/login/")
                page.fill("#id_username", USER)
                page.fill("#id_password", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(f"{server.url}/")
                ours.append(measure(page, f"{server.url}/map/?layers={CODE}", "mark"))
                context.close()
                context = browser.new_context(viewport=VIEWPORT)
                theirs.append(measure(context.new_page(), f"{static.url}/reference.html",
                                      "load"))
                context.close()
            browser.close()
    finally:
        server.stop()
        static.stop()
        shutil.rmtree(ref_folder, ignore_errors=True)

    def med(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(run[key] for run in runs)

    print(f"\n{args.rows:,} footprints, viewport {VIEWPORT['width']}x{VIEWPORT['height']}, "
          f"zoom 15, median of {args.repeat} cold loads")
    print(f"{'':28}{'MB':>8}{'drawn s':>10}{'idle s':>10}{'requests':>10}")
    for name, runs in (("KentCBS /map/ (vector tiles)", ours),
                       ("folium GeoJson (reference)", theirs)):
        print(f"{name:28}{med(runs, 'mb'):8.2f}{med(runs, 'drawn_s'):10.2f}"
              f"{med(runs, 'idle_s'):10.2f}{med(runs, 'requests'):10.0f}")
    result = {"rows": args.rows, "ours": ours, "reference": theirs,
              "targets_met": med(ours, "mb") < 5 and med(ours, "idle_s") < 3}
    print(f"\ntargets (< 5 MB, interactive < 3 s): "
          f"{'met' if result['targets_met'] else 'NOT met'}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
