"""The HTML validation report opened as a file (the path ``kentcbs ingest`` prints), in a real
headless Chromium with no server and no network: its error map draws (issue 16)."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from django.db import connection
from pyproj import Transformer

from etl.services import ingest
from etl.testing import create_layer_table, make_layer

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
X0, Y0 = Transformer.from_crs(4326, 5254, always_xy=True).transform(30.52, 39.77)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_report_file_draws_its_error_map_offline(tmp_path, artifacts_dir) -> None:
    from django.apps import apps
    from django.conf import settings
    from django.contrib.gis.geos import GEOSGeometry
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM), "Debian chromium is required (bootstrap.sh installs it)"
    area = shapely.MultiPolygon([shapely.box(X0 - 600, Y0 - 400, X0 + 600, Y0 + 400)])
    apps.get_model("gis_core", "Municipality").objects.update_or_create(
        code=settings.KENTCBS_PROFILE,
        defaults={"name": "Odunpazarı", "province": "Eskişehir", "srid": 5254,
                  "boundary": GEOSGeometry(area.wkt, srid=5254)})
    layer = make_layer("etl_harita", geometry_rules={
        "valid": True, "min_area": 4, "no_overlap": True, "within_municipality": True})
    create_layer_table(layer)
    try:
        geoms = [shapely.box(X0 + i * 60, Y0, X0 + i * 60 + 40, Y0 + 30) for i in range(6)]
        geoms[1] = shapely.Polygon([(X0 + 60, Y0), (X0 + 100, Y0 + 30), (X0 + 100, Y0),
                                    (X0 + 60, Y0 + 30)])  # GEOM_INVALID
        geoms[2] = shapely.box(X0 + 120, Y0, X0 + 121, Y0 + 1)  # BELOW_MIN_AREA
        geoms[3] = shapely.box(X0 + 10, Y0 + 10, X0 + 50, Y0 + 40)  # GEOM_OVERLAP with row 1
        geoms[5] = shapely.box(X0 + 900, Y0, X0 + 940, Y0 + 30)  # OUTSIDE_MUNICIPALITY
        frame = gpd.GeoDataFrame({"bina_no": [f"B-{i}" for i in range(6)],
                                  "mahalle_adi": ["Yenidoğan"] * 6, "kat_sayisi": [3] * 6},
                                 geometry=geoms, crs=5254)
        frame.to_file(tmp_path / "binalar.gpkg")
        batch = ingest(layer=layer, path=tmp_path / "binalar.gpkg",
                       department="imar_sehircilik", dry_run=True)
        assert batch.count_rejected == 4, batch.message
        report = Path(batch.report_html)
        html = report.read_text(encoding="utf-8")
        shutil.copy(report, artifacts_dir / "report.html")
    finally:
        with connection.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {layer.backing.table} CASCADE")

    url = report.resolve().as_uri()
    outside: list[str] = []
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(offline=True, viewport={"width": 1100, "height": 1400})
        page = context.new_page()
        page.on("request", lambda r: None if r.url == url or r.url.startswith("data:")
                else outside.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(url)
        page.wait_for_selector(".leaflet-overlay-pane svg path")
        page.screenshot(path=str(artifacts_dir / "report-file.png"), full_page=True)
        # the rejected geometries themselves (and the boundary), one colour per rule
        drawn = page.evaluate(
            "() => Array.from(document.querySelectorAll('.leaflet-overlay-pane svg path'))"
            ".map(p => p.getAttribute('stroke'))")
        legend = page.inner_text("#error-map-legend")
        heading = page.inner_text("h2#error-map")
        rows = page.inner_text("table:last-of-type")
        browser.close()
    assert outside == [], outside
    assert errors == [], errors
    assert "Hata haritası" in heading and "Error map" in heading
    assert len(drawn) == 5  # the boundary and the four rejected features
    colours = {c for c in drawn if c != "#333333"}
    assert len(colours) == 4  # GEOM_INVALID, BELOW_MIN_AREA, GEOM_OVERLAP, OUTSIDE_MUNICIPALITY
    for code in ("GEOM_INVALID", "BELOW_MIN_AREA", "GEOM_OVERLAP", "OUTSIDE_MUNICIPALITY"):
        assert code in legend
    assert "/static/" not in html
    assert "B-3" in rows and "satır 1 (B-0)" in rows  # row 4 overlaps row 1, by row and key
