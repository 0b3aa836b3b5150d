"""The mapping step in a real headless Chromium (issue 18 §1, §2): a department's building
file with its own column names and its own words for code-list values goes through on the
first try, and its next file needs no mapping at all."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from django.contrib.auth.models import User
from django.db import connection
from pyproj import Transformer

from etl.models import Batch, ColumnMapping, ValueAlias
from etl.testing import ensure_departments
from gis_core.models import Department, Membership
from tests.test_web_upload_browser import ARGS, CHROMIUM

X0, Y0 = Transformer.from_crs(4326, 5254, always_xy=True).transform(30.52, 39.77)
#: The building codes these tests send (removed from cbs.bina afterwards).
CODE_BASE = 9_700_000_000
#: The department's words for the use, and the entries they stand for.
USES = {"Konut": "Konut", "Karma": "Konut + Ticaret", "Ticari": "Ticaret",
        "Kamu": "Kamu Hizmet"}


def neighbourhoods() -> list[str]:
    from layers.codelists import codelist

    return [entry.code for entry in codelist("mahalle")]


def department_buildings(path: Path, *, first: int, n: int = 8, bad: int | None = 7) -> Path:
    """A building file as a department keeps it: ``uavt_kodu``, ``mahalle`` written as "X
    Mahallesi" / "X Mah.", ``KULLANIM_AMACI`` with the department's own words, ``kat`` and
    ``yil``; feature ``bad`` (if any) is a bow-tie (GEOM_INVALID), the others are valid."""
    names = neighbourhoods()
    uses = list(USES)
    geoms = []
    for i in range(n):
        x, y = X0 + (first + i) * 40, Y0
        if i == bad:
            geoms.append(shapely.MultiPolygon([shapely.Polygon(
                [(x, y), (x + 20, y + 20), (x + 20, y), (x, y + 20)])]))
        else:
            geoms.append(shapely.MultiPolygon([shapely.box(x, y, x + 20, y + 15)]))
    gpd.GeoDataFrame({
        "uavt_kodu": [str(CODE_BASE + first + i) for i in range(n)],
        "mahalle": [f"{names[i % len(names)]} {'Mahallesi' if i % 2 else 'Mah.'}"
                    for i in range(n)],
        "KULLANIM_AMACI": [uses[i % len(uses)] for i in range(n)],
        "kat": [1 + i % 6 for i in range(n)],
        "yil": [1980 + i for i in range(n)],
    }, geometry=geoms, crs=5254).to_file(path)
    return path


def stored_buildings() -> list[tuple[str, str, str, int, int]]:
    with connection.cursor() as cur:
        cur.execute("SELECT uavt_bina_kodu, mahalle_adi, kullanim, kat_sayisi, yapim_yili "
                    "FROM cbs.bina WHERE uavt_bina_kodu LIKE %s ORDER BY 1",
                    [f"{str(CODE_BASE)[:3]}%"])
        return list(cur.fetchall())


def clean_buildings() -> None:
    with connection.cursor() as cur:
        cur.execute("DELETE FROM cbs.bina WHERE uavt_bina_kodu LIKE %s",
                    [f"{str(CODE_BASE)[:3]}%"])


@pytest.fixture
def media(settings, tmp_path) -> Path:
    from layers.codelists import load_codelists

    settings.MEDIA_ROOT = str(tmp_path / "media")
    Path(settings.MEDIA_ROOT).mkdir()
    load_codelists()
    ensure_departments()
    clean_buildings()
    yield Path(settings.MEDIA_ROOT)
    clean_buildings()


def expected_rows(first: int, n: int, bad: int | None) -> list[tuple[str, str, str, int, int]]:
    names = neighbourhoods()
    uses = list(USES)
    return [(str(CODE_BASE + first + i), names[i % len(names)], USES[uses[i % len(uses)]],
             1 + i % 6, 1980 + i) for i in range(n) if i != bad]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_mapping_step_then_no_mapping_the_second_time(live_server, artifacts_dir, media,
                                                      tmp_path) -> None:
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM), "Debian chromium is required (bootstrap.sh installs it)"
    user = User.objects.create_user("imarveri", password="x-Test-12345")
    Membership.objects.create(user=user, role="data_entry",
                              department=Department.objects.get(code="imar_sehircilik"))
    first = department_buildings(tmp_path / "binalar.gpkg", first=0)
    second = department_buildings(tmp_path / "binalar-aralik.gpkg", first=100, bad=None)
    errors: list[str] = []
    external: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.on("request", lambda r: None if r.url.startswith(live_server.url)
                or r.url.startswith("data:") else external.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", "imarveri")
        page.fill("#id_password", "x-Test-12345")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")

        # 1. the first file: its columns are not the standard's names
        page.goto(f"{live_server.url}/upload/")
        page.select_option("#id_layer", "bina")
        page.set_input_files("#id_file", str(first))
        page.click("#upload-submit")
        page.wait_for_url(re.compile(r".*/upload/\d+/mapping/$"))
        page.wait_for_selector("#mapping-table")
        page.screenshot(path=str(artifacts_dir / "1-mapping.png"), full_page=True)
        proposed = page.evaluate(
            "() => Object.fromEntries([...document.querySelectorAll('#mapping-table tbody tr')]"
            ".map(tr => [tr.dataset.column, tr.querySelector('select').value]))")
        assert proposed == {"uavt_kodu": "uavt_bina_kodu", "mahalle": "mahalle_adi",
                            "KULLANIM_AMACI": "kullanim", "kat": "kat_sayisi",
                            "yil": "yapim_yili"}
        shares = page.evaluate(
            "() => Object.fromEntries([...document.querySelectorAll('#mapping-table tbody tr')]"
            ".map(tr => [tr.dataset.column, tr.querySelector('.share').innerText.trim()]))")
        assert shares["mahalle"] == "100 %"  # once "Mahallesi"/"Mah." is stripped
        assert shares["KULLANIM_AMACI"] == "25 %"  # only "Konut" is an entry as written
        samples = page.inner_text("#mapping-table tr[data-column=mahalle] .samples")
        assert "Mahallesi" in samples and "Mah." in samples
        aliases = page.evaluate(
            "() => Object.fromEntries([...document.querySelectorAll('table.aliases tbody tr')]"
            ".map(tr => [tr.cells[0].innerText.trim(), tr.querySelector('select').value]))")
        assert aliases == {"Karma": "Konut + Ticaret", "Ticari": "Ticaret",
                           "Kamu": "Kamu Hizmet"}
        assert page.query_selector("#missing-required") is None
        page.click("#mapping-submit")
        page.wait_for_url(re.compile(r".*/reports/\d+/$"), timeout=120_000)
        page.screenshot(path=str(artifacts_dir / "2-report.png"), full_page=True)
        assert page.inner_text("#count-read") == "8"
        assert page.inner_text("#count-loaded") == "7"
        assert page.inner_text("#count-rejected") == "1"
        problems = page.inner_text("#problems")
        assert "GEOM_INVALID" in problems and "REQUIRED" not in problems
        assert "VALUE_ALIAS" in problems and "Konut + Ticaret" in problems

        # 2. the next file of the same department: straight to its progress and report
        page.goto(f"{live_server.url}/upload/")
        page.select_option("#id_layer", "bina")
        page.set_input_files("#id_file", str(second))
        page.click("#upload-submit")
        page.wait_for_url(re.compile(r".*/upload/\?job=\d+$"), wait_until="domcontentloaded")
        page.wait_for_url(re.compile(r".*/reports/\d+/$"), timeout=120_000)
        page.screenshot(path=str(artifacts_dir / "3-second-report.png"), full_page=True)
        assert page.inner_text("#count-loaded") == "8"
        assert page.inner_text("#count-rejected") == "0"
        browser.close()

    assert external == [] and errors == []
    batches = list(Batch.objects.order_by("pk"))
    assert [(b.status, b.count_read, b.count_loaded, b.count_rejected) for b in batches] == [
        ("loaded", 8, 7, 1), ("loaded", 8, 8, 0)]
    assert stored_buildings() == expected_rows(0, 8, 7) + expected_rows(100, 8, None)
    saved = ColumnMapping.objects.get(department="imar_sehircilik", layer_code="bina")
    assert saved.mapping == {"uavt_kodu": "uavt_bina_kodu", "mahalle": "mahalle_adi",
                             "KULLANIM_AMACI": "kullanim", "kat": "kat_sayisi",
                             "yil": "yapim_yili"}
    assert sorted(ValueAlias.objects.values_list("alias", "code", "department")) == [
        ("Kamu", "Kamu Hizmet", "imar_sehircilik"), ("Karma", "Konut + Ticaret",
                                                     "imar_sehircilik"),
        ("Ticari", "Ticaret", "imar_sehircilik")]
    # every replaced value is in the report as a warning, never silently
    report = json.loads(Path(batches[1].report_json).read_text(encoding="utf-8"))
    warned = {(p["code"], p["field"]) for p in report["problems"]}
    assert ("VALUE_ALIAS", "kullanim") in warned
    assert ("VALUE_NORMALISED", "mahalle_adi") in warned
    assert batches[1].count_warnings == 8  # every feature: its neighbourhood's "Mah(allesi)"
