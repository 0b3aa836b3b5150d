"""The report page's error map in a real headless Chromium (issue 18 §6): the rejected
geometries in one colour per rule with a legend, over the municipality boundary; a click
on a problem row zooms the map to that row's feature."""

from __future__ import annotations

import shutil

import pytest
import shapely
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.gis.geos import GEOSGeometry
from pyproj import Transformer

from etl.models import Batch
from gis_core.models import Department, Membership
from tests.test_web_reports import _bad_batch, media  # noqa: F401
from tests.test_web_upload_browser import ARGS, CHROMIUM

X0, Y0 = Transformer.from_crs(4326, 5254, always_xy=True).transform(30.52, 39.77)

#: The map's features and boundary as the page's Leaflet holds them.
LAYERS_JS = """() => {
  const map = window[document.querySelector('#error-map .folium-map').id];
  const out = {features: [], boundary: 0};
  map.eachLayer(l => {
    if (l.feature && l.feature.properties && l.feature.properties.feature !== undefined)
      out.features.push({row: l.feature.properties.feature,
                         rule: l.feature.properties.codes.split(',')[0],
                         colour: l.options.color});
    else if (l.feature && l.options && l.options.dashArray === '6 4') out.boundary += 1;
  });
  return out;
}"""
#: Whether the map shows all of row ``row``'s feature, zoomed in past ``zoom`` and onto it
#: (the view less than 8 times as wide as the feature).
ZOOMED_JS = """([row, zoom]) => {
  const map = window[document.querySelector('#error-map .folium-map').id];
  let target = null;
  map.eachLayer(l => { if (l.feature && l.feature.properties
                           && l.feature.properties.feature === row) target = l; });
  if (target === null || map.getZoom() <= zoom) return false;
  const view = map.getBounds(), box = target.getBounds();
  return view.contains(box)
         && view.getEast() - view.getWest() < 8 * (box.getEast() - box.getWest());
}"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_error_map_colours_legend_boundary_and_row_click_zoom(
        live_server, artifacts_dir, media, tmp_path) -> None:  # noqa: F811
    from django.apps import apps
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM), "Debian chromium is required (bootstrap.sh installs it)"
    area = shapely.MultiPolygon([shapely.box(X0 - 3000, Y0 - 2000, X0 + 3000, Y0 + 2000)])
    apps.get_model("gis_core", "Municipality").objects.update_or_create(
        code=settings.KENTCBS_PROFILE,
        defaults={"name": "Odunpazarı", "province": "Eskişehir", "srid": 5254,
                  "boundary": GEOSGeometry(area.wkt, srid=5254)})
    sender = User.objects.create_user("parkgonderen", password="x-Test-12345")
    Membership.objects.create(user=sender, role="data_entry",
                              department=Department.objects.get(code="park_bahceler"))
    batch = _bad_batch(tmp_path, sender)  # rows 5, 8 CODELIST; 6 GEOM_INVALID; 7 REQUIRED
    assert Batch.objects.count() == 1
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", "parkgonderen")
        page.fill("#id_password", "x-Test-12345")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        page.goto(f"{live_server.url}/reports/{batch.pk}/")
        page.wait_for_function("() => { const m = document.querySelector("
                               "'#error-map .folium-map'); return m && window[m.id]; }")
        page.screenshot(path=str(artifacts_dir / "1-report.png"), full_page=True)

        drawn = page.evaluate(LAYERS_JS)
        rows = sorted((f["row"], f["rule"]) for f in drawn["features"])
        assert rows == [(5, "CODELIST"), (6, "GEOM_INVALID"), (7, "REQUIRED"),
                        (8, "CODELIST")]
        colours = {f["rule"]: set() for f in drawn["features"]}
        for f in drawn["features"]:
            colours[f["rule"]].add(f["colour"])
        assert all(len(c) == 1 for c in colours.values())  # one colour per rule
        assert len({next(iter(c)) for c in colours.values()}) == 3  # and a different one each
        assert drawn["boundary"] == 1
        legend = page.inner_text("#error-map-legend")
        for rule, count in (("CODELIST", 2), ("GEOM_INVALID", 1), ("REQUIRED", 1)):
            assert f"{rule} ({count})" in legend
        swatches = page.evaluate(
            "() => Object.fromEntries([...document.querySelectorAll('#error-map-legend li')]"
            ".map(li => [li.querySelector('code').innerText,"
            " li.querySelector('.swatch').style.background]))")
        as_rgb = page.evaluate(
            "(hex) => { const d = document.createElement('span'); d.style.background = hex;"
            " return d.style.background; }", next(iter(colours["GEOM_INVALID"])))
        assert swatches["GEOM_INVALID"] == as_rgb  # the legend's colour is the map's

        start = page.evaluate("() => window[document.querySelector("
                              "'#error-map .folium-map').id].getZoom()")
        assert not page.evaluate(ZOOMED_JS, [8, start])
        page.click("#problems tr[data-row='8'][data-rule='CODELIST']")
        page.wait_for_function(ZOOMED_JS, arg=[8, start])
        assert "chosen" in (page.get_attribute("#problems tr[data-row='8']", "class") or "")
        page.screenshot(path=str(artifacts_dir / "2-zoomed-to-row-8.png"), full_page=True)
        # another row: the map goes there
        assert not page.evaluate(ZOOMED_JS, [6, start])
        page.click("#problems tr[data-row='6']")
        page.wait_for_function(ZOOMED_JS, arg=[6, start])
        browser.close()
    assert errors == []
