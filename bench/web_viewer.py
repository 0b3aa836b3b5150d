"""Benchmark (not a test): the map viewer with many building footprints, in headless Chromium.

Run: ``.venv/bin/python bench/web_viewer.py [--rows 100000] [--repeat 3] [--zooms 12-19]
[--reference]`` (uses the configured database; the layer ``bench_bina`` lives in
``cbs.bench_bina`` and is kept between runs).

For every zoom from 12 to 19, ``/map/?layers=bench_bina#map=<z>/<lat>/<lon>`` is
opened cold (cache disabled) from ``kentcbs serve`` (gunicorn); the layer is drawn
from the OGC API's vector tiles: footprints from its detail zoom (16), the built-up
outline generalised by PostGIS below it (``ogc_api.generalise``, built once after the
load as ``kentcbs generalise`` does).

Measured: bytes transferred for the first view (every response, tiles included, as
Chromium's ``encodedDataLength``) and the time from navigation start until the map
has drawn the layer (the ``kentcbs-map-ready`` mark set when the first view's tiles
are drawn), and when the main thread is idle again (no long task for 500 ms).

Targets (issue 19): at every zoom, first view <= 3 MB and drawn <= 1 s. The script
exits with status 1 when a zoom misses a target.

``--reference`` also measures the page folium makes out of the box (``folium.GeoJson``
of every footprint embedded in the HTML, served as a static file) at zoom 15.
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
style: {{color: "#636363", fill_color: "#bdbdbd", weight: 1, fill_opacity: 0.6, min_zoom: 16}}
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
MAX_MB = 3.0
MAX_DRAWN_S = 1.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(rows: int) -> tuple[float, float]:
    """``rows`` square footprints (12 m, on a 20 m grid) around the profile's centre."""
    layer = registry.get(CODE)
    sync_layer(layer)
    lon, lat = get_profile(settings.KENTCBS_PROFILE).centre
    from ogc_api import tilecache

    with connection.cursor() as cursor:
        # the tile cache's change trigger, as `kentcbs migrate` puts on every layer table
        tilecache.install(cursor, layer)
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
    from ogc_api import generalise

    started = time.monotonic()
    generalise.build(layer)  # what `kentcbs generalise` does after a bulk load
    print(f"generalised outlines built in {time.monotonic() - started:.1f} s", flush=True)
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

    def __init__(self, *, tile_cache: bool = True) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "KENTCBS_ALLOWED_HOSTS": "127.0.0.1,localhost"}
        if not tile_cache:
            env["KENTCBS_TILE_CACHE_MB"] = "0"
        # kentcbs serve's own workers and threads (cores + 1 workers of 4 threads)
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "kentcbs"), "serve", "--port", str(self.port)],
            cwd=ROOT, env=env,
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


def _zooms(text: str) -> list[int]:
    low, _sep, high = text.partition("-")
    return list(range(int(low), int(high or low) + 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--zooms", default="12-19")
    parser.add_argument("--screenshots", type=Path, default=None,
                        help="save a picture of each zoom's first view in this folder")
    parser.add_argument("--no-tile-cache", action="store_true",
                        help="serve with the tile cache off (every load renders its tiles; "
                             "else the second and later loads of a view find them cached)")
    parser.add_argument("--reference", action="store_true",
                        help="also measure folium's embedded GeoJSON page (slow at 1M)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    lon, lat = prepare(args.rows)
    zooms = _zooms(args.zooms)
    ref_folder = Path(tempfile.mkdtemp(prefix="kentcbs-bench-ref-"))
    static = None
    if args.reference:
        reference = reference_page(lon, lat, ref_folder)
        print(f"reference page: {reference.stat().st_size / MB:.1f} MB of HTML", flush=True)
        static = StaticServer(ref_folder)
    server = Server(tile_cache=not args.no_tile_cache)
    ours: dict[int, list[dict[str, float]]] = {z: [] for z in zooms}
    theirs: list[dict[str, float]] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for _round in range(args.repeat):
                for z in zooms:
                    context = browser.new_context(viewport=VIEWPORT)
                    page = context.new_page()
                    page.goto(f"{server.url}/accounts/login/")
                    page.fill("#id_username", USER)
                    page.fill("#id_password", PASSWORD)
                    page.click("button[type=submit]")
                    page.wait_for_url(f"{server.url}/")
                    url = f"{server.url}/map/?layers={CODE}#map={z}/{lat:.6f}/{lon:.6f}"
                    ours[z].append(measure(page, url, "mark"))
                    if args.screenshots is not None:
                        args.screenshots.mkdir(parents=True, exist_ok=True)
                        page.screenshot(path=str(args.screenshots / f"zoom-{z}.png"))
                    context.close()
                if static is not None:
                    context = browser.new_context(viewport=VIEWPORT)
                    theirs.append(measure(context.new_page(), f"{static.url}/reference.html",
                                          "load"))
                    context.close()
            browser.close()
    finally:
        server.stop()
        if static is not None:
            static.stop()
        shutil.rmtree(ref_folder, ignore_errors=True)

    def med(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(run[key] for run in runs)

    print(f"\n{args.rows:,} footprints, viewport {VIEWPORT['width']}x{VIEWPORT['height']}, "
          f"median of {args.repeat} cold loads")
    print(f"{'':30}{'MB':>8}{'drawn s':>10}{'idle s':>10}{'requests':>10}  target")
    missed = []
    for z in zooms:
        ok = med(ours[z], "mb") <= MAX_MB and med(ours[z], "drawn_s") <= MAX_DRAWN_S
        if not ok:
            missed.append(z)
        print(f"{'KentCBS /map/ zoom ' + str(z):30}{med(ours[z], 'mb'):8.2f}"
              f"{med(ours[z], 'drawn_s'):10.2f}{med(ours[z], 'idle_s'):10.2f}"
              f"{med(ours[z], 'requests'):10.0f}  {'met' if ok else 'MISSED'}")
    if theirs:
        print(f"{'folium GeoJson (reference)':30}{med(theirs, 'mb'):8.2f}"
              f"{med(theirs, 'drawn_s'):10.2f}{med(theirs, 'idle_s'):10.2f}"
              f"{med(theirs, 'requests'):10.0f}")
    result = {"rows": args.rows, "ours": {str(z): runs for z, runs in ours.items()},
              "reference": theirs, "missed_zooms": missed, "targets_met": not missed}
    print(f"\ntargets (<= {MAX_MB:g} MB, drawn <= {MAX_DRAWN_S:g} s at zooms "
          f"{zooms[0]}-{zooms[-1]}): {'met' if not missed else f'NOT met at {missed}'}")
    print(json.dumps(result))
    if missed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
