"""The municipal neighbourhood file of issue 18 through the web form, in a real headless
Chromium: columns ``name`` ("X Mahallesi") and ``uavt_code`` go through the mapping step,
every valid feature is loaded into the neighbourhoods (``mahalle``, a layer kept in a core
model), and the department's second file needs no mapping."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from django.contrib.auth.models import User

from etl.models import Batch, ColumnMapping
from gis_core.models import Department, Membership, Neighbourhood
from tests.test_web_mapping_browser import X0, Y0, media, neighbourhoods  # noqa: F401
from tests.test_web_upload_browser import ARGS, CHROMIUM

#: Neighbourhoods per file.
N = 4


def neighbourhood_file(path: Path, *, first: int, bad: int | None = None) -> Path:
    """``N`` neighbourhoods as the municipality keeps them: ``name`` = "X Mahallesi" and a
    ``uavt_code``; feature ``bad`` (if any) is a bow-tie (GEOM_INVALID)."""
    names = neighbourhoods()[first:first + N]
    geoms = []
    for i in range(N):
        x, y = X0 + (first + i) * 500, Y0 + 3000
        if i == bad:
            geoms.append(shapely.MultiPolygon([shapely.Polygon(
                [(x, y), (x + 400, y + 400), (x + 400, y), (x, y + 400)])]))
        else:
            geoms.append(shapely.MultiPolygon([shapely.box(x, y, x + 400, y + 400)]))
    gpd.GeoDataFrame({"name": [f"{n} Mahallesi" for n in names],
                      "uavt_code": [str(40_000 + first + i) for i in range(N)]},
                     geometry=geoms, crs=5254).to_file(path)
    return path


def sign_in(page, url: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", "imarmahalle")
    page.fill("#id_password", "x-Test-12345")
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def send(page, url: str, path: Path) -> None:
    page.goto(f"{url}/upload/")
    page.select_option("#id_layer", "mahalle")
    page.set_input_files("#id_file", str(path))
    page.click("#upload-submit")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_neighbourhood_file_is_mapped_and_loaded_then_needs_no_mapping(
        live_server, artifacts_dir, media, tmp_path) -> None:  # noqa: F811
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM), "Debian chromium is required (bootstrap.sh installs it)"
    user = User.objects.create_user("imarmahalle", password="x-Test-12345")
    Membership.objects.create(user=user, role="data_entry",
                              department=Department.objects.get(code="imar_sehircilik"))
    first = neighbourhood_file(tmp_path / "mahalleler.gpkg", first=0, bad=3)
    second = neighbourhood_file(tmp_path / "mahalleler-2.gpkg", first=N)
    names = neighbourhoods()[:2 * N]
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        sign_in(page, live_server.url)

        # the form offers the neighbourhood layer; the file's columns are not the standard's
        send(page, live_server.url, first)
        page.wait_for_url(re.compile(r".*/upload/\d+/mapping/$"))
        page.wait_for_selector("#mapping-table")
        page.screenshot(path=str(artifacts_dir / "1-mapping.png"), full_page=True)
        proposed = page.evaluate(
            "() => Object.fromEntries([...document.querySelectorAll('#mapping-table tbody tr')]"
            ".map(tr => [tr.dataset.column, tr.querySelector('select').value]))")
        assert proposed == {"name": "ad", "uavt_code": "uavt_kodu"}
        share = page.inner_text("#mapping-table tr[data-column=name] .share").strip()
        assert share == "100 %"  # every name is in the list once "Mahallesi" is stripped
        assert page.query_selector("#missing-required") is None
        page.click("#mapping-submit")
        page.wait_for_url(re.compile(r".*/reports/\d+/$"), timeout=120_000)
        page.screenshot(path=str(artifacts_dir / "2-report.png"), full_page=True)
        assert page.inner_text("#count-read") == str(N)
        assert page.inner_text("#count-loaded") == str(N - 1)
        assert page.inner_text("#count-rejected") == "1"
        assert "GEOM_INVALID" in page.inner_text("#problems")

        # the same department's next file: no mapping step
        send(page, live_server.url, second)
        page.wait_for_url(re.compile(r".*/upload/\?job=\d+$"), wait_until="domcontentloaded")
        page.wait_for_url(re.compile(r".*/reports/\d+/$"), timeout=120_000)
        page.screenshot(path=str(artifacts_dir / "3-second-report.png"), full_page=True)
        assert page.inner_text("#count-loaded") == str(N)
        assert page.inner_text("#count-rejected") == "0"
        browser.close()

    assert errors == []
    batches = list(Batch.objects.order_by("pk"))
    assert [(b.layer_code, b.status, b.count_read, b.count_loaded) for b in batches] == [
        ("mahalle", "loaded", N, N - 1), ("mahalle", "loaded", N, N)]
    saved = ColumnMapping.objects.get(department="imar_sehircilik", layer_code="mahalle")
    assert saved.mapping == {"name": "ad", "uavt_code": "uavt_kodu"}
    # stored under the official name ("Mahallesi" stripped), with the file's code and shape
    stored = {n.name: (n.uavt_code, round(n.geom.area)) for n in
              Neighbourhood.objects.filter(name__in=names)}
    expected = {names[i]: (str(40_000 + i), 160_000) for i in range(2 * N) if i != 3}
    assert {k: stored.get(k) for k in expected} == expected
    first_xmin = Neighbourhood.objects.get(name=names[0]).geom.extent[0]
    assert first_xmin == pytest.approx(X0, abs=0.01)
