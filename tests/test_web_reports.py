"""Validation reports and the upload form: nobody sees a batch, a report or rejected
features of a layer their department may not read; uploads only into editable layers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils.html import escape
from pyproj import Transformer

from etl.models import Batch
from etl.services import ingest
from etl.testing import ensure_departments
from gis_core.models import Department, Membership
from layers.access import can_edit
from layers.registry import registry
from ogc_api.models import AccessLog
from tests.people import member, signed_in
from web import reports
from web.models import UploadJob

pytestmark = pytest.mark.django_db

#: Codes of the features the bad file carries (cleaned from the layer afterwards).
CODE_PREFIX = "YA-97"


def bad_geojson(*, valid: int = 4) -> bytes:
    """A GeoJSON for ``yesil_alan``: ``valid`` good parks, then one bad code-list value,
    one bow-tie geometry, one missing required name and one misspelt type.

    Expected problems: CODELIST (feature ``valid``), GEOM_INVALID (``valid + 1``),
    REQUIRED (``valid + 2``), CODELIST with the suggestion "Çocuk Oyun Alanı" (``valid + 3``).
    """
    to_ll = Transformer.from_crs(5254, 4326, always_xy=True)
    x0, y0 = Transformer.from_crs(4326, 5254, always_xy=True).transform(30.52, 39.77)

    def square(i: int, *, bowtie: bool = False) -> list:
        x, y = x0 + i * 80, y0
        corners = ([(x, y), (x + 40, y + 40), (x + 40, y), (x, y + 40)] if bowtie
                   else [(x, y), (x + 40, y), (x + 40, y + 40), (x, y + 40)])
        ring = [list(to_ll.transform(cx, cy)) for cx, cy in corners]
        return [[[*ring, ring[0]]]]

    rows = [{"yesil_alan_kodu": f"{CODE_PREFIX}{i:02d}", "ad": f"Deneme parkı {i}",
             "tur": "Park"} for i in range(valid + 4)]
    rows[valid]["tur"] = "Havuz"
    rows[valid + 2]["ad"] = None
    rows[valid + 3]["tur"] = "Cocuk Oyun Alani"
    features = [{"type": "Feature", "properties": props,
                 "geometry": {"type": "MultiPolygon",
                              "coordinates": square(i, bowtie=(i == valid + 1))}}
                for i, props in enumerate(rows)]
    return json.dumps({"type": "FeatureCollection", "features": features},
                      ensure_ascii=False).encode()


def clean_layer() -> None:
    """Remove the bad file's features from ``cbs.yesil_alan`` (the table outlives tests)."""
    with connection.cursor() as cur:
        cur.execute("DELETE FROM cbs.yesil_alan WHERE yesil_alan_kodu LIKE %s",
                    [f"{CODE_PREFIX}%"])


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    """Reports and uploads of these tests go to a temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    Path(settings.MEDIA_ROOT).mkdir()
    ensure_departments()
    yield Path(settings.MEDIA_ROOT)
    clean_layer()


def _user(name: str, dept: str | None, role: str = "data_entry") -> User:
    return member(name, dept, role)


def _bad_batch(tmp_path: Path, user: User, *, dry_run: bool = True) -> Batch:
    path = tmp_path / "parklar.geojson"
    path.write_bytes(bad_geojson())
    batch = ingest(layer="yesil_alan", path=path, department="park_bahceler", user=user,
                   dry_run=dry_run)
    assert batch.count_rejected == 4, (batch.status, batch.message)
    return batch


def _hidden_batch(media: Path) -> Batch:
    """A batch of ``bt_varlik`` (personal data; read by bilgi_islem and managers only)."""
    batch = Batch.objects.create(layer_code="bt_varlik", department="bilgi_islem",
                                 file_name="varliklar.gpkg", sha256="0" * 64, status="loaded",
                                 count_read=2, count_loaded=1, count_rejected=1)
    folder = media / "etl" / "batches" / str(batch.pk)
    folder.mkdir(parents=True)
    (folder / "report.json").write_text(json.dumps({
        "summary": {"batch": batch.pk}, "diagnostics": [],
        "counts": {"by_rule": [{"code": "REQUIRED", "severity": "error", "count": 1}],
                   "by_field": [{"field": "zimmetli_kisi", "code": "REQUIRED", "count": 1}]},
        "problems": [{"feature": 1, "code": "REQUIRED", "severity": "error",
                      "field": "zimmetli_kisi", "value": "Ayşe Yılmaz",
                      "message_tr": "zimmetli_kisi alanı zorunludur.",
                      "message_en": "Field zimmetli_kisi is required."}]}), encoding="utf-8")
    (folder / "rejected.gpkg").write_bytes(b"not really a gpkg")
    batch.report_json = str(folder / "report.json")
    batch.report_gpkg = str(folder / "rejected.gpkg")
    batch.save()
    return batch


# -- anonymous ------------------------------------------------------------------------------
def test_anonymous_is_sent_to_login(media) -> None:
    batch = _hidden_batch(media)
    client = Client()
    for url in ("/reports/", f"/reports/{batch.pk}/", f"/reports/{batch.pk}/rejected.gpkg",
                f"/reports/{batch.pk}/report.json", "/upload/", "/upload/1/progress.json"):
        resp = client.get(url)
        assert resp.status_code == 302 and resp.url.startswith("/accounts/login/"), url
    resp = client.post("/upload/", {"layer": "yesil_alan"})
    assert resp.status_code == 302 and resp.url.startswith("/accounts/login/")


# -- reports ---------------------------------------------------------------------------------
def test_batches_of_unreadable_layers_do_not_exist_for_the_user(media, tmp_path) -> None:
    hidden = _hidden_batch(media)
    park = _user("parkci", "park_bahceler")
    visible = _bad_batch(tmp_path, park)
    client = signed_in(park)
    html = client.get("/reports/").content.decode()
    assert f'data-batch="{visible.pk}"' in html
    assert f'data-batch="{hidden.pk}"' not in html and "varliklar.gpkg" not in html
    # a forged filter changes nothing
    html = client.get("/reports/", {"layer": "bt_varlik"}).content.decode()
    assert "varliklar.gpkg" not in html
    for suffix in ("", "rejected.gpkg", "report.json"):
        assert client.get(f"/reports/{hidden.pk}/{suffix}").status_code == 404, suffix
    assert client.get("/reports/999999/").status_code == 404
    assert AccessLog.objects.count() == 0


def test_list_filters_and_shows_counts(media, tmp_path) -> None:
    park = _user("parkci", "park_bahceler")
    batch = _bad_batch(tmp_path, park)
    client = signed_in(park)
    resp = client.get("/reports/", {"layer": "yesil_alan", "status": "dry_run",
                                    "department": "park_bahceler"})
    html = resp.content.decode()
    assert resp.status_code == 200 and f'data-batch="{batch.pk}"' in html
    assert "parklar.geojson" in html and "EPSG:4326" in html and "utf-8" in html
    row = html[html.index(f'data-batch="{batch.pk}"'):]
    row = row[:row.index("</tr>")]
    assert ">8<" in row and ">4<" in row and "parkci" in row
    html = client.get("/reports/", {"status": "loaded"}).content.decode()
    assert f'data-batch="{batch.pk}"' not in html and 'id="no-batches"' in html


def test_editor_sees_rejected_features_with_both_messages_and_map(media, tmp_path) -> None:
    sender = _user("gonderen", "park_bahceler")
    batch = _bad_batch(tmp_path, sender)
    colleague = _user("parkci2", "park_bahceler")  # may edit, did not send
    resp = signed_in(colleague).get(f"/reports/{batch.pk}/")
    html = resp.content.decode()
    assert resp.status_code == 200
    assert 'id="problems"' in html and 'id="by-rule"' in html and 'id="by-field"' in html
    for code in ("CODELIST", "GEOM_INVALID", "REQUIRED"):
        assert code in html
    assert "Çocuk Oyun Alanı" in html  # the suggestion
    assert "kod listesinde yok" in html and "is not in the code list" in html
    assert 'id="error-map"' in html and "/static/leaflet/leaflet.js" in html
    assert "cdn" not in html.lower() and "https://" not in html and "http://" not in html
    gpkg = signed_in(colleague).get(f"/reports/{batch.pk}/rejected.gpkg")
    assert gpkg.status_code == 200
    assert "attachment" in gpkg["Content-Disposition"] and ".gpkg" in gpkg["Content-Disposition"]
    body = b"".join(gpkg.streaming_content)
    assert body.startswith(b"SQLite format 3")
    full = signed_in(colleague).get(f"/reports/{batch.pk}/report.json").json()
    assert len(full["problems"]) >= 4


def test_reader_who_may_not_edit_sees_counts_only(media, tmp_path) -> None:
    batch = _bad_batch(tmp_path, _user("gonderen", "park_bahceler"))
    imar = _user("imarci", "imar_sehircilik")
    layer = registry.get("yesil_alan")
    assert not can_edit(imar, layer)
    client = signed_in(imar)
    html = client.get(f"/reports/{batch.pk}/").content.decode()
    assert 'id="counts-only"' in html and 'id="by-rule"' in html
    assert 'id="problems"' not in html and 'id="error-map"' not in html
    assert "Deneme parkı" not in html and "Havuz" not in html
    assert client.get(f"/reports/{batch.pk}/rejected.gpkg").status_code == 403
    data = client.get(f"/reports/{batch.pk}/report.json").json()
    assert "problems" not in data and data["problems_hidden"] >= 4 and data["counts"]["by_rule"]
    # GIS administrators see the rejected features of every layer
    admin = _user("cbsadmin", "cbs", role="gis_admin")
    assert 'id="problems"' in signed_in(admin).get(f"/reports/{batch.pk}/").content.decode()


def test_personal_data_reads_are_logged(media) -> None:
    batch = _hidden_batch(media)
    manager = _user("mudur", "zabita", role="manager")  # reads bt_varlik, no personal data
    html = signed_in(manager).get(f"/reports/{batch.pk}/").content.decode()
    assert 'id="counts-only"' in html and "Ayşe Yılmaz" not in html
    assert AccessLog.objects.count() == 0
    tech = _user("teknik", "teknik_destek", role="technician")  # bilgi_islem: edits, personal
    client = signed_in(tech)
    html = client.get(f"/reports/{batch.pk}/").content.decode()
    assert "Ayşe Yılmaz" in html
    assert client.get(f"/reports/{batch.pk}/report.json").status_code == 200
    assert client.get(f"/reports/{batch.pk}/rejected.gpkg").status_code == 200
    logged = list(AccessLog.objects.order_by("pk").values_list("username", "layer", "via"))
    assert logged == [("teknik", "bt_varlik", "web")] * 3


def test_refused_file_shows_the_bilingual_reason(media, tmp_path) -> None:
    park = _user("parkci", "park_bahceler")
    path = tmp_path / "notlar.geojson"
    path.write_text("bu bir harita değil", encoding="utf-8")
    batch = ingest(layer="yesil_alan", path=path, department="park_bahceler", user=park)
    assert batch.status == "refused" and batch.reason_code
    html = signed_in(park).get(f"/reports/{batch.pk}/").content.decode()
    assert 'id="reason"' in html and batch.reason_code in html
    assert " / " in batch.message and escape(batch.message.split(" / ")[0]) in html


# -- uploads ---------------------------------------------------------------------------------
def test_only_editable_layers_are_offered(media) -> None:
    park = _user("parkci", "park_bahceler")
    html = signed_in(park).get("/upload/").content.decode()
    offered = set(__import__("re").findall(r'<option value="([a-z_]+)"', html))
    # Written down: park_bahceler edits only the green areas (yesil_alan.yaml access.edit).
    assert offered == {"yesil_alan"}
    assert 'name="csrfmiddlewaretoken"' in html


def test_user_with_no_editable_layer_sees_a_message(media) -> None:
    viewer = _user("izleyici", "zabita", role="viewer")
    resp = signed_in(viewer).get("/upload/")
    html = resp.content.decode()
    assert resp.status_code == 200 and 'id="no-editable"' in html
    assert 'id="upload-form"' not in html
    resp = signed_in(viewer).post("/upload/", {"layer": "yesil_alan", "file": SimpleUploadedFile(
        "a.geojson", bad_geojson())})
    assert resp.status_code == 403
    assert not UploadJob.objects.exists()


def test_post_for_a_layer_that_is_not_editable_is_refused(media) -> None:
    park = _user("parkci", "park_bahceler")
    client = signed_in(park)
    for code in ("bina", "numarataj", "bt_varlik", "nope"):
        resp = client.post("/upload/", {"layer": code, "file": SimpleUploadedFile(
            "a.geojson", bad_geojson())})
        assert resp.status_code == 403, code
    assert not UploadJob.objects.exists() and not Batch.objects.exists()
    with pytest.raises(reports.KentCBSError):
        reports.create_upload_job(user=park, layer_code="bina",
                                  upload=SimpleUploadedFile("a.geojson", b"{}"))


def test_csrf_is_checked() -> None:
    park = _user("parkci", "park_bahceler")
    client = Client(enforce_csrf_checks=True)
    client.force_login(park)
    resp = client.post("/upload/", {"layer": "yesil_alan", "file": SimpleUploadedFile(
        "a.geojson", bad_geojson())})
    assert resp.status_code == 403
    assert not UploadJob.objects.exists()


@pytest.mark.parametrize("size", [200_000, 20_000])  # refused by its length / while read
def test_too_large_file_gets_a_clear_message(media, settings, size) -> None:
    settings.KENTCBS_UPLOAD_MAX_BYTES = 1000
    park = _user("parkci", "park_bahceler")
    resp = signed_in(park).post("/upload/", {"layer": "yesil_alan", "file": SimpleUploadedFile(
        "big.geojson", b" " * size)})
    assert resp.status_code == 413
    html = resp.content.decode()
    assert "1000" in html or "KB" in html or "bayt" in html
    assert "kentcbs ingest" in html
    assert not UploadJob.objects.exists()
    assert not (media / "web").exists() or not any((media / "web").rglob("big.geojson"))


def test_bad_crs_is_a_form_error(media) -> None:
    park = _user("parkci", "park_bahceler")
    resp = signed_in(park).post("/upload/", {"layer": "yesil_alan", "crs": "TM30; DROP",
                                           "file": SimpleUploadedFile("a.geojson",
                                                                      bad_geojson())})
    assert resp.status_code == 400 and "EPSG:5254" in resp.content.decode()


def test_upload_runs_ingest_and_reports_progress(media, django_capture_on_commit_callbacks,
                                                 monkeypatch) -> None:
    park = _user("parkci", "park_bahceler")
    started: list[int] = []
    monkeypatch.setattr(reports, "_upload_thread", started.append)
    client = signed_in(park)
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post("/upload/", {"layer": "yesil_alan", "crs": "epsg:4326",
                                        "strict": "", "file": SimpleUploadedFile(
                                            "parklar.geojson", bad_geojson())})
    assert resp.status_code == 302 and "?job=" in resp.url
    job = UploadJob.objects.get()
    assert started == [job.pk]
    assert job.department == "park_bahceler" and job.crs == "EPSG:4326"
    assert Path(job.stored_path).read_bytes() == bad_geojson()
    page = client.get(resp.url)
    assert page.status_code == 200 and "upload.js" in page.content.decode()
    assert client.get(f"/upload/{job.pk}/progress.json").json()["status"] == "queued"

    reports.run_upload(job.pk)  # what the thread runs

    data = client.get(f"/upload/{job.pk}/progress.json").json()
    assert data["status"] == "done" and data["percent"] == 100 and data["done"] == 8
    batch = Batch.objects.get(pk=data["batch"])
    assert data["report_url"] == f"/reports/{batch.pk}/" and not data["refused"]
    assert (batch.status, batch.count_loaded, batch.count_rejected) == ("loaded", 4, 4)
    assert batch.user == park and batch.department == "park_bahceler"
    assert not Path(job.stored_path).exists()  # the upload is removed once processed


def test_refused_upload_reports_the_reason_through_progress(media, monkeypatch,
                                                            django_capture_on_commit_callbacks
                                                            ) -> None:
    park = _user("parkci", "park_bahceler")
    monkeypatch.setattr(reports, "_upload_thread", lambda job_id: None)
    client = signed_in(park)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/upload/", {"layer": "yesil_alan", "file": SimpleUploadedFile(
            "bos.zip", b"PK\x03\x04 truncated")})
    job = reports.run_upload(UploadJob.objects.get().pk)
    data = client.get(f"/upload/{job.pk}/progress.json").json()
    assert data["status"] == "done" and data["refused"]
    assert data["reason_code"] and " / " in data["message"]


def test_progress_of_another_users_job_is_404(media) -> None:
    park = _user("parkci", "park_bahceler")
    other = _user("parkci2", "park_bahceler")
    job = UploadJob.objects.create(user=park, layer_code="yesil_alan",
                                   department="park_bahceler", file_name="a.geojson")
    assert signed_in(park).get(f"/upload/{job.pk}/progress.json").status_code == 200
    assert signed_in(other).get(f"/upload/{job.pk}/progress.json").status_code == 404
    assert signed_in(other).get(f"/upload/?job={job.pk}").status_code == 404
    assert signed_in(other).get("/upload/?job=abc").status_code == 404


def test_a_job_without_heartbeat_is_reported_interrupted(media) -> None:
    from datetime import timedelta

    from django.utils import timezone

    park = _user("parkci", "park_bahceler")
    job = UploadJob.objects.create(user=park, layer_code="yesil_alan",
                                   department="park_bahceler", file_name="a.geojson",
                                   status="running")
    UploadJob.objects.filter(pk=job.pk).update(heartbeat=timezone.now() - timedelta(hours=1))
    data = signed_in(park).get(f"/upload/{job.pk}/progress.json").json()
    assert data["status"] == "interrupted" and data["reason_code"] == "UPLOAD_INTERRUPTED"


def test_upload_department_is_the_membership_that_grants_editing() -> None:
    ensure_departments()
    layer = registry.get("yesil_alan")
    user = _user("iki", "zabita")
    Membership.objects.create(user=user, department=Department.objects.get(code="park_bahceler"),
                              role="data_entry")
    assert reports.upload_department(user=user, layer=layer) == "park_bahceler"
    tech = _user("tek", "teknik_destek", role="technician")
    assert reports.upload_department(user=tech, layer=registry.get("bt_varlik")) == \
        "teknik_destek"


def test_pages_render_in_english(media, tmp_path) -> None:
    park = _user("parkci", "park_bahceler")
    batch = _bad_batch(tmp_path, park)
    client = signed_in(park)
    client.cookies["django_language"] = "en"
    assert "Validation reports" in client.get("/reports/").content.decode()
    client.cookies["django_language"] = "tr"
    html = client.get(f"/reports/{batch.pk}/").content.decode()
    assert "Doğrulama raporu" in html


def test_an_upload_with_every_feature_rejected_is_shown_rejected(media, tmp_path) -> None:
    """Issue 16: every feature rejected showed "Durum: Değişiklik yok" in green with "every
    feature is already stored as sent"."""
    sender = _user("gonderen", "park_bahceler")
    path = tmp_path / "hepsi_hatali.geojson"
    data = json.loads(bad_geojson(valid=0))
    for feature in data["features"]:
        feature["properties"]["tur"] = "Havuz"  # not in the code list: every feature
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    batch = ingest(layer="yesil_alan", path=path, department="park_bahceler", user=sender)
    assert (batch.status, batch.count_loaded, batch.count_rejected) == ("rejected", 0, 4)
    html = signed_in(sender).get(f"/reports/{batch.pk}/").content.decode()
    status = html[html.index('<td class="status-'):]
    status = status[:status.index("</td>")]
    assert 'class="status-rejected"' in status and "Reddedildi" in status
    assert "status-unchanged" not in html and "Değişiklik yok" not in status
    assert "already stored as sent" not in html and "Every feature (4) has errors" in html


def test_a_shift_refused_upload_is_sent_again_with_a_confirmation_naming_the_shift(
        media, tmp_path, monkeypatch, django_capture_on_commit_callbacks) -> None:
    """Issue 16: a systematic shift against stored features refuses the upload; the web
    form loads it only when a confirmation that names the shift is ticked."""
    import geopandas as gpd

    sender = _user("gonderen", "park_bahceler")
    good = tmp_path / "parklar.geojson"
    good.write_bytes(bad_geojson(valid=4))
    assert ingest(layer="yesil_alan", path=good, department="park_bahceler",
                  user=sender).count_loaded == 4
    frame = gpd.read_file(good).to_crs(5254)
    frame["geometry"] = frame.geometry.translate(30, 40)  # 50 m north-east, all of them
    shifted_bytes = frame.to_crs(4326).to_json().encode()
    shifted = tmp_path / "kaymis.geojson"
    shifted.write_bytes(shifted_bytes)
    refused = ingest(layer="yesil_alan", path=shifted, department="park_bahceler", user=sender)
    assert (refused.status, refused.reason_code) == ("refused", "DATA_SHIFTED")
    client = signed_in(sender)
    report = client.get(f"/reports/{refused.pk}/").content.decode()
    assert 'id="send-accepting-shift"' in report and f"shift={refused.pk}" in report
    form = client.get("/upload/", {"layer": "yesil_alan", "shift": refused.pk}).content.decode()
    assert 'name="accept_shift"' in form and "50 m" in form and "DATA_SHIFTED" in form
    # the plain form has no such box; another batch's id (not refused for a shift) neither
    assert 'name="accept_shift"' not in client.get("/upload/").content.decode()
    other = _bad_batch(tmp_path, sender)
    assert 'name="accept_shift"' not in client.get(
        "/upload/", {"shift": other.pk}).content.decode()

    monkeypatch.setattr(reports, "_upload_thread", lambda job_id: None)
    for ticked in (False, True):
        post = {"layer": "yesil_alan", "shift": str(refused.pk),
                "file": SimpleUploadedFile("kaymis.geojson", shifted_bytes)}
        if ticked:
            post["accept_shift"] = "on"
        with django_capture_on_commit_callbacks(execute=True):
            resp = client.post("/upload/", post)
        assert resp.status_code == 302
        job = UploadJob.objects.order_by("-pk").first()
        assert job.accept_shift is ticked
        batch = reports.run_upload(job.pk).batch
        assert batch.status == ("loaded" if ticked else "refused"), batch.message
    assert batch.count_updated == 4
