"""A real headless Chromium uploads a bad file, watches its progress and reads its report."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from etl.models import Batch
from etl.testing import ensure_departments
from gis_core.models import Department, Membership
from ogc_api.models import AccessLog
from tests.test_web_reports import bad_geojson, clean_layer
from web.models import UploadJob

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    Path(settings.MEDIA_ROOT).mkdir()
    yield Path(settings.MEDIA_ROOT)
    clean_layer()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_upload_bad_file_progress_report_download(live_server, artifacts_dir, media,
                                                  tmp_path) -> None:
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM), "Debian chromium is required (bootstrap.sh installs it)"
    ensure_departments()
    user = User.objects.create_user("parkveri", password="x-Test-12345")
    Membership.objects.create(user=user, department=Department.objects.get(code="park_bahceler"),
                              role="data_entry")
    upload = tmp_path / "parklar.geojson"
    upload.write_bytes(bad_geojson(valid=4))
    external: list[str] = []
    errors: list[str] = []
    polled: list[int] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(accept_downloads=True)
        page.on("request", lambda r: None if r.url.startswith(live_server.url)
                or r.url.startswith("data:") else external.append(r.url))
        page.on("response", lambda r: polled.append(r.status)
                if r.url.endswith("/progress.json") else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", "parkveri")
        page.fill("#id_password", "x-Test-12345")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")

        page.click("#nav-upload")
        page.wait_for_selector("#upload-form")
        options = page.eval_on_selector_all("#id_layer option", "els => els.map(e => e.value)")
        assert options == ["yesil_alan"]
        page.select_option("#id_layer", "yesil_alan")
        page.set_input_files("#id_file", str(upload))
        page.screenshot(path=str(artifacts_dir / "1-upload-form.png"))
        page.click("#upload-submit")

        page.wait_for_url(re.compile(r".*/upload/\?job=\d+$"), wait_until="domcontentloaded")
        page.screenshot(path=str(artifacts_dir / "2-progress.png"))
        page.wait_for_url(re.compile(r".*/reports/\d+/$"), timeout=120_000)
        page.wait_for_selector("#error-map .leaflet-container")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(artifacts_dir / "3-report.png"), full_page=True)
        report_url = page.url
        assert page.inner_text("#count-read") == "8"
        assert page.inner_text("#count-loaded") == "4"
        assert page.inner_text("#count-rejected") == "4"
        problems = page.inner_text("#problems")
        for code in ("CODELIST", "GEOM_INVALID", "REQUIRED"):
            assert code in problems
        assert "kod listesinde yok" in problems and "is not in the code list" in problems
        assert "Çocuk Oyun Alanı" in problems
        rules = page.inner_text("#by-rule")
        assert "CODELIST" in rules and "GEOM_INVALID" in rules
        # the error map draws each located rejected feature itself (its polygon, canvas
        # renderer), in the colour of its first rule, with a legend (issue 16)
        drawn = page.evaluate(
            "() => { const out = []; for (const k in window) { const m = window[k];"
            " if (m && m instanceof L.Map) { m.eachLayer(l => {"
            " if (l instanceof L.Path && l.feature && l.feature.properties.codes)"
            " out.push([l.feature.geometry.type, l.options.color]); }); } } return out; }")
        assert len(drawn) == 4 and all(kind != "Point" for kind, _ in drawn), drawn
        legend = page.inner_text("#error-map-legend")
        assert "CODELIST" in legend and "GEOM_INVALID" in legend
        assert len({colour for _, colour in drawn}) == legend.count("(")

        with page.expect_download() as info:
            page.click("#download-gpkg")
        download = info.value
        assert download.suggested_filename.endswith("-rejected.gpkg")
        saved = artifacts_dir / download.suggested_filename
        download.save_as(str(saved))
        page.screenshot(path=str(artifacts_dir / "4-download.png"))

        page.goto(f"{live_server.url}/reports/")
        page.wait_for_selector("#batches")
        page.screenshot(path=str(artifacts_dir / "5-report-list.png"))
        browser.close()

    assert external == []
    assert errors == []
    assert polled and all(status == 200 for status in polled)
    job = UploadJob.objects.get()
    batch = Batch.objects.get()
    assert (job.status, job.batch_id, job.user_id) == ("done", batch.pk, user.pk)
    assert report_url.endswith(f"/reports/{batch.pk}/")
    assert (batch.status, batch.count_read, batch.count_loaded, batch.count_rejected) == (
        "loaded", 8, 4, 4)
    assert batch.department == "park_bahceler" and batch.user_id == user.pk
    with sqlite3.connect(saved) as db:
        rows = db.execute("SELECT kentcbs_codes FROM rejected").fetchall()
    assert sorted(code for (code,) in rows) == sorted(
        ["CODELIST", "GEOM_INVALID", "REQUIRED", "CODELIST"])
    assert AccessLog.objects.count() == 0  # yesil_alan holds no personal data
