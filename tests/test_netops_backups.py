"""The backup register (modules.netops): job results by CLI and webhook, failed and overdue
backups alerted once, restore drills; device configuration versions with a diff."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from modules.netops import backups
from modules.netops.errors import NetopsError
from modules.netops.models import BackupAlert, BackupTarget, DeviceConfig
from tests.people import member, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _language_restored() -> Iterator[None]:
    """A request in English leaves English active in this thread (the locale middleware
    activates the reader's language and nothing resets it): restore it for the next test."""
    from django.utils import translation

    with translation.override(translation.get_language()):
        yield


def _register() -> BackupTarget:
    from gis_core.models import Department

    BackupTarget.objects.create(code="kentcbs-db", name="KentCBS veritabanı", kind="database",
                                importance="critical", policy="daily",
                                department=Department.objects.get(code="ag_yonetimi"))
    return BackupTarget.objects.create(code="ebys-sunucu", name="EBYS sunucusu", kind="server",
                                       importance="high", policy="weekly")


def test_results_make_states_and_alerts_open_and_close_once(mailoutbox,
                                                           django_capture_on_commit_callbacks):
    weekly = _register()
    admin = member("ag", "ag_yonetimi", "network_admin")
    admin.email = "ag@belediye.local"
    admin.save()
    now = timezone.now()
    backups.report_run(code="kentcbs-db", ok=True, actor="cron", at=now - dt.timedelta(hours=2))
    backups.report_run(code="ebys-sunucu", ok=True, actor="cron", at=now - dt.timedelta(days=3))
    assert {s.target.code: s.state for s in backups.states(now=now)} == {
        "kentcbs-db": "ok", "ebys-sunucu": "ok"}
    # a day and a half later the daily job has not run: overdue, alerted once
    later = now + dt.timedelta(hours=36)
    assert {s.target.code: s.state for s in backups.states(now=later)}["kentcbs-db"] == "overdue"
    with django_capture_on_commit_callbacks(execute=True):
        assert backups.check_overdue(now=later) == 1
        assert backups.check_overdue(now=later) == 0
    assert [m.subject for m in mailoutbox] == [
        "[KentCBS] Yedekleme gecikti / Backup overdue: KentCBS veritabanı"]
    assert mailoutbox[0].to == ["ag@belediye.local"]
    with django_capture_on_commit_callbacks(execute=True):
        backups.report_run(code="kentcbs-db", ok=True, actor="cron", at=later)
    assert not BackupAlert.objects.filter(closed_at__isnull=True).exists()
    assert mailoutbox[-1].subject.startswith("[KentCBS] Yedekleme düzeldi / Backup recovered")
    # a failed run is failed at once
    backups.report_run(code="ebys-sunucu", ok=False, actor="cron", detail="disk full")
    state = {s.target.code: s.state for s in backups.states()}
    assert state["ebys-sunucu"] == "failed"
    assert BackupAlert.objects.get(target=weekly, closed_at__isnull=True).reason == "failed"


def test_the_cli_and_the_webhook_report_runs(settings) -> None:
    _register()
    call_command("netops", "backup-report", "kentcbs-db", "--status", "ok", "--size", "1048576")
    with pytest.raises(NetopsError) as caught:
        call_command("netops", "backup-report", "yok-boyle", "--status", "ok")
    assert caught.value.code == "NETOPS_UNKNOWN_SYSTEM"
    assert caught.value.text.startswith("'yok-boyle' yedekleme kaydında yok")
    settings.KENTCBS_NETOPS_WEBHOOK_TOKEN = "t0k"
    client = Client()
    answer = client.post("/netops/hooks/backup/", json.dumps(
        {"system": "ebys-sunucu", "status": "failed", "detail": "tape error"}),
        content_type="application/json", HTTP_AUTHORIZATION="Bearer t0k")
    assert answer.json() == {"system": "ebys-sunucu", "status": "failed"}
    unknown = client.post("/netops/hooks/backup/", json.dumps(
        {"system": "x", "status": "ok"}), content_type="application/json",
        HTTP_AUTHORIZATION="Bearer t0k")
    assert unknown.status_code == 404 and unknown.json()["code"] == "NETOPS_UNKNOWN_SYSTEM"


def test_the_register_page_is_for_it_roles() -> None:
    _register()
    backups.report_run(code="ebys-sunucu", ok=False, actor="cron")
    page = signed_in(member("tek", "teknik_destek", "technician")).get("/netops/backups/")
    text = page.content.decode()
    assert page.status_code == 200 and "EBYS sunucusu" in text and "başarısız" in text
    assert signed_in(member("z", "zabita", "viewer")).get("/netops/backups/").status_code == 403
    english = signed_in(member("tek2", "teknik_destek", "technician"))
    english.cookies["django_language"] = "en"
    text = english.get("/netops/backups/").content.decode()
    assert "Backup register" in text and "<strong>failed</strong>" in text
    assert "high" in text and "weekly" in text  # the choices' labels
    assert "başarısız" not in text and "Yedekleme" not in text


def test_device_configurations_are_versioned_when_they_change(tmp_path) -> None:
    folder = tmp_path / "configs"
    folder.mkdir()
    (folder / "sw-hizmet-1").write_text("hostname sw-hizmet-1\nvlan 10\n name BIM\n")
    (folder / "fw-merkez.cfg").write_text("hostname fw-merkez\n")
    assert backups.import_folder(folder=folder, actor="oxidized") == (2, 0)
    assert backups.import_folder(folder=folder, actor="oxidized") == (0, 2)
    (folder / "sw-hizmet-1").write_text("hostname sw-hizmet-1\nvlan 10\n name BILGI-ISLEM\n")
    assert backups.import_folder(folder=folder, actor="oxidized") == (1, 1)
    assert list(DeviceConfig.objects.filter(device="sw-hizmet-1").values_list(
        "version", flat=True)) == [2, 1]
    diff = backups.config_diff("sw-hizmet-1", 1, 2)
    assert "- name BIM" in diff and "+ name BILGI-ISLEM" in diff
    page = signed_in(member("ag", "ag_yonetimi", "network_admin")).get(
        "/netops/configs/sw-hizmet-1/?old=1&new=2")
    assert "+ name BILGI-ISLEM" in page.content.decode()
    # a missing version is said in the reader's language only
    admin = signed_in(member("ag2", "ag_yonetimi", "network_admin"))
    turkish = admin.get("/netops/configs/sw-hizmet-1/?old=9&new=2").content.decode()
    assert "sw-hizmet-1 cihazının 9 numaralı sürümü yok." in turkish
    assert "has no version" not in turkish
    admin.cookies["django_language"] = "en"
    english = admin.get("/netops/configs/sw-hizmet-1/?old=9&new=2").content.decode()
    assert "sw-hizmet-1 has no version 9." in english and "numaralı" not in english
    assert "Older version" in english and "Compare" in english
