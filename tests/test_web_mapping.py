"""The mapping page of the upload form, through Django's test client (issue 18 §1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from etl.models import ColumnMapping, ValueAlias
from tests.people import member, signed_in
from tests.test_web_mapping_browser import department_buildings
from web.models import UploadJob

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    from etl.testing import ensure_departments
    from layers.codelists import load_codelists

    settings.MEDIA_ROOT = str(tmp_path / "media")
    Path(settings.MEDIA_ROOT).mkdir()
    load_codelists()
    ensure_departments()
    return Path(settings.MEDIA_ROOT)


def send(client, path: Path):
    return client.post("/upload/", {"layer": "bina", "file": SimpleUploadedFile(
        path.name, path.read_bytes())})


def test_mapping_page_is_the_senders_only(tmp_path) -> None:
    clerk = member("imar1", "imar_sehircilik", "data_entry")
    other = member("imar2", "imar_sehircilik", "data_entry")
    client = signed_in(clerk)
    resp = send(client, department_buildings(tmp_path / "b.gpkg", first=0))
    job = UploadJob.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/upload/{job.pk}/mapping/"
    assert job.status == "mapping"
    page = client.get(f"/upload/{job.pk}/mapping/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Sütunları eşleştirin" in html and "bilinen kısaltma" in html
    assert 'value="uavt_bina_kodu" selected' in html
    assert signed_in(other).get(f"/upload/{job.pk}/mapping/").status_code == 404
    assert client.get("/upload/99999/mapping/").status_code == 404


def test_a_field_chosen_twice_is_refused_and_nothing_is_kept(tmp_path) -> None:
    client = signed_in(member("imar1", "imar_sehircilik", "data_entry"))
    send(client, department_buildings(tmp_path / "b.gpkg", first=0))
    job = UploadJob.objects.get()
    resp = client.post(f"/upload/{job.pk}/mapping/", {
        "col_0": "uavt_bina_kodu", "col_1": "mahalle_adi", "col_2": "kullanim",
        "col_3": "kat_sayisi", "col_4": "kat_sayisi"})
    assert resp.status_code == 400
    assert "birden çok sütun için seçildi" in resp.content.decode()
    assert not ColumnMapping.objects.exists()
    job.refresh_from_db()
    assert job.status == "mapping"


def test_confirmed_mapping_queues_the_job_and_is_kept(tmp_path,
                                                      django_capture_on_commit_callbacks
                                                      ) -> None:
    client = signed_in(member("imar1", "imar_sehircilik", "data_entry"))
    send(client, department_buildings(tmp_path / "b.gpkg", first=0))
    job = UploadJob.objects.get()
    with django_capture_on_commit_callbacks(execute=False) as started:
        resp = client.post(f"/upload/{job.pk}/mapping/", {
            "col_0": "uavt_bina_kodu", "col_1": "mahalle_adi", "col_2": "kullanim",
            "col_3": "", "col_4": "yapim_yili",  # floors left out
            "alias_2_0": "Konut + Ticaret", "alias_2_1": "", "alias_2_2": "Kamu Hizmet"})
    assert resp.status_code == 302 and resp["Location"] == f"/upload/?job={job.pk}"
    assert len(started) == 1  # the upload thread starts once the request commits
    job.refresh_from_db()
    assert job.status == "queued"
    assert job.mapping == {"uavt_kodu": "uavt_bina_kodu", "mahalle": "mahalle_adi",
                           "KULLANIM_AMACI": "kullanim", "kat": "", "yil": "yapim_yili"}
    assert ColumnMapping.objects.get().mapping["kat"] == ""  # kept as "not loaded"
    assert sorted(ValueAlias.objects.values_list("alias", "code", "department")) == [
        ("Kamu", "Kamu Hizmet", "imar_sehircilik"),
        ("Karma", "Konut + Ticaret", "imar_sehircilik")]
    # a job past its mapping has no mapping page any more
    assert client.get(f"/upload/{job.pk}/mapping/").status_code == 404

    # the next file with the same columns: no mapping page
    with django_capture_on_commit_callbacks(execute=False):
        resp = send(client, department_buildings(tmp_path / "c.gpkg", first=50))
    second = UploadJob.objects.latest("pk")
    assert resp["Location"] == f"/upload/?job={second.pk}"
    assert second.status == "queued" and second.mapping == job.mapping
